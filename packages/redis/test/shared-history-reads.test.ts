/**
 * history() reads (and a run's replays) shared between callers, against a real Redis, made deterministic by holding XRANGE replies
 * back until the test lets them go: a caller never joins a read sent before live entries it was not yet
 * holding, and a finished read serves later callers at the same feed position until the feed moves on.
 */
import type { StoredEvent } from '@tidings/core';
import { describeWith, SHARED_REDIS_URL, waitFor } from '@tidings/testkit';
import { Redis } from 'ioredis';
import { redisAdapter } from '../src/index';
import { collector } from './support/collector';
import { sharedRedisFixture } from './support/keys';

/** A client whose XRANGE replies wait for `release()` while `holding`; counts the XRANGEs it sent. */
function heldXrange(url: string) {
  const redis = new Redis(url);
  const real = redis.xrange.bind(redis) as (...args: unknown[]) => Promise<unknown>;
  const waiting: (() => void)[] = [];
  const state = { holding: false, calls: 0 };
  Object.assign(redis, {
    xrange: async (...args: unknown[]) => {
      state.calls++;
      // Sent (and so answered by Redis) at once; only the reply waits.
      const reply = await real(...args);
      if (state.holding) await new Promise<void>((resolve) => waiting.push(resolve));
      return reply;
    },
  });
  return {
    redis,
    state,
    /** Replies waiting for `release()`. */
    held(): number {
      return waiting.length;
    },
    release(): void {
      state.holding = false;
      for (const resolve of waiting.splice(0)) resolve();
    },
  };
}

describeWith(['redis'], 'shared history reads (Redis on 127.0.0.1:6379)', () => {
  const { prefix } = sharedRedisFixture(SHARED_REDIS_URL, 'shared-reads');
  const ids = (events: readonly StoredEvent[]): string[] => events.map((ev) => ev.id);

  test('a caller that starts holding after a live entry does not join a read sent before it', async () => {
    const client = heldXrange(SHARED_REDIS_URL);
    const adapter = redisAdapter({ redis: client.redis, prefix });
    const seen = collector();
    await adapter.subscribe('join', seen.onEvent);
    const marker = await adapter.publish('join', { data: 'marker' });
    await seen.next(1);

    // A resumes: its XRANGE is answered by Redis now, its reply held back.
    client.state.holding = true;
    const first = adapter.history('join', marker);
    await waitFor("A's reply held", () => client.held() === 1);
    // An entry arrives live and is delivered before B starts holding (the channel holds live entries for B only
    // from its history call on).
    const live = await adapter.publish('join', { data: 'live' });
    await seen.next(2);
    const heldFrom = seen.events.length;
    const second = adapter.history('join', marker);
    client.release();

    const [forA, forB] = await Promise.all([first, second]);
    expect(ids(forA!)).toEqual([]);
    // B has the live entry in its read or among the entries it held: nowhere else could it come from.
    const forBAll = [...ids(forB!), ...ids(seen.events.slice(heldFrom))];
    expect(forBAll).toEqual([live]);
    await adapter.close();
    client.redis.disconnect();
  });

  test('a finished read serves later callers at the same feed position, until the feed delivers its next entry', async () => {
    const client = heldXrange(SHARED_REDIS_URL);
    const adapter = redisAdapter({ redis: client.redis, prefix });
    const seen = collector();
    await adapter.subscribe('kept', seen.onEvent);
    const marker = await adapter.publish('kept', { data: 'marker' });
    const next = await adapter.publish('kept', { data: 'next' });
    await seen.next(2);

    const before = client.state.calls;
    for (let i = 0; i < 5; i++) expect(ids((await adapter.history('kept', marker))!)).toEqual([next]);
    expect(client.state.calls - before).toBe(1);

    const later = await adapter.publish('kept', { data: 'later' });
    await seen.next(3);
    expect(ids((await adapter.history('kept', marker))!)).toEqual([next, later]);
    expect(client.state.calls - before).toBe(2);
    await adapter.close();
    client.redis.disconnect();
  });

  test("a run's replays share reads like a channel's: one XRANGE for a storm of clients at one position", async () => {
    const client = heldXrange(SHARED_REDIS_URL);
    const adapter = redisAdapter({ redis: client.redis, prefix });
    const runs = adapter.runs!;
    const id = `storm-${Date.now()}`;
    await runs.createRun(id, { maxEvents: 100, idleTimeout: 60_000, ttl: 60_000 });
    const seen = collector();
    await runs.subscribeRun(id, seen.onEvent);
    const first = await runs.appendRun(id, { data: 'a' });
    const second = await runs.appendRun(id, { data: 'b' });
    await seen.next(2);

    const before = client.state.calls;
    client.state.holding = true;
    const storm = Array.from({ length: 20 }, () => runs.runHistory(id, first));
    const whole = Array.from({ length: 20 }, () => runs.runHistory(id, undefined));
    await waitFor('the two reads held', () => client.held() === 2);
    client.release();
    for (const read of await Promise.all(storm)) expect(ids(read)).toEqual([second]);
    for (const read of await Promise.all(whole)) expect(ids(read)).toEqual([first, second]);
    // One read per position; finished, they serve later callers until the feed delivers the next entry.
    expect(client.state.calls - before).toBe(2);
    expect(ids(await runs.runHistory(id, first))).toEqual([second]);
    expect(client.state.calls - before).toBe(2);
    const third = await runs.appendRun(id, { data: 'c' });
    await seen.next(3);
    expect(ids(await runs.runHistory(id, first))).toEqual([second, third]);
    expect(client.state.calls - before).toBe(3);
    await adapter.close();
    client.redis.disconnect();
  });
});
