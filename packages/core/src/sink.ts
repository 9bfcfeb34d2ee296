/**
 * The one place that touches a Node response: HTTP/1.1 `ServerResponse` and the HTTP/2 compatibility
 * `Http2ServerResponse` alike. Headers, writes, flushes, end, destroy and the close/drain signals.
 */
import { type IncomingMessage, type OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import { SseHeadersSentError } from './errors.js';
import { kSinkClose, kSinkDrain } from './symbols.js';

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

/** What a sink reports to (the emitter): methods, so a stream holds no listener closures. */
export interface SinkEvents {
  /** The response drained after a write returned false. */
  [kSinkDrain](): void;
  /** The response closed (client gone, or the end flushed). */
  [kSinkClose](): void;
}

/**
 * Whom each bound response reports to. The response listeners below are shared by every stream (the listener's
 * `this` is the response), so a stream costs one entry here instead of two closures and a `once` wrapper.
 */
const reportsTo = new WeakMap<SseResponse, SinkEvents>();

function onResponseDrain(this: SseResponse): void {
  reportsTo.get(this)?.[kSinkDrain]();
}

/** A response closes once; the entry goes with it, so a late `drain` reports nothing. */
function onResponseClose(this: SseResponse): void {
  const events = reportsTo.get(this);
  reportsTo.delete(this);
  events?.[kSinkClose]();
}

const HTTP1_STREAM_HEADERS: Readonly<Record<string, string>> = { ...STREAM_HEADERS, connection: 'keep-alive' };

interface FlushableResponse {
  /** Added by compression middleware: pushes what zlib holds to the client. */
  flush?: () => void;
}

/** What Node's HTTP/1.1 response and socket expose beyond their typings (stable since Node 0.x). */
interface ChunkedResponse {
  chunkedEncoding?: boolean;
}
interface OwnedSocket extends Socket {
  _httpMessage?: unknown;
}

/**
 * The socket an HTTP/1.1 event stream may write to directly, below the http layer, or undefined. Only when
 * nothing can tell the difference: a chunked HTTP/1.1 response (not HEAD) whose headers are on the socket,
 * whose `write`/`end` nobody replaced and that has no `flush()` (no compression or other body-transforming
 * middleware), with nothing queued in the response itself, on a socket that currently serves this response.
 * Writing through the http layer costs about a quarter of a broadcast, and through an Express `res` (its own
 * hidden class per response) more; the socket write keeps `writableLength` and `drain` semantics, and
 * `res.end()` still writes the terminating chunk.
 */
function directSocket(req: SseRequest, res: ServerResponse): OwnedSocket | undefined {
  const socket = res.socket as OwnedSocket | null;
  const direct =
    req.httpVersionMajor === 1 &&
    req.httpVersionMinor === 1 &&
    req.method !== 'HEAD' &&
    (res as ChunkedResponse).chunkedEncoding === true &&
    res.headersSent &&
    res.write === ServerResponse.prototype.write &&
    res.end === ServerResponse.prototype.end &&
    typeof (res as FlushableResponse).flush !== 'function' &&
    socket !== null &&
    socket._httpMessage === res &&
    socket.writable &&
    res.writableLength === socket.writableLength;
  return direct ? socket : undefined;
}

/**
 * Which turn of the event loop this is, as far as writes care: bumped once after each turn that wrote. A socket
 * written twice in one turn (a stream sending in a loop) is corked until the turn ends, so its frames leave in one
 * `writev` as they would through the http layer; a socket written once a turn (a broadcast) is not, so each client
 * costs one write and nothing more.
 */
let turn = 0;
let turnEnding = false;
function endTurn(): void {
  turnEnding = false;
  turn++;
}
function currentTurn(): number {
  if (!turnEnding) {
    turnEnding = true;
    process.nextTick(endTurn);
  }
  return turn;
}

function uncork(socket: Socket): void {
  socket.uncork();
}

/** The last frame given to {@link chunkOf} and its chunk: a broadcast writes one frame to every client in turn. */
let lastFrame: Buffer | undefined;
let lastChunk: Buffer = Buffer.alloc(0);

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const CR = 13;
const LF = 10;

/** `frame` in HTTP/1.1 chunked coding (`<hex size>\r\n<frame>\r\n`), built once per distinct frame. */
function chunkOf(frame: Buffer): Buffer {
  if (frame !== lastFrame) {
    const size = frame.length;
    let digits = 1;
    for (let rest = size >>> 4; rest > 0; rest >>>= 4) digits++;
    // Byte by byte: Buffer#write and #copy cost a call into C++ each, more than these few bytes.
    const chunk = Buffer.allocUnsafe(digits + size + 4);
    for (let at = digits - 1, rest = size; at >= 0; at--, rest >>>= 4) chunk[at] = HEX_DIGITS[rest & 15]!;
    chunk[digits] = CR;
    chunk[digits + 1] = LF;
    chunk.set(frame, digits + 2);
    chunk[digits + 2 + size] = CR;
    chunk[digits + 3 + size] = LF;
    lastFrame = frame;
    lastChunk = chunk;
  }
  return lastChunk;
}

/**
 * A sink over a Node (HTTP/1.1 or HTTP/2 compat) response. Binding listens for close and drain; the response
 * is then answered either as an event stream ({@link ResponseSink.openStream}) or as JSON ({@link ResponseSink.respondJson}).
 */
export class ResponseSink implements Sink {
  readonly #req: SseRequest;
  readonly #res: SseResponse;
  /** Dropped once written: an open stream does not hold its request's header copy. */
  #headers: OutgoingHttpHeaders | undefined;
  readonly #events: SinkEvents;
  #flush: (() => void) | undefined;
  /** Set while frames go straight to the socket (see {@link directSocket}). */
  #socket: OwnedSocket | undefined;
  /** The drain listener on the socket while one is pending (made on the first backpressure, not per client). */
  #onSocketDrain: (() => void) | undefined;
  #drainArmed = false;
  /** The turn of the last direct write, and the turn this sink corked the socket in (until that turn ends). */
  #lastTurn = -1;
  #corkedTurn = -1;

  /** `headers` are added to whatever the response answers (e.g. CORS headers a framework collected). */
  constructor(req: SseRequest, res: SseResponse, events: SinkEvents, headers?: OutgoingHttpHeaders) {
    if (res.headersSent) throw new SseHeadersSentError();
    this.#req = req;
    this.#res = res;
    this.#headers = headers;
    this.#events = events;
    reportsTo.set(res, events);
    res.on('drain', onResponseDrain);
    res.on('close', onResponseClose);
  }

  /**
   * Starts the event stream: status 200, the stream headers (plus any already set on the response or given
   * to the constructor), flushed at once so the client sees `open`.
   */
  openStream(): void {
    const res = this.#res;
    const http2 = this.#req.httpVersionMajor >= 2;
    // Connection-specific headers are forbidden in HTTP/2 (Node warns and drops them). One writeHead with
    // every header: a response without headers set beforehand then keeps no header map, only the header block.
    res.writeHead(200, this.#headerBlock(http2 ? STREAM_HEADERS : HTTP1_STREAM_HEADERS));
    this.#headers = undefined;
    // Compression middleware adds flush(); without a call after each write, events wait in zlib.
    const flush = (res as FlushableResponse).flush;
    this.#flush = typeof flush === 'function' ? flush.bind(res) : undefined;
    // HTTP/2: the compat writeHead() sends the HEADERS frame itself.
    if (!http2) {
      (res as ServerResponse).flushHeaders();
      res.socket?.setNoDelay(true);
      this.#socket = directSocket(this.#req, res as ServerResponse);
    }
  }

  /** Answers with a JSON body instead of a stream (short polling, refusals). */
  respondJson(status: number, body: unknown): void {
    const text = JSON.stringify(body);
    const block = this.#headerBlock({
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'content-length': String(Buffer.byteLength(text)),
    });
    this.#res.writeHead(status, block);
    this.#res.end(text);
  }

  get writableLength(): number {
    return this.#socket !== undefined ? this.#socket.writableLength : this.#res.writableLength;
  }

  write(chunk: Buffer): boolean {
    const socket = this.#socket;
    if (socket !== undefined) {
      if (chunk.length === 0) return true; // an empty chunk would end the body
      const now = currentTurn();
      if (now === this.#lastTurn && now !== this.#corkedTurn) {
        socket.cork();
        this.#corkedTurn = now;
        process.nextTick(uncork, socket);
      }
      this.#lastTurn = now;
      const accepted = socket.write(chunkOf(chunk));
      if (!accepted && !this.#drainArmed) {
        this.#drainArmed = true;
        this.#onSocketDrain ??= () => {
          this.#drainArmed = false;
          this.#events[kSinkDrain]();
        };
        socket.once('drain', this.#onSocketDrain);
      }
      return accepted;
    }
    const accepted = (this.#res as ServerResponse).write(chunk);
    this.#flush?.();
    return accepted;
  }

  end(): void {
    this.#leaveSocket();
    this.#res.end();
  }

  destroy(): void {
    this.#leaveSocket();
    (this.#res as ServerResponse).destroy();
  }

  /** Back to the http layer: after end the socket may serve the next request on the connection. */
  #leaveSocket(): void {
    if (this.#drainArmed) this.#socket?.removeListener('drain', this.#onSocketDrain!);
    this.#drainArmed = false;
    this.#socket = undefined;
  }

  /** The constructor's headers, then `fixed` over them, names lower-cased (so none is sent twice). */
  #headerBlock(fixed: Readonly<Record<string, string>>): OutgoingHttpHeaders {
    const block: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries({ ...this.#headers, ...fixed })) {
      if (value !== undefined) block[name.toLowerCase()] = value;
    }
    return block;
  }
}
