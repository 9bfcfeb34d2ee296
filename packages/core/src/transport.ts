/**
 * What a stream writes to: one `Transport` per response, one implementation per kind of response (HTTP/1.1
 * `ServerResponse`, HTTP/2 compat, the direct-socket fast path, a Web `ReadableStream` body). The stream owns
 * every policy (state, backpressure limits, slow clients); a transport only moves bytes and reports `drain` and
 * `close`. Free of Node-only imports: Fetch runtimes load it too.
 */
import { utf8Length } from './text.js';

/** Where one stream's bytes go. */
export interface Transport {
  /** Bytes accepted by {@link Transport.write} that the client has not taken yet. */
  readonly writableLength: number;
  /**
   * Starts the event stream: status 200 and the stream headers, flushed at once so the client sees `open`.
   * Returns the transport to write through from now on: itself, or a faster one it hands over to (the direct
   * socket of a plain HTTP/1.1 response).
   */
  openStream(): Transport;
  /** Answers with a complete JSON response instead of a stream (short polling). */
  respondJson(status: number, body: unknown): void;
  /** Writes one whole frame; false means the client is behind (wait for `onTransportDrain` before writing more). */
  write(chunk: Uint8Array): boolean;
  /** Ends the response once what was written is flushed. */
  end(): void;
  /** Drops the connection at once, releasing what is buffered (a slow client). */
  destroy(): void;
}

/** What a transport reports to the stream it serves: methods, so a stream holds no listener closures. */
export interface TransportEvents {
  /** The client took what it was behind with, after a write returned false. */
  onTransportDrain(): void;
  /** The response closed: the client left, or the end was flushed. Reported once. */
  onTransportClose(): void;
}

/** The headers every event stream starts with. */
export const STREAM_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};

/** A complete JSON answer: its status, headers and body text. */
export interface JsonAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly text: string;
}

/**
 * The one JSON answer builder (short-poll answers and admission refusals): `body` as JSON with its content type,
 * `no-cache, no-transform` unless `headers` say otherwise, and its length.
 */
export function jsonAnswer(status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): JsonAnswer {
  const text = JSON.stringify(body);
  return {
    status,
    headers: {
      'cache-control': 'no-cache, no-transform',
      ...headers,
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(utf8Length(text)),
    },
    text,
  };
}
