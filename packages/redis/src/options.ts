/** Options of `redisAdapter()` and their defaults. */
import type { Cluster, Redis } from 'ioredis';

/** Options of `redisAdapter()`; only `redis` is required. */
export interface RedisAdapterOptions {
  /**
   * The Redis to share. An ioredis `Redis` or `Cluster` client (used for publish and history; the adapter never
   * closes it), a `redis://` URL (the adapter opens and closes that connection itself) or a list of `redis://`
   * seed URLs of a Redis Cluster (the adapter opens and closes a `Cluster`). Either way the adapter opens one more
   * connection of its own for the live feed (`SUBSCRIBE`; on a cluster, ioredis's sharded subscribers: one
   * connection per master, `SSUBSCRIBE`).
   */
  redis: Redis | Cluster | string | readonly string[];
  /**
   * A channel's stream key (and its live feed) is `<prefix>:{<channel>}`: each channel is a hash tag of its own,
   * so on a cluster the channels spread over every master. Do not put braces in it. Default `tidings`.
   */
  prefix?: string;
  /** Approximate cap on entries kept per channel stream (`XADD MAXLEN ~`); it is also the replay window. Default 1000. */
  maxLen?: number;
  /** ms a channel's stream is kept after its last broadcast (`PEXPIRE`, in the same script as the `XADD`). Default 86400000 (24 h). */
  ttl?: number;
  /**
   * ms a publish, history read or subscribe may wait for Redis (reconnecting included) before it rejects with
   * `SSE_ERR_ADAPTER_UNAVAILABLE`. Default 5000.
   */
  timeout?: number;
  /**
   * ms between liveness checks (`PING`) of the live-feed connection; one that does not answer within as long
   * again is reconnected and its channels caught up from their streams. Bounds how late a connection that died
   * without closing is noticed. One Redis only: on a cluster ioredis watches its subscriber connections itself.
   * (The name is from the adapter's first design, a blocking XREAD.) Default 5000.
   */
  blockMs?: number;
  /** Most entries taken from one stream per catch-up read. Default 1000. */
  readCount?: number;
  /** This server's name in `CLIENT LIST`: the adapter's connections are named `<prefix>:<name>:reader`/`:commands`. */
  name?: string;
  /** Told about connection errors of the adapter's own connections and failed reads (they are retried). Default: ignored. */
  onError?(err: Error): void;
}

/** The defaults of {@link RedisAdapterOptions}. */
export const REDIS_ADAPTER_DEFAULTS = Object.freeze({
  /** Stream keys `tidings:{<channel>}`. */
  prefix: 'tidings',
  /** About 1,000 entries per channel. */
  maxLen: 1_000,
  /** A stream expires 24 h after its last broadcast. */
  ttl: 86_400_000,
  /** 5 s for Redis to answer. */
  timeout: 5_000,
  /** A live-feed connection is checked every 5 s. */
  blockMs: 5_000,
  /** 1,000 entries per catch-up read. */
  readCount: 1_000,
});
