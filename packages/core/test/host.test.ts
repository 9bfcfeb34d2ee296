/**
 * SseHost, the adapter host every framework adapter delegates to, tested directly over real node:http sockets:
 * open, attach, serve (emitter, async iterable, object-mode Readable), refusals (capacity, channel name,
 * authorize), subscribe with replay, close. The test server plays the adapter: it builds one SseExchange per
 * request and hands it to the host.
 */
import type * as http from 'node:http';
import { Readable } from 'node:stream';
import {
  ChannelRegistry,
  event,
  SseEmitter,
  type SseExchange,
  SseHost,
  type SseHostOptions,
  type SseRefusal,
} from '@tidings/core';
import {
  connect,
  deferred,
  openStream,
  type SseTestClient,
  startServer,
  type TestServer,
  waitFor,
} from '@tidings/testkit';

/** What the route does with the host for one exchange. */
type Route = (host: SseHost, exchange: SseExchange, req: http.IncomingMessage) => unknown;

let server: TestServer;
let host: SseHost;
let route: Route;
/** Errors handed to the exchange's `logError` (what the framework logger would get). */
let logged: unknown[];
/** Errors a route call threw or rejected with (what the framework's error handling would get). */
let routeErrors: unknown[];
const clients: SseTestClient[] = [];

beforeEach(async () => {
  logged = [];
  routeErrors = [];
  server = await startServer((req, res) => {
    const exchange: SseExchange = { req, res, logError: (err) => logged.push(err) };
    Promise.resolve()
      .then(() => route(host, exchange, req))
      .catch((err: unknown) => {
        routeErrors.push(err);
        if (!res.headersSent) res.writeHead(500).end();
      });
  });
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await host.close();
  await server.close();
});

/** A host with `options` (keep-alive off unless given) and the route that serves every request. */
function serveWith(options: SseHostOptions, body: Route): SseHost {
  host = new SseHost({ keepAlive: false, ...options });
  route = body;
  return host;
}

/** Opens a client on the test server and remembers it for cleanup. */
function open(path = '/', headers: http.OutgoingHttpHeaders = {}): SseTestClient {
  const client = connect(`${server.url}${path}`, { headers });
  clients.push(client);
  return client;
}

/** Fetches `path` and returns the refusal the host answered: status, Retry-After and JSON body. */
async function refusalAt(path = '/') {
  const res = await fetch(`${server.url}${path}`, { headers: { accept: 'text/event-stream' } });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const body = (await res.json()) as SseRefusal['body'];
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body };
}

