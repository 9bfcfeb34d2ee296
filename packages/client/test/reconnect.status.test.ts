/**
 * What each HTTP answer does, over real sockets: 204 ends the stream normally; 4xx other than 408/429 end it
 * with an error carrying the status (a 401 first gets one retry when headers come from a function); 408 and
 * 5xx are retried; a response that is not text/event-stream ends it with a clear error.
 */
import { connect, type SseClientError } from '@tidings/client';
import { outcome, type RawServer, rawServer, stream, until } from './support/raw-server';

let server: RawServer | undefined;
afterEach(() => server?.close());

const quick = { initial: 5 };

test('204 No Content closes the stream for good, without an error, and ends for await normally', async () => {
  server = await rawServer((_req, res) => res.writeHead(204).end());
  const s = connect(server.url, { retry: quick });
  const seen = outcome(s);
  const events: unknown[] = [];
  for await (const ev of s) events.push(ev);
  expect(events).toEqual([]);
  expect((await seen).closeError).toBeUndefined();
  expect((await seen).errors).toEqual([]);
  expect(server.requests).toHaveLength(1);
  expect(s.readyState).toBe('closed');
});

test.each([400, 403, 404, 405, 410])('%i stops for good with SSE_CLIENT_ERR_HTTP and the status', async (status) => {
  server = await rawServer((_req, res) => res.writeHead(status).end());
  const s = connect(server.url, { retry: quick });
  const seen = outcome(s);
  let thrown: unknown;
  try {
    for await (const _ of s) throw new Error('no event expected');
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toMatchObject({ name: 'SseClientError', code: 'SSE_CLIENT_ERR_HTTP', status });
  expect((thrown as Error).message).toContain(String(status));
  expect((await seen).closeError).toBe(thrown);
  expect((await seen).errors).toEqual([thrown]);
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(server.requests).toHaveLength(1);
});

test('401 with fixed headers stops at once', async () => {
  server = await rawServer((_req, res) => res.writeHead(401).end());
  const seen = await outcome(connect(server.url, { retry: quick, headers: { authorization: 'Bearer old' } }));
  expect(seen.closeError).toMatchObject({ code: 'SSE_CLIENT_ERR_HTTP', status: 401 });
  expect(server.requests).toHaveLength(1);
});

test('401 with a headers function retries once with fresh headers, which can succeed', async () => {
  let issued = 0;
  server = await rawServer((req, res, n) => {
    if (n === 0) res.writeHead(401).end();
    else if (req.headers.authorization === 'Bearer t2') stream(res, 'data: welcome\n\n');
    else res.writeHead(204).end();
  });
  const seen = await outcome(
    connect(server.url, { retry: quick, headers: () => ({ authorization: `Bearer t${++issued}` }) }),
  );
  expect(server.requests.map((r) => r.headers.authorization)).toEqual(['Bearer t1', 'Bearer t2', 'Bearer t3']);
  expect(seen.events.map((e) => e.data)).toEqual(['welcome']);
  expect(seen.reconnects[0]).toMatchObject({ delay: 0, error: { status: 401 } });
});

test('401 with a headers function that keeps failing: one retry, then it stops with the 401', async () => {
  let calls = 0;
  server = await rawServer((_req, res) => res.writeHead(401).end());
  const seen = await outcome(
    connect(server.url, {
      retry: quick,
      headers: async () => {
        calls++;
        return { authorization: 'Bearer stale' };
      },
    }),
  );
  expect(server.requests).toHaveLength(2);
  expect(calls).toBe(2);
  expect(seen.closeError).toMatchObject({ code: 'SSE_CLIENT_ERR_HTTP', status: 401 });
});

test('408 and 5xx are retried; every failure is reported to onError while it keeps going', async () => {
  const answers = [408, 500, 502, 503];
  server = await rawServer((_req, res, n) => res.writeHead(answers[n] ?? 204).end());
  const s = connect(server.url, { retry: quick });
  const states: string[] = [];
  s.onError(() => states.push(s.readyState));
  const seen = await outcome(s);
  expect(seen.errors.map((e: SseClientError) => e.status)).toEqual(answers);
  expect(states).toEqual(['connecting', 'connecting', 'connecting', 'connecting']);
  expect(seen.closeError).toBeUndefined();
  expect(server.requests).toHaveLength(5);
});

test.each([
  ['application/json', '{"not":"a stream"}'],
  ['text/html', '<html></html>'],
  ['text/event-streams', 'data: x\n\n'],
])('a 200 with Content-Type %s stops for good with SSE_CLIENT_ERR_CONTENT_TYPE', async (type, body) => {
  server = await rawServer((_req, res) => res.writeHead(200, { 'content-type': type }).end(body));
  const seen = await outcome(connect(server.url, { retry: quick }));
  expect(seen.closeError).toMatchObject({ code: 'SSE_CLIENT_ERR_CONTENT_TYPE', status: 200 });
  expect(seen.closeError?.message).toContain(type);
  expect(seen.events).toEqual([]);
  await until(() => server!.requests.length === 1, 'the one request');
  expect(server.requests).toHaveLength(1);
});

test('a Content-Type with parameters and other casing is an event stream', async () => {
  server = await rawServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'Text/Event-Stream; charset=utf-8' }).end('data: x\n\n');
  });
  const seen = await outcome(connect(server.url, { retry: false }));
  expect(seen.events.map((e) => e.data)).toEqual(['x']);
  expect(seen.closeError).toBeUndefined();
});
