/**
 * `ssePlugin`: binds Fastify requests and replies to `@tidings/core` streams. Everything about the stream itself
 * (headers, framing, lifecycle, handler results, errors, shutdown) is core's `SseHost`.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import {
  readLastEventId,
  type SseAuthorization,
  type SseAuthorizeInfo,
  type SseExchange,
  SseHost,
  type SseHostOptions,
  STREAM_HEADERS,
  type StreamLogLevel,
} from '@tidings/core';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  RouteHandlerMethod,
  RouteOptions,
  RouteShorthandOptions,
} from 'fastify';
import fp from 'fastify-plugin';
import './types.js';

/**
 * Decides whether `request` may subscribe to `channel` through `reply.sseChannel()`, or to a run through
 * `reply.sseRun(id)` (then `channel` is `run:<id>` and `info` is `{ kind: 'run' }`); see `SseAuthorization`.
 */
export type FastifySseAuthorize = (
  request: FastifyRequest,
  channel: string,
  info?: SseAuthorizeInfo,
) => SseAuthorization | Promise<SseAuthorization>;

/**
 * Options of {@link ssePlugin}: emitter defaults for every `reply.sse()`, plus `registry`, `onStreamError`,
 * `maxConnections` / `retryAfter`, and `authorize`, which gets the `FastifyRequest`.
 */
export type SsePluginOptions = Omit<SseHostOptions, 'authorize'> & {
  /** Decides whether a request may subscribe to a channel through `reply.sseChannel()`. */
  authorize?: FastifySseAuthorize;
};

type AnyHandler = (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) => unknown;

/**
 * Fastify hands over a reply whose headers live in Fastify until it sends them: they are copied into the stream,
 * then the reply is hijacked so Fastify leaves the raw response to the stream (hooks that ran before, like auth,
 * could still answer normally; the request is still logged when the response finishes).
 */
/** The last logger {@link logTo} was given and its function: without per-request loggers, every stream shares one. */
let lastLog: FastifyBaseLogger | undefined;
let lastLogError: SseExchange['logError'] | undefined;

/**
 * Made outside `exchangeOf`, so an open stream keeps its logger and not, through a shared closure scope, the reply.
 * A slow client closed is normal operation under load: warn level, never an error line per client.
 */
function logTo(log: FastifyBaseLogger): SseExchange['logError'] {
  if (log !== lastLog || lastLogError === undefined) {
    lastLog = log;
    lastLogError = (err: unknown, level: StreamLogLevel) => {
      if (level === 'warn') log.warn({ err }, 'event stream closed');
      else log.error({ err }, 'event stream ended with an error');
    };
  }
  return lastLogError;
}

function exchangeOf(reply: FastifyReply, authorize?: FastifySseAuthorize): SseExchange {
  return {
    authorize: authorize && ((channel, info) => authorize(reply.request, channel, info)),
    req: reply.request.raw,
    res: reply.raw,
    beforeStream() {
      const headers = reply.getHeaders() as OutgoingHttpHeaders;
      reply.hijack();
      return headers;
    },
    logError: logTo(reply.log),
    refuse: (refusal) => reply.code(refusal.status).headers(refusal.headers).send(refusal.body),
  };
}

const plugin: FastifyPluginAsync<SsePluginOptions> = async (fastify, options) => {
  const { authorize, ...hostOptions } = options;
  const host = new SseHost(hostOptions);

  fastify.decorateRequest('lastEventId', {
    getter(this: FastifyRequest) {
      return readLastEventId(this.raw).lastEventId;
    },
  });
  fastify.decorateReply('sse', function (this: FastifyReply, overrides) {
    return host.open(exchangeOf(this), overrides);
  });
  fastify.decorateReply('sseChannel', function (this: FastifyReply, name: string, overrides) {
    return host.openChannelStream(exchangeOf(this, authorize), name, overrides);
  });
  fastify.decorateReply('sseRun', function (this: FastifyReply, id: string, options) {
    return host.openRunStream(exchangeOf(this, authorize), id, options);
  });
  fastify.decorateReply('sseChannels', function (this: FastifyReply, names: readonly string[], overrides) {
    return host.openChannelsStream(exchangeOf(this, authorize), names, overrides);
  });

  // `{ sse: true }`: the handler's return value is served as the stream.
  fastify.addHook('onRoute', (route) => {
    if (route.sse !== true) return;
    route.handler = route.method === 'HEAD' ? answerHead : streamRoute(host, route.handler as AnyHandler);
  });

  // Same overloads as app.get(): (path, handler), (path, options, handler), (path, { ...options, handler }).
  fastify.decorate('sse', function (this: FastifyInstance, path: string, ...rest: unknown[]) {
    const [first, second] = rest;
    const shorthand = (typeof first === 'function' ? {} : first) as RouteShorthandOptions & { handler?: unknown };
    const handler = (typeof first === 'function' ? first : (second ?? shorthand.handler)) as RouteHandlerMethod;
    return this.route({ ...shorthand, method: 'GET', url: path, handler, sse: true } as RouteOptions);
  });

  // preClose runs before Fastify closes the server, which would otherwise wait for every open stream (onClose
  // hooks only run after that wait): ending the streams here is what lets `app.close()` finish.
  fastify.addHook('preClose', () => host.close());
};

function streamRoute(host: SseHost, handler: AnyHandler): AnyHandler {
  return async function (this: FastifyInstance, request, reply) {
    await host.serve(exchangeOf(reply), async () => {
      const result = await handler.call(this, request, reply);
      // `return reply` after reply.send() means the handler answered by itself.
      return result === reply ? undefined : result;
    });
  };
}

/** A HEAD request to a stream route gets the stream's headers and no body, without running the handler. */
function answerHead(_request: FastifyRequest, reply: FastifyReply): void {
  reply.headers(STREAM_HEADERS).send();
}

/**
 * The Fastify plugin: `reply.sse(options?)`, `request.lastEventId`, the `{ sse: true }` route option and the
 * `fastify.sse(path, [options], handler)` shorthand; `app.close()` ends every open stream. Register it with
 * `await app.register(ssePlugin, { keepAlive: 15000, registry })`. Throws `SSE_ERR_INVALID_OPTION` at registration
 * for an option that cannot work.
 */
export const ssePlugin = fp(plugin, { name: '@tidings/fastify', fastify: '5.x' });
