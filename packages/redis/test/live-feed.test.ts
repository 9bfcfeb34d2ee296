/**
 * The live feed against a real Redis: a killed Pub/Sub connection, one that went silent and a hole in the feed
 * are filled from the stream (nothing lost, nothing twice, in order), entries the stream lost after delivery are
 * a gap for history(), every key written carries an expiry, the default replay window,
 * and 1,000 concurrent history reads of one position cost Redis one XRANGE.
 */
import { describeWith, SHARED_REDIS_URL } from '@tidings/testkit';
import { Redis } from 'ioredis';
import { channelKey, connectionNames, REDIS_ADAPTER_DEFAULTS, redisAdapter } from '../src/index';
import { clientIdsNamed } from './support/clients';
import { collector } from './support/collector';
import { sharedRedisFixture } from './support/keys';
import { FreezingProxy } from './support/proxy';
import { freePort, PrivateRedis } from './support/redis-server';

describeWith(['redis'], 'the live feed (Redis on 127.0.0.1:6379)', () => {
  const { prefix, redis: looker } = sharedRedisFixture(SHARED_REDIS_URL, 'live');

  /** The ids in the channel's stream, oldest first. */
  async function streamIds(channel: string): Promise<string[]> {
    return (await looker().xrange(channelKey(prefix, channel), '-', '+')).map(([id]) => id);
  }

  test('the Pub/Sub connection killed mid-stream (CLIENT KILL by name): every event arrives once, in order', async () => {
    const reader = redisAdapter({ redis: SHARED_REDIS_URL, prefix, name: 'killed' });
    const writer = redisAdapter({ redis: SHARED_REDIS_URL, prefix, name: 'writer' });
    const seen = collector();
    await reader.subscribe('kill', seen.onEvent);
    const readerName = new Set([connectionNames(prefix, 'killed').reader]);
    let kills = 0;
    for (let batch = 0; batch < 15; batch++) {
      if (batch === 2 || batch === 7 || batch === 14) {
        // Wait for the connection to be back from the last kill, then kill it; the next batch goes out at once
        // (the last one with no broadcast after it: only the catch-up after the reconnect can bring it).
        let victims: string[] = [];
        for (let i = 0; i < 100 && victims.length === 0; i++) {
          if (i > 0) await new Promise((resolve) => setTimeout(resolve, 20));
          victims = await clientIdsNamed(looker(), readerName);
        }
        for (const id of victims) await looker().client('KILL', 'ID', id);
        kills += victims.length;
      }
      await Promise.all(Array.from({ length: 20 }, (_, i) => writer.publish('kill', { data: `${batch}-${i}` })));
    }
    expect(kills).toBe(3);
    const stored = await streamIds('kill');
    expect(stored).toHaveLength(300);
    await seen.next(300);
    expect(seen.events.map((ev) => ev.id)).toEqual(stored);
    await Promise.all([reader.close(), writer.close()]);
  });

  test('a live connection that stops answering without closing is noticed within blockMs, reconnected and caught up', async () => {
    const proxy = await FreezingProxy.start(6379);
    const reader = redisAdapter({ redis: proxy.url, prefix, blockMs: 200 });
    const writer = redisAdapter({ redis: SHARED_REDIS_URL, prefix });
    const seen = collector();
    await reader.subscribe('silent', seen.onEvent);
    await writer.publish('silent', { data: 'before' });
    await seen.next(1);
    expect(proxy.freezeSubscribers()).toBe(1);
    await writer.publish('silent', { data: 'while frozen 1' });
    await writer.publish('silent', { data: 'while frozen 2' });
    // No broadcast after these: only the liveness check (PING unanswered, reconnect, catch-up) brings them.
    await seen.next(3);
    expect(seen.events.map((ev) => ev.data)).toEqual(['before', 'while frozen 1', 'while frozen 2']);
    expect(seen.events.map((ev) => ev.id)).toEqual(await streamIds('silent'));
    await Promise.all([reader.close(), writer.close()]);
    await proxy.close();
  });

  test('a hole in the live feed (an entry whose live message never came) is filled from the stream, in order', async () => {
    const adapter = redisAdapter({ redis: SHARED_REDIS_URL, prefix });
    const seen = collector();
    await adapter.subscribe('hole', seen.onEvent);
    await adapter.publish('hole', { data: 'first' });
    // An entry in the stream without its live message: what a lost Pub/Sub message leaves behind.
    await looker().xadd(channelKey(prefix, 'hole'), '*', 'v', '1', 'data', 'no live message');
    await adapter.publish('hole', { data: 'second' });
    await seen.next(3);
    expect(seen.events.map((ev) => ev.data)).toEqual(['first', 'no live message', 'second']);
    expect(seen.events.map((ev) => ev.id)).toEqual(await streamIds('hole'));

    // A hole with no broadcast after it: a history read past it fills it before it resolves.
    const lastSeen = seen.events.at(-1)!.id;
    const rawId = await looker().xadd(channelKey(prefix, 'hole'), '*', 'v', '1', 'data', 'tail');
    expect(await adapter.history('hole', lastSeen)).toEqual([{ id: rawId, data: 'tail' }]);
    expect(seen.events.at(-1)).toEqual({ id: rawId, data: 'tail' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen.events).toHaveLength(4);
    await adapter.close();
  });

  test('entries the stream lost after this node delivered them (a failover) are a gap for history(), seen live or by a fill', async () => {
    const adapter = redisAdapter({ redis: SHARED_REDIS_URL, prefix });
    const seen = collector();
    const key = channelKey(prefix, 'lost');
    await adapter.subscribe('lost', seen.onEvent);
    const marker = await adapter.publish('lost', { data: 'marker' });
    const lost = [await adapter.publish('lost', { data: 'lost-1' }), await adapter.publish('lost', { data: 'lost-2' })];
    await seen.next(3);
    // What a failover to a replica that never got them leaves: the stream without them.
    await looker().xdel(key, ...lost);
    // Its next live message says the entry before it is the marker: the feed jumps back.
    const after = await adapter.publish('lost', { data: 'after' });
    await seen.next(4);
    expect(await adapter.history('lost', marker)).toBeUndefined();
    expect(await adapter.history('lost', lost[0])).toBeUndefined();
    expect(await adapter.history('lost', after)).toEqual([]);

    // The same seen by a fill: an entry with no live message, then one whose live message shows the hole.
    const lostAgain = await adapter.publish('lost', { data: 'lost-3' });
    await seen.next(5);
    await looker().xdel(key, lostAgain);
    const silent = (await looker().xadd(key, '*', 'v', '1', 'data', 'no live message'))!;
    const last = await adapter.publish('lost', { data: 'last' });
    await seen.next(7);
    expect(seen.events.slice(4).map((ev) => ev.id)).toEqual([lostAgain, silent, last]);
    expect(await adapter.history('lost', after)).toBeUndefined();
    expect(await adapter.history('lost', silent)).toEqual([{ id: last, data: 'last' }]);
    await adapter.close();
  });

  test('every key the adapter writes has an expiry: ttl after the last broadcast (default 24 h)', async () => {
    const ttlPrefix = `${prefix}:ttl`;
    const short = redisAdapter({ redis: SHARED_REDIS_URL, prefix: ttlPrefix, ttl: 60_000 });
    const byDefault = redisAdapter({ redis: SHARED_REDIS_URL, prefix: `${ttlPrefix}-default` });
    await short.subscribe('watched', () => {});
    for (const channel of ['watched', 'a', 'b', 'c']) await short.publish(channel, { data: 'x' });
    await byDefault.publish('d', { data: 'y' });
    const keys: string[] = [];
    for (const match of [`${ttlPrefix}:*`, `${ttlPrefix}-default:*`]) {
      let cursor = '0';
      do {
        const [next, found] = await looker().scan(cursor, 'MATCH', match, 'COUNT', 1000);
        cursor = next;
        keys.push(...found);
      } while (cursor !== '0');
    }
    expect(keys.sort()).toEqual(
      [
        ...['a', 'b', 'c', 'watched'].map((c) => channelKey(ttlPrefix, c)),
        channelKey(`${ttlPrefix}-default`, 'd'),
      ].sort(),
    );
    for (const key of keys) {
      const pttl = await looker().pttl(key);
      const ttl = key.startsWith(`${ttlPrefix}-default`) ? REDIS_ADAPTER_DEFAULTS.ttl : 60_000;
      expect(pttl).toBeGreaterThan(ttl - 10_000);
      expect(pttl).toBeLessThanOrEqual(ttl);
    }
    expect(REDIS_ADAPTER_DEFAULTS.ttl).toBe(86_400_000);
    await Promise.all([short.close(), byDefault.close()]);
  });

  test('maxLen defaults to 1,000 entries per channel (MAXLEN ~: whole stream nodes are trimmed)', async () => {
    expect(REDIS_ADAPTER_DEFAULTS.maxLen).toBe(1_000);
    const adapter = redisAdapter({ redis: SHARED_REDIS_URL, prefix });
    for (let batch = 0; batch < 12; batch++) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => adapter.publish('window', { data: `${batch}-${i}` })));
    }
    const length = await looker().xlen(channelKey(prefix, 'window'));
    expect(length).toBeGreaterThanOrEqual(1_000);
    expect(length).toBeLessThan(1_200);
    expect(await adapter.history('window', undefined)).toHaveLength(length);
    await adapter.close();
  });
});

