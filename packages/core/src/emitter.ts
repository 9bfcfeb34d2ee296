/**
 * SseEmitter: one event stream to one client, modelled on Spring's SseEmitter.
 * Lifecycle pending → open → completed; every way of ending (complete, error, timeout, disconnect,
 * slow client) goes through one place, `#finish`, so timers, subscriptions and listeners are released once.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import {
  SseAlreadyAttachedError,
  SseClosedError,
  SseInvalidOptionError,
  SseSerializeError,
  SseSlowClientError,
} from './errors.js';
import {
  encodeComment,
  type PreparedEvent,
  prepareEvent,
  type Serializer,
  type SseEventBuilder,
  toEvent,
} from './frame.js';
import { startKeepAlive, stopKeepAlive } from './keepalive.js';
import { type LastEventIdRejection, readLastEventId, wantsJson } from './request.js';
import { ResponseSink, type SseRequest, type SseResponse } from './sink.js';
import {
  type DeliveryCounters,
  kCounters,
  kDeliver,
  kDrained,
  kGap,
  kOffFinish,
  kOnFinish,
  kOnOpen,
  kPing,
  kSinkClose,
  kSinkDrain,
} from './symbols.js';

/**
 * How the response carries events:
 * - `stream`: one long-lived response (the default);
 * - `long-poll`: the response ends once the first events are flushed (or at `timeout`); the client reconnects
 *   with `Last-Event-ID`. For clients behind proxies that buffer responses;
 * - `short-poll`: one JSON answer `{ events, lastEventId }` instead of a stream. Chosen by itself when the
 *   request accepts `application/json` but not `text/event-stream` and no mode is set.
 */
export type SseMode = 'stream' | 'long-poll' | 'short-poll';

/** Options of {@link SseEmitter}; given to an adapter, they are the defaults of every stream it opens. */
export interface SseEmitterOptions {
  /** ms until `onTimeout` listeners run and the emitter completes; 0 = never (long/short poll: 30 s). */
  timeout?: number;
  /** ms between keep-alive comments (`:`), or false for none. Default 15000. */
  keepAlive?: number | false;
  /** Sent once as `retry:` when the stream opens (long-poll mode: 0 unless set). */
  retry?: number;
  /** Turns non-string data into text. Default JSON.stringify. */
  serialize?: Serializer;
  /** Per-client outbound buffer cap in bytes; past it the client is closed as slow. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** ms a write may stay undrained before the client is closed as slow. Default 30000. */
  sendTimeout?: number;
  /** See {@link SseMode}. Default: `stream`, or `short-poll` for JSON-only clients. */
  mode?: SseMode;
  /** Called when the client sent a `Last-Event-ID` that was ignored (too long or with control characters). */
  onInvalidLastEventId?(reason: LastEventIdRejection): void;
}

/** The defaults of {@link SseEmitterOptions}. */
export const EMITTER_DEFAULTS = Object.freeze({
  /** No timeout. */
  timeout: 0,
  /** A `:` ping every 15 s. */
  keepAlive: 15_000,
  /** 1 MiB per client. */
  maxBufferedBytes: 1024 * 1024,
  /** 30 s for a write to drain. */
  sendTimeout: 30_000,
  /** 30 s: the timeout of a long- or short-polling response when `timeout` is not set. */
  pollTimeout: 30_000,
});

/** What {@link SseEmitter.attach} takes besides the request and response. */
export interface AttachOptions {
  /** Headers to add to the response (a framework's collected headers, CORS). */
  headers?: OutgoingHttpHeaders;
}

/** One event as a short-polling client receives it (the fields an EventSource `MessageEvent` carries). */
export interface PolledEvent {
  /** The event's id, when it has one. */
  id?: string;
  /** The event name; `message` for an unnamed event. */
  event: string;
  /** The data as text, as `MessageEvent.data` would hold it. */
  data: string;
}

/** Lifecycle state: `pending` until attached to a response, `open` while streaming, then `completed` for good. */
export type SseEmitterState = 'pending' | 'open' | 'completed';

