/**
 * The one place that touches a Node response: HTTP/1.1 `ServerResponse` and the HTTP/2 compatibility
 * `Http2ServerResponse` alike. Headers, writes, flushes, end, destroy and the close/drain signals.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { SseHeadersSentError } from './errors.js';

/** A Node request, HTTP/1.1 or HTTP/2 compat. */
export type SseRequest = IncomingMessage | Http2ServerRequest;
/** A Node response, HTTP/1.1 or HTTP/2 compat. */
export type SseResponse = ServerResponse | Http2ServerResponse;

/** The headers every event stream starts with. */
export const STREAM_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};

/** What the emitter needs from a transport. */
export interface Sink {
  /** Bytes written but not yet handed to the kernel. */
  readonly writableLength: number;
  /** Writes a chunk; false means the client is not keeping up (wait for `onDrain`). */
  write(chunk: Buffer): boolean;
  /** Ends the response after what was written is flushed. */
  end(): void;
  /** Drops the connection at once, releasing what is buffered. */
  destroy(): void;
}

/** Callbacks a sink reports to. */
export interface SinkEvents {
  drain(): void;
  close(): void;
}

interface FlushableResponse {
  /** Added by compression middleware: pushes what zlib holds to the client. */
  flush?: () => void;
}

/**
 * A sink over a Node (HTTP/1.1 or HTTP/2 compat) response. Binding listens for close and drain; the response
 * is then answered either as an event stream ({@link ResponseSink.openStream}) or as JSON ({@link ResponseSink.respondJson}).
 */
export class ResponseSink implements Sink {
  readonly #req: SseRequest;
  readonly #res: SseResponse;
  readonly #headers: OutgoingHttpHeaders | undefined;
  #flush: (() => void) | undefined;

  /** `headers` are added to whatever the response answers (e.g. CORS headers a framework collected). */
  constructor(req: SseRequest, res: SseResponse, events: SinkEvents, headers?: OutgoingHttpHeaders) {
    if (res.headersSent) throw new SseHeadersSentError();
    this.#req = req;
    this.#res = res;
    this.#headers = headers;
    res.on('drain', events.drain);
    res.once('close', events.close);
  }

  /**
   * Starts the event stream: status 200, the stream headers (plus any already set on the response or given
   * to the constructor), flushed at once so the client sees `open`.
   */
  openStream(): void {
    const res = this.#res;
    const http2 = this.#req.httpVersionMajor >= 2;
    this.#setHeaders(STREAM_HEADERS);
    // Connection-specific headers are forbidden in HTTP/2 (Node warns and drops them).
    if (!http2) res.setHeader('connection', 'keep-alive');
    res.writeHead(200);
    // Compression middleware adds flush(); without a call after each write, events wait in zlib.
    const flush = (res as FlushableResponse).flush;
    this.#flush = typeof flush === 'function' ? flush.bind(res) : undefined;
    if (http2) {
      // The compat response sends its HEADERS frame lazily; an empty write forces it out.
      (res as Http2ServerResponse).write('');
    } else {
      (res as ServerResponse).flushHeaders();
      res.socket?.setNoDelay(true);
    }
  }

  /** Answers with a JSON body instead of a stream (short polling, refusals). */
  respondJson(status: number, body: unknown): void {
    const text = JSON.stringify(body);
    this.#setHeaders({
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'content-length': String(Buffer.byteLength(text)),
    });
    this.#res.writeHead(status);
    this.#res.end(text);
  }

  get writableLength(): number {
    return this.#res.writableLength;
  }

  write(chunk: Buffer): boolean {
    const accepted = (this.#res as ServerResponse).write(chunk);
    this.#flush?.();
    return accepted;
  }

  end(): void {
    this.#res.end();
  }

  destroy(): void {
    (this.#res as ServerResponse).destroy();
  }

  #setHeaders(fixed: Readonly<Record<string, string>>): void {
    for (const [name, value] of Object.entries({ ...this.#headers, ...fixed })) {
      if (value !== undefined) this.#res.setHeader(name, value);
    }
  }
}
