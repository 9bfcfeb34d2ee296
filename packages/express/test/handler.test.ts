/**
 * res.sse() and sseHandler(): the three handler styles over real sockets, errors before and after the first
 * byte, Last-Event-ID, disconnect and backpressure.
 */
import * as http from 'node:http';
import { connect, type Socket } from 'node:net';
import { ChannelRegistry, event } from '@tidings/core';
import { sse, sseHandler } from '@tidings/express';
import { deferred, openStream, startServer, type TestServer, waitFor } from '@tidings/testkit';
import { leaveEarlyScenario } from '@tidings/testkit/adapter-scenarios';
import {
  EXPECTED,
  endless,
  expectStreamHead,
  failsAfterFirst,
  feed,
  jobEmitter,
  LATE_ERROR,
  readAll,
  readableFeed,
  serveClock,
} from '@tidings/testkit/handler-styles';
import express from 'express';
import request from 'supertest';

describe('@tidings/express streams', () => {
  let running: TestServer;
  const registry = new ChannelRegistry();
  const middleware = sse({ keepAlive: false, registry });
  const endlessFeed = endless();
  const streamErrors: unknown[] = [];
  let pulled = 0;
  const leaveEarly = leaveEarlyScenario();
  const wroteFirstStopped = deferred();
  const nextErrors: unknown[] = [];
  const app = express();

  app.use(middleware);
  app.get('/clock', (req, res) => {
    res.setHeader('x-custom', 'kept');
    serveClock(res.sse({ retry: 1500 }), req.lastEventId);
  });
  app.get('/idle', (_req, res) => void res.sse());
  app.get(
    '/leave-early',
    sseHandler((_req, res) => leaveEarly.source(res)),
  );
  app.get(
    '/wrote-first',
    sseHandler((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('not a stream');
      return (async function* () {
        try {
          yield 'never sent';
        } finally {
          wroteFirstStopped.resolve();
        }
      })();
    }),
  );
  app.get(
    '/job',
    sseHandler(async () => jobEmitter()),
  );
  app.get('/feed', sseHandler(feed));
  app.get(
    '/private/feed',
    (req, res, next) =>
      req.headers.authorization === 'Bearer ok' ? next() : res.status(401).json({ error: 'unauthorized' }),
    sseHandler(feed),
  );
  app.get('/readable', sseHandler(readableFeed));
  app.get('/endless', sseHandler(endlessFeed.source));
  app.get(
    '/bulk',
    sseHandler(async function* () {
      for (pulled = 0; pulled < 2000; pulled++) yield 'x'.repeat(16 * 1024);
    }),
  );
  app.get(
    '/throws-early',
    sseHandler(async () => {
      throw new Error('before the first byte');
    }),
  );
  app.get(
    '/iterable-throws-early',
    sseHandler(async function* () {
      yield* [];
      throw new Error('first value failed');
    }),
  );
  app.get('/throws-late', sseHandler(failsAfterFirst));
  app.get(
    '/not-a-stream',
    sseHandler(() => 'a string is not a stream' as unknown as undefined),
  );
  app.get(
    '/json',
    sseHandler((_req, res) => {
      res.json({ answered: 'by the handler' });
    }),
  );
  app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    nextErrors.push(err);
    if (res.headersSent) return void res.end();
    res.status(500).json({ error: err.message, code: (err as { code?: string }).code });
  });

  beforeAll(async () => {
    jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void streamErrors.push(args[1]));
    running = await startServer(app);
  });
  afterAll(async () => {
    await middleware.close();
    await running.close();
    jest.restoreAllMocks();
  });

  test('res.sse() streams with the stream headers, keeps headers set before it, sends retry', async () => {
    const { client, events } = await readAll(`${running.url}/clock`);
    expectStreamHead(client);
    expect(client.headers['x-custom']).toBe('kept');
    expect(client.retries).toEqual([1500]);
    expect(events).toEqual(EXPECTED.clock(null));
  });

  test('req.lastEventId comes from the header, else from ?lastEventId=', async () => {
    const byHeader = await readAll(`${running.url}/clock?lastEventId=q`, { 'last-event-id': 'h 7' });
    expect(byHeader.events).toEqual(EXPECTED.clock('h 7'));
    expect((await readAll(`${running.url}/clock?lastEventId=a%20b`)).events).toEqual(EXPECTED.clock('a b'));
  });

  test('a returned emitter stays open until it completes', async () => {
    expect((await readAll(`${running.url}/job`)).events).toEqual(EXPECTED.job);
  });

  test('an async iterable streams every value by the one rule, then the stream ends', async () => {
    expect((await readAll(`${running.url}/feed`)).events).toEqual(EXPECTED.feed);
  });

  test('an object-mode Readable streams its values', async () => {
    expect((await readAll(`${running.url}/readable`)).events).toEqual(EXPECTED.readable);
  });

  test('sseHandler works without the middleware', async () => {
    const bare = express();
    bare.get(
      '/feed',
      sseHandler(async function* (req) {
        yield event({ event: 'hello', data: req.lastEventId ?? 'none' });
      }),
    );
    const server = await startServer(bare);
    try {
      const client = await openStream(`${server.url}/feed`, { headers: { 'last-event-id': '3' } });
      await client.ended;
      expect(client.events).toEqual([{ event: 'hello', data: '3', id: undefined }]);
    } finally {
      await server.close();
    }
  });

  test('supertest: a finished stream has the stream headers and whole frames; middleware before it can answer 401', async () => {
    const res = await request(app).get('/feed').expect(200);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.headers['x-accel-buffering']).toBe('no');
    expect(res.text).toBe('id: a\nevent: tick\ndata: 1\n\ndata: plain data\n\ndata: {"id":5}\n\n');
    const denied = await request(app).get('/private/feed').expect(401);
    expect(denied.body).toEqual({ error: 'unauthorized' });
    await request(app).get('/private/feed').set('authorization', 'Bearer ok').expect(200);
  });

  test('errors before the first byte go to next(err); a non-stream result is SSE_ERR_INVALID_SOURCE', async () => {
    const early = await request(app).get('/throws-early').expect(500);
    expect(early.body).toEqual({ error: 'before the first byte' });
    const first = await request(app).get('/iterable-throws-early').expect(500);
    expect(first.body).toEqual({ error: 'first value failed' });
    const invalid = await request(app).get('/not-a-stream').expect(500);
    expect(invalid.body.code).toBe('SSE_ERR_INVALID_SOURCE');
    expect(invalid.headers['content-type']).toMatch(/application\/json/);
  });

  test('a HEAD request gets the stream headers, and the stream ends on the server at once', async () => {
    const before = middleware.openStreams;
    // A keep-alive client keeps its socket, so only the server ending the response can end the stream.
    const agent = new http.Agent({ keepAlive: true });
    try {
      const res = await new Promise<http.IncomingMessage>((resolve, reject) =>
        http.request(`${running.url}/idle`, { method: 'HEAD', agent }, resolve).on('error', reject).end(),
      );
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      await waitFor('the HEAD stream to end', () => middleware.openStreams === before);
    } finally {
      agent.destroy();
    }
  });

  test('a handler that answers by itself is left alone', async () => {
    const res = await request(app).get('/json').expect(200);
    expect(res.body).toEqual({ answered: 'by the handler' });
  });

  test('an error after the first byte ends the stream, is logged, and is never sent', async () => {
    const { client, events } = await readAll(`${running.url}/throws-late`);
    expect(events).toEqual([[undefined, undefined, 'one']]);
    expect(client.text).not.toContain(LATE_ERROR);
    await waitFor('the error to be logged', () => streamErrors.length > 0);
    expect((streamErrors[0] as Error).message).toBe(LATE_ERROR);
  });

  test('a client leaving before the first value: no stream opens and the source is stopped at once', async () => {
    await leaveEarly.run(`${running.url}/leave-early`);
    await waitFor('no stream left open', () => middleware.openStreams === 0);
  });

  test('a handler that wrote a response and returns an iterable: SSE_ERR_HEADERS_SENT, the iterable is closed', async () => {
    const res = await request(app).get('/wrote-first');
    expect(res.text).toBe('not a stream');
    await wroteFirstStopped.promise;
    expect(nextErrors.map((err) => (err as { code?: string }).code)).toContain('SSE_ERR_HEADERS_SENT');
  });

  test('a client leaving mid-iterable stops it: return() runs the finally block', async () => {
    const client = await openStream(`${running.url}/endless`);
    await client.waitForEvents(3);
    client.close();
    expect(await endlessFeed.stopped).toBeGreaterThanOrEqual(3);
  });

  test('an iterable is pulled only as fast as the client reads', async () => {
    // A client that never reads: the socket buffers fill, sends wait for drain, the generator waits for the sends.
    const stalled = await pausedClient(`${running.url}/bulk`);
    let previous = -1;
    let steadyPolls = 0;
    await waitFor('the generator to stop being pulled', () => {
      steadyPolls = pulled > 0 && pulled === previous ? steadyPolls + 1 : 0;
      previous = pulled;
      return steadyPolls >= 10;
    });
    // 2000 values of 16 KiB (32 MiB) are available at once; only what the socket buffers hold was pulled.
    expect(pulled).toBeLessThan(2000);
    const before = middleware.openStreams;
    stalled.destroy();
    await waitFor('the stalled stream to end', () => middleware.openStreams === before - 1);
  });

  test('streams opened by the middleware are tracked by its registry', async () => {
    const before = registry.stats().connections;
    const client = await openStream(`${running.url}/endless`);
    await client.waitForEvents(1);
    expect(registry.stats().connections).toBe(before + 1);
    expect(middleware.openStreams).toBeGreaterThanOrEqual(1);
    client.close();
    await waitFor('the stream to be untracked', () => registry.stats().connections === before);
  });
});

/** A client that sends the request and never reads the response (a stalled browser). */
async function pausedClient(url: string): Promise<Socket> {
  const { port, pathname } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  socket.write(`GET ${pathname} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
  socket.pause();
  socket.on('error', () => {});
  return socket;
}
