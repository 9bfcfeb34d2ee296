/**
 * Runs through redisAdapter() in one process: two registries, each on an adapter of its own (two "nodes"), the
 * shared Redis between them; clients over real sockets. The two-process suite (Express and Fastify servers) is
 * runs-cross-node.test.ts.
 */
import { createServer } from 'node:http';
import { ChannelRegistry, type Run, SseAdapterUnavailableError, SseEmitter } from '@tidings/core';
import {
  clusterSeeds,
  connect,
  describeWith,
  SHARED_REDIS_URL,
  type SseTestClient,
  startServer,
  waitFor,
} from '@tidings/testkit';
import { keysUnder, uniquePrefix } from '@tidings/testkit/redis';
import { Redis } from 'ioredis';
import { channelKey, type RedisAdapterOptions, redisAdapter, runKeys } from '../src/index';
import { sharedRedisFixture } from './support/keys';
import { FreezingProxy } from './support/proxy';
import { TestCluster } from './support/redis-cluster';
import { freePort, PrivateRedis } from './support/redis-server';

const ENDED = '{"state":"ended"}';

/** Nodes on `redis` under `prefix`, and clients of them, closed after each test. */
function runNodes(redis: () => string | string[], prefix: string) {
  const closers: Array<() => Promise<void>> = [];
  const clients: SseTestClient[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    for (const close of closers.splice(0).reverse()) await close();
  });

  /**
   * A node: a registry on its own adapter (on `url`, by default the suite's Redis), and a server whose `/runs/<id>`
   * streams that run (404 when unknown).
   */
  async function node(
    url: RedisAdapterOptions['redis'] = redis(),
    timeout?: number,
  ): Promise<{ registry: ChannelRegistry; url(id: string): string }> {
    const registry = new ChannelRegistry({ adapter: redisAdapter({ redis: url, prefix, timeout }) });
    const server = await startServer(
      createServer(async (req, res) => {
        const id = decodeURIComponent(req.url!.slice('/runs/'.length));
        const run = await registry.findRun(id);
        if (run === undefined) {
          res.writeHead(404).end();
          return;
        }
        run.subscribe(new SseEmitter({ keepAlive: false }).attach(req, res));
      }),
    );
    closers.push(
      () => registry.close(),
      () => server.close(),
    );
    return { registry, url: (id) => `${server.url}/runs/${encodeURIComponent(id)}` };
  }

  function follow(url: string, lastEventId?: string): SseTestClient {
    const client = connect(url, { lastEventId });
    clients.push(client);
    return client;
  }

  return { node, follow };
}

/** What a run through Redis does on any deployment of it: one Redis, or a cluster. */
function crossNodeRunTests(redis: () => string | string[], prefix: string): void {
  const { node, follow } = runNodes(redis, prefix);

  test('produced on A, followed on B from the start: every event once, in order, then the end; ids are the log ids', async () => {
    const [a, b] = [await node(), await node()];
    const run = a.registry.createRun();
    const ids = [await run.append('t1'), await run.append('t2')];
    const onB = follow(b.url(run.id));
    await onB.waitForEvents(2);
    ids.push(await run.append('t3'));
    await run.end('t4');
    await onB.ended;
    expect(onB.data).toEqual(['t1', 't2', 't3', 't4', ENDED]);
    expect(onB.ids.slice(0, 3)).toEqual(ids);
    expect(onB.events.at(-1)?.event).toBe('end');
    const found = await b.registry.findRun(run.id);
    expect(found?.state).toBe('ended');
  });

  test('moved from A to B mid-run with Last-Event-ID: the rest exactly once; with the end id, the end frame again', async () => {
    const [a, b] = [await node(), await node()];
    const run = a.registry.createRun();
    for (let i = 1; i <= 3; i++) await run.append(`t${i}`);
    const onA = follow(a.url(run.id));
    await onA.waitForEvents(3);
    onA.close();
    for (let i = 4; i <= 6; i++) await run.append(`t${i}`);
    const onB = follow(b.url(run.id), onA.lastEventId);
    await onB.waitForEvents(3);
    await run.end();
    await onB.ended;
    expect(onB.data).toEqual(['t4', 't5', 't6', ENDED]);
    const again = follow(b.url(run.id), onB.lastEventId);
    await again.ended;
    expect(again.data).toEqual([ENDED]);
  });

  test("cancel on B aborts the producer's signal on A; A's next append is refused; clients get the cancelled end", async () => {
    const [a, b] = [await node(), await node()];
    const run = a.registry.createRun();
    await run.append('t1');
    const onA = follow(a.url(run.id));
    await onA.waitForEvents(1);
    const onB = follow(b.url(run.id));
    await onB.waitForEvents(1);
    const remote = (await b.registry.findRun(run.id)) as Run;
    await remote.cancel('user');
    await waitFor('the producer sees the cancel', () => run.signal.aborted);
    expect(run.signal.reason).toBe('user');
    expect(run.state).toBe('cancelled');
    await expect(run.append('late')).rejects.toMatchObject({ code: 'SSE_ERR_RUN_ENDED' });
    await Promise.all([onA.ended, onB.ended]);
    for (const client of [onA, onB]) expect(client.data).toEqual(['t1', '{"state":"cancelled","reason":"user"}']);
  });

  test('the store refuses what the run cannot take, from any node', async () => {
    const [a, b] = [await node(), await node()];
    const run = a.registry.createRun({ id: `full-${Date.now()}`, maxEvents: 2 });
    await run.append(1);
    const other = (await b.registry.findRun(run.id)) as Run;
    await other.append(2);
    await expect(run.append(3)).rejects.toMatchObject({ code: 'SSE_ERR_RUN_FULL' });
    // A node that holds the run refuses the id at once; one that does not hears it from the store.
    expect(() => b.registry.createRun({ id: run.id })).toThrow(
      expect.objectContaining({ code: 'SSE_ERR_INVALID_RUN_ID' }),
    );
    const taken = (await node()).registry.createRun({ id: run.id });
    await expect(taken.append('x')).rejects.toMatchObject({ code: 'SSE_ERR_INVALID_RUN_ID' });
    expect(taken.signal.aborted).toBe(true);
    await other.end('last');
    await expect(run.append(4)).rejects.toMatchObject({ code: 'SSE_ERR_RUN_ENDED' });
    const whole = follow(a.url(run.id));
    await whole.ended;
    expect(whole.data).toEqual(['1', '2', 'last', ENDED]);
  });

  test('a run nobody appends to is cancelled "stalled" by a node that holds it', async () => {
    const [a, b] = [await node(), await node()];
    const run = a.registry.createRun({ idleTimeout: 300 });
    await run.append('only');
    const onB = follow(b.url(run.id));
    await onB.ended;
    expect(onB.data).toEqual(['only', '{"state":"cancelled","reason":"stalled"}']);
    expect(run.signal.reason).toBe('stalled');
  });
}