describe('open', () => {
  test('opens a stream with the host defaults and per-call overrides applied key by key', async () => {
    serveWith({ retry: 1500 }, (h, exchange, req) => {
      const em = h.open(exchange, req.url === '/own' ? { retry: 3000 } : { retry: undefined });
      void em.send('hi').then(() => em.complete());
    });
    const [kept, own] = [open('/'), open('/own')];
    await Promise.all([kept.ended, own.ended]);
    expect(kept.status).toBe(200);
    expect(kept.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(kept.text).toBe('retry: 1500\n\ndata: hi\n\n');
    expect(own.text).toBe('retry: 3000\n\ndata: hi\n\n');
    expect(host.emitterOptions({ retry: undefined, timeout: 50 })).toEqual({
      keepAlive: false,
      retry: 1500,
      timeout: 50,
    });
  });

  test('throws SSE_ERR_HEADERS_SENT when the response has begun, and the constructor rejects a bad option', async () => {
    serveWith({}, (h, exchange) => {
      exchange.res.writeHead(204).end();
      h.open(exchange);
    });
    const client = open();
    await client.ended;
    expect(client.status).toBe(204);
    await waitFor('the route error', () => routeErrors.length === 1);
    expect(routeErrors[0]).toMatchObject({ code: 'SSE_ERR_HEADERS_SENT' });
    expect(host.openStreams).toBe(0);
    expect(() => new SseHost({ retry: -1 })).toThrow(expect.objectContaining({ code: 'SSE_ERR_INVALID_OPTION' }));
  });
});

describe('attach', () => {
  test('tracks an emitter until it completes, here and in the registry; a HEAD request ends after its headers', async () => {
    const registry = new ChannelRegistry();
    const attached = deferred<SseEmitter>();
    serveWith({ registry }, (h, exchange) => attached.resolve(h.attach(exchange, new SseEmitter())));
    const client = open();
    const em = await attached.promise;
    await client.response;
    expect([host.openStreams, registry.stats().connections]).toEqual([1, 1]);
    await em.send(event({ id: '1', data: 'tracked' }));
    await client.waitForEvents(1);
    em.complete();
    await client.ended;
    expect(client.complete).toBe(true);
    expect(client.events).toEqual([{ id: '1', data: 'tracked' }]);
    await waitFor('the stream to be forgotten', () => host.openStreams === 0 && registry.stats().connections === 0);

    const head = await fetch(server.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    await waitFor('the HEAD stream to end', () => host.openStreams === 0);
  });

  test('keeps the headers the framework collected, except those about one message or connection', async () => {
    serveWith({}, (h, exchange) => {
      const collected = { 'x-trace': 'abc', 'content-length': '12', connection: 'close' };
      h.attach({ ...exchange, beforeStream: () => collected }, new SseEmitter()).complete();
    });
    const client = open();
    await client.ended;
    expect(client.headers['x-trace']).toBe('abc');
    expect(client.headers['content-length']).toBeUndefined();
    expect(client.headers.connection).not.toBe('close');
  });

  test('refuses a second response for one emitter (SSE_ERR_ALREADY_ATTACHED)', async () => {
    const shared = new SseEmitter();
    serveWith({}, (h, exchange) => h.attach(exchange, shared));
    const first = open();
    await first.response;
    const second = open();
    await second.ended;
    expect(second.status).toBe(500);
    expect(routeErrors).toEqual([expect.objectContaining({ code: 'SSE_ERR_ALREADY_ATTACHED' })]);
    expect(host.openStreams).toBe(1);
  });

  test('a client gone before attach: the emitter completes with SSE_ERR_CLOSED and nothing is written', async () => {
    const outcome = deferred<{ state: string; errors: unknown[]; headersSent: boolean }>();
    serveWith({}, async (h, exchange) => {
      client.close();
      await new Promise((resolve) => exchange.res.once('close', resolve));
      const errors: unknown[] = [];
      const em = new SseEmitter();
      em.onError((err) => errors.push(err));
      h.attach(exchange, em);
      outcome.resolve({ state: em.state, errors, headersSent: exchange.res.headersSent });
    });
    const client = open();
    expect(await outcome.promise).toEqual({
      state: 'completed',
      errors: [expect.objectContaining({ code: 'SSE_ERR_CLOSED' })],
      headersSent: false,
    });
    expect(host.openStreams).toBe(0);
  });
});

describe('serve', () => {
  test('an emitter the handler returns unattached is attached and stays open until it completes', async () => {
    serveWith({}, (h, exchange) =>
      h.serve(exchange, () => {
        const em = new SseEmitter();
        void em.send(event({ event: 'early', data: 1 })); // before attach: buffered, flushed on attach
        setImmediate(() => void em.send('later').then(() => em.complete()));
        return em;
      }),
    );
    const client = open();
    await client.ended;
    expect(client.complete).toBe(true);
    expect(client.events).toEqual([{ event: 'early', data: '1' }, { data: 'later' }]);
  });

  test('an async iterable is pulled as the client drains and the stream completes when it ends', async () => {
    serveWith({}, (h, exchange) =>
      h.serve(exchange, async function* () {
        yield event({ id: 'a', event: 'tick', data: 1 });
        yield 'plain';
      }),
    );
    const client = open();
    await client.ended;
    expect(client.complete).toBe(true);
    expect(client.events).toEqual([{ id: 'a', event: 'tick', data: '1' }, { data: 'plain' }]);
    await waitFor('the stream to be forgotten', () => host.openStreams === 0);
  });

  test('an object-mode Readable is served like an iterable', async () => {
    serveWith({}, (h, exchange) => h.serve(exchange, () => Readable.from([event({ event: 'r', data: 'one' }), 'two'])));
    const client = open();
    await client.ended;
    expect(client.events).toEqual([{ event: 'r', data: 'one' }, { data: 'two' }]);
  });

  test('undefined means the handler answered by itself; a value that is no stream rejects SSE_ERR_INVALID_SOURCE', async () => {
    serveWith({}, (h, exchange, req) =>
      h.serve(exchange, () => {
        if (req.url === '/self') {
          exchange.res.writeHead(202).end('done');
          return undefined;
        }
        return 42;
      }),
    );
    const self = open('/self');
    await self.ended;
    expect([self.status, self.text]).toEqual([202, 'done']);
    const invalid = open('/invalid');
    await invalid.ended;
    expect(invalid.status).toBe(500);
    expect(routeErrors).toEqual([expect.objectContaining({ code: 'SSE_ERR_INVALID_SOURCE' })]);
  });

  test('an error before the first byte rejects (no stream); after it, the stream ends with it, logged and never sent', async () => {
    serveWith({}, (h, exchange, req) =>
      h.serve(exchange, async function* () {
        if (req.url === '/before') throw new Error('before the first byte');
        yield 'one';
        throw new Error('secret detail');
      }),
    );
    const before = open('/before');
    await before.ended;
    expect(before.status).toBe(500);
    expect(routeErrors).toEqual([expect.objectContaining({ message: 'before the first byte' })]);

    const after = open('/after');
    await after.ended;
    expect(after.status).toBe(200);
    expect(after.events).toEqual([{ data: 'one' }]);
    expect(after.text).not.toContain('secret');
    await waitFor('the error to be logged', () => logged.length === 1);
    expect(logged).toEqual([expect.objectContaining({ message: 'secret detail' })]);
  });

  test('onStreamError, when given, gets the error instead of the exchange logger', async () => {
    const reported: Array<[unknown, string | undefined]> = [];
    serveWith({ onStreamError: (err, req) => reported.push([err, req.url]) }, (h, exchange) =>
      h.serve(exchange, async function* () {
        yield 'one';
        throw new Error('boom');
      }),
    );
    const client = open('/report');
    await client.ended;
    await waitFor('the error to be reported', () => reported.length === 1);
    expect(reported).toEqual([[expect.objectContaining({ message: 'boom' }), '/report']]);
    expect(logged).toEqual([]);
  });
});

describe('refusals', () => {
  test('past maxConnections: 503 with Retry-After and a JSON body, no stream byte, the emitter completed with the error', async () => {
    const refusedEmitters: unknown[][] = [];
    let handlerRuns = 0;
    serveWith({ maxConnections: 1, retryAfter: 7 }, (h, exchange, req) => {
      if (req.url === '/serve') {
        return h.serve(exchange, () => {
          handlerRuns++;
          return new SseEmitter();
        });
      }
      const em = new SseEmitter();
      const errors: unknown[] = [];
      em.onError((err) => errors.push(err));
      h.attach(exchange, em);
      if (em.state === 'completed') refusedEmitters.push(errors);
    });
    const first = open();
    await first.response;
    expect(await refusalAt()).toEqual({
      status: 503,
      retryAfter: '7',
      body: { error: 'SSE_ERR_TOO_MANY_CONNECTIONS', message: expect.any(String) },
    });
    expect(refusedEmitters).toEqual([[expect.objectContaining({ code: 'SSE_ERR_TOO_MANY_CONNECTIONS' })]]);
    // serve() refuses before its handler does any work.
    expect((await refusalAt('/serve')).status).toBe(503);
    expect(handlerRuns).toBe(0);

    first.close();
    await waitFor('the first stream to be forgotten', () => host.openStreams === 0);
    const next = await openStream(server.url);
    clients.push(next);
    expect(next.status).toBe(200);
  });

  test('a refuse hook on the exchange answers instead of the default JSON writer', async () => {
    const refusals: SseRefusal[] = [];
    serveWith({ maxConnections: 1 }, (h, exchange) => {
      const refuse = (refusal: SseRefusal): void => {
        refusals.push(refusal);
        exchange.res.writeHead(418).end();
      };
      h.attach({ ...exchange, refuse }, new SseEmitter());
    });
    const admitted = open();
    await admitted.response;
    const client = open();
    await client.ended;
    expect(client.status).toBe(418);
    expect(refusals).toEqual([
      expect.objectContaining({
        status: 503,
        body: expect.objectContaining({ error: 'SSE_ERR_TOO_MANY_CONNECTIONS' }),
      }),
    ]);
  });
});

describe('subscribe', () => {
  test('checks the name, asks authorize, subscribes with replay after Last-Event-ID', async () => {
    const registry = new ChannelRegistry();
    const asked: string[] = [];
    const authorize = (_req: unknown, channel: string) => {
      asked.push(channel);
      return channel === 'secret' ? 401 : channel !== 'forbidden';
    };
    serveWith({ registry, authorize }, (h, exchange, req) =>
      h.openChannelStream(exchange, decodeURIComponent(req.url!.slice(1)), { retry: 2000 }),
    );
    expect((await refusalAt('/a%0Ab')).body.error).toBe('SSE_ERR_INVALID_CHANNEL');
    expect((await refusalAt('/a%0Ab')).status).toBe(400);
    expect(await refusalAt('/forbidden')).toMatchObject({ status: 403, body: { error: 'SSE_ERR_UNAUTHORIZED' } });
    expect(await refusalAt('/secret')).toMatchObject({ status: 401, body: { error: 'SSE_ERR_UNAUTHORIZED' } });
    expect(asked).toEqual(['forbidden', 'secret']); // a bad name is refused before authorize is asked

    const first = await registry.broadcast('news', 'one');
    await registry.broadcast('news', 'two');
    const resumed = open('/news', { 'last-event-id': first! });
    await resumed.waitForEvents(1);
    await registry.broadcast('news', 'three');
    await resumed.waitForEvents(2);
    expect(resumed.data).toEqual(['two', 'three']);
    expect(resumed.retries).toEqual([2000]);
    expect(registry.channel('news').size).toBe(1);
    expect([registry.channel('forbidden').size, registry.channel('secret').size]).toEqual([0, 0]);
  });

  test('openChannelsStream: every name checked before any byte, authorize asked once per channel, one stream', async () => {
    const registry = new ChannelRegistry();
    const asked: string[] = [];
    const authorize = (_req: unknown, channel: string) => {
      asked.push(channel);
      return channel !== 'forbidden';
    };
    serveWith({ registry, authorize }, (h, exchange, req) =>
      h.openChannelsStream(exchange, decodeURIComponent(req.url!.slice(1)).split(',')),
    );
    expect(await refusalAt('/ok,a%0Ab')).toMatchObject({ status: 400, body: { error: 'SSE_ERR_INVALID_CHANNEL' } });
    expect(await refusalAt('/ok,forbidden')).toMatchObject({ status: 403, body: { error: 'SSE_ERR_UNAUTHORIZED' } });
    expect(asked).toEqual(['ok', 'forbidden']);
    expect(registry.channel('ok').size).toBe(0);

    asked.length = 0;
    const client = open('/a,b,a');
    await waitFor('subscribed', () => registry.channel('a').size === 1 && registry.channel('b').size === 1);
    expect(asked).toEqual(['a', 'b']);
    await registry.broadcast('b', 'from b');
    await registry.broadcast('a', 'from a');
    await client.waitForEvents(2);
    expect(client.data).toEqual(['from b', 'from a']);
    expect(registry.stats().connections).toBe(1);
  });

  test('rejects with SSE_ERR_INVALID_OPTION when the host has no registry', async () => {
    serveWith({}, (h, exchange) => h.openChannelStream(exchange, 'news'));
    const client = open();
    await client.ended;
    expect(client.status).toBe(500);
    expect(routeErrors).toEqual([expect.objectContaining({ code: 'SSE_ERR_INVALID_OPTION' })]);
  });
});

describe('close', () => {
  test('completes every open stream, resolves once their responses closed; a later stream ends at once', async () => {
    serveWith({}, (h, exchange) => void h.open(exchange).send('hello'));
    const streams = [open(), open(), open()];
    await Promise.all(streams.map((c) => c.waitForEvents(1)));
    expect(host.openStreams).toBe(3);
    await host.close();
    expect(host.openStreams).toBe(0);
    await Promise.all(streams.map((c) => c.ended));
    expect(streams.every((c) => c.complete && c.data.join() === 'hello')).toBe(true);

    const late = open();
    await late.ended;
    expect([late.status, late.complete]).toEqual([200, true]);
  });
});
