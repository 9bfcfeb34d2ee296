/**
 * redisAdapter(): a BroadcastAdapter on Redis Streams. Each channel is one stream, `<prefix>:<channel>`; a
 * broadcast is one `XADD` and the entry id is the SSE event id, the same on every server. Each server reads
 * the streams of its subscribed channels with one blocking `XREAD` loop and replays from `XRANGE`.
 */
import {
  type BroadcastAdapter,
  SseAdapterUnavailableError,
  SseInvalidOptionError,
  type StoredEvent,
  type WireEvent,
} from '@tidings/core';
import { Redis } from 'ioredis';
import { CommandGate } from './command-gate.js';
import { REDIS_ADAPTER_DEFAULTS, type RedisAdapterOptions } from './options.js';
import { decodeEntry, encodeEntry, isStreamId } from './stream-entry.js';
import { StreamReader } from './stream-reader.js';

/**
 * Creates the adapter; pass it as `new ChannelRegistry({ adapter })` on every server. Opens its reading
 * connection (and, given a URL, its command connection) at once; `close()` (or `registry.close()`) closes them.
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
  /** The connection for XADD and XRANGE (when the adapter opened it from a URL). */
  commands: string;
  /** The connection of the blocking XREAD loop. */
  reader: string;
} {
  const safe = (name === undefined ? prefix : `${prefix}:${name}`).replace(/[^\w:.{}-]/g, '_');
  return { commands: `${safe}:commands`, reader: `${safe}:reader` };
}

class RedisStreamsAdapter implements BroadcastAdapter {
  readonly #redis: Redis;
  readonly #ownsClient: boolean;
  readonly #prefix: string;
  readonly #maxLen: number;
  readonly #timeout: number;
  readonly #gate: CommandGate;
  readonly #reader: StreamReader;
  #closing: Promise<void> | undefined;

  constructor(options: RedisAdapterOptions) {
    const settings: Settings = { ...REDIS_ADAPTER_DEFAULTS, ...withoutUndefined(options), redis: options.redis };
    checkOptions(settings);
    const onError = options.onError ?? (() => {});
    const names = connectionNames(settings.prefix, options.name);
    this.#prefix = settings.prefix;
    this.#maxLen = settings.maxLen;
    this.#timeout = settings.timeout;
    this.#ownsClient = typeof options.redis === 'string';
    this.#redis =
      typeof options.redis === 'string' ? new Redis(options.redis, { connectionName: names.commands }) : options.redis;
    if (this.#ownsClient) this.#redis.on('error', onError);
    this.#gate = new CommandGate(this.#redis, settings.timeout);
    const readerConnection = this.#redis.duplicate({
      connectionName: names.reader,
      lazyConnect: false,
      enableOfflineQueue: true,
      // Wait through reconnects; a read cut by a disconnect fails and is issued again from the last delivered id.
      maxRetriesPerRequest: null,
      autoResendUnfulfilledCommands: false,
      // A read that gets no answer (a connection dead without a close) ends after blockMs plus a grace period.
      blockingTimeout: settings.blockMs,
    });
    readerConnection.on('error', onError);
    this.#reader = new StreamReader(readerConnection, {
      blockMs: settings.blockMs,
      readCount: settings.readCount,
      unblock: (clientId) => this.#unblock(clientId),
      onError,
    });
  }

  /** `XADD <prefix>:<channel> MAXLEN ~ maxLen * fields...`; resolves to the entry id. */
  async publish(channel: string, event: WireEvent): Promise<string> {
    const key = this.#key(channel);
    const id = await this.#gate.run('publish', (redis) =>
      redis.xadd(key, 'MAXLEN', '~', this.#maxLen, '*', ...encodeEntry(event)),
    );
    return id!;
  }

  /** Fixes the read position at the stream's last entry, then reads on from there. */
  async subscribe(channel: string, onEvent: (event: StoredEvent) => void): Promise<void> {
    const sub = this.#reader.add(this.#key(channel), onEvent);
    try {
      const last = await this.#gate.run('subscribe', (redis) => redis.xrevrange(sub.key, '+', '-', 'COUNT', 1));
      // No entry yet: every entry ever added comes after 0-0.
      this.#reader.start(sub, last[0]?.[0] ?? '0-0');
    } catch (err) {
      this.#reader.remove(sub.key, sub);
      throw err;
    }
  }

  async unsubscribe(channel: string): Promise<void> {
    this.#reader.remove(this.#key(channel));
  }

  /**
   * The entries after `afterId`. One `XRANGE key afterId +` both proves that `afterId` is still in the stream
   * (it comes back first) and returns what follows, atomically; an id that is malformed, unknown or trimmed
   * away is a gap (undefined), never a replay from the wrong place. Resolves only once this node's read loop
   * has delivered the last of those entries too, so the channel holds (and drops) every live copy of them.
   */
  async history(channel: string, afterId: string | undefined): Promise<StoredEvent[] | undefined> {
    const key = this.#key(channel);
    if (afterId !== undefined && !isStreamId(afterId)) return undefined;
    const entries = await this.#gate
      .run('history', (redis) => redis.xrange(key, afterId ?? '-', '+'))
      .catch((err) => {
        // Digits Redis cannot hold in 64 bits: not an id it ever gave.
        if (err instanceof Error && err.name === 'ReplyError' && afterId !== undefined) return undefined;
        throw err;
      });
    if (entries === undefined || (afterId !== undefined && entries[0]?.[0] !== afterId)) return undefined;
    const last = entries.at(-1)?.[0];
    if (last !== undefined) await this.#caughtUp(key, last);
    const missed = afterId === undefined ? entries : entries.slice(1);
    return missed.map(([id, fields]) => decodeEntry(id, fields));
  }

  /** Waits (up to `timeout`) until the read loop has delivered entry `id` of `key`. */
  async #caughtUp(key: string, id: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new SseAdapterUnavailableError(
              `Redis read of ${key} did not reach ${id} within ${this.#timeout} ms. Check that Redis is reachable, or raise the adapter's \`timeout\`.`,
            ),
          ),
        this.#timeout,
      );
    });
    try {
      await Promise.race([this.#reader.delivered(key, id), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the read loop, rejects waiting commands, closes the reading connection and, given a URL, the other. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#gate.close();
    await this.#reader.close();
    if (!this.#ownsClient) return;
    if (this.#redis.status === 'ready') await this.#redis.quit().catch(() => this.#redis.disconnect());
    else this.#redis.disconnect();
  }

  #key(channel: string): string {
    return `${this.#prefix}:${channel}`;
  }

  /** Best effort: if it fails, the read ends by itself within `blockMs`. */
  #unblock(clientId: number): void {
    if (this.#redis.status !== 'ready') return;
    this.#redis.client('UNBLOCK', clientId).catch(() => {});
  }
}

/** The options with every default filled in. */
type Settings = Required<Omit<RedisAdapterOptions, 'onError' | 'name'>> & Pick<RedisAdapterOptions, 'onError' | 'name'>;

function checkOptions(settings: Settings): void {
  if (typeof settings.prefix !== 'string' || settings.prefix === '') {
    throw new SseInvalidOptionError('prefix must be a non-empty string (stream keys are `<prefix>:<channel>`).');
  }
  for (const name of ['maxLen', 'timeout', 'blockMs', 'readCount'] as const) {
    const value = settings[name];
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new SseInvalidOptionError(`${name} must be a positive integer, got ${String(value)}.`);
    }
  }
  if (typeof settings.redis !== 'string' && typeof settings.redis?.duplicate !== 'function') {
    throw new SseInvalidOptionError('redis must be an ioredis client or a redis:// URL.');
  }
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
