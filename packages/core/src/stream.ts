/**
 * SseStream: the one owner of a stream's state. `SseEmitter` is its public face (Spring's split: the emitter holds
 * the user API, this holds everything else): the state machine, the early-send queue, delivery through a
 * {@link DeliveryMode}, backpressure and the one slow-client path, timers, and the one ending path every way of
 * ending goes through. Channels, registries, adapter hosts and keep-alive use it through {@link StreamHandle}.
 *
 * Phases: `pending` (not bound to a response; sends are queued) → `open` → `completed`, plus
 * `complete-on-open`: `complete()` was called while pending, so the stream ends right after its queued frames are
 * flushed when it is bound. Free of Node-only imports: Fetch runtimes load it too.
 *
 * Over 350 lines on purpose: it is one state machine, and every transition sits beside the others it must agree with.
 */
import type { SseMode, StreamSettings } from './emitter-options.js';
import { SseAlreadyAttachedError, SseClosedError, SseSerializeError, SseSlowClientError } from './errors.js';
import { encodeComment, type PreparedEvent, prepareEvent, toEvent } from './frame.js';
import { type AnyEmitter, afterThisTurn, callSafely, handled, rejected, settled, unref } from './internal.js';
import { startKeepAlive, stopKeepAlive } from './keepalive.js';
import type { DeliveryMode, ModeTarget } from './mode.js';
import { longPollMode } from './mode-long-poll.js';
import { ShortPollMode } from './mode-short-poll.js';
import { streamMode } from './mode-stream.js';
import type { DeliveryCounters, FinishCallback, StreamBinding, StreamHandle, StreamPhase } from './stream-handle.js';
import { utf8 } from './text.js';
import type { Transport, TransportEvents } from './transport.js';

type Ending = 'complete' | 'error' | 'disconnect' | 'slow';
type Waiter = { resolve(): void; reject(err: Error): void };
/** A queued early send: the frame, and whether it counts as an event (comments do not). */
type EarlyFrame = { prepared: PreparedEvent; counted: boolean };

const PING = utf8(':\n\n');
/** What an unmade lazy list holds. */
const NONE: readonly never[] = [];

export class SseStream implements StreamHandle, ModeTarget, TransportEvents {
  readonly emitter: AnyEmitter;
  readonly #settings: StreamSettings;
  #phase: StreamPhase = 'pending';
  #mode: DeliveryMode | undefined;
  #transport: Transport | undefined;
  #lastEventId: string | undefined;
  /** A channel found the Last-Event-ID unknown (see {@link StreamHandle.markGap}). */
  #gap = false;
  /** Frames sent before the stream was bound; flushed on open. */
  #early: EarlyFrame[] | undefined;
  #earlyBytes = 0;
  #endScheduled = false;
  #waiters: Waiter[] | undefined;
  #timeoutTimer: ReturnType<typeof setTimeout> | undefined;
  #sendTimer: ReturnType<typeof setTimeout> | undefined;
  #lingerTimer: ReturnType<typeof setTimeout> | undefined;
  /** Why the stream was closed, when it was closed as slow: later sends reject with it. */
  #closeError: Error | undefined;
  counters: DeliveryCounters | undefined;

  // Lists an idle stream may never need are made on first use, and a listener list starts as `[cb]` (a first push
  // would reserve 17 slots): 5,000 open streams hold 5,000 × less.
  #timeoutListeners: Array<() => void> | undefined;
  #completionListeners: Array<() => void> | undefined;
  #errorListeners: Array<(err: unknown) => void> | undefined;
  #openCallbacks: Set<() => void> | undefined;
  /** Completion callbacks: none, one (the usual case: no array for it), or several in the order added. */
  #onFinish: FinishCallback | FinishCallback[] | undefined;

  constructor(emitter: AnyEmitter, settings: StreamSettings) {
    this.emitter = emitter;
    this.#settings = settings;
  }

  get phase(): StreamPhase {
    return this.#phase;
  }

  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  get mode(): SseMode | undefined {
    return this.#mode?.name ?? this.#settings.mode;
  }

  get maxBufferedBytes(): number {
    return this.#settings.maxBufferedBytes;
  }

  get resumePoint(): string | null | undefined {
    return this.#gap ? null : this.#lastEventId;
  }

  get ended(): boolean {
    return this.#phase === 'completed' || this.#phase === 'complete-on-open';
  }

