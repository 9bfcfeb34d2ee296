/**
 * A stream's life over real sockets: readyState and the life callbacks in order, stall detection (keep-alive
 * comments count as life), closing by close(), by an AbortSignal (before, during a response, during a wait),
 * by leaving a for await, and a run's `end` event on a response marked Tidings-Run.
 */
import { connect } from '@tidings/client';
import { EARLY_EVENTS } from '../src/stream';
import { outcome, type RawServer, rawServer, stream, until } from './support/raw-server';

let server: RawServer | undefined;
afterEach(() => server?.close());

const quick = { initial: 5 };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('readyState and the life callbacks, in order', async () => {
  server = await rawServer((_req, res, n) => (n === 0 ? stream(res, 'data: a\n\n') : res.writeHead(204).end()));
  const s = connect(server.url, { retry: quick });
  const log: string[] = [s.readyState];
  s.onOpen((response) => log.push(`open ${response.status} ${s.readyState}`));
  s.on('message', (data) => log.push(`message ${data}`));
  s.onReconnect(({ delay }) => log.push(`reconnect ${delay} ${s.readyState}`));
  s.onError((err) => log.push(`error ${err.code}`));
  s.onClose((err) => log.push(`close ${err} ${s.readyState}`));
  await outcome(s);
  expect(log).toEqual(['connecting', 'open 200 open', 'message a', 'reconnect 5 connecting', 'close undefined closed']);
});

test('no byte for stallTimeout: the connection is dropped and reopened with Last-Event-ID', async () => {
  server = await rawServer((_req, res, n) =>
    n === 0 ? stream(res, 'id: 1\ndata: a\n\n', true) : res.writeHead(204).end(),
  );
  const seen = await outcome(connect(server.url, { retry: quick, stallTimeout: 150 }));
  expect(seen.errors.map((e) => e.code)).toEqual(['SSE_CLIENT_ERR_STALLED']);
  expect(seen.errors[0]!.message).toContain('150 ms');
  expect(server.requests).toHaveLength(2);
  expect(server.requests[1]!.headers['last-event-id']).toBe('1');
  expect(server.requests[1]!.at - server.requests[0]!.at).toBeGreaterThanOrEqual(150 - 5);
  await server.requests[0]!.closed; // the stalled exchange was really dropped
});

test('a server that never answers the request stalls too', async () => {
  server = await rawServer((_req, res, n) => (n === 0 ? undefined : res.writeHead(204).end()));
  const seen = await outcome(connect(server.url, { retry: quick, stallTimeout: 100 }));
  expect(seen.errors.map((e) => e.code)).toEqual(['SSE_CLIENT_ERR_STALLED']);
  expect(server.requests).toHaveLength(2);
});

test('keep-alive comments count as life: no stall while they come', async () => {
  server = await rawServer((_req, res, n) => {
    if (n > 0) return void res.writeHead(204).end();
    stream(res, ':\n\n', true);
    const ping = setInterval(() => res.write(': ping\n\n'), 30);
    setTimeout(() => {
      clearInterval(ping);
      res.end('data: done\n\n');
    }, 2000);
  });
  // 2 s of pings 30 ms apart against a 600 ms stall timeout: pings that did not count would stall it after 600 ms,
  // and a loaded machine's pause (a major gc of this long Jest process) stays well inside the margin.
  const seen = await outcome(connect(server.url, { retry: quick, stallTimeout: 600 }));
  expect(seen.errors).toEqual([]);
  expect(seen.events.map((e) => e.data)).toEqual(['done']);
  expect(server.requests).toHaveLength(2);
});

test.each([0, Number.POSITIVE_INFINITY])('stallTimeout %s turns stall detection off', async (stallTimeout) => {
  server = await rawServer((_req, res) => stream(res, 'data: a\n\n', true));
  const s = connect(server.url, { retry: quick, stallTimeout });
  const seen = outcome(s);
  await until(() => s.readyState === 'open', 'the stream to open');
  await sleep(200); // a stall timer taken as 0 or 1 ms (Node fires setTimeout(Infinity) at once) has fired by now
  expect(s.readyState).toBe('open');
  s.close();
  expect((await seen).errors).toEqual([]);
  expect(server.requests).toHaveLength(1);
});

test('close() aborts the open response (the server sees it go), sends nothing more, calls onClose once', async () => {
  server = await rawServer((_req, res) => stream(res, 'data: a\n\n', true));
  const s = connect(server.url, { retry: quick });
  let closes = 0;
  s.onClose(() => closes++);
  s.on('message', () => s.close());
  await until(() => closes === 1, 'onClose');
  await server.requests[0]!.closed;
  s.close();
  await sleep(50);
  expect(closes).toBe(1);
  expect(s.readyState).toBe('closed');
  expect(server.requests).toHaveLength(1);
});

