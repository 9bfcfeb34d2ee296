/**
 * `long-poll`: the response ends once the frames written in the turn of the first write are out (or at the
 * timeout, 30 s by default); `retry: 0` unless set, so the client comes straight back with its Last-Event-ID.
 */
import { EMITTER_DEFAULTS } from './emitter-options.js';
import type { DeliveryMode } from './mode.js';

export const longPollMode: DeliveryMode = {
  name: 'long-poll',
  opensStream: true,
  keepsAlive: false,
  retryOf: (settings) => settings.retry ?? 0,
  timeoutOf: (settings) => settings.timeout || EMITTER_DEFAULTS.pollTimeout,
  write(target, prepared, counted) {
    const accepted = target.writeFrame(prepared, counted);
    target.scheduleEnd();
    return accepted;
  },
  end: (target) => target.endStream(),
};
