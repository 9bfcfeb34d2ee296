/**
 * SseEmitter over a real node:http server and a real client socket: headers first, early sends, keep-alive,
 * timeout, disconnect, completeWithError, and the errors attach can throw.
 */
import { event, keepAliveTimerCount, SseEmitter, type SseEmitterOptions } from '@tidings/core';
import { connect, deferred, settle, waitFor } from '@tidings/testkit';
import { useEmitterServer } from './support/http';
import { trackTimers } from './support/timers';

const server = useEmitterServer();

/** Serves the next request with a fresh emitter; resolves with it once attached. */
async function serveEmitter(
  options: SseEmitterOptions = {},
  beforeAttach?: (em: SseEmitter) => void,
): Promise<SseEmitter> {
  return (await server.serve(options, beforeAttach)).em;
}

test('headers reach the client before any event, then events and a whole final frame', async () => {
  const attached = serveEmitter();
  const client = connect(server.url);
  const res = await client.response;
  const em = await attached;
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
  expect(res.headers['cache-control']).toBe('no-cache, no-transform');
  expect(res.headers['x-accel-buffering']).toBe('no');
  expect(res.headers.connection).toBe('keep-alive');
  expect(client.text).toBe('');
  expect(em.state).toBe('open');

  await em.send(event({ event: 'tick', id: '1', data: { n: 1 } }));
  await client.waitFor('the first event', (c) => c.events.length === 1);
  em.complete();
  await client.ended;
  expect(em.state).toBe('completed');
  expect(client.events).toEqual([{ event: 'tick', id: '1', data: '{"n":1}' }]);
  expect(client.text.endsWith('\n\n')).toBe(true); // §4.14: no unterminated event at the end
});

test('headers set on the response or given to attach are kept; the stream headers win', async () => {
  const attached = deferred<SseEmitter>();
  server.handle((req, res) => {
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('content-type', 'text/html');
    attached.resolve(new SseEmitter({ keepAlive: false }).attach(req, res, { headers: { 'x-request-id': 'r1' } }));
  });
  const client = connect(server.url);
  const { headers } = await client.response;
  expect(headers['access-control-allow-origin']).toBe('*');
  expect(headers['x-request-id']).toBe('r1');
  expect(headers['content-type']).toBe('text/event-stream; charset=utf-8');
  (await attached.promise).complete();
  await client.ended;
});

test('sends made before attach arrive first, in order, after the retry line', async () => {
  const early: Array<Promise<void>> = [];
  const attached = serveEmitter({ retry: 2000 }, (em) => {
    early.push(em.send('one'), em.send(event({ event: 'two', id: '2', data: { n: 2 } })), em.comment('early'));
  });
  const client = connect(server.url);
  const em = await attached;
  await Promise.all(early);
  await em.send('three');
  em.complete();
  await client.ended;
  expect(client.text.startsWith('retry: 2000\n\ndata: one\n\n')).toBe(true);
  expect(client.retries).toEqual([2000]);
  expect(client.comments).toEqual(['early']);
  expect(client.events).toEqual([{ data: 'one' }, { event: 'two', id: '2', data: '{"n":2}' }, { data: 'three' }]);
});

test('complete() before attach flushes the early sends, ends the response, completes once', async () => {
  let completions = 0;
  const attached = serveEmitter({}, (em) => {
    em.onCompletion(() => completions++);
    void em.send('only');
    em.complete();
    expect(em.state).toBe('completed');
  });
  const client = connect(server.url);
  await attached;
  await client.ended;
  await settle();
  expect(client.events).toEqual([{ data: 'only' }]);
  expect(completions).toBe(1);
});

test('keep-alive comments arrive while idle, from one shared unref-ed timer', async () => {
  const attached = serveEmitter({ keepAlive: 20 });
  const client = connect(server.url);
  const em = await attached;
  expect(keepAliveTimerCount()).toBe(1);
  await client.waitFor('three keep-alive comments', (c) => c.text.split(':\n\n').length > 3);
  expect(client.events).toEqual([]);
  em.complete();
  await client.ended;
  expect(keepAliveTimerCount()).toBe(0);
});

test('timeout runs onTimeout (which may still send) then onCompletion, exactly once', async () => {
  const calls: string[] = [];
  const attached = serveEmitter({ timeout: 50 }, (em) => {
    em.onTimeout(() => {
      calls.push('timeout');
      void em.send(event({ event: 'bye', data: 'last' }));
    });
    em.onCompletion(() => calls.push('completion'));
  });
  const client = connect(server.url);
  const em = await attached;
  await client.ended;
  em.complete();
  await settle();
  expect(calls).toEqual(['timeout', 'completion']);
  expect(em.state).toBe('completed');
  expect(client.events).toEqual([{ event: 'bye', data: 'last' }]);
});