describe('an AbortSignal closes the stream', () => {
  test('already aborted: no request at all', async () => {
    server = await rawServer((_req, res) => res.writeHead(204).end());
    const s = connect(server.url, { signal: AbortSignal.abort() });
    expect(s.readyState).toBe('closed');
    await sleep(50);
    expect(server.requests).toHaveLength(0);
  });

  test('while a response streams', async () => {
    server = await rawServer((_req, res) => stream(res, 'data: a\n\n', true));
    const ac = new AbortController();
    const s = connect(server.url, { retry: quick, signal: ac.signal });
    s.on('message', () => ac.abort());
    const seen = await outcome(s);
    expect(seen.closeError).toBeUndefined();
    await server.requests[0]!.closed;
    await sleep(50);
    expect(server.requests).toHaveLength(1);
  });

  // A wait of 10 minutes that the abort did not end would outlast the test's timeout, and hold the process open.
  test.each([
    ['while waiting to reconnect', 50],
    ['from the onReconnect callback, before the wait starts', 0],
  ])('%s: the stream closes at once, no request follows, no wait is left pending', async (_when, abortAfterMs) => {
    server = await rawServer((_req, res) => res.writeHead(503).end());
    const setTimer = jest.spyOn(globalThis, 'setTimeout');
    const clearTimer = jest.spyOn(globalThis, 'clearTimeout');
    try {
      const ac = new AbortController();
      const s = connect(server.url, { retry: { initial: 600_000, jitter: false }, signal: ac.signal });
      s.onReconnect(() => (abortAfterMs === 0 ? ac.abort() : setTimeout(() => ac.abort(), abortAfterMs)));
      await outcome(s);
      await sleep(50);
      expect(server.requests).toHaveLength(1);
      const waits = setTimer.mock.results.filter((_, call) => setTimer.mock.calls[call]![1] === 600_000);
      expect(waits).toHaveLength(abortAfterMs === 0 ? 0 : 1);
      const cleared = clearTimer.mock.calls.map(([timer]) => timer);
      for (const wait of waits) expect(cleared).toContain(wait.value);
    } finally {
      setTimer.mockRestore();
      clearTimer.mockRestore();
    }
  });
});

describe('for await', () => {
  test('gets typed events in order; leaving the loop closes the stream', async () => {
    server = await rawServer((_req, res) =>
      stream(res, 'event: tick\ndata: 1\n\nevent: tick\ndata: 2\n\ndata: x\n\n', true),
    );
    const s = connect<{ tick: number }>(server.url, { retry: quick });
    const got: unknown[] = [];
    for await (const ev of s) {
      got.push(ev);
      if (ev.event === 'message') break;
    }
    expect(got).toEqual([
      { event: 'tick', data: 1, id: '' },
      { event: 'tick', data: 2, id: '' },
      { event: 'message', data: 'x', id: '' },
    ]);
    expect(s.readyState).toBe('closed');
    await server.requests[0]!.closed;
  });

  test('the first loop gets every event since connect(), even when it starts after the stream closed', async () => {
    server = await rawServer((_req, res) => stream(res, 'data: 1\n\ndata: 2\n\ndata: 3\n\n'));
    const s = connect(server.url, { retry: false });
    await until(() => s.readyState === 'closed', 'the response to end');
    const late: unknown[] = [];
    for await (const ev of s) late.push(ev.data);
    expect(late).toEqual([1, 2, 3]);
    const later: unknown[] = [];
    for await (const ev of s) later.push(ev.data); // a second loop starts from its own start: nothing
    expect(later).toEqual([]);
  });

  test('a late first loop gets the final error too', async () => {
    server = await rawServer((_req, res) => res.writeHead(404).end());
    const s = connect(server.url);
    await until(() => s.readyState === 'closed', 'the 404');
    await expect(s[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'SSE_CLIENT_ERR_HTTP', status: 404 });
  });

  test(`past ${EARLY_EVENTS} events with no loop, none are kept for one (a stream used through on() stays small)`, async () => {
    server = await rawServer((_req, res) => stream(res, 'data: x\n\n'.repeat(EARLY_EVENTS + 1)));
    const s = connect(server.url, { retry: false });
    let heard = 0;
    s.on('message', () => heard++);
    await until(() => s.readyState === 'closed', 'the response to end');
    expect(heard).toBe(EARLY_EVENTS + 1);
    const late: unknown[] = [];
    for await (const ev of s) late.push(ev);
    expect(late).toEqual([]);
  });

  test('two loops each get every event; events wait in each loop until taken', async () => {
    server = await rawServer((_req, res) => stream(res, 'data: 1\n\ndata: 2\n\ndata: 3\n\n'));
    const s = connect(server.url, { retry: false });
    const [a, b] = [s[Symbol.asyncIterator](), s[Symbol.asyncIterator]()];
    await until(() => s.readyState === 'closed', 'the response to end');
    const drain = async (it: AsyncIterator<{ data: unknown }>): Promise<unknown[]> => {
      const out: unknown[] = [];
      for (let r = await it.next(); !r.done; r = await it.next()) out.push(r.value.data);
      return out;
    };
    expect(await drain(a)).toEqual([1, 2, 3]);
    expect(await drain(b)).toEqual([1, 2, 3]);
  });
});

