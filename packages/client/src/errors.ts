/**
 * The client's error catalogue: one class, a stable `code` (`SSE_CLIENT_ERR_*`) per failure, and a message
 * that says what to do about it. `status` is set when an HTTP response caused the error.
 */

/** Every code the client reports, for `switch (err.code)`. */
export type SseClientErrorCode =
  /** The server answered a status the client will not stream from (4xx other than 408/429 stop for good). */
  | 'SSE_CLIENT_ERR_HTTP'
  /** A 2xx response whose Content-Type is not text/event-stream: the URL is not an SSE endpoint. */
  | 'SSE_CLIENT_ERR_CONTENT_TYPE'
  /** The request failed before or while streaming (DNS, refused, reset, body read error). */
  | 'SSE_CLIENT_ERR_NETWORK'
  /** No byte arrived for `stallTimeout` ms: the connection is dropped and reopened. */
  | 'SSE_CLIENT_ERR_STALLED'
  /** A non-GET stream dropped and could not be resumed (no Content-Location, no `retryNonIdempotent`). */
  | 'SSE_CLIENT_ERR_NOT_RESENT'
  /** `retry.attempts` consecutive attempts failed; `cause` holds the last failure. */
  | 'SSE_CLIENT_ERR_ATTEMPTS'
  /** `headers()` threw or rejected (see `cause`); the attempt counts as failed and is retried. */
  | 'SSE_CLIENT_ERR_HEADERS'
  /** The `parse` option threw on an event's data (see `cause`); that event was skipped, the stream goes on. */
  | 'SSE_CLIENT_ERR_PARSE'
  /** The request cannot be made as configured (a GET with a body, a malformed header, a bad URL). */
  | 'SSE_CLIENT_ERR_REQUEST';

/** A failure of an SSE client connection; `code` says which, `status` carries the HTTP status when there was one. */
export class SseClientError extends Error {
  /** The stable `SSE_CLIENT_ERR_*` code of this failure. */
  readonly code: SseClientErrorCode;
  /** The HTTP status of the response that caused this error, if any. */
  readonly status: number | undefined;
  constructor(code: SseClientErrorCode, message: string, status?: number, cause?: unknown) {
    super(message, { cause });
    this.name = 'SseClientError';
    this.code = code;
    this.status = status;
  }
}
