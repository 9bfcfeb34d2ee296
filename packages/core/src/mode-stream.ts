/** `stream`: one long-lived response; keep-alive comments; no timeout unless set. */
import type { DeliveryMode } from './mode.js';

export const streamMode: DeliveryMode = {
  name: 'stream',
  opensStream: true,
  keepsAlive: true,
  retryOf: (settings) => settings.retry,
  timeoutOf: (settings) => settings.timeout,
  write: (target, prepared, counted) => target.writeFrame(prepared, counted),
  end: (target) => target.endStream(),
};
