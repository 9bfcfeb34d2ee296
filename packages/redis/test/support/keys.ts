/** A describe block's corner of the shared Redis (unique prefixes and their removal: `@tidings/testkit/redis`). */
import { deleteKeys, uniquePrefix } from '@tidings/testkit/redis';
import { Redis } from 'ioredis';

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
