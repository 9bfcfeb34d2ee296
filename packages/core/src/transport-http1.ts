/** HTTP/1.1 `ServerResponse` through the http layer; hands over to the direct socket when nothing can tell. */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Transport, TransportEvents } from './transport.js';
import { ResponseTransport } from './transport-response.js';
import { directSocketOf, SocketTransport } from './transport-socket.js';

/** `Connection: keep-alive` belongs to HTTP/1.1 only (it is forbidden in HTTP/2). */
const HTTP1_HEADERS: Readonly<Record<string, string>> = { connection: 'keep-alive' };

export class Http1Transport extends ResponseTransport<ServerResponse> {
  readonly #req: IncomingMessage;

  constructor(req: IncomingMessage, res: ServerResponse, events: TransportEvents, headers?: OutgoingHttpHeaders) {
    super(res, events, headers);
    this.#req = req;
  }

  openStream(): Transport {
    this.writeStreamHead(HTTP1_HEADERS);
    this.res.flushHeaders();
    this.res.socket?.setNoDelay(true);
    const socket = this.compressed ? undefined : directSocketOf(this.#req, this.res);
    return socket === undefined ? this : new SocketTransport(this.res, socket, this.events);
  }
}
