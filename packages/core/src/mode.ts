/**
 * How a stream delivers: one strategy per mode (`mode-stream.ts`, `mode-long-poll.ts`, `mode-short-poll.ts`),
 * chosen once when the stream is bound to its response.
 */
import type { SseMode, StreamSettings } from './emitter-options.js';
import type { PreparedEvent } from './frame.js';

/** What a delivery mode uses of its stream. */
export interface ModeTarget {
  /** Writes one frame to the client, with the slow-client checks; false when the client is behind. */
  writeFrame(prepared: PreparedEvent, counted: boolean): boolean;
  /** Completes the stream once the frames written in this turn of the event loop are out. */
  scheduleEnd(): void;
  /** Ends the event stream response (what was written is flushed first). */
  endStream(): void;
  /** Answers with a complete JSON response. */
  respondJson(status: number, body: unknown): void;
  /** The client's Last-Event-ID; `null` when a channel found it unknown (a gap). */
  readonly resumePoint: string | null | undefined;
}

/** One delivery strategy. */
export interface DeliveryMode {
  readonly name: SseMode;
  /** Whether the response is an event stream (false: one JSON answer). */
  readonly opensStream: boolean;
  /** Whether keep-alive comments are sent. */
  readonly keepsAlive: boolean;
  /** The `retry:` line sent on open, if any. */
  retryOf(settings: StreamSettings): number | undefined;
  /** ms until the stream times out (0 = never). */
  timeoutOf(settings: StreamSettings): number;
  /** Delivers one frame; false when the client is behind (wait for drain before writing more). */
  write(target: ModeTarget, prepared: PreparedEvent, counted: boolean): boolean;
  /** Ends the response on a normal completion. */
  end(target: ModeTarget): void;
}