type EventMap = Record<string, unknown>;
/** The event names an emitter accepts: its map's keys, plus `message` (an unnamed event). */
export type EventName<Events extends EventMap> = (keyof Events & string) | 'message';
/** The data type for event `N` in `Events` (`unknown` for an unnamed event not in the map). */
export type EventData<Events extends EventMap, N extends string> = N extends keyof Events ? Events[N] : unknown;

type Ending = 'complete' | 'error' | 'disconnect' | 'slow';
type Waiter = { resolve(): void; reject(err: Error): void };
/**
 * A `kOnFinish` callback: gets the emitter, so one shared function can serve every stream, and whether it ended
 * with an error (`completeWithError`, slow client) and which, as `onError` listeners get it.
 */
// biome-ignore lint/suspicious/noExplicitAny: the callback serves emitters of any event map
type FinishCallback = (em: SseEmitter<any>, failed: boolean, err: unknown) => void;

const PING = Buffer.from(':\n\n');
/** Brands emitters so they are recognised across duplicate copies of the package. */
export const EMITTER = Symbol.for('tidings.emitter');
const resolved = Promise.resolve();
/** What an unmade lazy list holds. */
const NONE: readonly never[] = [];

/**
 * A Server-Sent Events stream to one client. Sends made before it is attached to a response are queued
 * (bounded by `maxBufferedBytes`) and flushed in order when it opens. `Events` maps event names to data types.
 *
 * @example
 * const em = new SseEmitter<{ tick: number }>({ retry: 3000 }).attach(req, res);
 * await em.send(event({ event: 'tick', data: Date.now() }));
 */
export class SseEmitter<Events extends EventMap = EventMap> {
  /** Brand that recognises emitters across duplicate copies of the package (see `isEmitter`). */
  readonly [EMITTER] = true;
  readonly #settings: Settings;
  #mode: SseMode | undefined;

  #state: SseEmitterState = 'pending';
  #sink: ResponseSink | undefined;
  #lastEventId: string | undefined;
  /** Frames sent before attach; flushed on open. */
  #early: PreparedEvent[] | undefined;
  #earlyBytes = 0;
  /** complete() was called before attach: end right after the early frames are flushed. */
  #completeOnOpen = false;
  /** Events collected for a short-polling client. */
  #polled: PolledEvent[] | undefined;
  #endScheduled = false;
  #waiters: Waiter[] | undefined;
  #timeoutTimer: NodeJS.Timeout | undefined;
  #sendTimer: NodeJS.Timeout | undefined;
  #lingerTimer: NodeJS.Timeout | undefined;
  /** A channel found the client's Last-Event-ID unknown: a short-poll answer does not echo it. */
  #gap = false;
  /** Why the emitter was closed, when it was closed as slow: later sends reject with it. */
  #closeError: Error | undefined;

  // Lists and sets an idle stream may never need are made on first use, and a listener list starts as `[cb]`
  // (a first push would reserve 17 slots): 5,000 open streams hold 5,000 × less.
  #timeoutListeners: Array<() => void> | undefined;
  #completionListeners: Array<() => void> | undefined;
  #errorListeners: Array<(err: unknown) => void> | undefined;
  #onOpen: Set<() => void> | undefined;

  /** `kOnFinish` callbacks: none, one (the usual case: no Set for it), or several in the order added. */
  #onFinish: FinishCallback | FinishCallback[] | undefined;
  /** @internal Callbacks run once when the emitter opens (replay for a channel that subscribed it while pending). */
  get [kOnOpen](): Set<() => void> {
    this.#onOpen ??= new Set();
    return this.#onOpen;
  }
  /** @internal Registry counters, when a registry tracks this emitter. */
  [kCounters]: DeliveryCounters | undefined;

  /** @internal Runs `cb(this)` once on completion (channel unsubscription, untracking); a callback held already is not added again. */
  [kOnFinish](cb: FinishCallback): void {
    const held = this.#onFinish;
    if (held === undefined) this.#onFinish = cb;
    else if (typeof held === 'function') {
      if (held !== cb) this.#onFinish = [held, cb];
    } else if (!held.includes(cb)) this.#onFinish = held.concat(cb); // exact size: a push would reserve 17 more slots
  }

