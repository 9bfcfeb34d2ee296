/**
 * @tidings/express: Server-Sent Events for Express. `sse()` adds `res.sse()` and `req.lastEventId`;
 * `sseHandler(fn)` streams what a route returns. All protocol and lifecycle logic is `@tidings/core`'s.
 */
export { type SseHandlerFunction, type SseHandlerResult, sseHandler } from './handler.js';
export { type SseMiddleware, type SseMiddlewareOptions, sse } from './middleware.js';
