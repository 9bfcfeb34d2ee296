/**
 * What the HTTP/1.1 and HTTP/2 compat transports share: writing through the Node response (with a compression
 * middleware's `flush()` after each write), JSON answers, end and destroy, and one pair of response listeners for
 * every stream (the listener's `this` is the response), so a stream costs one map entry instead of two closures.
 */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Http2ServerResponse } from 'node:http2';
import { jsonAnswer, STREAM_HEADERS, type Transport, type TransportEvents } from './transport.js';

type NodeResponse = ServerResponse | Http2ServerResponse;

/** Whom each bound response reports to. */
const reportsTo = new WeakMap<NodeResponse, TransportEvents>();

function onResponseDrain(this: NodeResponse): void {
  reportsTo.get(this)?.onTransportDrain();
}

/** A response closes once; the entry goes with it, so a late `drain` reports nothing. */
function onResponseClose(this: NodeResponse): void {
  const events = reportsTo.get(this);
  reportsTo.delete(this);
  events?.onTransportClose();
}

interface FlushableResponse {
  /** Added by compression middleware: pushes what zlib holds to the client. */
  flush?: () => void;
}

/** A transport that writes through a Node response (HTTP/1.1 `ServerResponse` or HTTP/2 compat). */
export abstract class ResponseTransport<R extends NodeResponse> implements Transport {
  protected readonly res: R;
  protected readonly events: TransportEvents;
  /** Headers to add to the answer; dropped once written, so an open stream does not hold its request's copy. */
  #headers: OutgoingHttpHeaders | undefined;
  #flush: (() => void) | undefined;

  constructor(res: R, events: TransportEvents, headers: OutgoingHttpHeaders | undefined) {
    this.res = res;
    this.events = events;
    this.#headers = headers;
    reportsTo.set(res, events);
    res.on('drain', onResponseDrain);
    res.on('close', onResponseClose);
  }

  abstract openStream(): Transport;

  get writableLength(): number {
    return this.res.writableLength;
  }

  respondJson(status: number, body: unknown): void {
    const answer = jsonAnswer(status, body);
    this.res.writeHead(answer.status, this.headerBlock(answer.headers));
    (this.res as ServerResponse).end(answer.text);
  }

  write(chunk: Uint8Array): boolean {
    const accepted = (this.res as ServerResponse).write(chunk);
    this.#flush?.();
    return accepted;
  }

  end(): void {
    (this.res as ServerResponse).end();
  }

  destroy(): void {
    (this.res as ServerResponse).destroy();
  }

  /**
   * Writes status 200 and the stream headers plus `extra` (one writeHead with every header: a response without
   * headers set beforehand then keeps no header map, only the header block), and picks up a compression
   * middleware's `flush()`: without a call after each write, events would wait in zlib.
   */
  protected writeStreamHead(extra?: Readonly<Record<string, string>>): void {
    this.res.writeHead(200, this.headerBlock(extra === undefined ? STREAM_HEADERS : { ...STREAM_HEADERS, ...extra }));
    const flush = (this.res as FlushableResponse).flush;
    this.#flush = typeof flush === 'function' ? flush.bind(this.res) : undefined;
  }

  /** The constructor's headers, then `fixed` over them, names lower-cased (so none is sent twice). */
  protected headerBlock(fixed: Readonly<Record<string, string>>): OutgoingHttpHeaders {
    const block: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries({ ...this.#headers, ...fixed })) {
      if (value !== undefined) block[name.toLowerCase()] = value;
    }
    this.#headers = undefined;
    return block;
  }

  /** Whether the response has a compression middleware's `flush()` (set once the stream head is written). */
  protected get compressed(): boolean {
    return this.#flush !== undefined;
  }
}
