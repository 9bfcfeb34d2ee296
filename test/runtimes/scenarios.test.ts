/**
 * The same scenarios on every runtime, against two servers with the same routes: handlers/tidings.mjs
 * (`sseResponse()` from the built @tidings/core, as each runtime resolves it) and handlers/hono.mjs (Hono with
 * @tidings/hono): exact frames, channel fan-out and Last-Event-ID replay, cleanup when the client leaves, a
 * stalled reader closed, refusals, keep-alive, runs, hostile input. Needs `pnpm build` first.
 */
import { connect } from 'node:net';
import * as path from 'node:path';
import { type Launched, launch, runtimesHere } from './harness';
import { eventually, openSse } from './sse-client';

const SERVERS = ['tidings', 'hono'] as const;
const cases = runtimesHere().flatMap((runtime) => SERVERS.map((server) => [runtime, server] as const));

interface Stats {
  connections: number;
  slowClosed: number;
  size: number;
}

describe.each(cases)('%s, %s', (runtime, serverName) => {
  let server: Launched;
  let base: string;
  const stats = async (channel: string): Promise<Stats> =>
    (await (await fetch(`${base}/stats?channel=${channel}`)).json()) as Stats;
  const publish = async (channel: string, data: string): Promise<string> =>
    ((await (await fetch(`${base}/publish?channel=${channel}&data=${data}`)).json()) as { id: string }).id;
  let channelCount = 0;
  /** A channel name of its own for each test (the server lives for the whole file). */
  const freshChannel = (): string => `c${++channelCount}`;

  beforeAll(async () => {
    server = await launch(runtime, path.join(__dirname, 'handlers', `${serverName}.mjs`));
    base = server.origin;
  });
  afterAll(() => server?.stop());

  test('exact frames: stream headers, events with ids and names, then the end', async () => {
    const client = await openSse(`${base}/clock?n=3`, { origin: 'https://app.example' });
    expect(client.status).toBe(200);
    expect(client.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(client.headers.get('cache-control')).toBe('no-cache, no-transform');
    if (serverName === 'hono') expect(client.headers.get('access-control-allow-origin')).toBe('https://app.example');
    await client.ended;
    expect(client.events.map(({ id, event, data }) => ({ id, event, data }))).toEqual([
      { id: '1', event: 'tick', data: '{"i":1}' },
      { id: '2', event: 'tick', data: '{"i":2}' },
      { id: '3', event: 'tick', data: '{"i":3}' },
    ]);
  });

  test('the response head arrives at once, before any event (Bun and the edge runtime: an opening comment)', async () => {
    // /quiet never sends an event nor a keep-alive: a head held back until the first write never arrives, and
    // the test times out.
    const client = await openSse(`${base}/quiet`);
    expect(client.status).toBe(200);
    expect(client.events).toEqual([]);
    client.leave();
  });

  test('channel fan-out, Last-Event-ID replay after a reconnect, and cleanup when clients leave', async () => {
    const channel = freshChannel();
    const [a, b] = await Promise.all([
      openSse(`${base}/channel?name=${channel}`),
      openSse(`${base}/channel?name=${channel}`),
    ]);
    expect((await stats(channel)).size).toBe(2);
    const first = await publish(channel, 'one');
    await publish(channel, 'two');
    for (const client of [a, b]) expect((await client.waitFor(2)).map((e) => e.data)).toEqual(['one', 'two']);
    a.leave();
    b.leave();
    // workerd and the edge runtime notice a client that left only at the next write: keep publishing.
    const after = await eventually(
      () => stats(channel),
      (s) => s.size === 0,
      () => publish(channel, 'nudge'),
    );
    expect(after.size).toBe(0);
    const again = await openSse(`${base}/channel?name=${channel}`, { 'last-event-id': first });
    // Replay resumes after 'one': 'two' first (then any nudges).
    expect((await again.waitFor(1))[0]!.data).toBe('two');
    again.leave();
  });

  test('long polling and short polling from the same channel', async () => {
    const channel = freshChannel();
    const first = await publish(channel, 'one');
    await publish(channel, 'two');
    // Long poll: what the client missed, then the response ends; it comes back with the last id.
    const long = await openSse(`${base}/poll?name=${channel}&lastEventId=${encodeURIComponent(first)}`);
    await long.ended;
    expect(long.events.map((e) => e.data)).toEqual(['two']);
    // Short poll: a client that accepts only JSON gets the events after its id at once.
    const short = await fetch(`${base}/channel?name=${channel}&lastEventId=${encodeURIComponent(first)}`, {
      headers: { accept: 'application/json' },
    });
    expect(short.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = (await short.json()) as { events: { data: string }[]; lastEventId: string };
    expect(body.events.map((e) => e.data)).toEqual(['two']);
    expect(body.lastEventId).toBe(long.events[0]!.id);
  });

  test('a reader that stalls is closed as slow; the channel forgets it', async () => {
    const channel = freshChannel();
    const { port } = new URL(base);
    const socket = connect(Number(port), '127.0.0.1');
    socket.write(`GET /channel?name=${channel} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
    await new Promise((resolve) => socket.once('data', resolve));
    socket.pause(); // never reads again
    try {
      // 8 MiB through a 64 KiB maxBufferedBytes, more than the socket buffers hold.
      await fetch(`${base}/flood?channel=${channel}&count=256&size=32768`);
      const after = await eventually(
        () => stats(channel),
        (s) => s.size === 0,
      );
      expect(after.size).toBe(0);
      expect(after.slowClosed).toBeGreaterThanOrEqual(1);
    } finally {
      socket.destroy();
    }
  });

  test('refusals are plain responses: 503 with Retry-After, 401, 403, 400', async () => {
    const holder = await openSse(`${base}/limited`);
    const full = await fetch(`${base}/limited`);
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toBe('5');
    expect(((await full.json()) as { error: string }).error).toBe('SSE_ERR_TOO_MANY_CONNECTIONS');
    holder.leave();
    const unauthenticated = await fetch(`${base}/news?token=bad`);
    expect(unauthenticated.status).toBe(401);
    expect(((await unauthenticated.json()) as { error: string }).error).toBe('SSE_ERR_UNAUTHORIZED');
    expect((await fetch(`${base}/news?token=no`)).status).toBe(403);
    const badName = await fetch(`${base}/channel?name=${encodeURIComponent('a\nb')}`);
    expect(badName.status).toBe(400);
    expect(((await badName.json()) as { error: string }).error).toBe('SSE_ERR_INVALID_CHANNEL');
  });

  test('keep-alive comments arrive on a silent stream', async () => {
    const client = await openSse(`${base}/channel?name=${freshChannel()}`);
    // keepAlive 300 ms: the opening comment and two pings.
    const comments = await eventually(
      async () => client.comments,
      (count) => count >= 3,
    );
    client.leave();
    expect(comments).toBeGreaterThanOrEqual(3);
    expect(client.events).toEqual([]);
  });

  test('runs: the whole run from its start, then live, the end frame and the end; 204 after it; 404; 400', async () => {
    const id = `run-${serverName}`;
    const run = async (action: string, data = ''): Promise<{ id: string }> =>
      (await (await fetch(`${base}/run?id=${id}&do=${action}&data=${data}`)).json()) as { id: string };
    await run('create');
    await run('append', 'one');
    await run('append', 'two');
    const client = await openSse(`${base}/runs/${id}`);
    expect([client.status, client.headers.get('tidings-run'), client.headers.get('content-location')]).toEqual([
      200,
      id,
      `/runs/${id}`,
    ]);
    expect((await client.waitFor(2)).map((e) => e.data)).toEqual(['one', 'two']);
    await run('append', 'three');
    await run('end');
    await client.ended;
    expect(client.events.map((e) => [e.event, e.data])).toEqual([
      [undefined, 'one'],
      [undefined, 'two'],
      [undefined, 'three'],
      ['end', '{"state":"ended"}'],
    ]);
    const back = await fetch(`${base}/runs/${id}`, { headers: { 'last-event-id': client.events[3]!.id! } });
    expect([back.status, back.headers.get('tidings-run'), await back.text()]).toEqual([204, id, '']);
    const missing = await fetch(`${base}/runs/no-such-run`);
    expect([missing.status, ((await missing.json()) as { error: string }).error]).toEqual([
      404,
      'SSE_ERR_RUN_NOT_FOUND',
    ]);
    const hostile = await fetch(`${base}/runs/${encodeURIComponent('a\r\nb')}`);
    expect([hostile.status, ((await hostile.json()) as { error: string }).error]).toEqual([
      400,
      'SSE_ERR_INVALID_RUN_ID',
    ]);
  });

  test('hostile input: CR/LF in an event name from the request, a bad Last-Event-ID', async () => {
    const named = await fetch(`${base}/named?event=${encodeURIComponent('x\ndata: forged')}`);
    expect(named.status).toBe(400);
    expect(await named.json()).toEqual({ error: 'SSE_ERR_INVALID_FIELD' });
    const channel = freshChannel();
    await publish(channel, 'kept');
    // An id with a control character is ignored (never echoed): the client gets no replay, only live events.
    const client = await openSse(`${base}/channel?name=${channel}&lastEventId=${encodeURIComponent('1\u0000')}`);
    await publish(channel, 'live');
    expect((await client.waitFor(1)).map((e) => e.data)).toEqual(['live']);
    client.leave();
  });
});
