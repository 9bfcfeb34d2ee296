/** The one set of option validators: every integer option of core is checked here, with one kind of message. */
import { SseInvalidOptionError } from './errors.js';

/**
 * Returns `value` when it is a non-negative safe integer; throws `SSE_ERR_INVALID_OPTION` naming the option and
 * `unit` otherwise.
 */
export function checkNonNegativeInteger(name: string, value: unknown, unit = ''): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new SseInvalidOptionError(
      `${name} must be a non-negative integer${unit && ` (${unit})`}, got ${String(value)}.`,
    );
  }
  return value;
}

/** Longest delay a timer takes: Node fires a longer one after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Returns `ms`; throws `SSE_ERR_INVALID_OPTION` past what a timer can wait (about 24.8 days). */
export function checkTimerDelay(name: string, ms: number): number {
  if (ms > MAX_TIMER_MS) throw new SseInvalidOptionError(`${name} may be at most ${MAX_TIMER_MS} ms, got ${ms}.`);
  return ms;
}

/** A timer's delay option (0 allowed): a non-negative integer a timer can wait ({@link checkTimerDelay}). */
export function checkDelay(name: string, value: unknown, unit = ''): number {
  return checkTimerDelay(name, checkNonNegativeInteger(name, value, unit));
}

/** Returns `value` when it is a positive safe integer (or, with `allowInfinity`, Infinity); throws `SSE_ERR_INVALID_OPTION` otherwise. */
export function checkPositiveInteger(name: string, value: unknown, unit = '', allowInfinity = false): number {
  if (allowInfinity && value === Number.POSITIVE_INFINITY) return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new SseInvalidOptionError(`${name} must be a positive integer${unit && ` (${unit})`}, got ${String(value)}.`);
  }
  return value;
}
