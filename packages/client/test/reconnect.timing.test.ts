/**
 * When the client reconnects, over real sockets: the server's retry:, retry.initial, long-poll's retry: 0,
 * exponential capped backoff after consecutive failures (with and without jitter), its reset after a good
 * response, Retry-After on 429 and 503, and retry.attempts. Requests are counted; delays are measured
 * between request arrivals at the server and checked against generous bounds only.
 */
import { connect } from '@tidings/client';
import { outcome, type RawServer, rawServer, stream } from './support/raw-server';

let server: RawServer | undefined;
afterEach(() => server?.close());

/** ms between the arrivals of consecutive requests. */
const gaps = (s: RawServer): number[] => s.requests.slice(1).map((r, i) => r.at - s.requests[i]!.at);

/** Slack for timer and clock granularity: a wait may look this much shorter between two arrivals. */
const SLACK = 5;

test("a response that ends is reopened after the server's retry:, with Last-Event-ID", async () => {
  server = await rawServer((_req, res, n) => {
    if (n === 0) stream(res, 'retry: 300\nid: 1\ndata: a\n\n');
    else if (n === 1) stream(res, 'id: 2\ndata: b\n\n');
    else res.writeHead(204).end();
  });
  const s = connect(server.url, { retry: { initial: 5 } });
  const seen = await outcome(s);
  expect(seen.events).toEqual([
    { event: 'message', data: 'a', id: '1' },
    { event: 'message', data: 'b', id: '2' },
  ]);
  expect(server.requests.map((r) => r.headers['last-event-id'])).toEqual([undefined, '1', '2']);
  expect(seen.reconnects.map((r) => r.delay)).toEqual([300, 300]);
  for (const gap of gaps(server)) expect(gap).toBeGreaterThanOrEqual(300 - SLACK);
  expect(seen.closeError).toBeUndefined();
  expect(s.readyState).toBe('closed');
});

test('without a retry: from the server it waits retry.initial', async () => {
  server = await rawServer((_req, res, n) => (n === 0 ? stream(res, 'data: a\n\n') : res.writeHead(204).end()));
  const seen = await outcome(connect(server.url, { retry: { initial: 200 } }));
  expect(seen.reconnects.map((r) => r.delay)).toEqual([200]);
  expect(gaps(server)[0]).toBeGreaterThanOrEqual(200 - SLACK);
});

test('retry: 0 (long-poll mode) reconnects at once, every time', async () => {
  server = await rawServer((_req, res, n) =>
    n < 5 ? stream(res, `retry: 0\nid: ${n}\ndata: ${n}\n\n`) : res.writeHead(204).end(),
  );
  // A 10 minute initial wait would outlast the test's timeout if retry: 0 were not honoured.
  const seen = await outcome(connect(server.url, { retry: { initial: 600_000 } }));
  expect(server.requests).toHaveLength(6);
  expect(seen.reconnects.map((r) => r.delay)).toEqual([0, 0, 0, 0, 0]);
  expect(seen.events.map((e) => e.data)).toEqual([0, 1, 2, 3, 4]);
  expect(server.requests.map((r) => r.headers['last-event-id'])).toEqual([undefined, '0', '1', '2', '3', '4']);
});

test('consecutive failures back off exponentially up to max, then retry.attempts ends it', async () => {
  server = await rawServer((_req, res) => res.writeHead(503).end());
  const s = connect(server.url, { retry: { initial: 40, factor: 2, max: 200, jitter: false, attempts: 6 } });
  const seen = await outcome(s);
  expect(server.requests).toHaveLength(6);
  expect(seen.reconnects.map((r) => [r.failures, r.delay])).toEqual([
    [1, 40],
    [2, 80],
    [3, 160],
    [4, 200],
    [5, 200],
  ]);
  gaps(server).forEach((gap, i) => {
    expect(gap).toBeGreaterThanOrEqual(seen.reconnects[i]!.delay - SLACK);
  });
  expect(seen.closeError).toMatchObject({ code: 'SSE_CLIENT_ERR_ATTEMPTS', status: 503 });
  expect(seen.closeError?.cause).toMatchObject({ code: 'SSE_CLIENT_ERR_HTTP', status: 503 });
  // Five passing failures, then the final one.
  expect(seen.errors.map((e) => e.code)).toEqual([...Array(5).fill('SSE_CLIENT_ERR_HTTP'), 'SSE_CLIENT_ERR_ATTEMPTS']);
});