  /**
   * Binds the stream to its response and opens it (headers go out at once; a short-polling stream answers later).
   * Throws `SSE_ERR_ALREADY_ATTACHED` on a second call, `SSE_ERR_HEADERS_SENT` when the response has begun.
   */
  bind(binding: StreamBinding): void {
    if (this.#transport !== undefined) throw new SseAlreadyAttachedError();
    const transport = binding.transport(this);
    this.#transport = transport;
    const reading = binding.lastEventId;
    if (reading.rejected !== undefined) this.#settings.onInvalidLastEventId?.(reading.rejected);
    this.#lastEventId = reading.lastEventId;
    const name = this.#settings.mode ?? (binding.wantsJson ? 'short-poll' : 'stream');
    const mode = name === 'stream' ? streamMode : name === 'long-poll' ? longPollMode : new ShortPollMode();
    this.#mode = mode;
    if (mode.opensStream) this.#transport = transport.openStream();
    if (this.#phase === 'completed') {
      this.#transport.end(); // completed with an error before it was bound: end the response empty
      return;
    }
    const completeOnOpen = this.#phase === 'complete-on-open';
    this.#phase = 'open';
    this.#open(mode, this.#transport);
    if (completeOnOpen) this.#finish('complete');
  }

  /** `SseEmitter.send`: the one rule, then queue (pending) or write. */
  send(value: unknown): Promise<void> {
    if (this.ended) return rejected(this.#closeError ?? new SseClosedError());
    let prepared: PreparedEvent;
    try {
      prepared = prepareEvent(toEvent(value), this.#settings.serialize);
    } catch (err) {
      if (err instanceof SseSerializeError) return rejected(err);
      throw err; // invalid fields are programmer errors: thrown synchronously, nothing written
    }
    return this.#push(prepared, true);
  }

  /** `SseEmitter.comment`. */
  comment(text?: string): Promise<void> {
    if (this.ended) return rejected(this.#closeError ?? new SseClosedError());
    return this.#push({ frame: utf8(encodeComment(text)) }, false);
  }

  complete(): void {
    if (this.#phase === 'pending') this.#phase = 'complete-on-open';
    else if (this.#phase === 'open') this.#finish('complete');
  }

  completeWithError(err: unknown): void {
    if (this.#phase === 'pending' || this.#phase === 'open') this.#finish('error', err);
  }

  onTimeout(cb: () => void): void {
    if (this.#timeoutListeners === undefined) this.#timeoutListeners = [cb];
    else this.#timeoutListeners.push(cb);
  }

  onCompletion(cb: () => void): void {
    if (this.#phase === 'completed') queueMicrotask(cb);
    else if (this.#completionListeners === undefined) this.#completionListeners = [cb];
    else this.#completionListeners.push(cb);
  }

  onError(cb: (err: unknown) => void): void {
    if (this.#errorListeners === undefined) this.#errorListeners = [cb];
    else this.#errorListeners.push(cb);
  }

  // --- StreamHandle ---

  deliver(prepared: PreparedEvent): boolean {
    if (this.#phase !== 'open') return false;
    return this.#mode!.write(this, prepared, true) && (this.#phase === 'open' || this.#endScheduled);
  }

  drained(): Promise<void> {
    if (this.#phase !== 'open') return settled;
    this.#waiters ??= [];
    const waiters = this.#waiters;
    return new Promise<void>((resolve) => waiters.push({ resolve, reject: () => resolve() }));
  }

  onFinish(cb: FinishCallback): void {
    const held = this.#onFinish;
    if (held === undefined) this.#onFinish = cb;
    else if (typeof held === 'function') {
      if (held !== cb) this.#onFinish = [held, cb];
    } else if (!held.includes(cb)) this.#onFinish = held.concat(cb); // exact size: a push would reserve 17 more slots
  }

  offFinish(cb: FinishCallback): void {
    const held = this.#onFinish;
    if (held === cb) this.#onFinish = undefined;
    else if (typeof held === 'object') {
      const at = held.indexOf(cb);
      if (at !== -1) held.splice(at, 1);
    }
  }

  onOpen(cb: () => void): void {
    this.#openCallbacks ??= new Set();
    this.#openCallbacks.add(cb);
  }

  offOpen(cb: () => void): void {
    this.#openCallbacks?.delete(cb);
  }

  markGap(): void {
    this.#gap = true;
  }

  closeSlow(message: string): void {
    if (this.#phase === 'completed') return;
    if (this.counters !== undefined) this.counters.slowClosed++;
    this.#closeError = new SseSlowClientError(message);
    this.#finish('slow', this.#closeError);
  }

  ping(): void {
    if (this.#phase === 'open' && this.#transport!.writableLength === 0) this.#transport!.write(PING);
  }

  // --- ModeTarget ---

  writeFrame(prepared: PreparedEvent, counted: boolean): boolean {
    const transport = this.#transport!;
    const size = prepared.frame.length;
    const limit = this.#settings.maxBufferedBytes;
    if (transport.writableLength + size > limit) {
      this.closeSlow(
        `The client fell ${transport.writableLength} bytes behind (maxBufferedBytes ${limit}); it was disconnected and can resume with Last-Event-ID.`,
      );
      return false;
    }
    const accepted = transport.write(prepared.frame);
    const counters = this.counters;
    if (counted && counters !== undefined) {
      counters.eventsSent++;
      counters.bytesSent += size;
    }
    if (!accepted && this.#sendTimer === undefined) {
      const ms = this.#settings.sendTimeout;
      this.#sendTimer = unref(
        setTimeout(
          () => this.closeSlow(`A write stayed undrained for ${ms} ms (sendTimeout); the client was disconnected.`),
          ms,
        ),
      );
    }
    return accepted;
  }

  scheduleEnd(): void {
    if (this.#endScheduled) return;
    this.#endScheduled = true;
    afterThisTurn(() => this.#finish('complete'));
  }

  endStream(): void {
    const transport = this.#transport!;
    transport.end();
    // A client that stops reading would hold the response open forever: drop it after sendTimeout.
    if (transport.writableLength > 0) {
      this.#lingerTimer = unref(setTimeout(() => transport.destroy(), this.#settings.sendTimeout));
    }
  }

  respondJson(status: number, body: unknown): void {
    this.#transport!.respondJson(status, body);
  }

  // --- TransportEvents ---

  onTransportDrain(): void {
    clearTimeout(this.#sendTimer);
    this.#sendTimer = undefined;
    const waiters = this.#waiters ?? NONE;
    this.#waiters = undefined;
    for (const w of waiters) w.resolve();
  }

  onTransportClose(): void {
    clearTimeout(this.#lingerTimer);
    this.#finish('disconnect');
  }

  // --- internals ---

  /** Sends the retry line, starts the timers, flushes the early frames, runs the open callbacks. */
  #open(mode: DeliveryMode, transport: Transport): void {
    const retry = mode.retryOf(this.#settings);
    if (retry !== undefined && mode.opensStream) transport.write(utf8(`retry: ${retry}\n\n`));
    const timeout = mode.timeoutOf(this.#settings);
    if (timeout > 0) this.#timeoutTimer = unref(setTimeout(() => this.#onTimeout(), timeout));
    if (this.#settings.keepAlive !== false && mode.keepsAlive) startKeepAlive(this, this.#settings.keepAlive);
    const early = this.#early ?? NONE;
    this.#early = undefined;
    this.#earlyBytes = 0;
    for (const { prepared, counted } of early) mode.write(this, prepared, counted);
    const callbacks = this.#openCallbacks;
    this.#openCallbacks = undefined;
    for (const cb of callbacks ?? NONE) callSafely(cb);
  }

  /** Queues before the stream is bound, writes after; the promise follows the write. */
  #push(prepared: PreparedEvent, counted: boolean): Promise<void> {
    if (this.#phase === 'pending') {
      const limit = this.#settings.maxBufferedBytes;
      if (this.#earlyBytes + prepared.frame.length > limit) {
        return rejected(
          new SseSlowClientError(
            `The emitter is not attached to a response yet and already queues ${this.#earlyBytes} bytes ` +
              `(maxBufferedBytes ${limit}); attach it before sending more.`,
          ),
        );
      }
      this.#early ??= [];
      this.#early.push({ prepared, counted });
      this.#earlyBytes += prepared.frame.length;
      return settled;
    }
    const accepted = this.#mode!.write(this, prepared, counted);
    if (this.#phase === 'completed' && !this.#endScheduled) {
      return rejected(this.#closeError ?? new SseClosedError());
    }
    if (accepted) return settled;
    this.#waiters ??= [];
    const waiters = this.#waiters;
    return handled(new Promise<void>((resolve, reject) => waiters.push({ resolve, reject })));
  }

  #onTimeout(): void {
    this.#timeoutTimer = undefined;
    if (this.#phase !== 'open') return;
    for (const cb of this.#timeoutListeners ?? NONE) callSafely(cb);
    this.#finish('complete');
  }

  /** The one place every ending goes through: complete, error, timeout, disconnect, slow client. */
  #finish(ending: Ending, err?: unknown): void {
    if (this.#phase === 'completed') return;
    this.#phase = 'completed';
    clearTimeout(this.#timeoutTimer);
    clearTimeout(this.#sendTimer);
    if (this.#settings.keepAlive !== false) stopKeepAlive(this, this.#settings.keepAlive);
    const transport = this.#transport;
    if (transport === undefined) {
      this.#early = undefined; // never bound: nothing queued will be sent
    } else if (ending === 'slow') {
      transport.destroy();
    } else if (ending !== 'disconnect') {
      this.#mode!.end(this);
    }
    // Frames already accepted are flushed by a normal end; on any other ending they are lost.
    const waiters = this.#waiters ?? NONE;
    this.#waiters = undefined;
    for (const w of waiters) {
      if (ending === 'complete') w.resolve();
      else w.reject(ending === 'slow' ? (err as Error) : new SseClosedError());
    }
    const failed = ending === 'error' || ending === 'slow';
    if (failed) for (const cb of this.#errorListeners ?? NONE) callSafely(() => cb(err));
    this.#runCompletion(failed, err);
  }

  #runCompletion(failed: boolean, err: unknown): void {
    const onFinish = this.#onFinish;
    this.#onFinish = undefined;
    if (typeof onFinish === 'function') callSafely(() => onFinish(this, failed, err));
    else for (const cb of onFinish ?? NONE) callSafely(() => cb(this, failed, err));
    for (const cb of this.#completionListeners ?? NONE) callSafely(cb);
    this.#completionListeners = undefined;
    this.#timeoutListeners = undefined;
    this.#openCallbacks = undefined;
  }
}
