/**
 * redisAdapter(): a BroadcastAdapter on Redis Streams plus Pub/Sub, whose cost per broadcast follows the
 * channel's subscribers, not the number of channels a node serves.
 *
 * - Each channel is one stream, `<prefix>:{<channel>}`, and a live feed (a Pub/Sub channel) of the same name:
 *   its own hash tag, so on a Redis Cluster a channel's stream and feed share a shard and channels spread over
 *   every master. The stream is the log (ids, replay, catch-up); the feed only makes delivery fast.
 * - A broadcast is one script (publish-script.ts), atomic in Redis: XADD (MAXLEN ~ maxLen), PEXPIRE ttl, and
 *   PUBLISH (SPUBLISH on a cluster) of the whole event with its id and the id of the entry before it. The entry
 *   id is the SSE event id, the same on every node.
 * - Each node subscribes only to the channels it has clients for, on a connection of its own, and delivers
 *   what the feed carries: no read per event, and nothing for channels it does not serve. (The previous design,
 *   one blocking XREAD over every stream of the node re-issued after each delivery, cost Redis and the node
 *   O(channels) per broadcast.)
 * - Pub/Sub is at most once, so the stream stays the truth: a message whose previous id is not the last one
 *   this node delivered on that channel shows a hole, and a reconnected feed may have missed anything; both are
 *   filled by reading the stream by id (XRANGE) before delivery goes on (channel-feed.ts). Order and exactly
 *   once follow from delivering only ids after the last one delivered, from runs known to be contiguous.
 * - history() is one XRANGE, shared by callers with the same channel and position that arrive at the same point
 *   of this node's live delivery (shared-reads.ts): while it is in flight, and once finished until the feed
 *   delivers the channel's next entry. It resolves once this node's live delivery has passed what it returns:
 *   its entries continue the feed when they can, and start a fill when the client is ahead of this node.
 * - A failover can lose entries this node delivered; the feed notices the stream jumping back and remembers
 *   the stretch, and history() from before it is a gap (undefined), never what follows as if complete.
 */
import {
  type BroadcastAdapter,
  type RunAdapter,
  SseAdapterUnavailableError,
  SseInvalidOptionError,
  type StoredEvent,
  type WireEvent,
} from '@tidings/core';
import { ChannelFeed, type FeedSource, type RawEntry } from './channel-feed.js';
import { CommandGate, type RedisClient } from './command-gate.js';
import { isCluster, openClients } from './connect.js';
import { channelKey } from './keys.js';
import { LiveFeed } from './live-feed.js';
import { parseLiveMessage } from './live-message.js';
import { REDIS_ADAPTER_DEFAULTS, type RedisAdapterOptions } from './options.js';
import { type PublishCommand, runPublishScript } from './publish-script.js';
import { RedisRuns } from './runs.js';
import { type ReadResult, SharedReads, type StreamRead } from './shared-reads.js';
import { BEFORE_ALL, decodeEntry, encodeEntry, isStreamId } from './stream-entry.js';

/**
 * Creates the adapter; pass it as `new ChannelRegistry({ adapter })` on every server. Opens its live-feed
 * connection (and, given URLs, its command connection) at once; `close()` (or `registry.close()`) closes them.
 * Throws `SSE_ERR_INVALID_OPTION` for an option that cannot work. Its `publish`, `subscribe` and `history`
 * reject with `SSE_ERR_ADAPTER_UNAVAILABLE` when Redis does not answer within `timeout`.
 */
export function redisAdapter(options: RedisAdapterOptions): BroadcastAdapter {
  return new RedisStreamsAdapter(options);
}

/**
 * The CLIENT SETNAME names of the adapter's connections, so operators can find them in `CLIENT LIST`:
 * `<prefix>:reader` and `<prefix>:commands`, or `<prefix>:<name>:reader` ... when the server has a `name`.
 */
export function connectionNames(
  prefix: string,
  name?: string,
): {
  /** The connection for the publish script and XRANGE (when the adapter opened it from URLs). */
  commands: string;
  /** The live-feed connection (SUBSCRIBE). On a cluster ioredis names its subscribers `ioredis-cluster(ssubscriber):<reader>`. */
  reader: string;
} {
  const safe = (name === undefined ? prefix : `${prefix}:${name}`).replace(/[^\w:.{}-]/g, '_');
  return { commands: `${safe}:commands`, reader: `${safe}:reader` };
}