  /** @internal Removes a callback added with `kOnFinish`. */
  [kOffFinish](cb: FinishCallback): void {
    const held = this.#onFinish;
    if (held === cb) this.#onFinish = undefined;
    else if (typeof held === 'object') {
      const at = held.indexOf(cb);
      if (at !== -1) held.splice(at, 1);
    }
  }

  constructor(options: SseEmitterOptions = {}) {
    this.#settings = settingsOf(options);
    this.#mode = options.mode;
    if (this.#mode !== undefined && !['stream', 'long-poll', 'short-poll'].includes(this.#mode)) {
      throw new SseInvalidOptionError(`mode must be 'stream', 'long-poll' or 'short-poll', got ${String(this.#mode)}.`);
    }
  }

  /** `pending` until attached, `open` while streaming, `completed` once ended for any reason. */
  get state(): SseEmitterState {
    return this.#state;
  }

  /** The client's `Last-Event-ID` header, else its `?lastEventId=` query value; undefined when absent or ignored. */
  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  /** How this emitter carries events; known once attached. */
  get mode(): SseMode | undefined {
    return this.#mode;
  }

  /**
   * Binds the emitter to a request/response and opens the stream (headers go out at once). Adapters call
   * this for you; call it yourself with plain `node:http`. Throws `SSE_ERR_ALREADY_ATTACHED` on a second call
   * and `SSE_ERR_HEADERS_SENT` when the response has already begun.
   */
  attach(req: SseRequest, res: SseResponse, options: AttachOptions = {}): this {
    if (this.#sink !== undefined) throw new SseAlreadyAttachedError();
    const reading = readLastEventId(req);
    if (reading.rejected !== undefined) this.#settings.onInvalidLastEventId?.(reading.rejected);
    this.#lastEventId = reading.lastEventId;
    this.#mode ??= wantsJson(req) ? 'short-poll' : 'stream';
    this.#sink = new ResponseSink(req, res, this, options.headers);
    if (this.#mode !== 'short-poll') this.#sink.openStream();
    if (this.#state === 'completed' && !this.#completeOnOpen) {
      this.#sink.end(); // completed with an error before it was attached: end the response empty
      return this;
    }
    this.#state = 'open';
    this.#open();
    return this;
  }

  /**
   * Sends an event made with `event()`, or any other value as the data of an unnamed event (never read as
   * event fields). Resolves once the socket accepted the frame (after `drain` when the client is behind);
   * rejects with `SSE_ERR_CLOSED` once the client is gone or the emitter completed, `SSE_ERR_SERIALIZE` when
   * the data cannot be serialized (the stream stays usable). Rejections are pre-handled: an un-awaited send
   * never crashes the process.
   */
  send<N extends EventName<Events>>(ev: SseEventBuilder<N, EventData<Events, N>>): Promise<void>;
  send<D>(data: D extends SseEventBuilder<string, unknown> ? never : D): Promise<void>;
  send(value: unknown): Promise<void> {
    if (this.#state === 'completed') return handled(Promise.reject(this.#closeError ?? new SseClosedError()));
    let prepared: PreparedEvent;
    try {
      prepared = prepareEvent(toEvent(value), this.#settings.serialize);
    } catch (err) {
      if (err instanceof SseSerializeError) return handled(Promise.reject(err));
      throw err; // invalid fields are programmer errors: thrown synchronously, nothing written
    }
    return this.#push(prepared, true);
  }

  /** Sends a comment (`: text` lines, ignored by clients); no text sends a bare `:`. */
  comment(text?: string): Promise<void> {
    if (this.#state === 'completed') return handled(Promise.reject(this.#closeError ?? new SseClosedError()));
    return this.#push({ frame: Buffer.from(encodeComment(text)) }, false);
  }

  /** Ends the stream once queued frames are flushed. Idempotent. */
  complete(): void {
    if (this.#state === 'completed') return;
    if (this.#state === 'pending') {
      this.#state = 'completed';
      this.#completeOnOpen = true;
      return;
    }
    this.#finish('complete');
  }

  /**
   * Ends the stream because of `err`: `onError` listeners get it, the response ends, and nothing of the error
   * (message, stack) is written to the client.
   */
  completeWithError(err: unknown): void {
    if (this.#state === 'completed') return;
    if (this.#state === 'pending') {
      this.#state = 'completed';
      this.#early = undefined;
      this.#emitError(err);
      this.#runCompletion(true, err);
      return;
    }
    this.#finish('error', err);
  }

  /** Runs `cb` when the timeout fires, before completion: it may still send a last event. */
  onTimeout(cb: () => void): this {
    if (this.#timeoutListeners === undefined) this.#timeoutListeners = [cb];
    else this.#timeoutListeners.push(cb);
    return this;
  }

  /** Runs `cb` exactly once when the emitter completes for any reason (queued if it already has). */
  onCompletion(cb: () => void): this {
    if (this.#state === 'completed' && !this.#completeOnOpen) queueMicrotask(cb);
    else if (this.#completionListeners === undefined) this.#completionListeners = [cb];
    else this.#completionListeners.push(cb);
    return this;
  }

  /** Runs `cb` with the error on `completeWithError` or when the client is closed as slow. */
  onError(cb: (err: unknown) => void): this {
    if (this.#errorListeners === undefined) this.#errorListeners = [cb];
    else this.#errorListeners.push(cb);
    return this;
  }

  /**
   * @internal Writes one pre-encoded event (channel broadcast). True when the socket took it at once; false when
   * the client is behind (wait for `kDrained` before writing more) or nothing can be written any more.
   */
  [kDeliver](prepared: PreparedEvent): boolean {
    if (this.#state !== 'open') return false;
    return this.#write(prepared, true) && (this.#state === 'open' || this.#endScheduled);
  }

  /** @internal Resolves once the client has drained what it was behind with, or the emitter completed. */
  [kDrained](): Promise<void> {
    if (this.#state !== 'open') return resolved;
    this.#waiters ??= [];
    const waiters = this.#waiters;
    return new Promise<void>((resolve) => waiters.push({ resolve, reject: () => resolve() }));
  }

  /** @internal Keep-alive tick (shared timer): a bare `:` unless the client is behind anyway. */
  [kPing](): void {
    if (this.#state === 'open' && this.#sink!.writableLength === 0) this.#sink!.write(PING);
  }

  /** @internal The response drained (see `SinkEvents`). */
  [kSinkDrain](): void {
    this.#onDrain();
  }

  /** @internal The response closed: the client left, or the end was flushed (see `SinkEvents`). */
  [kSinkClose](): void {
    clearTimeout(this.#lingerTimer);
    this.#finish('disconnect');
  }

  /** @internal The client's Last-Event-ID is not in the channel's log (see `kGap`). */
  [kGap](): void {
    this.#gap = true;
  }

  /** Sends the retry line, flushes early frames, starts the timers. */
  #open(): void {
    const polling = this.#mode !== 'stream';
    const retry = this.#settings.retry ?? (this.#mode === 'long-poll' ? 0 : undefined);
    if (retry !== undefined && this.#mode !== 'short-poll') this.#sink!.write(Buffer.from(`retry: ${retry}\n\n`));
    const timeout = this.#settings.timeout || (polling ? EMITTER_DEFAULTS.pollTimeout : 0);
    if (timeout > 0) {
      this.#timeoutTimer = setTimeout(() => this.#onTimeout(), timeout);
      this.#timeoutTimer.unref();
    }
    if (this.#settings.keepAlive !== false && this.#mode === 'stream') startKeepAlive(this, this.#settings.keepAlive);
    const early = this.#early ?? NONE;
    this.#early = undefined;
    this.#earlyBytes = 0;
    for (const prepared of early) this.#write(prepared, prepared.data !== undefined || prepared.event !== undefined);
    const onOpen = this.#onOpen;
    if (onOpen !== undefined) {
      for (const cb of onOpen) this.#call(cb);
      this.#onOpen = undefined;
    }
    if (this.#completeOnOpen) this.#finish('complete');
  }

  /** Queues before attach, writes after; the promise follows the write. */
  #push(prepared: PreparedEvent, counted: boolean): Promise<void> {
    if (this.#state === 'pending') {
      if (this.#earlyBytes + prepared.frame.length > this.#settings.maxBufferedBytes) {
        return handled(
          Promise.reject(
            new SseSlowClientError(
              `The emitter is not attached to a response yet and already queues ${this.#earlyBytes} bytes ` +
                `(maxBufferedBytes ${this.#settings.maxBufferedBytes}); attach it before sending more.`,
            ),
          ),
        );
      }
      this.#early ??= [];
      this.#early.push(prepared);
      this.#earlyBytes += prepared.frame.length;
      return resolved;
    }
    const accepted = this.#write(prepared, counted);
    if (this.#state === 'completed' && !this.#endScheduled) {
      return handled(Promise.reject(this.#closeError ?? new SseClosedError()));
    }
    if (accepted) return resolved;
    this.#waiters ??= [];
    const waiters = this.#waiters;
    return handled(new Promise<void>((resolve, reject) => waiters.push({ resolve, reject })));
  }

  /** Writes a frame to the client; returns false when the client is behind (wait for drain). */
  #write(prepared: PreparedEvent, counted: boolean): boolean {
    if (this.#mode === 'short-poll') {
      if (prepared.data !== undefined) {
        this.#polled ??= [];
        this.#polled.push({ id: prepared.id, event: prepared.event ?? 'message', data: prepared.data });
      }
      this.#scheduleEnd();
      return true;
    }
    const sink = this.#sink!;
    const size = prepared.frame.length;
    if (sink.writableLength + size > this.#settings.maxBufferedBytes) {
      this.#closeSlow(
        `The client fell ${sink.writableLength} bytes behind (maxBufferedBytes ${this.#settings.maxBufferedBytes}); it was disconnected and can resume with Last-Event-ID.`,
      );
      return false;
    }
    const accepted = sink.write(prepared.frame);
    const counters = this[kCounters];
    if (counted && counters !== undefined) {
      counters.eventsSent++;
      counters.bytesSent += size;
    }
    if (!accepted && this.#sendTimer === undefined) {
      this.#sendTimer = setTimeout(
        () =>
          this.#closeSlow(
            `A write stayed undrained for ${this.#settings.sendTimeout} ms (sendTimeout); the client was disconnected.`,
          ),
        this.#settings.sendTimeout,
      );
      this.#sendTimer.unref();
    }
    if (this.#mode === 'long-poll') this.#scheduleEnd();
    return accepted;
  }

  /** Long and short polling: end once the frames written in this turn of the event loop are out. */
  #scheduleEnd(): void {
    if (this.#endScheduled) return;
    this.#endScheduled = true;
    setImmediate(() => this.#finish('complete'));
  }

  #onDrain(): void {
    clearTimeout(this.#sendTimer);
    this.#sendTimer = undefined;
    const waiters = this.#waiters ?? NONE;
    this.#waiters = undefined;
    for (const w of waiters) w.resolve();
  }

  #onTimeout(): void {
    this.#timeoutTimer = undefined;
    if (this.#state !== 'open') return;
    for (const cb of this.#timeoutListeners ?? NONE) this.#call(cb);
    this.#finish('complete');
  }

  #closeSlow(message: string): void {
    const counters = this[kCounters];
    if (counters !== undefined) counters.slowClosed++;
    this.#closeError = new SseSlowClientError(message);
    this.#finish('slow', this.#closeError);
  }

  /** The one place every ending goes through. */
  #finish(ending: Ending, err?: unknown): void {
    if (this.#state === 'completed' && !this.#completeOnOpen) return;
    this.#state = 'completed';
    this.#completeOnOpen = false;
    clearTimeout(this.#timeoutTimer);
    clearTimeout(this.#sendTimer);
    if (this.#settings.keepAlive !== false) stopKeepAlive(this, this.#settings.keepAlive);
    const sink = this.#sink!;
    if (ending === 'slow') sink.destroy();
    else if (ending !== 'disconnect') this.#endResponse(sink);

    // Frames already accepted are flushed by a normal end; on any other ending they are lost.
    const waiters = this.#waiters ?? NONE;
    this.#waiters = undefined;
    for (const w of waiters) {
      if (ending === 'complete') w.resolve();
      else w.reject(ending === 'slow' ? (err as Error) : new SseClosedError());
    }
    const failed = ending === 'error' || ending === 'slow';
    if (failed) this.#emitError(err);
    this.#runCompletion(failed, err);
  }

  #endResponse(sink: ResponseSink): void {
    if (this.#mode === 'short-poll') {
      let lastId = this.#gap ? null : (this.#lastEventId ?? null);
      const polled = this.#polled ?? [];
      this.#polled = undefined;
      for (const e of polled) if (e.id !== undefined) lastId = e.id;
      sink.respondJson(200, { events: polled, lastEventId: lastId });
      return;
    }
    sink.end();
    // A client that stops reading would hold the response open forever: drop it after sendTimeout.
    if (sink.writableLength > 0) {
      this.#lingerTimer = setTimeout(() => sink.destroy(), this.#settings.sendTimeout);
      this.#lingerTimer.unref();
    }
  }

  #emitError(err: unknown): void {
    for (const cb of this.#errorListeners ?? NONE) this.#call(() => cb(err));
  }

  #runCompletion(failed: boolean, err: unknown): void {
    const onFinish = this.#onFinish;
    this.#onFinish = undefined;
    if (typeof onFinish === 'function') this.#call(() => onFinish(this, failed, err));
    else for (const cb of onFinish ?? NONE) this.#call(() => cb(this, failed, err));
    for (const cb of this.#completionListeners ?? NONE) this.#call(cb);
    this.#completionListeners = undefined;
    this.#timeoutListeners = undefined;
  }

  /** Listener errors must not break the emitter's cleanup; they surface as process warnings. */
  #call(cb: () => void): void {
    try {
      cb();
    } catch (err) {
      process.emitWarning(err instanceof Error ? err : new Error(String(err)), { code: 'SSE_LISTENER_THREW' });
    }
  }
}

/** An emitter's checked options; emitters made with equal options share one object. */
interface Settings {
  readonly timeout: number;
  readonly keepAlive: number | false;
  readonly retry: number | undefined;
  readonly serialize: Serializer | undefined;
  readonly maxBufferedBytes: number;
  readonly sendTimeout: number;
  readonly onInvalidLastEventId: ((reason: LastEventIdRejection) => void) | undefined;
}

/** The settings made last: emitters made one after another with the same options (an adapter's) share them. */
let lastSettings: Settings | undefined;

/** Checks `options` (throws `SSE_ERR_INVALID_OPTION`) and returns their settings, the last ones when equal. */
function settingsOf(options: SseEmitterOptions): Settings {
  const timeout = checkMs('timeout', options.timeout ?? EMITTER_DEFAULTS.timeout);
  const keepAliveOption = options.keepAlive ?? EMITTER_DEFAULTS.keepAlive;
  const keepAliveMs = keepAliveOption === false ? 0 : checkMs('keepAlive', keepAliveOption);
  const settings: Settings = {
    timeout,
    keepAlive: keepAliveMs === 0 ? false : keepAliveMs,
    retry: options.retry === undefined ? undefined : checkMs('retry', options.retry),
    serialize: options.serialize,
    maxBufferedBytes: checkMs('maxBufferedBytes', options.maxBufferedBytes ?? EMITTER_DEFAULTS.maxBufferedBytes),
    sendTimeout: checkMs('sendTimeout', options.sendTimeout ?? EMITTER_DEFAULTS.sendTimeout),
    onInvalidLastEventId: options.onInvalidLastEventId,
  };
  const last = lastSettings;
  if (last !== undefined && (Object.keys(settings) as (keyof Settings)[]).every((key) => last[key] === settings[key])) {
    return last;
  }
  lastSettings = settings;
  return settings;
}

function handled(promise: Promise<void>): Promise<void> {
  promise.catch(() => {});
  return promise;
}

function checkMs(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new SseInvalidOptionError(`${name} must be a non-negative integer, got ${String(value)}.`);
  }
  return value;
}
