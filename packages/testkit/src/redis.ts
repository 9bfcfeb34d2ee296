/**
 * The shared Redis of the tests (see `SHARED_REDIS_URL`): key prefixes no other run shares, their keys, their
 * removal, and registries on `redisAdapter()` for the scenario suites.
 */
import { ChannelRegistry } from '@tidings/core';
import { redisAdapter } from '@tidings/redis';
import { Redis } from 'ioredis';
import { SHARED_REDIS_URL } from './services';

/** A prefix no other run (or engineer) shares: keys never collide. */
export function uniquePrefix(name: string): string {
  return `tidings-test:${name}:${process.pid}-${Date.now().toString(36)}`;
}

/** Every key under `prefix` (`<prefix>:*`, by SCAN). */
export async function keysUnder(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  return keys;
}

/** Deletes every key under `prefix` on the Redis at `url`. */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const keys = await keysUnder(redis, prefix);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

/**
 * For a describe block on the shared Redis: makes registries on `redisAdapter()`, each with a prefix of its own
 * under one unique prefix (`name`'s); afterAll deletes every key under it. Closing a registry closes its adapter.
 * Throws when the adapter keeps no runs (they would stay in this process: a run suite would not test Redis).
 */
export function redisRegistries(name: string): () => ChannelRegistry {
  const prefix = uniquePrefix(name);
  let made = 0;
  afterAll(() => deleteKeys(SHARED_REDIS_URL, prefix));
  return () => {
    const adapter = redisAdapter({ redis: SHARED_REDIS_URL, prefix: `${prefix}:${++made}` });
    if (adapter.runs === undefined) {
      void adapter.close();
      throw new Error('redisAdapter() keeps no runs (adapter.runs): runs would stay in this process, not in Redis.');
    }
    return new ChannelRegistry({ adapter });
  };
}
