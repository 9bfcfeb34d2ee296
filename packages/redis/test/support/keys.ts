/** Unique stream key prefixes per test run, and their removal afterwards. */
import { Redis } from 'ioredis';

/** A prefix no other run (or engineer) shares: keys never collide. */
export function uniquePrefix(name: string): string {
  return `tidings-test:${name}:${process.pid}-${Date.now().toString(36)}`;
}

/** Deletes every key under `prefix` on the Redis at `url`. */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

/**
 * For a describe block on the shared Redis: a unique prefix and a client to look at Redis with (open from
 * beforeAll on); afterAll deletes the prefix's keys and closes the client.
 */
export function sharedRedisFixture(url: string, name: string): { prefix: string; redis(): Redis } {
  const prefix = uniquePrefix(name);
  let redis: Redis | undefined;
  beforeAll(() => {
    redis = new Redis(url);
  });
  afterAll(async () => {
    await deleteKeys(url, prefix);
    redis?.disconnect();
  });
  return { prefix, redis: () => redis! };
}