/** Pause before a failed catch-up read is tried again. */
const RETRY_MS = 200;

class RedisStreamsAdapter implements BroadcastAdapter {
  readonly #redis: RedisClient;
  readonly #ownsClient: boolean;
  readonly #settings: Settings;
  /** What every publish script gets: the stream's bounds and the publish command (SPUBLISH on a cluster). */
  readonly #publishSettings: { maxLen: number; ttl: number; command: PublishCommand };
  readonly #gate: CommandGate;
  readonly #live: LiveFeed;
  readonly #onError: (err: Error) => void;
  /** The channels this node serves, by stream key. */
  readonly #feeds = new Map<string, ChannelFeed>();
  readonly #historyReads = new SharedReads<StoredEvent[] | undefined>();
  #closing: Promise<void> | undefined;
  /** Runs in Redis: any node serves any run (see runs.ts). */
  readonly runs: RunAdapter;

  constructor(options: RedisAdapterOptions) {
    const settings: Settings = { ...REDIS_ADAPTER_DEFAULTS, ...withoutUndefined(options), redis: options.redis };
    checkOptions(settings);
    this.#settings = settings;
    this.#onError = options.onError ?? (() => {});
    const clients = openClients(options.redis, connectionNames(settings.prefix, options.name), this.#onError);
    this.#redis = clients.commands;
    this.#ownsClient = clients.ownsCommands;
    const command = isCluster(clients.commands) ? 'SPUBLISH' : 'PUBLISH';
    this.#publishSettings = { maxLen: settings.maxLen, ttl: settings.ttl, command };
    this.#gate = new CommandGate(this.#redis, settings.timeout);
    this.#live = new LiveFeed(clients.live, {
      timeout: settings.timeout,
      pingMs: settings.blockMs,
      channels: () => this.#feeds.keys(),
      onMessage: (key, message) => this.#onLiveMessage(key, message),
      onResubscribed: () => {
        for (const feed of this.#feeds.values()) feed.catchUp();
      },
      onError: this.#onError,
    });
    this.runs = new RedisRuns({
      prefix: settings.prefix,
      publishCommand: command,
      command: (what, run) => this.#gate.run(what, run),
      subscribeFeed: (key, onEvent) => this.#subscribeFeed(key, onEvent),
      unsubscribeFeed: (key) => this.#unsubscribeFeed(key),
      continueFeed: (key, from, entries) => this.#continueFeed(key, from, entries),
      shareRead: (key, afterId, read) => this.#shareRead(key, afterId, read),
      readFrom: (key, afterId) => this.#readFrom(key, afterId),
    });
  }

  /** The publish script: XADD, PEXPIRE and the live message in one step; resolves to the entry id. */
  async publish(channel: string, event: WireEvent): Promise<string> {
    const key = this.#key(channel);
    return await this.#gate.run('publish', (redis, stillWanted) =>
      runPublishScript(redis, key, this.#publishSettings, encodeEntry(event), stillWanted),
    );
  }

  /** Subscribes to the channel's live feed, then fixes the position at the stream's last entry. */
  subscribe(channel: string, onEvent: (event: StoredEvent) => void): Promise<void> {
    return this.#subscribeFeed(this.#key(channel), onEvent);
  }

  unsubscribe(channel: string): Promise<void> {
    return this.#unsubscribeFeed(this.#key(channel));
  }

