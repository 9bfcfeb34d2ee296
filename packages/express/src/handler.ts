/** `sseHandler(fn)`: a route whose function returns the stream (an emitter, an async iterable or a Readable). */
import { SseHost, type SseSource } from '@tidings/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { bind, exchangeOf, hostOf } from './binding.js';

/** What an {@link sseHandler} function may return or resolve to; `undefined` when it answered by itself. */
export type SseHandlerResult = SseSource | undefined;

/** The function given to {@link sseHandler}. */
export type SseHandlerFunction = (
  req: Request,
  res: Response,
) => SseHandlerResult | Promise<SseHandlerResult> | void | Promise<void>;

let fallbackHost: SseHost | undefined;

/**
 * Wraps `fn` as an Express route handler. `fn(req, res)` may return (or resolve to) an `SseEmitter`, which stays
 * open until it completes; an async iterable or object-mode `Readable` of events, streamed as fast as the client
 * reads and completed when it ends; or `undefined` when it answered by itself. Errors thrown (or rejected) before
 * the stream's first byte go to `next(err)`; after it, the stream ends with the error (logged, never sent).
 * Works with and without the `sse()` middleware; with it, its options and `close()` apply.
 */
export function sseHandler(fn: SseHandlerFunction): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    let host = hostOf(res);
    if (host === undefined) {
      fallbackHost ??= new SseHost();
      host = fallbackHost;
      bind(host, req, res);
    }
    host.serve(exchangeOf(req, res), () => fn(req, res)).catch(next);
  };
}
