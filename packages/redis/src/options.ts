/** Options of `redisAdapter()` and their defaults. */
import type { Redis } from 'ioredis';

/** Options of `redisAdapter()`; only `redis` is required. */
export interface RedisAdapterOptions {
  /**
   * The Redis to share: an ioredis client (used for publish and history; the adapter never closes it) or a
   * `redis://` URL (the adapter opens and closes that connection itself). Either way the adapter opens one more
   * connection of its own for the blocking reads.
   */
  redis: Redis | string;
  /** Stream keys are `<prefix>:<channel>`. With Redis Cluster use a hash tag (`'{tidings}'`). Default `tidings`. */
  prefix?: string;
  /** Approximate cap on entries kept per channel stream (`XADD MAXLEN ~`); it is also the replay window. Default 10000. */
  maxLen?: number;
  /**
   * ms a publish, history read or subscribe may wait for Redis (reconnecting included) before it rejects with
   * `SSE_ERR_ADAPTER_UNAVAILABLE`. Default 5000.
   */
  timeout?: number;
  /** ms one blocking `XREAD` waits before it is issued again; bounds how late a dead read connection is noticed. Default 5000. */
  blockMs?: number;
  /** Most entries taken from one stream per read. Default 1000. */
  readCount?: number;
  /** This server's name in `CLIENT LIST`: the adapter's connections are named `<prefix>:<name>:reader`/`:commands`. */
  name?: string;
  /** Told about connection errors of the adapter's own connections and failed reads (they are retried). Default: ignored. */
  onError?(err: Error): void;
}

/** The defaults of {@link RedisAdapterOptions}. */
export const REDIS_ADAPTER_DEFAULTS = Object.freeze({
  /** Stream keys `tidings:<channel>`. */
  prefix: 'tidings',
  /** About 10,000 entries per channel. */
  maxLen: 10_000,
  /** 5 s for Redis to answer. */
  timeout: 5_000,
  /** 5 s per blocking read. */
  blockMs: 5_000,
  /** 1,000 entries per read. */
  readCount: 1_000,
});
