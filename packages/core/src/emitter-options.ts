/** The options of one stream (`new SseEmitter(options)`, an adapter's defaults), their defaults and their checks. */
import { SseInvalidOptionError } from './errors.js';
import type { Serializer } from './frame.js';
import { checkDelay, checkNonNegativeInteger } from './options.js';
import type { LastEventIdRejection } from './request.js';

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

/** A stream's checked options; streams made with equal options share one object. */
export interface StreamSettings {
  readonly timeout: number;
  readonly keepAlive: number | false;
  readonly retry: number | undefined;
  readonly serialize: Serializer | undefined;
  readonly maxBufferedBytes: number;
  readonly sendTimeout: number;
  readonly mode: SseMode | undefined;
  readonly onInvalidLastEventId: ((reason: LastEventIdRejection) => void) | undefined;
}

const MODES: readonly SseMode[] = ['stream', 'long-poll', 'short-poll'];

/** The settings made last: streams made one after another with the same options (an adapter's) share them. */
let lastSettings: StreamSettings | undefined;

/**
 * Checks `options` and returns their settings (the last ones made, when equal). Throws `SSE_ERR_INVALID_OPTION`
 * for an option that cannot work. Adapters call it on their defaults at start-up.
 */
export function checkEmitterOptions(options: SseEmitterOptions): StreamSettings {
  const keepAliveOption = options.keepAlive ?? EMITTER_DEFAULTS.keepAlive;
  const keepAliveMs = keepAliveOption === false ? 0 : checkDelay('keepAlive', keepAliveOption);
  if (options.mode !== undefined && !MODES.includes(options.mode)) {
    throw new SseInvalidOptionError(`mode must be 'stream', 'long-poll' or 'short-poll', got ${String(options.mode)}.`);
  }
  const settings: StreamSettings = {
    timeout: checkDelay('timeout', options.timeout ?? EMITTER_DEFAULTS.timeout),
    keepAlive: keepAliveMs === 0 ? false : keepAliveMs,
    retry: options.retry === undefined ? undefined : checkNonNegativeInteger('retry', options.retry),
    serialize: options.serialize,
    maxBufferedBytes: checkNonNegativeInteger(
      'maxBufferedBytes',
      options.maxBufferedBytes ?? EMITTER_DEFAULTS.maxBufferedBytes,
    ),
    sendTimeout: checkDelay('sendTimeout', options.sendTimeout ?? EMITTER_DEFAULTS.sendTimeout),
    mode: options.mode,
    onInvalidLastEventId: options.onInvalidLastEventId,
  };
  const last = lastSettings;
  const keys = Object.keys(settings) as (keyof StreamSettings)[];
  if (last !== undefined && keys.every((key) => last[key] === settings[key])) return last;
  lastSettings = settings;
  return settings;
}
