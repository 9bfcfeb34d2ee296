/** The options of `connect()`, their defaults, and the types of the events a stream delivers. */
import type { SseClientError } from './errors.js';

/** The server's event map (the `Events` of `SseEmitter<Events>`): event name → type of its data. */
export type EventMap = Record<string, unknown>;

/** The type of the data of the event named `N`: from the map when it has `N`, else unknown. */
export type EventData<Events extends EventMap, N extends string> = N extends keyof Events ? Events[N] : unknown;

/** One dispatched event. `id` is the stream's last event id once this event arrived ('' when none was ever set). */
export interface SseClientEvent<N extends string = string, D = unknown> {
  /** The event's name: its `event:` field, else 'message'. */
  event: N;
  /** Its data, through `parse` (JSON when it parses, else the string, by default). */
  data: D;
  /** The stream's last event id once it arrived (its own `id:`, else the one before; '' when none). */
  id: string;
}

/** Every event the map describes, plus unnamed ones (`message`) when the map does not name them. */
export type AnyEvent<Events extends EventMap> =
  | { [N in keyof Events & string]: SseClientEvent<N, Events[N]> }[keyof Events & string]
  | (string extends keyof Events ? never : 'message' extends keyof Events ? never : SseClientEvent<'message'>);

/** Reconnect timing; see the README's reconnect policy. */
export interface RetryOptions {
  /** ms to wait before reconnecting until the server sends `retry:`; default 1000. */
  initial?: number;
  /** cap of the backoff after consecutive failures, ms; default 30000. */
  max?: number;
  /** growth of the wait per consecutive failure; default 2. */
  factor?: number;
  /** spread each backoff wait over [half, whole] so clients do not come back together; default true. */
  jitter?: boolean;
  /** give up after this many consecutive failed attempts; default Infinity. */
  attempts?: number;
}

/** A value or a function (sync or async) asked again before every attempt, e.g. for a fresh token. */
export type HeadersOption = HeadersInit | (() => HeadersInit | Promise<HeadersInit>);
type HeadersInit = NonNullable<RequestInit['headers']>;

/** What `connect()` accepts; every field is optional. */
export interface ConnectOptions {
  /** HTTP method; default 'GET'. */
  method?: string;
  /** Request body (for POST and the like). */
  body?: RequestInit['body'];
  /** Request headers, or a function asked before every attempt. `Accept: text/event-stream` is added unless set. */
  headers?: HeadersOption;
  /** fetch's credentials mode (cookies on cross-origin requests: 'include'). */
  credentials?: RequestInit['credentials'];
  /** The id to resume after: sent as Last-Event-ID from the first request on. */
  lastEventId?: string;
  /** Aborting it closes the stream, like close(). */
  signal?: AbortSignal;
  /** The fetch to use; default the global one. */
  fetch?: typeof fetch;
  /** false: never reconnect. */
  retry?: false | RetryOptions;
  /** Re-send a non-GET request after its stream dropped (without Content-Location); default false. */
  retryNonIdempotent?: boolean;
  /** ms without any byte (keep-alive comments count) before the connection is dropped and reopened; default 45000; 0 or Infinity: never. */
  stallTimeout?: number;
  /** Turns an event's data into its value; default: JSON when it parses, else the string. */
  parse?: (data: string, event: string) => unknown;
}

/** The defaults of every option that has one. */
export const CLIENT_DEFAULTS = {
  /** GET, as EventSource. */
  method: 'GET',
  /** Reconnect timing: see RetryOptions. */
  retry: {
    /** 1 s before a reconnect until the server sends `retry:`. */
    initial: 1000,
    /** Backoff capped at 30 s. */
    max: 30_000,
    /** Each consecutive failure doubles the wait. */
    factor: 2,
    /** Waits spread over [half, whole]. */
    jitter: true,
    /** Never gives up. */
    attempts: Number.POSITIVE_INFINITY,
  },
  /** A non-GET is not sent twice unless asked. */
  retryNonIdempotent: false,
  /** 45 s without a byte: three missed 15 s keep-alives. */
  stallTimeout: 45_000,
} as const;

/** The default `parse`: JSON when the data is valid JSON, else the string as is. */
export function parseData(data: string): unknown {
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
}

/** The connection's life, as `onReconnect` reports it. */
export interface ReconnectInfo {
  /** ms until the next request. */
  delay: number;
  /** consecutive failed attempts so far (0 after a response that ended normally). */
  failures: number;
  /** why the previous attempt ended, when it failed. */
  error: SseClientError | undefined;
}
