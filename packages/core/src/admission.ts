/**
 * Admission: who may open an event stream. Connection limits (`maxConnections`, answered 503 with `Retry-After`)
 * and channel authorization (`authorize(req, channel)`, answered 401/403). A refusal is always a whole, normal
 * JSON response written before any byte of stream, never a half-open stream.
 */
import {
  type SseInvalidChannelError,
  type SseInvalidRunIdError,
  SseRunNotFoundError,
  SseTooManyConnectionsError,
  SseUnauthorizedError,
} from './errors.js';
import { checkNonNegativeInteger, checkPositiveInteger } from './options.js';
import { jsonAnswer } from './transport.js';
import type { SseRequest, SseResponse } from './transport-node.js';

/** The defaults of the admission options. */
export const ADMISSION_DEFAULTS = Object.freeze({
  /** No limit. */
  maxConnections: Number.POSITIVE_INFINITY,
  /** Seconds a refused client is told to wait (`Retry-After`). */
  retryAfter: 5,
});

/**
 * What `authorize` answers: `true` lets the client subscribe; `false` or `403` refuses it (403 Forbidden);
 * `401` asks it to authenticate first (401 Unauthorized).
 */
export type SseAuthorization = boolean | 401 | 403;

/** What is being opened, beside its name: `{ kind: 'run' }` for a run (its name is then `run:<id>`). */
export interface SseAuthorizeInfo {
  readonly kind: 'channel' | 'run';
}

/**
 * Decides whether the request may subscribe to `channel` (for a run: `run:<id>`, with `{ kind: 'run' }`). Runs before
 * any byte of the stream; it may be async (a session or database look-up). An exception it throws goes to the
 * framework's error handling.
 */
export type SseAuthorize = (
  req: SseRequest,
  channel: string,
  info?: SseAuthorizeInfo,
) => SseAuthorization | Promise<SseAuthorization>;

/** The options that bound how many streams are admitted. */
export interface ConnectionLimitOptions {
  /** Most open streams; past it a new stream is answered 503 with `Retry-After`. Default: no limit. */
  maxConnections?: number;
  /** Seconds sent as `Retry-After` with a 503. Default 5. */
  retryAfter?: number;
}

/** A refusal as the client receives it: a status, headers and a small JSON body naming the `SSE_ERR_*` code. */
export interface SseRefusal {
  /** 400 (bad channel name or run id), 401 or 403 (not authorized), 404 (no such run), 503 (too many connections). */
  readonly status: number;
  /** `Retry-After` with a 503; otherwise none. */
  readonly headers: Readonly<Record<string, string>>;
  /** `error` is the `SSE_ERR_*` code; `message` says what happened, without internal detail. */
  readonly body: {
    /** The `SSE_ERR_*` code. */
    readonly error: string;
    /** What happened, for people. */
    readonly message: string;
  };
}

/**
 * The answer to a client that already has all there is (the whole of an ended run): 204 with no body, which makes
 * an EventSource stop reconnecting. Written where refusals are, before any byte of stream.
 */
export interface SseNoContent {
  readonly status: 204;
  /** `Tidings-Run` (and `Content-Location`). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: undefined;
}

/** How a framework answers a refusal; core's default writes it straight to the Node response. */
export type RefusalWriter = (refusal: SseRefusal) => void;

/**
 * A connection limit: `admit(open)` throws `SSE_ERR_TOO_MANY_CONNECTIONS` when `open` streams already reach it.
 * Throws `SSE_ERR_INVALID_OPTION` at construction for a limit that is not a positive integer (or Infinity).
 */
export class ConnectionLimit {
  readonly max: number;
  readonly retryAfter: number;

  constructor(options: ConnectionLimitOptions = {}) {
    const max = options.maxConnections ?? ADMISSION_DEFAULTS.maxConnections;
    this.max = checkPositiveInteger('maxConnections', max, 'open streams', true);
    this.retryAfter = checkNonNegativeInteger(
      'retryAfter',
      options.retryAfter ?? ADMISSION_DEFAULTS.retryAfter,
      'seconds',
    );
  }

  /** Throws `SSE_ERR_TOO_MANY_CONNECTIONS` when `open` has reached the limit. */
  admit(open: number): void {
    if (open >= this.max) throw new SseTooManyConnectionsError(this.max, this.retryAfter);
  }
}

/** A failure admission answers with a refusal. */
export type AdmissionError =
  | SseTooManyConnectionsError
  | SseUnauthorizedError
  | SseInvalidChannelError
  | SseInvalidRunIdError
  | SseRunNotFoundError;

/**
 * The refusal for `err`: 503 with `Retry-After` for too many connections, 401/403 for an authorization refusal,
 * 404 for a run that does not exist, 400 for a channel name or run id taken from the request that is not valid.
 */
export function refusalOf(err: AdmissionError): SseRefusal {
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  let status = 400;
  if (err instanceof SseTooManyConnectionsError) {
    status = 503;
    headers['retry-after'] = String(err.retryAfter);
  } else if (err instanceof SseUnauthorizedError) {
    status = err.status;
  } else if (err instanceof SseRunNotFoundError) {
    status = 404;
  }
  return { status, headers, body: { error: err.code, message: err.message } };
}

/**
 * Core's default for `SseExchange.refuse`: a complete JSON response (or a bare 204) on the Node response, unless it
 * has begun.
 */
export function writeRefusal(res: SseResponse, refusal: SseRefusal | SseNoContent): void {
  if (res.headersSent || res.writableEnded) return;
  if (refusal.body === undefined) {
    res.writeHead(refusal.status, refusal.headers).end();
    return;
  }
  const answer = jsonAnswer(refusal.status, refusal.body, refusal.headers);
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  res.writeHead(answer.status);
  res.end(answer.text);
}
