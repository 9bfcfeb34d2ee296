/**
 * WebStreamTransport: a stream's bytes as a Web `ReadableStream<Uint8Array>` response body, for Fetch runtimes
 * (Next.js route handlers, Hono, Bun, Deno, Workers, the edge runtime). The body is pull-paced: the runtime reads
 * it only as fast as the client's socket takes bytes, so what waits in the body's queue is what the client is
 * behind with, and that is what `maxBufferedBytes` and `sendTimeout` act on. Free of Node-only imports.
 *
 * The client leaving is seen two ways, whichever comes first: `request.signal` aborting (Node, Bun, Deno), or the
 * runtime cancelling the body (everywhere; on workerd and the edge runtime only when the next write fails).
 */
import { utf8 } from './text.js';
import type { Transport, TransportEvents } from './transport.js';

/**
 * Bytes the body may hold before a write reports the client behind: Node's default `highWaterMark` for a
 * response, so a stream paces the same on both kinds of response.
 */
const HIGH_WATER_MARK = 16 * 1024;

/** The opening comment and the body's own keep-alive ping. */
const COMMENT = utf8(':\n\n');

/** What a body needs besides the request's signal. */
export interface WebStreamTransportOptions {
  /**
   * ms between keep-alive comments written by this body's own timer when nothing else was written meanwhile.
   * For workerd, which cancels a response whose request has no timer or I/O of its own pending: a keep-alive
   * timer shared by all streams belongs to one request only.
   */
  keepAlive?: number;
  /**
   * Write a `:` comment when the stream opens. Bun, the edge runtime and some proxies hold the response head until
   * the first body byte: without one, a client would see `open` only with the first event.
   */
  opening?: boolean;
}

/** One response body a stream writes to; see the file comment. */
export class WebStreamTransport implements Transport {
  /** The response body: hand it to `new Response()`. */
  readonly body: ReadableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #events: TransportEvents | undefined;
  /** A write returned false: the next pull is a drain. */
  #behind = false;
  #done = false;
  /** Something was written since the last tick of the own keep-alive timer. */
  #wrote = false;
  #keepAliveTimer: ReturnType<typeof setInterval> | undefined;
  readonly #opening: boolean;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => this.#close();

  /** `signal`: the request's; its abort means the client left. */
  constructor(signal?: AbortSignal, options: WebStreamTransportOptions = {}) {
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        // Called when the reader wants more and the queue is empty (desired size above zero): caught up.
        pull: () => {
          if (!this.#behind) return;
          this.#behind = false;
          this.#events?.onTransportDrain();
        },
        cancel: () => this.#close(),
      },
      // Counted in bytes; a plain strategy object: the edge runtime has no ByteLengthQueuingStrategy.
      { highWaterMark: HIGH_WATER_MARK, size: (chunk) => chunk.byteLength },
    );
    this.#signal = signal;
    this.#opening = options.opening === true;
    if (signal?.aborted) queueMicrotask(this.#onAbort);
    else signal?.addEventListener('abort', this.#onAbort, { once: true });
    if (options.keepAlive !== undefined) {
      this.#keepAliveTimer = setInterval(() => {
        if (!this.#wrote && this.writableLength === 0) this.write(COMMENT);
        this.#wrote = false;
      }, options.keepAlive);
    }
  }

  /** The stream this body serves, once bound (a body made before its handler chose the emitter). */
  connect(events: TransportEvents): this {
    this.#events = events;
    return this;
  }

  /** True once the client left or the body ended: a stream can no longer be bound to it. */
  get closed(): boolean {
    return this.#done;
  }

  get writableLength(): number {
    const desired = this.#controller.desiredSize;
    return desired === null ? 0 : Math.max(0, HIGH_WATER_MARK - desired);
  }

  /** The head is the `Response`'s (made by `sseResponse()`); with `opening`, the body starts with a comment. */
  openStream(): Transport {
    if (this.#opening) this.write(COMMENT);
    return this;
  }

  /** The body becomes the JSON text; its status and headers are the `Response`'s (200, JSON). */
  respondJson(_status: number, body: unknown): void {
    if (this.#done) return;
    this.#controller.enqueue(utf8(JSON.stringify(body)));
    this.end();
  }

  write(chunk: Uint8Array): boolean {
    if (this.#done) return false;
    this.#controller.enqueue(chunk);
    this.#wrote = true;
    if ((this.#controller.desiredSize ?? 0) > 0) return true;
    this.#behind = true;
    return false;
  }

  end(): void {
    if (this.#done) return;
    this.#controller.close();
    // Closed, the body flushes what it holds and ends the response: nothing more will be reported by it.
    this.#close();
  }

  /** Errors the body: the runtime drops the connection and what the body held. */
  destroy(): void {
    // Also after end(): a body still holding frames then drops them (a no-op once it is closed or cancelled).
    this.#controller.error(new Error('The event stream was closed: the client read too slowly.'));
    this.#close();
  }

  /** Reports the close once, and stops listening to the request's signal and the own keep-alive. */
  #close(): void {
    if (this.#done) return;
    this.#done = true;
    clearInterval(this.#keepAliveTimer);
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#events?.onTransportClose();
  }
}
