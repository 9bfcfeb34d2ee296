/**
 * The error catalogue. Every failure Tidings reports has its own class and a stable `code`
 * (`SSE_ERR_*`) that never changes meaning; messages say what to do about it.
 */

/** Every code Tidings uses, for `switch (err.code)`. */
export type SseErrorCode =
  | 'SSE_ERR_INVALID_FIELD'
  | 'SSE_ERR_INVALID_CHANNEL'
  | 'SSE_ERR_INVALID_OPTION'
  | 'SSE_ERR_CLOSED'
  | 'SSE_ERR_SLOW_CLIENT'
  | 'SSE_ERR_HEADERS_SENT'
  | 'SSE_ERR_ALREADY_ATTACHED'
  | 'SSE_ERR_SERIALIZE'
  | 'SSE_ERR_ADAPTER_UNAVAILABLE'
  | 'SSE_ERR_TOO_MANY_CONNECTIONS'
  | 'SSE_ERR_UNAUTHORIZED'
  | 'SSE_ERR_INVALID_SOURCE';

/** Base class of the runtime (non-programmer) errors. */
export class SseError extends Error {
  /** The stable `SSE_ERR_*` code of this failure. */
  readonly code: SseErrorCode;
  constructor(code: SseErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An event field that cannot be sent as given (CR/LF in `event`, NUL in `id`, a `retry` that is not digits). */
export class SseInvalidFieldError extends TypeError {
  /** Always `SSE_ERR_INVALID_FIELD`. */
  readonly code = 'SSE_ERR_INVALID_FIELD' as const;
  /** The field at fault: `event`, `id`, `retry`, `comment` or `data`. */
  readonly field: string;
  constructor(field: string, message: string) {
    super(message);
    this.name = 'SseInvalidFieldError';
    this.field = field;
  }
}

/** A channel name that is empty, too long or holds control characters. */
export class SseInvalidChannelError extends TypeError {
  /** Always `SSE_ERR_INVALID_CHANNEL`. */
  readonly code = 'SSE_ERR_INVALID_CHANNEL' as const;
  constructor(message: string) {
    super(message);
    this.name = 'SseInvalidChannelError';
  }
}

/** An option with a value that cannot work (a negative timeout, a buffer size that is not a number). */
export class SseInvalidOptionError extends TypeError {
  /** Always `SSE_ERR_INVALID_OPTION`. */
  readonly code = 'SSE_ERR_INVALID_OPTION' as const;
  constructor(message: string) {
    super(message);
    this.name = 'SseInvalidOptionError';
  }
}

/** The client is gone or the emitter was completed: nothing more can be sent on it. */
export class SseClosedError extends SseError {
  constructor(
    message = 'The SSE stream is closed (the client disconnected or the emitter completed); stop sending to it.',
  ) {
    super('SSE_ERR_CLOSED', message);
  }
}

/** The client did not read fast enough: its buffer passed `maxBufferedBytes` or a write stayed undrained past `sendTimeout`. */
export class SseSlowClientError extends SseError {
  constructor(message: string) {
    super('SSE_ERR_SLOW_CLIENT', message);
  }
}

/** The response had already started (headers sent) before it could be turned into an event stream. */
export class SseHeadersSentError extends SseError {
  constructor(
    message = 'Cannot start an event stream: the response headers were already sent. Call sse() before writing anything else.',
  ) {
    super('SSE_ERR_HEADERS_SENT', message);
  }
}

/** An emitter can serve one response only. */
export class SseAlreadyAttachedError extends SseError {
  constructor(message = 'This SseEmitter is already attached to a response; create one emitter per request.') {
    super('SSE_ERR_ALREADY_ATTACHED', message);
  }
}

/** The serializer threw (circular JSON, BigInt, ...); nothing was written and the stream is still usable. */
export class SseSerializeError extends SseError {
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
  constructor(message: string, options?: { cause?: unknown }) {
    super('SSE_ERR_ADAPTER_UNAVAILABLE', message, options);
  }
}

/** `maxConnections` was reached; the request is answered 503 with `Retry-After`. */
export class SseTooManyConnectionsError extends SseError {
  /** Seconds the client is told to wait. */
  readonly retryAfter: number;
  constructor(limit: number, retryAfter: number) {
    super('SSE_ERR_TOO_MANY_CONNECTIONS', `The server holds its maximum of ${limit} event streams; retry later.`);
    this.retryAfter = retryAfter;
  }
}

/** The adapter's `authorize(req, channel)` hook refused a subscription; answered with `status` (401 or 403). */
export class SseUnauthorizedError extends SseError {
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

/** An SSE handler returned something that is not a stream (an SseEmitter, an async iterable or a Readable). */
export class SseInvalidSourceError extends TypeError {
  /** Always `SSE_ERR_INVALID_SOURCE`. */
  readonly code = 'SSE_ERR_INVALID_SOURCE' as const;
  constructor(received: unknown) {
    const what = received === null ? 'null' : typeof received;
    super(
      `An SSE handler returned ${what}; return an SseEmitter, an async iterable or an object-mode Readable of events, ` +
        'or undefined when the handler answered the request itself.',
    );
    this.name = 'SseInvalidSourceError';
  }
}

/** True for any error from the catalogue (they all carry a `code` starting with `SSE_ERR_`). */
export function isSseError(err: unknown): err is Error & {
  /** The error's `SSE_ERR_*` code. */
  code: SseErrorCode;
} {
  const code = err instanceof Error ? (err as Error & { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('SSE_ERR_');
}