test('on() gets events by any name, `end` and `error` included; server events never reach onError', async () => {
  server = await rawServer((_req, res) =>
    stream(res, 'event: error\ndata: {"reason":"x"}\n\nevent: end\ndata: bye\n\nevent: open\ndata: o\n\n'),
  );
  const s = connect(server.url, { retry: false });
  const got: string[] = [];
  for (const name of ['error', 'end', 'open'])
    s.on(name, (data, ev) => got.push(`${ev.event} ${JSON.stringify(data)}`));
  const removed = s.on('end', () => got.push('removed listener ran'));
  removed();
  const seen = await outcome(s);
  expect(got).toEqual(['error {"reason":"x"}', 'end "bye"', 'open "o"']);
  expect(seen.errors).toEqual([]);
});

test('data: JSON when it parses, else the string; a custom parse gets (data, event)', async () => {
  server = await rawServer((_req, res) =>
    stream(res, 'data: {"a":[1]}\n\ndata: {not json\n\ndata: "quoted"\n\nevent: n\ndata: 7\n\n'),
  );
  let seen = await outcome(connect(server.url, { retry: false }), ['message', 'n']);
  expect(seen.events.map((e) => e.data)).toEqual([{ a: [1] }, '{not json', 'quoted', 7]);
  await server.close();

  server = await rawServer((_req, res) => stream(res, 'data: {"a":[1]}\n\nevent: n\ndata: 7\n\n'));
  seen = await outcome(connect(server.url, { retry: false, parse: (data, event) => `${event}:${data}` }), [
    'message',
    'n',
  ]);
  expect(seen.events.map((e) => e.data)).toEqual(['message:{"a":[1]}', 'n:7']);
});

test('a parse that throws skips that event with SSE_CLIENT_ERR_PARSE; the stream goes on', async () => {
  server = await rawServer((_req, res) => stream(res, 'data: 1\n\ndata: oops\n\ndata: 3\n\n'));
  const parse = (data: string): number => {
    if (!/^\d+$/.test(data)) throw new SyntaxError(`not a number: ${data}`);
    return Number(data);
  };
  const seen = await outcome(connect(server.url, { retry: false, parse }));
  expect(seen.events.map((e) => e.data)).toEqual([1, 3]);
  expect(seen.errors).toEqual([expect.objectContaining({ code: 'SSE_CLIENT_ERR_PARSE' })]);
  expect((seen.errors[0]!.cause as Error).message).toBe('not a number: oops');
  expect(seen.closeError).toBeUndefined();
});

describe('a run: Tidings-Run on the response', () => {
  const run = 'id: 1\ndata: a\n\nid: 2\nevent: end\ndata: {"state":"ended"}\n\n';

  test('its `end` event closes the stream with no further request, even while the response stays open', async () => {
    // What follows the end in the same chunk is not delivered.
    server = await rawServer((_req, res) => stream(res, `${run}id: 3\ndata: after\n\n`, true, { 'tidings-run': 'r1' }));
    const s = connect(server.url, { retry: quick });
    const seen = await outcome(s, ['message', 'end']);
    expect(seen.events).toEqual([
      { event: 'message', data: 'a', id: '1' },
      { event: 'end', data: { state: 'ended' }, id: '2' },
    ]);
    expect(seen.closeError).toBeUndefined();
    expect(s.lastEventId).toBe('2');
    await server.requests[0]!.closed;
    await sleep(50);
    expect(server.requests).toHaveLength(1);
  });

  test('without Tidings-Run, an `end` event is just an event: an ended response is reopened', async () => {
    server = await rawServer((_req, res, n) => (n === 0 ? stream(res, run) : res.writeHead(204).end()));
    const seen = await outcome(connect(server.url, { retry: quick }), ['message', 'end']);
    expect(seen.events).toHaveLength(2);
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1]!.headers['last-event-id']).toBe('2');
  });
});
