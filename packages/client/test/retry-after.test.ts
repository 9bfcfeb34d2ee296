/** Reading Retry-After: delay-seconds or an HTTP date (RFC 9110 §10.2.3), against a fixed clock. */
import { retryAfterMs } from '../src/retry-after';

const now = Date.parse('Sun, 06 Dec 2026 05:00:00 GMT');

test.each([
  ['120', 120_000],
  ['0', 0],
  [' 3 ', 3000],
  ['Sun, 06 Dec 2026 05:00:30 GMT', 30_000],
  ['Sun, 06 Dec 2026 04:59:00 GMT', 0], // in the past
  ['-5', 0],
  ['1.5', 0],
  ['soon', 0],
  ['', 0],
  [null, 0],
])('%j waits %i ms', (value, ms) => {
  expect(retryAfterMs(value, now)).toBe(ms);
});
