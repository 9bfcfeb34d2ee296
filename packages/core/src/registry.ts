/**
 * ChannelRegistry: the channels of one server (or, with an adapter, of many), the streams they hold,
 * graceful shutdown and the numbers operators watch.
 */
import type { BroadcastAdapter } from './adapter.js';
import { ConnectionLimit, type ConnectionLimitOptions } from './admission.js';
import { type BroadcastOptions, Channel, type ChannelContext, dropChannel } from './channel.js';
import { ChannelLifecycle } from './channel-lifecycle.js';
import { streamOf } from './emitter.js';
import { SseInvalidChannelError } from './errors.js';
import { type PreparedEvent, prepareEvent, type Serializer, toEvent } from './frame.js';
import { type AnyEmitter, warn } from './internal.js';
import { AdapterLog } from './log-adapter.js';
import { MemoryLog } from './log-memory.js';
import { type MultiSubscribeOptions, subscribeChannels } from './multi-channel.js';
import { checkDelay, checkNonNegativeInteger } from './options.js';
import type { Run, RunOptions } from './run.js';
import { RunStore } from './run-store.js';
import type { DeliveryCounters, StreamHandle } from './stream-handle.js';
import { hasControlCharacter } from './text.js';

/** Options of {@link ChannelRegistry}. */
export interface ChannelRegistryOptions extends ConnectionLimitOptions {
  /** Events kept per channel for Last-Event-ID replay; 0 turns history (and generated ids) off. Default 100. */
  history?: number;
  /**
   * Ms a channel with no subscriber and no broadcast stays in memory with its history; then it is dropped (a client
   * resuming from one of its ids later gets `onGap`). A `Channel` kept by your code stays usable: using it brings
   * the channel back. 0 = never dropped. Default 300,000 (5 minutes).
   */
  historyTtl?: number;
  /** Shares broadcasts and history between servers (e.g. `redisAdapter()` from `@tidings/redis`). */
  adapter?: BroadcastAdapter;
  /** Serializer for broadcast data. Default JSON.stringify. */
  serialize?: Serializer;
  /**
   * A client resumed from an id the history does not hold (never held, evicted, or history is off): nothing is
   * replayed and it gets live events (a short-polling client gets `lastEventId: null`). Use this to send it a
   * snapshot with `em.send()`, or to tell it to reload. An exception thrown here becomes a process warning.
   */
  onGap?(channel: string, lastEventId: string, em: AnyEmitter): void;
}

/** The defaults of {@link ChannelRegistryOptions}. */
export const REGISTRY_DEFAULTS = Object.freeze({
  /** 100 events per channel. */
  history: 100,
  /** 5 minutes. */
  historyTtl: 300_000,
});

/** Longest channel name, in characters. */
export const MAX_CHANNEL_NAME_LENGTH = 256;

/** What {@link ChannelRegistry.stats} reports: counters since the registry was made, and two gauges. */
export interface RegistryStats {
  /** Channels in memory now (a gauge: idle channels dropped after `historyTtl` no longer count). */
  channels: number;
  /** Open streams the registry tracks (subscribed to a channel, or opened by an adapter given this registry). */
  connections: number;
  /** Event frames delivered: one frame written to one client counts once (keep-alives and retry lines do not). */
  eventsSent: number;
  /** Bytes of those frames. */
  bytesSent: number;
  /** Clients closed because they could not keep up (`SSE_ERR_SLOW_CLIENT`). */
  slowClosed: number;
}

/**
 * The channels of one server (or, with an adapter, of many), the streams they hold, graceful shutdown and the
 * numbers operators watch. Make one per application and give it to the adapter (`sse({ registry })`,
 * `ssePlugin` with `{ registry }`) so every stream counts in `stats()` and `close()` ends it.
 */
