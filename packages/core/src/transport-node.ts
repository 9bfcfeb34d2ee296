/**
 * Node responses as transports: which transport serves a request/response pair (HTTP/1.1 or HTTP/2 compat), and
 * the response listeners every Node transport shares.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { SseHeadersSentError } from './errors.js';
import type { Transport, TransportEvents } from './transport.js';
import { Http1Transport } from './transport-http1.js';
import { Http2Transport } from './transport-http2.js';

/** A Node request, HTTP/1.1 or HTTP/2 compat. */
export type SseRequest = IncomingMessage | Http2ServerRequest;
/** A Node response, HTTP/1.1 or HTTP/2 compat. */
export type SseResponse = ServerResponse | Http2ServerResponse;

/**
 * The transport for `res`, reporting to `events`. `headers` are added to whatever the response answers (e.g. CORS
 * headers a framework collected). Throws `SSE_ERR_HEADERS_SENT` when the response has already begun.
 */
export function nodeTransport(
  req: SseRequest,
  res: SseResponse,
  events: TransportEvents,
  headers?: OutgoingHttpHeaders,
): Transport {
  if (res.headersSent) throw new SseHeadersSentError();
  return req.httpVersionMajor >= 2
    ? new Http2Transport(res as Http2ServerResponse, events, headers)
    : new Http1Transport(req as IncomingMessage, res as ServerResponse, events, headers);
}

/** True when the connection closed before the stream could start (its `close` event has already been emitted). */
export function isResponseGone(res: SseResponse): boolean {
  return 'stream' in res ? res.stream.destroyed : res.destroyed; // HTTP/2 compat : HTTP/1.1
}
