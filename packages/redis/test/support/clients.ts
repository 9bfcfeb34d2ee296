/** The connections Redis lists (`CLIENT LIST`), to find and kill the adapter's by name. */
import type { Redis } from 'ioredis';

/** The ids of the connections whose name is in `names`. */
export async function clientIdsNamed(redis: Redis, names: ReadonlySet<string>): Promise<string[]> {
  const list = (await redis.client('LIST')) as string;
  return list
    .split('\n')
    .map((line) => Object.fromEntries(line.split(' ').map((pair) => pair.split('='))) as Record<string, string>)
    .filter((client) => names.has(client.name ?? ''))
    .map((client) => client.id!);
}
