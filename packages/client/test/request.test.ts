/**
 * What each attempt sends, over real sockets: headers (asked again before every attempt), Accept, Last-Event-ID,
 * and the rules for non-GET requests: not re-sent after a drop by default, resumed with GET at the response's
 * Content-Location, re-sent with retryNonIdempotent, re-sent after answers that say nothing was done.
 */
import { connect } from '@tidings/client';
import { outcome, type RawServer, rawServer, stream } from './support/raw-server';

let server: RawServer | undefined;
afterEach(() => server?.close());

const quick = { initial: 5 };
/** Streams one event with id `n + 1` to the first two requests, then answers 204. */
const twoStreams = (_req: unknown, res: import('node:http').ServerResponse, n: number): void =>
  n < 2 ? stream(res, `id: ${n + 1}\ndata: ${n + 1}\n\n`) : void res.writeHead(204).end();

test('headers() is asked before every attempt, sync or async, and each request carries its answer', async () => {
  for (const make of [
    (n: number) => ({ 'x-token': `t${n}` }),
    async (n: number) => new Headers({ 'x-token': `t${n}` }),
  ]) {
    server = await rawServer(twoStreams);
    let calls = 0;
    await outcome(connect(server.url, { retry: quick, headers: () => make(++calls) }));
    expect(calls).toBe(3);
    expect(server.requests.map((r) => r.headers['x-token'])).toEqual(['t1', 't2', 't3']);
    await server.close();
  }
  server = undefined;
});

test('Accept: text/event-stream unless given; Last-Event-ID from lastEventId, then from the stream', async () => {
  server = await rawServer(twoStreams);
  await outcome(connect(server.url, { retry: quick, lastEventId: '41' }));
  expect(server.requests.map((r) => r.headers.accept)).toEqual(Array(3).fill('text/event-stream'));
  expect(server.requests.map((r) => r.headers['last-event-id'])).toEqual(['41', '1', '2']);
  await server.close();

  server = await rawServer(twoStreams);
  await outcome(connect(server.url, { retry: quick, headers: [['Accept', 'text/event-stream, application/json']] }));
  expect(server.requests[0]!.headers.accept).toBe('text/event-stream, application/json');
});

test('credentials and the method reach the given fetch, called without a `this`', async () => {
  const seen: RequestInit[] = [];
  server = await rawServer((_req, res) => res.writeHead(204).end());
  await outcome(
    connect(server.url, {
      method: 'put',
      body: 'x',
      credentials: 'include',
      fetch: function (this: unknown, input, init) {
        expect(this).toBeUndefined(); // as a browser's window.fetch needs: no foreign `this`
        seen.push(init!);
        return fetch(input, init);
      },
    }),
  );
  expect(seen[0]).toMatchObject({ method: 'PUT', credentials: 'include', body: 'x' });
  expect(server.requests[0]!.method).toBe('PUT');
});

describe('a POST whose stream drops', () => {
  test('is not sent again by default: the stream ends with SSE_CLIENT_ERR_NOT_RESENT', async () => {
    server = await rawServer((_req, res) => stream(res, 'id: 1\ndata: part\n\n'));
    const seen = await outcome(connect(server.url, { method: 'POST', body: 'prompt', retry: quick }));
    expect(seen.events.map((e) => e.data)).toEqual(['part']);
    expect(seen.closeError).toMatchObject({ code: 'SSE_CLIENT_ERR_NOT_RESENT' });
    expect(seen.closeError?.message).toMatch(/Content-Location|retryNonIdempotent/);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.requests).toHaveLength(1);
    expect(await server.requests[0]!.body).toBe('prompt');
  });

  test('resumes with GET at its Content-Location (resolved against the URL), with Last-Event-ID and no body', async () => {
    server = await rawServer((_req, res, n) => {
      if (n === 0) stream(res, 'id: 1\ndata: part\n\n', false, { 'content-location': 'runs/abc' });
      else if (n === 1) stream(res, 'id: 2\ndata: rest\n\n');
      else res.writeHead(204).end();
    });
    const seen = await outcome(connect(`${server.url}/api/generate`, { method: 'POST', body: 'prompt', retry: quick }));
    expect(seen.events.map((e) => e.data)).toEqual(['part', 'rest']);
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /api/generate',
      'GET /api/runs/abc',
      'GET /api/runs/abc',
    ]);
    expect(server.requests[1]!.headers['last-event-id']).toBe('1');
    expect(await server.requests[1]!.body).toBe('');
    expect(seen.closeError).toBeUndefined();
  });

  test('is sent again, body and all, with retryNonIdempotent: true', async () => {
    server = await rawServer(twoStreams);
    const seen = await outcome(
      connect(server.url, { method: 'POST', body: 'prompt', retryNonIdempotent: true, retry: quick }),
    );
    expect(server.requests.map((r) => r.method)).toEqual(['POST', 'POST', 'POST']);
    expect(await Promise.all(server.requests.map((r) => r.body))).toEqual(['prompt', 'prompt', 'prompt']);
    expect(server.requests[1]!.headers['last-event-id']).toBe('1');
    expect(seen.closeError).toBeUndefined();
  });

  test('answered 503 or 429 (nothing done) it is sent again; a network failure is not', async () => {
    server = await rawServer((_req, res, n) => res.writeHead([503, 429][n] ?? 204).end());
    let seen = await outcome(connect(server.url, { method: 'POST', body: 'p', retry: quick }));
    expect(server.requests.map((r) => r.method)).toEqual(['POST', 'POST', 'POST']);
    expect(seen.closeError).toBeUndefined();
    await server.close();

    server = await rawServer((req) => req.socket.destroy());
    seen = await outcome(connect(server.url, { method: 'POST', body: 'p', retry: quick }));
    expect(server.requests).toHaveLength(1);
    expect(seen.closeError).toMatchObject({ code: 'SSE_CLIENT_ERR_NOT_RESENT' });
    expect(seen.closeError?.cause).toMatchObject({ code: 'SSE_CLIENT_ERR_NETWORK' });
  });
});

test('a request fetch cannot make (a GET with a body, a bad header) ends at once with SSE_CLIENT_ERR_REQUEST', async () => {
  server = await rawServer((_req, res) => res.writeHead(204).end());
  for (const options of [{ body: 'x' }, { headers: { 'bad header': 'x' } }]) {
    const seen = await outcome(connect(server.url, { ...options, retry: quick }));
    expect(seen.closeError).toMatchObject({ code: 'SSE_CLIENT_ERR_REQUEST' });
    expect(seen.reconnects).toEqual([]);
  }
  expect(server.requests).toHaveLength(0);
});

test('headers() that throws fails that attempt (SSE_CLIENT_ERR_HEADERS) and is asked again; nothing went out, so even a POST is sent', async () => {
  server = await rawServer((_req, res) => res.writeHead(204).end());
  let calls = 0;
  const seen = await outcome(
    connect(server.url, {
      method: 'POST',
      body: 'p',
      retry: quick,
      headers: () => {
        if (++calls === 1) throw new Error('token service down');
        return { authorization: 'Bearer fresh' };
      },
    }),
  );
  expect(seen.errors.map((e) => e.code)).toEqual(['SSE_CLIENT_ERR_HEADERS']);
  expect((seen.errors[0]!.cause as Error).message).toBe('token service down');
  expect(server.requests.map((r) => `${r.method} ${r.headers.authorization}`)).toEqual(['POST Bearer fresh']);
});
