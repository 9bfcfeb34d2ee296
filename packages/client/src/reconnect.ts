/**
 * The reconnect policy: given how an attempt ended, wait how long before the next one, or stop for good.
 * Pure bookkeeping (no timers, no I/O), so every rule is testable on its own; the README's decision table
 * is this file in words.
 */
import { SseClientError } from './errors.js';
import { CLIENT_DEFAULTS, type RetryOptions } from './options.js';
import { retryAfterMs } from './retry-after.js';

/** How one attempt ended. */
export interface AttemptResult {
  /** The response's status, when a response came. */
  status?: number;
  /** Why it failed, when it did. */
  error?: SseClientError;
  /** A failure that no retry can mend (wrong Content-Type, a request fetch refuses to make). */
  fatal?: boolean;
  /** The stream is over by the server's word: a run's `end` event. */
  finished?: boolean;
  /** The request went out (false when it failed before: `headers()` threw). */
  sent?: boolean;
  /** The response was an event stream (200 and text/event-stream). */
  opened?: boolean;
  /** It delivered at least one byte (keep-alive comments count). */
  received?: boolean;
  /** ms it stayed open. */
  openFor?: number;
  /** The response's Retry-After header. */
  retryAfter?: string | null;
}

/** The end of the stream, with the error that ended it (none when it ended normally). */
export interface Stop {
  stop: SseClientError | undefined;
}

/** The server asked, with this status, not to be asked again the same way (4xx other than 408 and 429). */
const isFinal = (status: number): boolean => status >= 400 && status < 500 && status !== 408 && status !== 429;

/** Statuses that say the server did not act on the request, so even a POST may be sent again. */
const isUnprocessed = (status: number): boolean => status === 408 || status === 429 || status === 503;

/** Tracks consecutive failures and the server's `retry:`, and decides what follows each attempt. */
export class ReconnectPolicy {
  /** Consecutive failed attempts (reset by a response that delivered data or stayed open). */
  failures = 0;
  /** The server's last `retry:` in ms, once it sent one. */
  serverRetry: number | undefined;
  readonly #retry: Required<RetryOptions> | undefined;
  readonly #canRefresh: boolean;
  #refreshed = false;

  /** `canRefresh`: headers come from a function, so a 401 is worth one more try with fresh ones. */
  constructor(retry: false | RetryOptions | undefined, canRefresh: boolean) {
    this.#retry = retry === false ? undefined : { ...CLIENT_DEFAULTS.retry, ...retry };
    this.#canRefresh = canRefresh;
  }

  /**
   * What follows an attempt: the ms to wait before the next request, or the end of the stream.
   * `resendable`: the next request may repeat this one (a GET, a non-GET resumed as GET at its
   * Content-Location, or `retryNonIdempotent`).
   */
  next(result: AttemptResult, resendable: boolean): number | Stop {
    const { error } = result;
    const status = result.status ?? 0;
    if (result.finished || status === 204) return { stop: undefined };
    if (result.fatal || !this.#retry) return { stop: error };
    const { initial, max, factor, jitter, attempts } = this.#retry;
    if (result.opened && (result.received || (result.openFor ?? 0) >= initial)) {
      this.failures = 0;
      this.#refreshed = false;
    } else this.failures++;
    if (status === 401 && this.#canRefresh && !this.#refreshed) {
      this.#refreshed = true;
      return 0; // at once, with headers asked again
    }
    if (isFinal(status)) return { stop: error };
    if (!resendable && result.sent && !isUnprocessed(status)) {
      return {
        stop: new SseClientError(
          'SSE_CLIENT_ERR_NOT_RESENT',
          'The stream of a non-GET request ended and was not sent again (it may not be safe to repeat): have the server send Content-Location to resume with GET, or pass retryNonIdempotent: true.',
          result.status,
          error,
        ),
      };
    }
    if (this.failures >= attempts) {
      return {
        stop: new SseClientError(
          'SSE_CLIENT_ERR_ATTEMPTS',
          `Gave up after ${this.failures} failed attempts in a row (see cause); raise retry.attempts to keep trying longer.`,
          result.status,
          error,
        ),
      };
    }
    const base = this.serverRetry ?? initial;
    if (this.failures === 0) return base;
    // Backoff never drops below the server's retry: and starts at `initial` when that is 0 (long-poll).
    let wait = Math.min(Math.max(max, base), (base || initial) * factor ** (this.failures - 1));
    if (jitter) wait *= 1 - Math.random() / 2;
    return Math.max(wait, status === 429 || status === 503 ? retryAfterMs(result.retryAfter) : 0);
  }
}