test('jitter spreads each backoff wait over [half, whole]', async () => {
  server = await rawServer((_req, res) => res.writeHead(500).end());
  const seen = await outcome(connect(server.url, { retry: { initial: 100, factor: 1, attempts: 6 } }));
  const delays = seen.reconnects.map((r) => r.delay);
  expect(delays).toHaveLength(5);
  for (const delay of delays) {
    expect(delay).toBeGreaterThanOrEqual(50);
    expect(delay).toBeLessThanOrEqual(100);
  }
  expect(new Set(delays).size).toBeGreaterThan(1); // five equal random draws: practically impossible
});

test('a response that delivered data resets the failure count', async () => {
  const answers = [503, 503, 200, 503, 204];
  server = await rawServer((_req, res, n) =>
    answers[n] === 200 ? stream(res, 'data: ok\n\n') : res.writeHead(answers[n]!).end(),
  );
  const seen = await outcome(connect(server.url, { retry: { initial: 30, factor: 2, jitter: false } }));
  expect(server.requests).toHaveLength(5);
  expect(seen.reconnects.map((r) => [r.failures, r.delay])).toEqual([
    [1, 30],
    [2, 60],
    [0, 30],
    [1, 30],
  ]);
  expect(seen.closeError).toBeUndefined();
});

test('429 with Retry-After in seconds waits that long, longer than its own backoff', async () => {
  server = await rawServer((_req, res, n) =>
    n === 0 ? res.writeHead(429, { 'retry-after': '1' }).end() : res.writeHead(204).end(),
  );
  const seen = await outcome(connect(server.url, { retry: { initial: 10, jitter: false } }));
  expect(seen.reconnects.map((r) => r.delay)).toEqual([1000]);
  expect(gaps(server)[0]).toBeGreaterThanOrEqual(1000 - SLACK);
  expect(seen.errors).toEqual([expect.objectContaining({ code: 'SSE_CLIENT_ERR_HTTP', status: 429 })]);
});

test('503 with Retry-After as an HTTP date waits until then', async () => {
  // HTTP dates have whole seconds: 3 s ahead is between 2 and 3 s away once the milliseconds are dropped, and
  // more than 1 s away however slowly this busy machine gets the 503 across.
  const until = new Date(Date.now() + 3000).toUTCString();
  server = await rawServer((_req, res, n) =>
    n === 0 ? res.writeHead(503, { 'retry-after': until }).end() : res.writeHead(204).end(),
  );
  const seen = await outcome(connect(server.url, { retry: { initial: 10, jitter: false } }));
  expect(seen.reconnects[0]!.delay).toBeGreaterThan(1000);
  expect(seen.reconnects[0]!.delay).toBeLessThanOrEqual(3000);
  expect(gaps(server)[0]).toBeGreaterThan(1000);
});

test('a refused connection is a network failure, retried until retry.attempts', async () => {
  const gone = await rawServer(() => undefined);
  const url = gone.url;
  await gone.close();
  const seen = await outcome(connect(url, { retry: { initial: 10, attempts: 2 } }));
  expect(seen.errors.map((e) => e.code)).toEqual(['SSE_CLIENT_ERR_NETWORK', 'SSE_CLIENT_ERR_ATTEMPTS']);
  expect(seen.closeError?.cause).toMatchObject({ code: 'SSE_CLIENT_ERR_NETWORK' });
});

test('retry: false never reconnects: a response that ends closes the stream normally', async () => {
  server = await rawServer((_req, res) => stream(res, 'data: once\n\n'));
  const seen = await outcome(connect(server.url, { retry: false }));
  expect(seen.events.map((e) => e.data)).toEqual(['once']);
  expect(seen.reconnects).toEqual([]);
  expect(seen.closeError).toBeUndefined();
  expect(server.requests).toHaveLength(1);
});
