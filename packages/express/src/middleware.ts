/** The `sse()` middleware: `res.sse()` and `req.lastEventId` on every request, and `close()` for shutdown. */
import { SseHost, type SseHostOptions } from '@tidings/core';
import type { RequestHandler } from 'express';
import { bind } from './binding.js';

/** Options of {@link sse}: emitter defaults for every `res.sse()`, plus `registry` and `onStreamError`. */
export type SseMiddlewareOptions = SseHostOptions;

/** The middleware returned by {@link sse}. */
export interface SseMiddleware extends RequestHandler {
  /** Ends every stream this middleware opened (queued events flushed first); resolves once their responses closed. */
  close(): Promise<void>;
  /** Streams this middleware holds open now. */
  readonly openStreams: number;
}

/**
 * Express middleware adding `res.sse(options?)` (an attached `SseEmitter`) and `req.lastEventId`. `options` are the
 * defaults of every stream it opens. Throws `SSE_ERR_INVALID_OPTION` at once for an option that cannot work.
 *
 * @example
 * const events = sse({ keepAlive: 15000, registry });
 * app.use(events);
 * app.get('/news', (req, res) => registry.channel('news').subscribe(res.sse()));
 * process.on('SIGTERM', () => events.close().then(() => server.close()));
 */
export function sse(options: SseMiddlewareOptions = {}): SseMiddleware {
  const host = new SseHost(options);
  const middleware: RequestHandler = (req, res, next) => {
    bind(host, req, res);
    next();
  };
  return Object.defineProperties(middleware, {
    close: { value: () => host.close() },
    openStreams: { get: () => host.openStreams },
  }) as SseMiddleware;
}