  /** Subscribes to the live feed of stream `key` (a channel's or a run's), then fixes the position at its last entry. */
  async #subscribeFeed(key: string, onEvent: (event: StoredEvent) => void): Promise<void> {
    const feed = new ChannelFeed((event) => {
      // The finished history reads of the channel end before this entry: stale.
      this.#historyReads.forget(key);
      onEvent(event);
    }, this.#feedSource(key));
    this.#historyReads.forget(key);
    this.#feeds.get(key)?.close();
    this.#feeds.set(key, feed);
    try {
      // Subscribed first: whatever comes after the position read below arrives live (or shows as a hole).
      await this.#live.subscribe(key);
      const last = await this.#gate.run('subscribe', (redis) => redis.xrevrange(key, '+', '-', 'COUNT', 1));
      feed.start(last[0]?.[0] ?? BEFORE_ALL);
    } catch (err) {
      if (this.#feeds.get(key) === feed) void this.#drop(key);
      throw err;
    }
  }

  async #unsubscribeFeed(key: string): Promise<void> {
    if (this.#feeds.has(key)) await this.#drop(key);
  }

  /**
   * The entries after `afterId`. One `XRANGE key afterId +` both proves that `afterId` is still in the stream
   * (it comes back first) and returns what follows, atomically; an id that is malformed, unknown or trimmed
   * away is a gap (undefined), never a replay from the wrong place. Concurrent calls with the same arguments
   * share one read. Resolves only once this node's live delivery has passed the last of those entries too, so
   * the channel holds (and drops) every live copy of them.
   */
  history(channel: string, afterId: string | undefined): Promise<StoredEvent[] | undefined> {
    if (afterId !== undefined && !isStreamId(afterId)) return Promise.resolve(undefined);
    const key = this.#key(channel);
    return this.#shareRead(key, afterId, () => this.#readHistory(key, afterId));
  }

  /**
   * Shares a read of stream `key` after `afterId` (a channel's history, a run's replay) between callers at the
   * same live-feed position: a caller holds live entries from its call on, so a read sent before this node
   * delivered an entry may end before it, and the caller would have it nowhere. A finished read is kept for later
   * callers (until the feed delivers its next entry) when the feed stands exactly at the read's end: a caller then
   * has every entry, in the read or among those it holds next.
   */
  #shareRead(
    key: string,
    afterId: string | undefined,
    read: () => Promise<StreamRead>,
  ): Promise<StoredEvent[] | undefined> {
    const position = this.#feeds.get(key)?.lastDelivered;
    const keyed = async (): Promise<ReadResult<StoredEvent[] | undefined>> => {
      const { events, end } = await read();
      const current = end !== undefined && this.#feeds.get(key)?.lastDelivered === end;
      return { value: events, keepAs: current ? `${afterId ?? '-'} ${end}` : undefined };
    };
    return this.#historyReads.run(key, `${afterId ?? '-'} ${position ?? 'unsubscribed'}`, keyed, (events) =>
      events?.slice(),
    );
  }

  /** The read behind {@link history}. */
  async #readHistory(key: string, afterId: string | undefined): Promise<StreamRead> {
    const entries = await this.#readFrom(key, afterId);
    if (entries === undefined || (afterId !== undefined && entries[0]?.[0] !== afterId)) return { events: undefined };
    const feed = this.#feeds.get(key);
    await this.#continueFeed(key, afterId ?? BEFORE_ALL, entries);
    // Entries after `afterId` this node delivered that the stream lost (a failover): the read is not complete.
    if (afterId !== undefined && feed?.lostAfter(afterId)) return { events: undefined };
    const missed = afterId === undefined ? entries : entries.slice(1);
    return { events: missed.map(([id, fields]) => decodeEntry(id, fields)), end: entries.at(-1)?.[0] ?? BEFORE_ALL };
  }

  /**
   * `XRANGE key <afterId> +` (from the start when undefined): `afterId` comes back first when the stream holds it.
   * Undefined when Redis refuses `afterId` (digits it cannot hold in 64 bits: not an id it ever gave).
   */
  async #readFrom(key: string, afterId: string | undefined): Promise<RawEntry[] | undefined> {
    try {
      return (await this.#gate.run('read', (redis) => redis.xrange(key, afterId ?? '-', '+'))) as RawEntry[];
    } catch (err) {
      if (err instanceof Error && err.name === 'ReplyError' && afterId !== undefined) return undefined;
      throw err;
    }
  }

  /**
   * Hands a read of stream `key` (every entry after `from`) to its feed, when this node follows it: the read
   * continues this node's delivery, or shows it is behind (a fill). Resolves once the feed has delivered it.
   */
  async #continueFeed(key: string, from: string, entries: readonly RawEntry[]): Promise<void> {
    const feed = this.#feeds.get(key);
    const last = entries.at(-1)?.[0];
    if (feed === undefined || last === undefined) return;
    feed.offer(from, entries);
    await this.#caughtUp(feed, key, last);
  }

  /** Waits (up to `timeout`) until the feed has delivered entry `id` of `key`. */
  async #caughtUp(feed: ChannelFeed, key: string, id: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new SseAdapterUnavailableError(
              `Redis read of ${key} did not reach ${id} within ${this.#settings.timeout} ms. Check that Redis is reachable, or raise the adapter's \`timeout\`.`,
            ),
          ),
        this.#settings.timeout,
      );
    });
    try {
      await Promise.race([feed.reached(id), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends delivery, rejects waiting commands, closes the live-feed connection and, given URLs, the other. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#gate.close();
    for (const feed of this.#feeds.values()) feed.close();
    this.#feeds.clear();
    await this.#live.close();
    if (!this.#ownsClient) return;
    if (this.#redis.status === 'ready') await this.#redis.quit().catch(() => this.#redis.disconnect());
    else this.#redis.disconnect();
  }

  #onLiveMessage(key: string, message: string): void {
    const feed = this.#feeds.get(key);
    if (feed === undefined) return;
    const live = parseLiveMessage(message);
    if (live === undefined) {
      this.#onError(new Error(`Ignored a message on ${key} that no Tidings node sent.`));
      return;
    }
    feed.offer(live.previous, [[live.id, live.fields]]);
  }

  /**
   * How a channel's feed reads its stream to fill a hole: `XRANGE key afterId + COUNT readCount+1`, which also
   * shows whether the stream still holds `afterId`; when not (lost in a failover, trimmed, expired), the run
   * starts at the entry now before it (`XREVRANGE key afterId - COUNT 1`), so the feed can tell what was lost.
   */
  #feedSource(key: string): FeedSource {
    const { readCount } = this.#settings;
    const read = <T>(command: (redis: RedisClient) => Promise<T>): Promise<T> =>
      this.#gate.run('catch-up read', command);
    return {
      readAfter: async (afterId) => {
        const entries = (await read((redis) => redis.xrange(key, afterId, '+', 'COUNT', readCount + 1))) as RawEntry[];
        if (entries[0]?.[0] === afterId) return { from: afterId, entries: entries.slice(1) };
        if (afterId === BEFORE_ALL) return { from: afterId, entries: entries.slice(0, readCount) };
        const before = await read((redis) => redis.xrevrange(key, afterId, '-', 'COUNT', 1));
        return { from: before[0]?.[0] ?? BEFORE_ALL, entries: entries.slice(0, readCount) };
      },
      readCount: this.#settings.readCount,
      retryMs: RETRY_MS,
      onError: this.#onError,
    };
  }

  #drop(key: string): Promise<void> {
    this.#historyReads.forget(key);
    this.#feeds.get(key)?.close();
    this.#feeds.delete(key);
    return this.#live.unsubscribe(key);
  }

  #key(channel: string): string {
    return channelKey(this.#settings.prefix, channel);
  }
}

/** The options with every default filled in. */
type Settings = Required<Omit<RedisAdapterOptions, 'onError' | 'name'>> & Pick<RedisAdapterOptions, 'onError' | 'name'>;

function checkOptions(settings: Settings): void {
  if (typeof settings.prefix !== 'string' || settings.prefix === '') {
    throw new SseInvalidOptionError('prefix must be a non-empty string (stream keys are `<prefix>:{<channel>}`).');
  }
  for (const name of ['maxLen', 'ttl', 'timeout', 'blockMs', 'readCount'] as const) {
    const value = settings[name];
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new SseInvalidOptionError(`${name} must be a positive integer, got ${String(value)}.`);
    }
  }
  const { redis } = settings;
  const isClient =
    typeof redis === 'object' && redis !== null && typeof (redis as { duplicate?: unknown }).duplicate === 'function';
  const isSeedList =
    Array.isArray(redis) &&
    redis.length > 0 &&
    redis.every((url) => typeof url === 'string' && /^rediss?:\/\//.test(url));
  if (typeof redis !== 'string' && !isClient && !isSeedList) {
    throw new SseInvalidOptionError(
      'redis must be an ioredis Redis or Cluster client, a redis:// URL, or a non-empty list of redis:// seed URLs of a cluster.',
    );
  }
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
