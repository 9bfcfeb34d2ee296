/**
 * The error catalogue. Every failure Tidings reports has its own class and a stable `code` (`SSE_ERR_*`) that
 * never changes meaning; messages say what to do about it. Every one of them passes `isSseError(err)` and
 * `err instanceof SseError`; those caused by invalid input are `TypeError`s as well.
 */

/** Every code Tidings uses, with what it means: the one table docs and tests are checked against. */
export const SSE_ERROR_CODES = Object.freeze({
  SSE_ERR_INVALID_FIELD: 'an event field that could forge lines (CR/LF in a name, CR/LF/NUL in an id, a bad retry)',
  SSE_ERR_INVALID_CHANNEL: 'a channel name that is empty, too long or holds control characters',
  SSE_ERR_INVALID_OPTION: 'an option that cannot work',
  SSE_ERR_INVALID_SOURCE: 'a stream handler returned something that is not a stream',
  SSE_ERR_FOREIGN_EMITTER: 'an emitter made by another copy of @tidings/core (ESM beside CommonJS)',
  SSE_ERR_CLOSED: 'a send after the client left or the stream completed',
  SSE_ERR_SLOW_CLIENT: 'the client could not keep up and was disconnected',
  SSE_ERR_SERIALIZE: 'the serializer threw',
  SSE_ERR_HEADERS_SENT: 'the response had already begun',
  SSE_ERR_ALREADY_ATTACHED: 'one emitter given two responses',
  SSE_ERR_ADAPTER_UNAVAILABLE: 'the broadcast adapter did not answer in time',
  SSE_ERR_TOO_MANY_CONNECTIONS: 'maxConnections reached',
  SSE_ERR_UNAUTHORIZED: 'authorize refused the channel',
  SSE_ERR_RUN_ENDED: 'an append to a run that has ended or was cancelled',
  SSE_ERR_RUN_FULL: "an append past a run's maxEvents",
  SSE_ERR_RUN_NOT_FOUND: 'a run that is unknown or expired (answered 404)',
  SSE_ERR_INVALID_RUN_ID: 'a run id that is not 1–256 URL-safe characters (answered 400)',
});

/** Every code Tidings uses, for `switch (err.code)`. */
export type SseErrorCode = keyof typeof SSE_ERROR_CODES;

/** Brands every catalogue error, across duplicate copies of the package (its ESM and CommonJS builds). */
const BRAND = Symbol.for('tidings.error');

/**
 * True for any error from the catalogue, whichever copy of the package made it. Same as `err instanceof SseError`.
 */
export function isSseError(err: unknown): err is Error & {
  /** The error's `SSE_ERR_*` code. */
  code: SseErrorCode;
} {
  return typeof err === 'object' && err !== null && (err as { [BRAND]?: unknown })[BRAND] === true;
}

/** Base class of the catalogue: `err instanceof SseError` holds for every Tidings error, TypeErrors included. */
export class SseError extends Error {
  /** The stable `SSE_ERR_*` code of this failure. */
  readonly code: SseErrorCode;
  constructor(code: SseErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }

  /**
   * `instanceof SseError` recognises the whole catalogue (the invalid-input errors extend `TypeError`, not this
   * class). Only on `SseError` itself: `instanceof` a subclass keeps its ordinary meaning, so a slow-client error
   * is never an `SseClosedError`.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // `this` is the class on the right of `instanceof`: SseError itself, or a subclass.
    // biome-ignore lint/complexity/noThisInStatic: the point is to know which class is asked
    if (this === SseError) return isSseError(value);
    // biome-ignore lint/complexity/noThisInStatic: the ordinary check, for the subclass that is asked
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

/** Base of the errors caused by invalid input: a `TypeError` that also passes `instanceof SseError`. */
export class SseTypeError extends TypeError {
  /** The stable `SSE_ERR_*` code of this failure. */
  readonly code: SseErrorCode;
  constructor(code: SseErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

for (const base of [SseError, SseTypeError]) Object.defineProperty(base.prototype, BRAND, { value: true });

/** An event field that cannot be sent as given (CR/LF in `event`, NUL in `id`, a `retry` that is not digits). */
export class SseInvalidFieldError extends SseTypeError {
  declare readonly code: 'SSE_ERR_INVALID_FIELD';
  /** The field at fault: `event`, `id`, `retry`, `comment` or `data`. */
  readonly field: string;
  constructor(field: string, message: string) {
    super('SSE_ERR_INVALID_FIELD', message);
    this.field = field;
  }
}

/** A channel name that is empty, too long or holds control characters. */
export class SseInvalidChannelError extends SseTypeError {
  declare readonly code: 'SSE_ERR_INVALID_CHANNEL';
  constructor(message: string) {
    super('SSE_ERR_INVALID_CHANNEL', message);
  }
}

/** An option with a value that cannot work (a negative timeout, a buffer size that is not a number). */
export class SseInvalidOptionError extends SseTypeError {
  declare readonly code: 'SSE_ERR_INVALID_OPTION';
  constructor(message: string) {
    super('SSE_ERR_INVALID_OPTION', message);
  }
}

/** An SSE handler returned something that is not a stream (an SseEmitter, an async iterable or a Readable). */
export class SseInvalidSourceError extends SseTypeError {
  declare readonly code: 'SSE_ERR_INVALID_SOURCE';
  constructor(received: unknown) {
    const what = received === null ? 'null' : typeof received;
    super(
      'SSE_ERR_INVALID_SOURCE',
      `An SSE handler returned ${what}; return an SseEmitter, an async iterable or an object-mode Readable of events, ` +
        'or undefined when the handler answered the request itself.',
    );
  }
}

/**
 * An emitter made by another copy of `@tidings/core` (typically its ESM build beside its CommonJS build) was given
 * to this copy's channel, registry or adapter. Refused before any byte is written.
 */
export class SseForeignEmitterError extends SseTypeError {
  declare readonly code: 'SSE_ERR_FOREIGN_EMITTER';
  constructor() {
    super(
      'SSE_ERR_FOREIGN_EMITTER',
      'This SseEmitter was made by another copy of @tidings/core (e.g. its ESM build beside its CommonJS build). ' +
        'Import SseEmitter the same way (import or require) as the adapter and registry that serve it.',
    );
  }
}

/** The client is gone or the emitter was completed: nothing more can be sent on it. */
export class SseClosedError extends SseError {
  declare readonly code: 'SSE_ERR_CLOSED';
  constructor(
    message = 'The SSE stream is closed (the client disconnected or the emitter completed); stop sending to it.',
  ) {
    super('SSE_ERR_CLOSED', message);
  }
}

/** The client did not read fast enough: its buffer passed `maxBufferedBytes` or a write stayed undrained past `sendTimeout`. */
export class SseSlowClientError extends SseError {
  declare readonly code: 'SSE_ERR_SLOW_CLIENT';
  constructor(message: string) {
    super('SSE_ERR_SLOW_CLIENT', message);
  }
}

/** The response had already started (headers sent) before it could be turned into an event stream. */
export class SseHeadersSentError extends SseError {
  declare readonly code: 'SSE_ERR_HEADERS_SENT';
  constructor(
    message = 'Cannot start an event stream: the response headers were already sent. Call sse() before writing anything else.',
  ) {
    super('SSE_ERR_HEADERS_SENT', message);
  }
}

/** An emitter can serve one response only. */
export class SseAlreadyAttachedError extends SseError {
  declare readonly code: 'SSE_ERR_ALREADY_ATTACHED';
  constructor(message = 'This SseEmitter is already attached to a response; create one emitter per request.') {
    super('SSE_ERR_ALREADY_ATTACHED', message);
  }
}

/** The serializer threw (circular JSON, BigInt, ...); nothing was written and the stream is still usable. */
export class SseSerializeError extends SseError {
  declare readonly code: 'SSE_ERR_SERIALIZE';
  constructor(cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      'SSE_ERR_SERIALIZE',
      `Could not serialize the event data (${reason}). Send a JSON-safe value or pass a \`serialize\` option that handles it.`,
      { cause },
    );
  }
}

/** The broadcast adapter (e.g. Redis) did not answer in time. */
export class SseAdapterUnavailableError extends SseError {
  declare readonly code: 'SSE_ERR_ADAPTER_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super('SSE_ERR_ADAPTER_UNAVAILABLE', message, options);
  }
}

/** `maxConnections` was reached; the request is answered 503 with `Retry-After`. */
export class SseTooManyConnectionsError extends SseError {
  declare readonly code: 'SSE_ERR_TOO_MANY_CONNECTIONS';
  /** Seconds the client is told to wait. */
  readonly retryAfter: number;
  constructor(limit: number, retryAfter: number) {
    super('SSE_ERR_TOO_MANY_CONNECTIONS', `The server holds its maximum of ${limit} event streams; retry later.`);
    this.retryAfter = retryAfter;
  }
}

/** The adapter's `authorize(req, channel)` hook refused a subscription; answered with `status` (401 or 403). */
export class SseUnauthorizedError extends SseError {
  declare readonly code: 'SSE_ERR_UNAUTHORIZED';
  /** 401 (the client must authenticate first) or 403 (it may not subscribe to this channel). */
  readonly status: 401 | 403;
  constructor(status: 401 | 403) {
    super(
      'SSE_ERR_UNAUTHORIZED',
      status === 401
        ? 'Authentication is required to subscribe to this channel; sign in and reconnect.'
        : 'This client may not subscribe to this channel.',
    );
    this.status = status;
  }
}

/** `run.append()` after the run ended or was cancelled: nothing more can be added to it. */
export class SseRunEndedError extends SseError {
  declare readonly code: 'SSE_ERR_RUN_ENDED';
  constructor(id: string, state: string) {
    super('SSE_ERR_RUN_ENDED', `Run "${id}" is ${state}: nothing more can be appended; start a new run.`);
  }
}

/** `run.append()` past the run's `maxEvents` (the log of a run is never trimmed); `end()` and `cancel()` still work. */
export class SseRunFullError extends SseError {
  declare readonly code: 'SSE_ERR_RUN_FULL';
  constructor(id: string, maxEvents: number) {
    super(
      'SSE_ERR_RUN_FULL',
      `Run "${id}" holds its maximum of ${maxEvents} events (maxEvents); end() it, or create it with a larger maxEvents.`,
    );
  }
}

/** No run with this id: never created, or expired `ttl` after it ended. Answered 404 by the run routes. */
export class SseRunNotFoundError extends SseError {
  declare readonly code: 'SSE_ERR_RUN_NOT_FOUND';
  constructor() {
    super('SSE_ERR_RUN_NOT_FOUND', 'No such run: it never existed, or it ended and expired (ttl).');
  }
}

/** A run id that is not 1–256 URL-safe characters (A–Z, a–z, 0–9, `-`, `_`, `.`, `~`). Answered 400 by the run routes. */
export class SseInvalidRunIdError extends SseTypeError {
  declare readonly code: 'SSE_ERR_INVALID_RUN_ID';
  constructor(message: string) {
    super('SSE_ERR_INVALID_RUN_ID', message);
  }
}