export class ChannelRegistry {
  readonly #channels = new Map<string, Channel>();
  readonly #open = new Set<StreamHandle>();
  readonly #counters: DeliveryCounters = { eventsSent: 0, bytesSent: 0, slowClosed: 0 };
  readonly #ctx: ChannelContext;
  readonly #adapter: BroadcastAdapter | undefined;
  readonly #serialize: Serializer | undefined;
  readonly #limit: ConnectionLimit;
  readonly #runs: RunStore;
  /** Drops idle channels after `historyTtl`; undefined when it is 0. */
  readonly #lifecycle: ChannelLifecycle<Channel> | undefined;
  /** Adapter unsubscriptions of dropped channels still settling, by name: a revival subscribes after them. */
  readonly #retiring = new Map<string, Promise<void>>();
  #closed = false;
  #closing: Promise<void> | undefined;
  /** One function untracks every stream (a completion callback gets its stream): no closure per stream. */
  readonly #untrack = (stream: StreamHandle): void => {
    this.#open.delete(stream);
  };

  /**
   * Throws `SSE_ERR_INVALID_OPTION` for a `history` or `historyTtl` that is not a non-negative integer, or a bad
   * connection limit.
   */
  constructor(options: ChannelRegistryOptions = {}) {
    const history = checkNonNegativeInteger(
      'history',
      options.history ?? REGISTRY_DEFAULTS.history,
      'events per channel',
    );
    const ttl = checkDelay('historyTtl', options.historyTtl ?? REGISTRY_DEFAULTS.historyTtl, 'ms');
    const lifecycle = ttl > 0 ? new ChannelLifecycle<Channel>(ttl, (channel) => this.#drop(channel)) : undefined;
    this.#lifecycle = lifecycle;
    this.#limit = new ConnectionLimit(options);
    const adapter = options.adapter;
    const serialize = options.serialize;
    this.#adapter = adapter;
    this.#serialize = serialize;
    // Unique per registry instance, so ids (and `except` tags) from before a restart are never taken for new ones.
    const idPrefix = Date.now().toString(36);
    const ids = { prefix: idPrefix, seq: 0 };
    const onGap = options.onGap;
    this.#runs = new RunStore({ serialize, ids, store: adapter?.runs, track: (stream) => this.#track(stream) });
    this.#ctx = {
      makeLog: (name, deliver) =>
        adapter === undefined
          ? new MemoryLog(history, ids, serialize, deliver)
          : new AdapterLog(adapter, name, serialize, idPrefix, deliver, this.#retiring.get(name)),
      revive: (channel) => this.#revive(channel),
      idle: (channel) => lifecycle?.idle(channel),
      busy: (channel) => lifecycle?.busy(channel),
      track: (stream) => this.#track(stream),
      onGap: (channel, lastEventId, em) => {
        try {
          onGap?.(channel, lastEventId, em);
        } catch (err) {
          warn(`onGap threw for channel "${channel}"`, err, 'SSE_LISTENER_THREW');
        }
      },
    };
  }

  /** The channel called `name`, created on first use. Throws `SSE_ERR_INVALID_CHANNEL` for a bad name. */
  channel<Events extends Record<string, unknown> = Record<string, unknown>>(name: string): Channel<Events> {
    let channel = this.#channels.get(name);
    if (channel === undefined) {
      checkChannelName(name);
      channel = new Channel(name, this.#ctx);
      this.#channels.set(name, channel);
      this.#lifecycle?.idle(channel);
    }
    return channel as Channel<Events>;
  }

  /**
   * Subscribes one stream to several channels: each channel's events reach it once, in that channel's order; its
   * ids carry every channel's position (see the README's "Streams on several channels"), so a client that comes
   * back with `Last-Event-ID` is replayed each channel from its own place, and a channel new to its list starts
   * live. `filter` sees `ev.channel`. With one name this is `channel(name).subscribe(em)` (that channel's own ids).
   * Returns a function that unsubscribes it from all of them. Throws `SSE_ERR_INVALID_CHANNEL` (before subscribing
   * anything) for a bad name or an empty list, and `SSE_ERR_FOREIGN_EMITTER` like `Channel.subscribe`.
   */
  subscribe(em: AnyEmitter, names: readonly string[], options: MultiSubscribeOptions = {}): () => void {
    checkChannelNames(names);
    const stream = streamOf(em);
    this.#track(stream);
    const channels = [...new Set(names)].map((name) => this.channel(name));
    return subscribeChannels(channels, options, stream);
  }

  /** Whether the channel called `name` is in memory now (made, and not dropped after `historyTtl`). */
  has(name: string): boolean {
    return this.#channels.has(name);
  }

  /** `channel(name).broadcast(value, options)`: resolves to the id used. Throws like `channel()` and `Channel.broadcast`. */
  broadcast(name: string, value: unknown, options?: BroadcastOptions): Promise<string | undefined> {
    return this.channel(name).broadcast(value, options);
  }

  /**
   * Starts a resumable stream of one job (see {@link Run}). Throws `SSE_ERR_INVALID_RUN_ID` for an id that is not
   * 1–256 URL-safe characters or is taken, `SSE_ERR_INVALID_OPTION` for an option that cannot work.
   */
  createRun<Events extends Record<string, unknown> = Record<string, unknown>>(options?: RunOptions): Run<Events> {
    return this.#runs.create<Events>(options);
  }

  /**
   * The run called `id`; undefined when it is unknown, or expired `ttl` after it ended. With an adapter that keeps
   * runs (`@tidings/redis`), any node finds any run, as it is now; rejects `SSE_ERR_ADAPTER_UNAVAILABLE` when the
   * adapter does not answer.
   */
  findRun<Events extends Record<string, unknown> = Record<string, unknown>>(
    id: string,
  ): Promise<Run<Events> | undefined> {
    return this.#runs.find<Events>(id);
  }

  /**
   * Counts `em` among this registry's open streams until it completes. Channels do this on subscribe;
   * adapters given a registry do it for every stream they open. After `close()`, `em` is completed at once.
   * Throws `SSE_ERR_FOREIGN_EMITTER` for an emitter made by another copy of the package.
   */
  track(em: AnyEmitter): void {
    this.#track(streamOf(em));
  }

  /**
   * Admission check for a new stream: throws `SSE_ERR_TOO_MANY_CONNECTIONS` (an `SseTooManyConnectionsError`
   * carrying `retryAfter`) when this registry already tracks `maxConnections` open streams. Adapters given this
   * registry call it before any byte of a new stream; with plain `node:http`, call it before `attach()` and answer
   * 503 yourself. Streams already open are never affected.
   */
  admit(): void {
    this.#limit.admit(this.#open.size);
  }

  /** Open streams tracked now. */
  get connections(): number {
    return this.#open.size;
  }

  /**
   * Graceful shutdown: sends `final` (an `event()` or data, encoded once) to every open stream, completes them
   * all (each response ends once its queued frames are flushed), stops what runs do in this process (idle checks,
   * live feeds, retries; a run kept in Redis is left as it is there), then closes the adapter. Resolves when that is
   * done; streams subscribed or tracked afterwards are completed at once. Calling it again returns the same
   * promise. When `final` cannot be serialized, every stream is still completed and the promise rejects with
   * `SSE_ERR_SERIALIZE`.
   */
  close(final?: unknown): Promise<void> {
    this.#closing ??= this.#shutdown(final);
    return this.#closing;
  }

  /** Counters for dashboards and metrics (see {@link RegistryStats}); a fresh object each call. */
  stats(): RegistryStats {
    return { channels: this.#channels.size, connections: this.#open.size, ...this.#counters };
  }

  /** The ttl sweep: `channel` had no subscriber and no broadcast for `historyTtl` ms. */
  #drop(channel: Channel): void {
    if (this.#channels.get(channel.name) !== channel) return;
    this.#channels.delete(channel.name);
    const retired = dropChannel(channel)?.retire();
    if (retired === undefined || this.#adapter === undefined) return;
    const name = channel.name;
    this.#retiring.set(name, retired);
    void retired.then(() => {
      if (this.#retiring.get(name) === retired) this.#retiring.delete(name);
    });
  }

  /** A dropped channel is used again: back in the registry, unless another object holds its name now. */
  #revive(channel: Channel): Channel {
    const live = this.#channels.get(channel.name);
    if (live !== undefined) return live;
    this.#channels.set(channel.name, channel);
    this.#lifecycle?.idle(channel);
    return channel;
  }

  #track(stream: StreamHandle): void {
    if (this.#closed) {
      stream.complete();
      return;
    }
    if (this.#open.has(stream) || stream.ended) return;
    this.#open.add(stream);
    stream.counters = this.#counters;
    stream.onFinish(this.#untrack);
  }

  async #shutdown(final: unknown): Promise<void> {
    this.#closed = true;
    this.#lifecycle?.stop();
    this.#runs.close();
    let prepared: PreparedEvent | undefined;
    let failure: unknown;
    try {
      prepared = final === undefined ? undefined : prepareEvent(toEvent(final), this.#serialize);
    } catch (err) {
      failure = err;
    }
    for (const stream of [...this.#open]) {
      if (prepared !== undefined) stream.deliver(prepared);
      stream.complete();
    }
    await this.#adapter?.close();
    if (failure !== undefined) throw failure;
  }
}

/** Throws `SSE_ERR_INVALID_CHANNEL` unless `names` is a non-empty array of valid names (see {@link checkChannelName}). */
export function checkChannelNames(names: readonly string[]): void {
  if (!Array.isArray(names) || names.length === 0) {
    throw new SseInvalidChannelError('A stream on several channels needs a non-empty array of channel names.');
  }
  for (const name of names) checkChannelName(name);
}

/** Throws `SSE_ERR_INVALID_CHANNEL` unless `name` is 1–256 characters with no control characters. */
export function checkChannelName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) {
    throw new SseInvalidChannelError('A channel name must be a non-empty string.');
  }
  if (name.length > MAX_CHANNEL_NAME_LENGTH) {
    throw new SseInvalidChannelError(
      `A channel name may be at most ${MAX_CHANNEL_NAME_LENGTH} characters, got ${name.length}.`,
    );
  }
  if (hasControlCharacter(name)) {
    throw new SseInvalidChannelError('A channel name may not contain control characters (CR, LF, NUL, ...).');
  }
}