describeWith(['redis'], 'runs through redisAdapter (Redis on 127.0.0.1:6379)', () => {
  const { prefix, redis: looker } = sharedRedisFixture(SHARED_REDIS_URL, 'runs');
  crossNodeRunTests(() => SHARED_REDIS_URL, prefix);
  const { node, follow } = runNodes(() => SHARED_REDIS_URL, prefix);

  test('unknown runs are not found; every key a run writes expires; a hostile id never reaches Redis', async () => {
    const a = await node();
    const adapter = redisAdapter({ redis: SHARED_REDIS_URL, prefix });
    const lookups = jest.spyOn(adapter.runs!, 'findRun');
    const b = new ChannelRegistry({ adapter });
    try {
      expect(await b.findRun('no-such-run')).toBeUndefined();
      expect(lookups).toHaveBeenCalledTimes(1);
      expect(await b.findRun(`bad\nid`)).toBeUndefined();
      expect(await b.findRun('x'.repeat(10_000))).toBeUndefined();
      // Checked in core before any key is built: the adapter was never asked.
      expect(lookups).toHaveBeenCalledTimes(1);
    } finally {
      await b.close();
    }
    const run = a.registry.createRun({ ttl: 60_000 });
    await run.append('t');
    const { log, meta } = runKeys(prefix, run.id);
    for (const key of [log, meta]) expect(await looker().pttl(key)).toBeGreaterThan(60_000);
    await run.end();
    for (const key of [log, meta]) {
      const ttl = await looker().pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60_000);
    }
    const keys = await keysUnder(looker(), prefix);
    expect(keys.some((key) => key.includes('bad') || key.includes('xxxx'))).toBe(false);
  });

  test('on a Redis that has no script yet, scripts in flight together are stored in call order', async () => {
    // A private redis-server: its script cache is empty, as after any restart. The client holds back the answers
    // to EVALSHA until told, so that the order of events is fixed: calls A and B are sent, A's answer comes back,
    // call C is sent, then B's answer. (Had A and B been EVALSHA, each is refused NOSCRIPT; A's EVAL loads the
    // script, C's EVALSHA then runs, and B's EVAL, sent only when its refusal comes back, lands after C.)
    const fresh = new PrivateRedis(await freePort());
    await fresh.start();
    const client = new Redis(fresh.url);
    const realEvalsha = client.evalsha.bind(client) as (...args: unknown[]) => Promise<unknown>;
    const held: Array<() => void> = [];
    let holdKey: string | undefined;
    Object.assign(client, {
      evalsha: async (...args: unknown[]) => {
        if (args[2] !== holdKey) return await realEvalsha(...args);
        const answer = realEvalsha(...args).then(
          (value) => () => value,
          (err: unknown) => () => {
            throw err;
          },
        );
        await new Promise<void>((resolve) => held.push(resolve));
        return (await answer)();
      },
    });
    const registry = new ChannelRegistry({ adapter: redisAdapter({ redis: client, prefix }) });
    const stored = async (key: string) =>
      (await client.xrange(key, '-', '+')).map(([, fields]) => fields[fields.indexOf('data') + 1]);
    try {
      const run = registry.createRun();
      await registry.findRun(run.id); // created: only the calls below are held
      for (const [send, key] of [
        [(token: string) => registry.broadcast('ordered', token), channelKey(prefix, 'ordered')],
        [(token: string) => run.append(token), runKeys(prefix, run.id).log],
      ] as const) {
        holdKey = key;
        const a = send('A');
        const b = send('B');
        await new Promise((resolve) => setTimeout(resolve, 50));
        held.shift()?.(); // none held when the calls send the source (EVAL)
        await a;
        const c = send('C');
        await new Promise((resolve) => setTimeout(resolve, 50));
        for (const release of held.splice(0)) release();
        await Promise.all([b, c]);
        expect(await stored(key)).toEqual(['A', 'B', 'C']);
      }
    } finally {
      for (const release of held.splice(0)) release();
      await registry.close();
      client.disconnect();
      fresh.dispose();
    }
  });

  test('an append Redis ran whose reply a cut connection lost is resent by ioredis and stored once', async () => {
    const proxy = await FreezingProxy.start(6379);
    try {
      const [a, b] = [await node(proxy.url, 5_000), await node()];
      const run = a.registry.createRun();
      const first = await run.append('t1');
      proxy.muteReplies();
      const second = run.append('t2'); // reaches Redis and runs there; its reply is lost
      const onB = follow(b.url(run.id));
      await onB.waitForEvents(2);
      proxy.cut(); // ioredis reconnects and sends the unanswered script again
      proxy.restore();
      const secondId = await second;
      await run.end();
      await onB.ended;
      expect(onB.data).toEqual(['t1', 't2', ENDED]);
      expect(onB.ids.slice(0, 2)).toEqual([first, secondId]);
    } finally {
      await proxy.close();
    }
  });

  test('after registry.close() nothing of a run goes on in the process: no idle check, no retry', async () => {
    const adapter = redisAdapter({ redis: SHARED_REDIS_URL, prefix });
    // Counts the end steps the runs send (the idle check is one).
    const endRun = jest.spyOn(adapter.runs!, 'endRun');
    const registry = new ChannelRegistry({ adapter });
    const ending = registry.createRun();
    await ending.append('t');
    // Its first end step is refused as if Redis did not answer, so a retry is due a second later.
    endRun.mockImplementationOnce(() =>
      Promise.reject(new SseAdapterUnavailableError('Redis run end failed: no answer (test).')),
    );
    await expect(ending.end()).rejects.toMatchObject({ code: 'SSE_ERR_ADAPTER_UNAVAILABLE' });
    const run = registry.createRun({ idleTimeout: 200 });
    await run.append('t');
    await registry.close();
    const atClose = endRun.mock.calls.length;
    // Past the idle timeout and the retry period (1 s): neither may send an end step any more.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(endRun).toHaveBeenCalledTimes(atClose);
    expect(run.state).toBe('running');
  });

  test('an end sent while Redis is unreachable is sent again until it lands: other nodes see the run end', async () => {
    const proxy = await FreezingProxy.start(6379);
    // A client given to the adapter stays the caller's to close.
    const aClient = new Redis(proxy.url);
    aClient.on('error', () => {});
    try {
      // 2 s: room for the normal commands on a loaded machine; the end sent during the cut still times out.
      const [a, b] = [await node(aClient, 2000), await node()];
      const run = a.registry.createRun({ idleTimeout: 600_000 });
      await run.append('t1');
      const onB = follow(b.url(run.id));
      await onB.waitForEvents(1);
      proxy.cut();
      // Until A's client sees its connection gone, a command would be written to it and resent by ioredis after
      // the reconnect; once it is reconnecting, the adapter sends nothing (the end times out unsent).
      await waitFor("A's client sees its connection gone", () => aClient.status !== 'ready');
      await expect(run.end()).rejects.toMatchObject({ code: 'SSE_ERR_ADAPTER_UNAVAILABLE' });
      expect(run.state).toBe('ended');
      proxy.restore();
      await onB.ended;
      expect(onB.data).toEqual(['t1', ENDED]);
    } finally {
      aClient.disconnect();
      await proxy.close();
    }
  });
});

describeWith(['redis-cluster'], 'runs through redisAdapter on the Redis Cluster (TIDINGS_REDIS_CLUSTER)', () => {
  const prefix = uniquePrefix('runs-cluster');
  const cluster = new TestCluster();
  afterAll(async () => {
    await cluster.deleteKeys(prefix);
    cluster.close();
  });
  crossNodeRunTests(clusterSeeds, prefix);
});
