/**
 * reply.sse(), { sse: true } routes and app.sse(): the three handler styles over real sockets, hooks that still
 * answer, kept headers, errors before and after the first byte, Last-Event-ID and disconnect.
 */
import cors from '@fastify/cors';
import { ChannelRegistry } from '@tidings/core';
import { ssePlugin } from '@tidings/fastify';
import { openStream, waitFor } from '@tidings/testkit';
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
import Fastify, { type FastifyInstance } from 'fastify';

describe('@tidings/fastify streams', () => {
  let app: FastifyInstance;
  let url: string;
  const registry = new ChannelRegistry();
  const endlessFeed = endless();
  const leaveEarly = leaveEarlyScenario();
  const logged: Array<{
    msg?: string;
    reqId?: string;
    req?: { url?: string };
    res?: { statusCode?: number };
    err?: { message?: string };
  }> = [];

  beforeAll(async () => {
    app = Fastify({
      forceCloseConnections: true,
      logger: {
        level: 'info',
        stream: { write: (line: string) => void logged.push(JSON.parse(line)) },
      },
    });
    await app.register(cors, { origin: 'https://app.example' });
    await app.register(ssePlugin, { keepAlive: false, registry });

    app.addHook('onRequest', async (request, reply) => {
      if (request.url.startsWith('/private') && request.headers.authorization !== 'Bearer ok') {
        return reply.code(401).send({ error: 'unauthorized' });
      }
    });

    app.get('/clock', (request, reply) => {
      reply.header('x-custom', 'kept');
      serveClock(reply.sse({ retry: 1500 }), request.lastEventId);
    });
    app.get('/job', { sse: true }, async () => jobEmitter());
    app.get('/feed', { sse: true }, feed);
    app.sse('/readable', readableFeed);
    app.sse('/handler-in-options', { handler: feed });
    app.sse('/private/feed', { logLevel: 'info' }, async function* () {
      yield 'secret stream';
    });
    app.sse('/endless', endlessFeed.source);
    app.sse('/leave-early', (_request, reply) => leaveEarly.source(reply.raw));
    app.sse('/throws-early', async () => {
      throw new Error('before the first byte');
    });
    app.sse('/throws-late', failsAfterFirst);
    app.sse('/not-a-stream', async () => ({ not: 'a stream' }));
    app.sse('/replies', async (_request, reply) => reply.code(202).send({ answered: true }));

    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app.close());

  test('reply.sse() streams with the stream headers, keeps reply.header() and CORS headers, sends retry', async () => {
    const { client, events } = await readAll(`${url}/clock`, { origin: 'https://app.example' });
    expectStreamHead(client);
    expect(client.headers['x-custom']).toBe('kept');
    expect(client.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(client.retries).toEqual([1500]);
    expect(events).toEqual(EXPECTED.clock(null));
  });

  test('request.lastEventId comes from the header, else from ?lastEventId=', async () => {
    const byHeader = await readAll(`${url}/clock?lastEventId=q`, { 'last-event-id': 'h 7' });
    expect(byHeader.events).toEqual(EXPECTED.clock('h 7'));
    expect((await readAll(`${url}/clock?lastEventId=a%20b`)).events).toEqual(EXPECTED.clock('a b'));
  });

  test('a returned emitter stays open until it completes', async () => {
    expect((await readAll(`${url}/job`)).events).toEqual(EXPECTED.job);
  });

  test('an async generator handler streams every value by the one rule', async () => {
    expect((await readAll(`${url}/feed`)).events).toEqual(EXPECTED.feed);
  });

  test('app.sse() is a GET route whose Readable result is the stream', async () => {
    expect((await readAll(`${url}/readable`)).events).toEqual(EXPECTED.readable);
  });

  test('app.sse() takes its handler in the options too, like app.get()', async () => {
    expect((await readAll(`${url}/handler-in-options`)).events).toEqual(EXPECTED.feed);
  });

  test('an onRequest hook still answers 401 as JSON; with the token the stream opens', async () => {
    const denied = await app.inject({ method: 'GET', url: '/private/feed' });
    expect(denied.statusCode).toBe(401);
    expect(denied.json()).toEqual({ error: 'unauthorized' });
    const client = await openStream(`${url}/private/feed`, { headers: { authorization: 'Bearer ok' } });
    await client.ended;
    expect(client.events.map((e) => e.data)).toEqual(['secret stream']);
  });

  test('errors before the first byte use the error handler (500 JSON); a non-stream result is SSE_ERR_INVALID_SOURCE', async () => {
    const early = await app.inject({ method: 'GET', url: '/throws-early' });
    expect(early.statusCode).toBe(500);
    expect(early.json()).toMatchObject({ message: 'before the first byte' });
    const invalid = await app.inject({ method: 'GET', url: '/not-a-stream' });
    expect(invalid.statusCode).toBe(500);
    expect(invalid.json()).toMatchObject({ code: 'SSE_ERR_INVALID_SOURCE' });
  });

  test('a HEAD request to a stream route gets the stream headers and no body', async () => {
    const res = await app.inject({ method: 'HEAD', url: '/feed' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.body).toBe('');
  });

  test('a handler that answers by itself is left alone', async () => {
    const res = await app.inject({ method: 'GET', url: '/replies' });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ answered: true });
  });

  test('an error after the first byte ends the stream, is logged by Fastify, and is never sent', async () => {
    const { client, events } = await readAll(`${url}/throws-late`);
    expect(events).toEqual([[undefined, undefined, 'one']]);
    expect(client.text).not.toContain(LATE_ERROR);
    await waitFor('the error to be logged', () => logged.some((l) => l.err?.message === LATE_ERROR));
  });

  test('a finished stream is still logged as a completed request', async () => {
    await readAll(`${url}/feed?logged=1`);
    const incoming = logged.find((l) => l.msg === 'incoming request' && l.req?.url === '/feed?logged=1');
    expect(incoming?.reqId).toBeDefined();
    await waitFor('the stream request to be logged as completed', () =>
      logged.some((l) => l.msg === 'request completed' && l.reqId === incoming?.reqId && l.res?.statusCode === 200),
    );
  });

  test('a client leaving before the first value: no stream opens and the source is stopped at once', async () => {
    const before = registry.stats().connections;
    await leaveEarly.run(`${url}/leave-early`);
    expect(registry.stats().connections).toBe(before);
  });

  test('a client leaving mid-iterable stops it: return() runs the finally block', async () => {
    const client = await openStream(`${url}/endless`);
    await client.waitForEvents(3);
    client.close();
    expect(await endlessFeed.stopped).toBeGreaterThanOrEqual(3);
  });

  test('streams are tracked by the plugin registry', async () => {
    const before = registry.stats().connections;
    const client = await openStream(`${url}/clock`);
    await client.ended;
    await waitFor('the stream to be untracked', () => registry.stats().connections === before);
    expect(registry.stats().eventsSent).toBeGreaterThan(0);
  });
});
