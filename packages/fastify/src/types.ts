/**
 * Declaration merging: `reply.sse()`, `request.lastEventId`, the `{ sse: true }` route option and the
 * `fastify.sse()` route shorthand, typed wherever `@tidings/fastify` is imported.
 */
import type { OpenChannelStream, OpenChannelsStream, OpenRunStream, OpenStream } from '@tidings/core';
import type {
  FastifyBaseLogger,
  FastifyTypeProvider,
  FastifyTypeProviderDefault,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerBase,
  RawServerDefault,
  RouteShorthandMethod,
} from 'fastify';

declare module 'fastify' {
  interface FastifyReply {
    /**
     * Turns this reply into an event stream and returns its emitter: the headers set so far (`reply.header()`,
     * CORS) are kept, the reply is hijacked and the stream headers go out at once. `options` override the plugin's
     * defaults. Throws `SSE_ERR_HEADERS_SENT` when the response has already begun.
     */
    sse: OpenStream;
    /**
     * Subscribes this request to the registry's channel `name` (with replay after its Last-Event-ID), once the
     * plugin option `authorize(request.raw, name)` admits it. A refusal is sent as a normal JSON reply before any
     * byte of stream: 401/403 from `authorize`, 400 for an invalid name, 503 past `maxConnections`; the promise
     * then resolves to `undefined`. Rejects with what `authorize` threw, or `SSE_ERR_INVALID_OPTION` when the
     * plugin has no `registry`: return or await it in the handler so Fastify's error handling answers.
     */
    sseChannel: OpenChannelStream;
    /**
     * Streams run `id` to this request: the whole run from its start (or after Last-Event-ID), then live, then its
     * `end` frame; header `Tidings-Run: <id>` (and `Content-Location` with `options.location`). Sent as a normal
     * reply before any byte of stream instead: 400 for an id that is not 1–256 URL-safe characters, 401/403 from
     * `authorize(request, 'run:<id>', { kind: 'run' })`, 404 for an unknown or expired run, 204 to a client that
     * already has the whole ended run, 503 past `maxConnections`; the promise then resolves to `undefined`.
     * Rejects with what `authorize` threw, or `SSE_ERR_INVALID_OPTION` when the plugin has no `registry`.
     */
    sseRun: OpenRunStream;
    /**
     * Like `sseChannel`, on several channels at once (`registry.subscribe(em, names)`): every name is checked (400
     * before any byte if one is bad) and `authorize` asked once per channel.
     */
    sseChannels: OpenChannelsStream;
  }

  interface FastifyRequest {
    /** The client's `Last-Event-ID` header, else its `?lastEventId=` query value; undefined when absent or ignored. */
    readonly lastEventId: string | undefined;
  }

  interface RouteShorthandOptions {
    /**
     * The handler's return value is the stream: an `SseEmitter` (open until it completes), an async iterable or an
     * object-mode Readable of events (completed when it ends), or undefined when the handler answered itself.
     */
    sse?: boolean;
  }

  interface FastifyInstance<
    RawServer extends RawServerBase = RawServerDefault,
    RawRequest extends RawRequestDefaultExpression<RawServer> = RawRequestDefaultExpression<RawServer>,
    RawReply extends RawReplyDefaultExpression<RawServer> = RawReplyDefaultExpression<RawServer>,
    Logger extends FastifyBaseLogger = FastifyBaseLogger,
    TypeProvider extends FastifyTypeProvider = FastifyTypeProviderDefault,
  > {
    /** A GET route with `sse: true`: `app.sse(path, [options], handler)`, like `app.get()`. */
    sse: RouteShorthandMethod<RawServer, RawRequest, RawReply, TypeProvider, Logger>;
  }
}
