/**
 * The direct-socket fast path: an HTTP/1.1 event stream whose frames go straight to the socket, below the http
 * layer, each as one HTTP/1.1 chunk.
 *
 * Why: writing through the http layer costs about a quarter of a broadcast, and through an Express `res` (its own
 * hidden class per response) more. A broadcast builds the chunk once and every client gets the same Buffer.
 *
 * Preconditions (checked by {@link directSocketOf}; when any fails, the stream stays on the http layer):
 * - HTTP/1.1 (not 1.0: no chunked coding there), not HEAD (no body);
 * - the response uses chunked coding and its headers are on the socket;
 * - nobody replaced `res.write` / `res.end` and there is no `flush()` (no compression or other body-transforming
 *   middleware that must see each write);
 * - the socket serves this response now, is writable, and the response itself queues nothing.
 *
 * Invariants (what keeps it indistinguishable from the http layer):
 * - every write is one complete chunk `<hex size>\r\n<frame>\r\n`; an empty frame is never written (it would end
 *   the body);
 * - `writableLength` and `drain` are the socket's, which is what the http layer would report;
 * - `end()` and `destroy()` go back through the response, so `res.end()` writes the terminating chunk and the
 *   socket may serve the next request on the connection; the drain listener is removed first;
 * - a socket written twice in one turn of the event loop is corked until the turn ends (one `writev`, as through
 *   the http layer); a socket written once a turn (a broadcast) is not, so each client costs one write.
 *
 * DO NOT add per-client work to {@link SocketTransport.write}: it is the broadcast loop's hot call site. It must stay
 * monomorphic in a typical process (every stream of a Node server goes through this class), so keep branches on the
 * kind of transport out of it.
 */
import { type IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Transport, TransportEvents } from './transport.js';

/** What Node's HTTP/1.1 response and socket expose beyond their typings (stable since Node 0.x). */
interface ChunkedResponse {
  chunkedEncoding?: boolean;
}
interface OwnedSocket extends Socket {
  _httpMessage?: unknown;
}

/** The socket an open HTTP/1.1 event stream may write to directly (see the preconditions above), or undefined. */
export function directSocketOf(req: IncomingMessage, res: ServerResponse): Socket | undefined {
  const socket = res.socket as OwnedSocket | null;
  const direct =
    req.httpVersionMajor === 1 &&
    req.httpVersionMinor === 1 &&
    req.method !== 'HEAD' &&
    (res as ChunkedResponse).chunkedEncoding === true &&
    res.headersSent &&
    res.write === ServerResponse.prototype.write &&
    res.end === ServerResponse.prototype.end &&
    typeof (res as { flush?: unknown }).flush !== 'function' &&
    socket !== null &&
    socket._httpMessage === res &&
    socket.writable &&
    res.writableLength === socket.writableLength;
  return direct ? socket : undefined;
}

/**
 * Which turn of the event loop this is, as far as writes care: bumped once after each turn that wrote (see the
 * corking invariant above).
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
let lastFrame: Uint8Array | undefined;
let lastChunk: Buffer = Buffer.alloc(0);

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
const CR = 13;
const LF = 10;

/** `frame` in HTTP/1.1 chunked coding (`<hex size>\r\n<frame>\r\n`), built once per distinct frame. */
function chunkOf(frame: Uint8Array): Buffer {
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

/** An open HTTP/1.1 event stream written straight to its socket. */
export class SocketTransport implements Transport {
  readonly #res: ServerResponse;
  readonly #socket: Socket;
  readonly #events: TransportEvents;
  /** The drain listener on the socket while one is pending (made on the first backpressure, not per client). */
  #onSocketDrain: (() => void) | undefined;
  #drainArmed = false;
  /** The turn of the last write, and the turn this transport corked the socket in (until that turn ends). */
  #lastTurn = -1;
  #corkedTurn = -1;

  constructor(res: ServerResponse, socket: Socket, events: TransportEvents) {
    this.#res = res;
    this.#socket = socket;
    this.#events = events;
  }

  get writableLength(): number {
    return this.#socket.writableLength;
  }

  /** Already open: the http layer opened it before handing over. */
  openStream(): Transport {
    return this;
  }

  /** Never called: a JSON answer is decided before the stream opens, on the http layer. */
  respondJson(): void {
    throw new Error('SocketTransport serves open event streams only');
  }

  write(chunk: Uint8Array): boolean {
    if (chunk.length === 0) return true; // an empty chunk would end the body
    const socket = this.#socket;
    const now = currentTurn();
    if (now === this.#lastTurn && now !== this.#corkedTurn) {
      socket.cork();
      this.#corkedTurn = now;
      process.nextTick(uncork, socket);
    }
    this.#lastTurn = now;
    const accepted = socket.write(chunkOf(chunk));
    if (!accepted && !this.#drainArmed) this.#armDrain();
    return accepted;
  }

  end(): void {
    this.#leaveSocket();
    this.#res.end();
  }

  destroy(): void {
    this.#leaveSocket();
    this.#res.destroy();
  }

  #armDrain(): void {
    this.#drainArmed = true;
    this.#onSocketDrain ??= () => {
      this.#drainArmed = false;
      this.#events.onTransportDrain();
    };
    this.#socket.once('drain', this.#onSocketDrain);
  }

  /** Back to the http layer: after end the socket may serve the next request on the connection. */
  #leaveSocket(): void {
    if (this.#drainArmed) this.#socket.removeListener('drain', this.#onSocketDrain!);
    this.#drainArmed = false;
  }
}
