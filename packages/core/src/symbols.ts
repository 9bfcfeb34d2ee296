/**
 * Keys for the internal seam between emitters and channels. Not exported from the package:
 * the public surface is exactly what the docs describe.
 */

/** `emitter[kDeliver](prepared)`: write one pre-encoded event; false when the emitter is closed. */
export const kDeliver = Symbol('tidings.deliver');
/**
 * `emitter[kDrained]()`: resolves once the client has taken what it was behind with (or the emitter completed),
 * so a channel replaying history can wait after a `kDeliver` that returned false instead of piling bytes up.
 */
export const kDrained = Symbol('tidings.drained');
/**
 * `emitter[kOnFinish]`: callbacks run once, in the order added, when the emitter completes (unsubscription,
 * untracking); each gets `(emitter, failed, err)` (`failed` for `completeWithError` or a slow client, with the
 * error `onError` listeners got), so one shared function can serve every stream. Add with
 * `emitter[kOnFinish](cb)`, remove with `emitter[kOffFinish](cb)`; adding a callback already held changes nothing.
 */
export const kOnFinish = Symbol('tidings.onFinish');
/** `emitter[kOffFinish](cb)`: removes a callback added with `kOnFinish`. */
export const kOffFinish = Symbol('tidings.offFinish');
/** `emitter[kSinkDrain]()`: the response drained (see `SinkEvents` in sink.ts). */
export const kSinkDrain = Symbol('tidings.sinkDrain');
/** `emitter[kSinkClose]()`: the response closed (see `SinkEvents` in sink.ts). */
export const kSinkClose = Symbol('tidings.sinkClose');
/** `member[kPing]()`: one keep-alive tick (see keepalive.ts); a method, so a stream holds no ping closure. */
export const kPing = Symbol('tidings.ping');
/**
 * `emitter[kOnOpen]`: a Set of callbacks run once when the emitter opens (after its early frames), so a channel
 * that subscribed it while pending can replay once the client's Last-Event-ID and mode are known.
 */
export const kOnOpen = Symbol('tidings.onOpen');
/**
 * `emitter[kGap]()`: the client's Last-Event-ID is not in the channel's log. A short-poll answer then reports
 * `lastEventId: null` (unless events follow), never the unknown id echoed back.
 */
export const kGap = Symbol('tidings.gap');
/** `emitter[kCounters]`: the registry counters this emitter reports deliveries to. */
export const kCounters = Symbol('tidings.counters');

/** What an emitter reports to its registry. */
export interface DeliveryCounters {
  eventsSent: number;
  bytesSent: number;
  slowClosed: number;
}
