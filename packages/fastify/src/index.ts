/**
 * @tidings/fastify: Server-Sent Events for Fastify 5. `ssePlugin` adds `reply.sse()`, `request.lastEventId`, the
 * `{ sse: true }` route option and `fastify.sse()`. All protocol and lifecycle logic is `@tidings/core`'s.
 */
import './types.js';

export { type FastifySseAuthorize, type SsePluginOptions, ssePlugin } from './plugin.js';
