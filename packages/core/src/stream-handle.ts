/**
 * The internal interface of a stream: what channels, registries, adapter hosts and keep-alive use of it
 * ({@link StreamHandle}), and what binding it to a request/response takes ({@link StreamBinding}). Never exported
 * from the package; `streamOf(emitter)` (emitter.ts) is the one way to reach it.
 */
import type { SseMode } from './emitter-options.js';
import type { PreparedEvent } from './frame.js';
import type { AnyEmitter } from './internal.js';
import type { LastEventIdReading } from './request.js';
import type { Transport, TransportEvents } from './transport.js';

/** Where a stream is in its life. */
export type StreamPhase = 'pending' | 'open' | 'complete-on-open' | 'completed';

/** What a stream reports to its registry. */
export interface DeliveryCounters {
  eventsSent: number;
  bytesSent: number;
  slowClosed: number;
}

/**
 * Run once when a stream completes (unsubscription, untracking). It gets the stream, so one shared function can
 * serve every stream, and whether it ended with an error (`completeWithError`, slow client) and which.
 */
export type FinishCallback = (stream: StreamHandle, failed: boolean, err: unknown) => void;

/** The internal interface channels, registries, adapter hosts and keep-alive use of a stream. Never exported. */
export interface StreamHandle {
  /** The public face of this stream (what filters, `except` and `onGap` get). */
  readonly emitter: AnyEmitter;
  readonly phase: StreamPhase;
  /** Completed, or will complete as soon as it opens: nothing more can be sent or subscribed. */
  readonly ended: boolean;
  /** The client's Last-Event-ID; known once bound. */
  readonly lastEventId: string | undefined;
  /**
   * Set by a lane of a stream on several channels whose Last-Event-ID could not be read: resuming is then a gap on
   * the channel (onGap), never a read of its log. Undefined for a stream of its own.
   */
  readonly resumesWithGap?: boolean;
  /**
   * A lane of a stream on several channels that starts live is told the id of its channel's newest entry (an
   * in-memory log), so the stream's next id carries a position on that channel even before an event of it arrives.
   */
  startsAt?(position: string): void;
  /** How this stream delivers; known once bound (or when set as an option). */
  readonly mode: SseMode | undefined;
  /** This stream's own outbound cap: live events held for it count against it too. */
  readonly maxBufferedBytes: number;
  /** Registry counters this stream reports deliveries to. */
  counters: DeliveryCounters | undefined;
  /**
   * Writes one pre-encoded event (a broadcast, a replay). True when the client took it at once; false when it is
   * behind (wait for {@link StreamHandle.drained}) or nothing can be written any more.
   */
  deliver(prepared: PreparedEvent): boolean;
  /** Resolves once the client has taken what it was behind with, or the stream completed. */
  drained(): Promise<void>;
  /** Adds a completion callback (once: adding one held already changes nothing). */
  onFinish(cb: FinishCallback): void;
  offFinish(cb: FinishCallback): void;
  /** Runs `cb` once when a pending stream opens (its Last-Event-ID and mode are known then). */
  onOpen(cb: () => void): void;
  offOpen(cb: () => void): void;
  /** A channel found the client's Last-Event-ID unknown: a short-poll answer then says `lastEventId: null`. */
  markGap(): void;
  /** The one slow-client path: counted, the connection dropped, later sends reject with `SSE_ERR_SLOW_CLIENT`. */
  closeSlow(message: string): void;
  /** One keep-alive tick: a bare `:` unless the client is behind anyway. */
  ping(): void;
  /** Completes the stream normally (queued frames flushed first). */
  complete(): void;
}

/** What binding a stream to one request and its response needs, whatever the runtime. */
export interface StreamBinding {
  /** The client's Last-Event-ID, as read from the request. */
  readonly lastEventId: LastEventIdReading;
  /** The request accepts JSON but not an event stream (short polling when no mode is set). */
  readonly wantsJson: boolean;
  /** Makes the response's transport, reporting to `events`. Throws `SSE_ERR_HEADERS_SENT` when it has begun. */
  transport(events: TransportEvents): Transport;
}

/** The stream behind the public states: `complete-on-open` is `completed` to users (no more sends). */
export function publicState(phase: StreamPhase): 'pending' | 'open' | 'completed' {
  return phase === 'complete-on-open' ? 'completed' : phase;
}
