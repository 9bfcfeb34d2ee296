/**
 * ChannelRegistry: the channels of one server (or, with an adapter, of many), the streams they hold,
 * graceful shutdown and the numbers operators watch.
 */
import type { BroadcastAdapter } from './adapter.js';
import { ConnectionLimit, type ConnectionLimitOptions } from './admission.js';
import { type BroadcastOptions, Channel, type ChannelContext } from './channel.js';
import { streamOf } from './emitter.js';
import { SseInvalidChannelError } from './errors.js';
import { type PreparedEvent, prepareEvent, type Serializer, toEvent } from './frame.js';
import { type AnyEmitter, warn } from './internal.js';
import { AdapterLog } from './log-adapter.js';
import { MemoryLog } from './log-memory.js';
import { checkNonNegativeInteger } from './options.js';
import type { Run, RunOptions } from './run.js';
import { RunStore } from './run-store.js';
import type { DeliveryCounters, StreamHandle } from './stream-handle.js';
import { hasControlCharacter } from './text.js';

/** Options of {@link ChannelRegistry}. */
export interface ChannelRegistryOptions extends ConnectionLimitOptions {
  /** Events kept per channel for Last-Event-ID replay; 0 turns history (and generated ids) off. Default 100. */
  history?: number;
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
});

/** Longest channel name, in characters. */
export const MAX_CHANNEL_NAME_LENGTH = 256;

/** What {@link ChannelRegistry.stats} reports: counters since the registry was made. */
export interface RegistryStats {
  /** Channels created. */
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
  #closed = false;
  #closing: Promise<void> | undefined;
  /** One function untracks every stream (a completion callback gets its stream): no closure per stream. */
  readonly #untrack = (stream: StreamHandle): void => {
    this.#open.delete(stream);
  };

  /** Throws `SSE_ERR_INVALID_OPTION` for a `history` that is not a non-negative integer, or a bad connection limit. */
  constructor(options: ChannelRegistryOptions = {}) {
    const history = checkNonNegativeInteger(
      'history',
      options.history ?? REGISTRY_DEFAULTS.history,
      'events per channel',
    );
    this.#limit = new ConnectionLimit(options);
    const adapter = options.adapter;
    const serialize = options.serialize;
    this.#adapter = adapter;
    this.#serialize = serialize;
    // Unique per registry instance, so ids (and `except` tags) from before a restart are never taken for new ones.
    const idPrefix = Date.now().toString(36);
    const onGap = options.onGap;
    this.#runs = new RunStore({ serialize, idPrefix, track: (stream) => this.#track(stream) });
    this.#ctx = {
      makeLog: (name, deliver) =>
        adapter === undefined
          ? new MemoryLog(history, idPrefix, serialize, deliver)
          : new AdapterLog(adapter, name, serialize, idPrefix, deliver),
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
  channel(name: string): Channel {
    let channel = this.#channels.get(name);
    if (channel === undefined) {
      checkChannelName(name);
      channel = new Channel(name, this.#ctx);
      this.#channels.set(name, channel);
    }
    return channel;
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

  /** The run called `id`; undefined when it is unknown, or expired `ttl` after it ended. */
  findRun<Events extends Record<string, unknown> = Record<string, unknown>>(
    id: string,
  ): Promise<Run<Events> | undefined> {
    return Promise.resolve(this.#runs.find<Events>(id));
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
   * all (each response ends once its queued frames are flushed), then closes the adapter. Resolves when that is
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
