/**
 * Keys for the internal seam between emitters and channels. Not exported from the package:
 * the public surface is exactly what the docs describe.
 */

/** `emitter[kDeliver](prepared)`: write one pre-encoded event; false when the emitter is closed. */
export const kDeliver = Symbol('tidings.deliver');
/** `emitter[kOnFinish]`: a Set of callbacks run once when the emitter completes (for unsubscription). */
export const kOnFinish = Symbol('tidings.onFinish');
/** `emitter[kCounters]`: the registry counters this emitter reports deliveries to. */
export const kCounters = Symbol('tidings.counters');

/** What an emitter reports to its registry. */
export interface DeliveryCounters {
  eventsSent: number;
  bytesSent: number;
  slowClosed: number;
}