describeWith(['redis'], 'shared replay reads (a private redis-server, for its command counts)', () => {
  let server: PrivateRedis;
  let counts: Redis;

  beforeAll(async () => {
    server = new PrivateRedis(await freePort());
    await server.start();
    counts = new Redis(server.url);
  });

  afterAll(() => {
    counts?.disconnect();
    server?.dispose();
  });

  async function xrangeCalls(): Promise<number> {
    const stats = (await counts.info('commandstats')) as string;
    return Number(/cmdstat_xrange:calls=(\d+)/.exec(stats)?.[1] ?? 0);
  }

  test('1,000 clients resuming from one position on one channel cost one XRANGE', async () => {
    const adapter = redisAdapter({ redis: server.url, prefix: 'shared' });
    await adapter.subscribe('storm', () => {});
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push(await adapter.publish('storm', { data: String(i) }));
    const before = await xrangeCalls();
    const reads = await Promise.all(Array.from({ length: 1_000 }, () => adapter.history('storm', ids[10])));
    expect(await xrangeCalls()).toBe(before + 1);
    for (const read of reads) expect(read?.map((ev) => ev.id)).toEqual(ids.slice(11));
    // Each caller has an array of its own; another position is another read.
    expect(reads[0]).not.toBe(reads[1]);
    await Promise.all([adapter.history('storm', ids[20]), adapter.history('storm', ids[20])]);
    expect(await xrangeCalls()).toBe(before + 2);
    await adapter.close();
  });
});
