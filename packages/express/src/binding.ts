/**
 * How an Express request/response pair is handed to core: the exchange, the host serving it, and the
 * `res.sse()` / `req.lastEventId` additions. Shared by the `sse()` middleware and `sseHandler()`.
 */
import {
  type OpenChannelStream,
  type OpenChannelsStream,
  type OpenRunStream,
  type OpenStream,
  readLastEventId,
  type SseExchange,
  type SseHost,
  type StreamLogLevel,
} from '@tidings/core';
import type { Request, Response } from 'express';

declare global {
  namespace Express {
    interface Request {
      /** The client's `Last-Event-ID` header, else its `?lastEventId=` query value (set by `sse()` / `sseHandler()`). */
      lastEventId?: string;
    }
    interface Response {
      /**
       * Turns this response into an event stream and returns its emitter (headers go out at once). `options`
       * override the `sse()` middleware's defaults. Added by the `sse()` middleware (and inside `sseHandler()`).
       * Throws `SSE_ERR_HEADERS_SENT` when the response has already begun.
       */
      sse: OpenStream;
      /**
       * Subscribes this request to the registry's channel `name` (with replay after its Last-Event-ID), once the
       * `sse()` option `authorize(req, name)` admits it. A refusal is answered as JSON before any byte of stream:
       * 401/403 from `authorize`, 400 for an invalid name, 503 past `maxConnections`; the promise then resolves to
       * `undefined`. Return it from the route so Express handles a rejection (what `authorize` threw, or
       * `SSE_ERR_INVALID_OPTION` when `sse()` has no `registry`).
       */
      sseChannel: OpenChannelStream;
      /**
       * Streams run `id` to this request: the whole run from its start (or after Last-Event-ID), then live, then its
       * `end` frame; header `Tidings-Run: <id>` (and `Content-Location` with `options.location`). Answers 400 for an
       * id that is not 1–256 URL-safe characters, 401/403 from `authorize(req, 'run:<id>', { kind: 'run' })`, 404
       * for an unknown or expired run, 204 to a client that already has the whole ended run, 503 past
       * `maxConnections`; the promise then resolves to `undefined`. Return it from the route so Express handles a
       * rejection (what `authorize` threw, or `SSE_ERR_INVALID_OPTION` when `sse()` has no `registry`).
       */
      sseRun: OpenRunStream;
      /**
       * Like `sseChannel`, on several channels at once (`registry.subscribe(em, names)`): every name is checked (400
       * before any byte if one is bad) and `authorize(req, name)` asked once per channel.
       */
      sseChannels: OpenChannelsStream;
    }
  }
}

const kHost = Symbol('tidings.express.host');
type BoundResponse = Response & { [kHost]?: SseHost };

/** The host of the `sse()` middleware that saw this response, if any. */
export function hostOf(res: Response): SseHost | undefined {
  return (res as BoundResponse)[kHost];
}

/** Adds `req.lastEventId` and `res.sse()`, served by `host`. */
export function bind(host: SseHost, req: Request, res: Response): void {
  (res as BoundResponse)[kHost] = host;
  req.lastEventId = readLastEventId(req).lastEventId;
  res.sse = (options) => host.open(exchangeOf(req, res), options);
  res.sseChannel = (name, options) => host.openChannelStream(exchangeOf(req, res), name, options);
  res.sseRun = (id, options) => host.openRunStream(exchangeOf(req, res), id, options);
  res.sseChannels = (names, options) => host.openChannelsStream(exchangeOf(req, res), names, options);
}

/** Express writes headers straight to the Node response, so nothing needs copying before the stream starts. */
export function exchangeOf(req: Request, res: Response): SseExchange {
  return { req, res, logError };
}

/** Express has no logger: the console, at warn level for a slow client (normal operation under load). */
function logError(err: unknown, level: StreamLogLevel): void {
  if (level === 'warn') console.warn(`[@tidings/express] an event stream was closed: ${describe(err)}`);
  else console.error('[@tidings/express] an event stream ended with an error:', err);
}

/** `CODE: message` for a Tidings error (one line, no stack: it is not a bug), the text of anything else. */
function describe(err: unknown): string {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  return typeof code === 'string' ? `${code}: ${String(message)}` : String(err);
}