describe('client disconnect', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  beforeAll(() => process.on('unhandledRejection', onUnhandled));
  afterAll(() => process.off('unhandledRejection', onUnhandled));

  test('completes once, clears every timer, and later sends reject quietly with SSE_ERR_CLOSED', async () => {
    const timers = trackTimers();
    try {
      let completions = 0;
      const errors: unknown[] = [];
      const completed = deferred();
      const attached = serveEmitter({ keepAlive: 20, timeout: 60_000, sendTimeout: 60_000 }, (em) => {
        em.onCompletion(() => {
          completions++;
          completed.resolve();
        });
        em.onError((err) => errors.push(err));
      });
      const client = connect(server.url);
      const em = await attached;
      await em.send('hello');
      await client.waitFor('the first event', (c) => c.events.length === 1);
      expect(timers.pending()).toBeGreaterThan(0); // the timeout and the keep-alive interval are running

      client.close();
      await completed.promise;
      expect(em.state).toBe('completed');
      expect(keepAliveTimerCount()).toBe(0);
      expect(timers.pending()).toBe(0);

      void em.send('into the void'); // fire and forget: must not surface as an unhandled rejection
      void em.comment('nobody listens');
      await expect(em.send('awaited')).rejects.toMatchObject({ code: 'SSE_ERR_CLOSED', name: 'SseClosedError' });
      em.complete();
      em.completeWithError(new Error('late'));
      await settle();
      expect(unhandled).toEqual([]);
      expect(completions).toBe(1);
      expect(errors).toEqual([]);
    } finally {
      timers.restore();
    }
  });

  test('onCompletion registered after completion still runs, once', async () => {
    const attached = serveEmitter();
    const client = connect(server.url);
    const em = await attached;
    client.close();
    await waitFor('the emitter to see the disconnect', () => em.state === 'completed');
    const late = jest.fn();
    em.onCompletion(late);
    await settle();
    expect(late).toHaveBeenCalledTimes(1);
  });
});

test('completeWithError calls onError, ends the stream, and writes nothing of the error', async () => {
  const secret = new Error('secret-database-password');
  const errors: unknown[] = [];
  let completions = 0;
  const attached = serveEmitter({}, (em) => {
    em.onError((err) => errors.push(err));
    em.onCompletion(() => completions++);
  });
  const client = connect(server.url);
  const em = await attached;
  await em.send('before');
  em.completeWithError(secret);
  await client.ended;
  await settle();
  expect(errors).toEqual([secret]);
  expect(completions).toBe(1);
  expect(client.events).toEqual([{ data: 'before' }]);
  expect(client.text).not.toContain('secret-database-password');
  expect(client.text).not.toContain(secret.stack!.split('\n')[1]!.trim());
  expect(client.text).not.toMatch(/Error/);
});

test('completeWithError before attach ends the response empty', async () => {
  const errors: unknown[] = [];
  const attached = serveEmitter({}, (em) => {
    em.onError((err) => errors.push(err));
    void em.send('dropped');
    em.completeWithError(new Error('failed early'));
  });
  const client = connect(server.url);
  await attached;
  await client.ended;
  expect(client.text).toBe('');
  expect(errors).toHaveLength(1);
});

test('a serializer failure rejects that send with SSE_ERR_SERIALIZE; the stream stays usable', async () => {
  const attached = serveEmitter();
  const client = connect(server.url);
  const em = await attached;
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  await expect(em.send(circular)).rejects.toMatchObject({ code: 'SSE_ERR_SERIALIZE' });
  await expect(em.send({ big: 1n })).rejects.toMatchObject({ code: 'SSE_ERR_SERIALIZE' });
  await em.send('still open');
  em.complete();
  await client.ended;
  expect(client.events).toEqual([{ data: 'still open' }]);
});

test('an event with an invalid field throws synchronously and writes nothing', async () => {
  const attached = serveEmitter();
  const client = connect(server.url);
  const em = await attached;
  // A look-alike of an event() value whose fields were never validated (e.g. built by another copy of the package).
  const forged = { [Symbol.for('tidings.event')]: true, toEvent: () => ({ event: 'x\ndata: evil', data: 'd' }) };
  expect(() => em.send(forged as never)).toThrow(expect.objectContaining({ code: 'SSE_ERR_INVALID_FIELD' }));
  await em.send('clean');
  em.complete();
  await client.ended;
  expect(client.text).not.toContain('evil');
  expect(client.events).toEqual([{ data: 'clean' }]);
});

describe('attach errors', () => {
  test('a second attach throws SSE_ERR_ALREADY_ATTACHED; a started response throws SSE_ERR_HEADERS_SENT', async () => {
    const thrown = deferred<unknown[]>();
    server.handle((req, res) => {
      const errors: unknown[] = [];
      const em = new SseEmitter({ keepAlive: false }).attach(req, res);
      for (const attempt of [() => em.attach(req, res), () => new SseEmitter().attach(req, res)]) {
        try {
          attempt();
        } catch (err) {
          errors.push(err);
        }
      }
      em.complete();
      thrown.resolve(errors);
    });
    const client = connect(server.url);
    await client.ended;
    expect(await thrown.promise).toEqual([
      expect.objectContaining({ code: 'SSE_ERR_ALREADY_ATTACHED' }),
      expect.objectContaining({ code: 'SSE_ERR_HEADERS_SENT' }),
    ]);
  });

  test.each([
    ['timeout', { timeout: -1 }],
    ['keepAlive', { keepAlive: 1.5 }],
    ['maxBufferedBytes', { maxBufferedBytes: Number.NaN }],
    ['sendTimeout', { sendTimeout: -5 }],
    // Past what a timer can wait Node fires it after 1 ms: refused, not a stream that times out at once.
    ['timeout past 2^31 - 1 ms', { timeout: 2 ** 31 }],
    ['keepAlive past 2^31 - 1 ms', { keepAlive: 2 ** 31 }],
    ['sendTimeout past 2^31 - 1 ms', { sendTimeout: 2 ** 31 }],
    ['retry', { retry: 0.5 }],
    ['mode', { mode: 'push' }],
  ])('an invalid %s option throws a TypeError with SSE_ERR_INVALID_OPTION', (_name, options) => {
    expect(() => new SseEmitter(options as SseEmitterOptions)).toThrow(
      expect.objectContaining({ code: 'SSE_ERR_INVALID_OPTION', name: 'SseInvalidOptionError' }),
    );
  });
});
