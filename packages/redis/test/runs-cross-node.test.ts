/**
 * Runs across servers in two processes on the shared Redis: A (Express) produces, B (Fastify) serves. A client
 * follows on B from the start; one moves from A to B mid-run; a cancel on B aborts the producer's signal on A;
 * unknown and hostile ids on B; a producer that dies leaves a run B cancels as stalled; every key expires.
 */
import {
  connect,
  describeWith,
  rawRequest,
  SHARED_REDIS_URL,
  type SseTestClient,
  sequence,
  waitFor,
} from '@tidings/testkit';
import { deleteKeys, keysUnder, uniquePrefix } from '@tidings/testkit/redis';
import { EventSource, type FetchLike } from 'eventsource';
import { Redis } from 'ioredis';
import { type ClusterNode, startNode, startNodes } from './support/cluster';

/** The data of a run's `end` frame for a normal end. */
const ENDED = '{"state":"ended"}';

describeWith(['redis'], 'runs across an Express and a Fastify server in two processes (Redis)', () => {
  const prefix = uniquePrefix('runs-cross-node');
  const settings = { redisUrl: SHARED_REDIS_URL, prefix };
  let a: ClusterNode;
  let b: ClusterNode;
  let redis: Redis;
  const clients: SseTestClient[] = [];
  const open = (node: ClusterNode, path: string, lastEventId?: string): SseTestClient => {
    const client = connect(`${node.base}${path}`, { lastEventId });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    [a, b] = (await startNodes([
      { ...settings, framework: 'express' },
      { ...settings, framework: 'fastify' },
    ])) as [ClusterNode, ClusterNode];
    redis = new Redis(SHARED_REDIS_URL);
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all([a?.close(), b?.close()]);
    redis?.disconnect();
    await deleteKeys(SHARED_REDIS_URL, prefix);
  });

  test('produced on A, followed on B from the start: every token once, in order, then the end frame and the end', async () => {
    const run = await a.createRun();
    const client = open(b, `/runs/${run}`);
    const ids: string[] = [];
    for (const n of sequence(20)) ids.push(await a.append(run, `t${n}`));
    await a.end(run);
    await client.ended;
    expect(client.complete).toBe(true);
    expect([client.status, client.headers['tidings-run'], client.headers['content-location']]).toEqual([
      200,
      run,
      `/runs/${run}`,
    ]);
    expect(client.data).toEqual([...sequence(20).map((n) => `t${n}`), ENDED]);
    expect(client.events.slice(0, 20).map((ev) => ev.id)).toEqual(ids);
    expect(client.events[20]!.event).toBe('end');
  });

  test('the eventsource client moves from A to B mid-run: the rest exactly once, then 204 and it stops', async () => {
    const run = await a.createRun();
    // A load balancer in front of both: each request goes to `target`; what each one asked and got is kept.
    let target = a;
    const requests: Array<{ node: string; lastEventId: string | null; status: number }> = [];
    const balancer: FetchLike = async (url, init) => {
      const node = target;
      const response = await fetch(`${node.base}${new URL(url).pathname}`, init);
      const lastEventId = new Headers(init.headers).get('last-event-id');
      requests.push({ node: node === a ? 'A' : 'B', lastEventId, status: response.status });
      return response;
    };
    const received: Array<{ data: string; id: string }> = [];
    const ends: Array<{ data: string; id: string }> = [];
    const es = new EventSource(`http://tidings.invalid/runs/${run}`, { fetch: balancer });
    es.onmessage = (e) => received.push({ data: e.data as string, id: e.lastEventId });
    es.addEventListener('end', (e) => ends.push({ data: e.data as string, id: e.lastEventId }));
    try {
      for (const n of sequence(5)) await a.append(run, `t${n}`);
      await waitFor('5 tokens from A', () => received.length === 5);
      target = b;
      await a.drop(run); // the connection to A is lost; the run goes on
      for (const n of sequence(2, 6)) await a.append(run, `t${n}`);
      await waitFor('the request to B', () => requests.length === 2);
      for (const n of sequence(3, 8)) await a.append(run, `t${n}`);
      await waitFor('10 tokens', () => received.length === 10);
      await a.end(run);
      await waitFor('the client stopped', () => es.readyState === EventSource.CLOSED);
      // Several retry periods (50 ms): a client that had not stopped would have come back by now.
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      es.close();
    }
    expect(received.map((ev) => ev.data)).toEqual(sequence(10).map((n) => `t${n}`));
    expect(ends.map((ev) => ev.data)).toEqual([ENDED]);
    expect(requests).toEqual([
      { node: 'A', lastEventId: null, status: 200 },
      { node: 'B', lastEventId: received[4]!.id, status: 200 },
      { node: 'B', lastEventId: ends[0]!.id, status: 204 },
    ]);
  });

  test("a cancel on B aborts the producer's signal on A; A's next append is refused; clients on both get the cancelled end", async () => {
    const run = await a.createRun();
    const onA = open(a, `/runs/${run}`);
    const onB = open(b, `/runs/${run}`);
    await a.append(run, 't1');
    await Promise.all([onA.waitForEvents(1), onB.waitForEvents(1)]);
    const began = await b.cancel(run, 'stop pressed');
    const signal = await a.abortOf(run, 20_000);
    expect(signal).toMatchObject({ aborted: true, reason: 'stop pressed' });
    // The issue asks for within a second; a figure to read, not an assertion on a time.
    console.log(`cancel on B -> the producer's signal aborted on A: ${(signal.at! - began).toFixed(1)} ms`);
    await expect(a.append(run, 'too late')).rejects.toMatchObject({ code: 'SSE_ERR_RUN_ENDED' });
    await Promise.all([onA.ended, onB.ended]);
    for (const client of [onA, onB]) {
      expect(client.complete).toBe(true);
      expect(client.data).toEqual(['t1', '{"state":"cancelled","reason":"stop pressed"}']);
    }
  });

  test('B answers 404 for an unknown run and 400 for a hostile id, before any stream byte and with no key made of it', async () => {
    const missing = await fetch(`${b.base}/runs/no-such-run`, { headers: { accept: 'text/event-stream' } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await missing.json()) as { error: string }).error).toBe('SSE_ERR_RUN_NOT_FOUND');

    const hostile = ['a\nb', '\0', 'a\r\nevent: x', 'x'.repeat(10 * 1024)];
    for (const id of hostile) {
      const answer = await rawRequest(
        b.base,
        `GET /runs/${encodeURIComponent(id)} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n`,
      );
      expect(answer.status).toBe(400);
      expect(answer.text).toMatch(/content-type: application\/json/i);
      expect(answer.text).toContain('SSE_ERR_INVALID_RUN_ID');
      expect(answer.text).not.toMatch(/text\/event-stream/);
    }
    const keys = await keysUnder(redis, prefix);
    expect(keys.filter((key) => ['no-such-run', ...hostile].some((id) => key.includes(id)))).toEqual([]);
  });

  test('a run whose producer died (its process killed) is cancelled as stalled for a client on B', async () => {
    const producer = await startNode({ ...settings, framework: 'express' });
    let run: string;
    try {
      run = await producer.createRun({ idleTimeout: 1000 });
      await producer.append(run, 't1');
    } finally {
      await producer.kill();
    }
    const client = open(b, `/runs/${run}`);
    await client.ended;
    expect(client.complete).toBe(true);
    expect(client.data).toEqual(['t1', '{"state":"cancelled","reason":"stalled"}']);
  });

  test('once a run ended, every key under the prefix expires', async () => {
    const run = await a.createRun();
    await a.append(run, 't1');
    await a.end(run);
    const keys = await keysUnder(redis, prefix);
    expect(keys.filter((key) => key.includes(run))).not.toEqual([]);
    const ttls = await Promise.all(keys.map((key) => redis.pttl(key)));
    expect(keys.filter((_key, i) => !(ttls[i]! > 0))).toEqual([]);
  });
});
