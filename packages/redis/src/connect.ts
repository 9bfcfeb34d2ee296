/** The connections the adapter works with, made from its `redis` option. */
import { Cluster, Redis } from 'ioredis';
import type { RedisClient } from './command-gate.js';
import type { RedisAdapterOptions } from './options.js';

/** The adapter's clients: one for commands (publish, reads) and one for the live feed. */
export interface Clients {
  commands: RedisClient;
  /** True when the adapter made `commands` (from URLs) and so closes it. */
  ownsCommands: boolean;
  /** The live-feed connection (on a cluster: a Cluster with one sharded subscriber per master). Always the adapter's. */
  live: RedisClient;
}

/** True for an ioredis `Cluster`. */
export function isCluster(client: RedisClient): client is Cluster {
  return client.isCluster;
}

/**
 * Opens (or takes) the command client and opens the live-feed one: on a cluster with `shardedSubscribers`, so
 * each SSUBSCRIBE goes to the master of its channel's slot.
 */
export function openClients(
  redis: RedisAdapterOptions['redis'],
  names: { commands: string; reader: string },
  onError: (err: Error) => void,
): Clients {
  const ownsCommands = typeof redis === 'string' || isSeedList(redis);
  const commands = typeof redis === 'string' || isSeedList(redis) ? openCommandClient(redis, names.commands) : redis;
  if (ownsCommands) commands.on('error', onError);
  const live = isCluster(commands)
    ? commands.duplicate([], {
        shardedSubscribers: true,
        lazyConnect: false,
        redisOptions: { ...commands.options.redisOptions, connectionName: names.reader },
      })
    : commands.duplicate({
        connectionName: names.reader,
        lazyConnect: false,
        enableOfflineQueue: true,
        // The adapter subscribes again itself after a reconnect, then catches every channel up from its stream.
        autoResubscribe: false,
        maxRetriesPerRequest: null,
      });
  live.on('error', onError);
  return { commands, ownsCommands, live };
}

function isSeedList(redis: RedisAdapterOptions['redis']): redis is readonly string[] {
  return Array.isArray(redis);
}

function openCommandClient(redis: string | readonly string[], connectionName: string): RedisClient {
  if (typeof redis === 'string') return new Redis(redis, { connectionName });
  // Credentials of the first seed apply to every node the cluster discovers.
  const first = new URL(redis[0]!);
  return new Cluster([...redis], {
    redisOptions: {
      connectionName,
      username: decodeURIComponent(first.username) || undefined,
      password: decodeURIComponent(first.password) || undefined,
    },
  });
}
