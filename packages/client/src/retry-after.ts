/** Reads a `Retry-After` header: delay-seconds or an HTTP date. */

/** The ms a `Retry-After` value asks to wait (seconds or an HTTP date); 0 when absent, past or unreadable. */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number {
  if (!value) return 0;
  const ms = /^\s*\d+\s*$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  return Math.max(ms || 0, 0); // NaN (an unreadable date) counts as 0
}
