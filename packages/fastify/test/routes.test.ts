/**
 * reply.sse(), { sse: true } routes and app.sse(): the three handler styles over real sockets, hooks that still
 * answer, kept headers, errors before and after the first byte, Last-Event-ID and disconnect.
 */
import { Readable } from 'node:stream';
import cors from '@fastify/cors';
import { ChannelRegistry, event, SseEmitter } from '@tidings/core';
import { ssePlugin } from '@tidings/fastify';
import Fastify, { type FastifyInstance } from 'fastify';
import { leaveEarlyScenario } from '../../express/test/support/scenarios';
import { deferred, openStream, waitUntil } from '../../express/test/support/stream-client';

describe('@tidings/fastify streams', () => {
  let app: FastifyInstance;
  let url: string;
  const registry = new ChannelRegistry();
  const finallyRan = deferred<number>();
  const leaveEarly = leaveEarlyScenario();
  const logged: Array<{ msg?: string; err?: { message?: string } }> = [];

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
      const em = reply.sse({ retry: 1500 });
      void em.send(event({ event: 'tick', id: '1', data: { last: request.lastEventId ?? null } }));
      void em.send('plain');
      em.complete();
    });
    app.get('/job', { sse: true }, async () => {
      const em = new SseEmitter();
      setImmediate(() => {
        void em.send(event({ event: 'done', data: 42 }));
        em.complete();
      });
      return em;
    });
    app.get('/feed', { sse: true }, async function* () {
      yield event({ event: 'tick', id: 'a', data: 1 });
      yield 'plain data';
      yield { id: 5 };
    });
    app.sse('/readable', () => Readable.from([event({ event: 'r', data: 'one' }), 'two']));
    app.sse('/private/feed', { logLevel: 'info' }, async function* () {
      yield 'secret stream';
    });
    app.sse('/endless', async function* () {
      let n = 0;
      try {
        for (;;) {
          yield event({ id: String(++n), data: n });
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      } finally {
        finallyRan.resolve(n);
      }
    });
    app.sse('/leave-early', (_request, reply) => leaveEarly.source(reply.raw));
    app.sse('/throws-early', async () => {
      throw new Error('before the first byte');
    });
    app.sse('/throws-late', async function* () {
      yield 'one';
      throw new Error('secret internal detail');
    });
    app.sse('/not-a-stream', async () => ({ not: 'a stream' }));
    app.sse('/replies', async (_request, reply) => reply.code(202).send({ answered: true }));

    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app.close());

  test('reply.sse() streams with the stream headers, keeps reply.header() and CORS headers, sends retry', async () => {
    const client = await openStream(`${url}/clock`, { origin: 'https://app.example' });
    await client.ended;
    expect(client.status).toBe(200);
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(client.headers['cache-control']).toBe('no-cache, no-transform');
    expect(client.headers['x-custom']).toBe('kept');
    expect(client.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(client.retries).toEqual([1500]);
    expect(client.events.map((e) => [e.event, e.id, e.data])).toEqual([
      ['tick', '1', '{"last":null}'],
      [undefined, undefined, 'plain'],
    ]);
  });

  test('request.lastEventId comes from the header, else from ?lastEventId=', async () => {
    const byHeader = await openStream(`${url}/clock?lastEventId=q`, { 'last-event-id': 'h 7' });
    const byQuery = await openStream(`${url}/clock?lastEventId=a%20b`);
    await Promise.all([byHeader.ended, byQuery.ended]);
    expect(byHeader.events[0]?.data).toBe('{"last":"h 7"}');
    expect(byQuery.events[0]?.data).toBe('{"last":"a b"}');
  });

  test('a returned emitter stays open until it completes', async () => {
    const client = await openStream(`${url}/job`);
    await client.ended;
    expect(client.events).toEqual([{ event: 'done', data: '42', id: undefined }]);
  });

  test('an async generator handler streams every value by the one rule', async () => {
    const client = await openStream(`${url}/feed`);
    await client.ended;
    expect(client.events.map((e) => [e.event, e.id, e.data])).toEqual([
      ['tick', 'a', '1'],
      [undefined, undefined, 'plain data'],
      [undefined, undefined, '{"id":5}'],
    ]);
  });

  test('app.sse() is a GET route whose Readable result is the stream', async () => {
    const client = await openStream(`${url}/readable`);
    await client.ended;
    expect(client.events.map((e) => [e.event, e.data])).toEqual([
      ['r', 'one'],
      [undefined, 'two'],
    ]);
  });

  test('an onRequest hook still answers 401 as JSON; with the token the stream opens', async () => {
    const denied = await app.inject({ method: 'GET', url: '/private/feed' });
    expect(denied.statusCode).toBe(401);
    expect(denied.json()).toEqual({ error: 'unauthorized' });
    const client = await openStream(`${url}/private/feed`, { authorization: 'Bearer ok' });
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
    const client = await openStream(`${url}/throws-late`);
    await client.ended;
    expect(client.events.map((e) => e.data)).toEqual(['one']);
    expect(JSON.stringify(client.events)).not.toContain('secret');
    await waitUntil(() => logged.some((l) => l.err?.message === 'secret internal detail'), 'the error to be logged');
  });

  test('a finished stream is still logged as a completed request', async () => {
    const client = await openStream(`${url}/feed?logged=1`);
    await client.ended;
    await waitUntil(
      () =>
        logged.some((l) => l.msg === 'request completed' && JSON.stringify(l).includes('logged=1') === false) &&
        logged.some((l) => l.msg === 'incoming request' && JSON.stringify(l).includes('/feed?logged=1')),
      'the request to be logged',
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
    expect(await finallyRan.promise).toBeGreaterThanOrEqual(3);
  });

  test('streams are tracked by the plugin registry', async () => {
    const before = registry.stats().connections;
    const client = await openStream(`${url}/clock`);
    await client.ended;
    await waitUntil(() => registry.stats().connections === before, 'the stream to be untracked');
    expect(registry.stats().eventsSent).toBeGreaterThan(0);
  });
});
