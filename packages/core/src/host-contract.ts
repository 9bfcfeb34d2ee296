/**
 * The contract between SseHost and a framework adapter: what an adapter hands the host for each request
 * ({@link SseExchange}), the adapter options ({@link SseHostOptions}) and the signatures adapters give their
 * `res.sse()`-style helpers. Types only.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type {
  ConnectionLimitOptions,
  SseAuthorization,
  SseAuthorize,
  SseAuthorizeInfo,
  SseNoContent,
  SseRefusal,
} from './admission.js';
import type { SseEmitter } from './emitter.js';
import type { SseEmitterOptions } from './emitter-options.js';
import type { ChannelRegistry } from './registry.js';
import type { SseRequest, SseResponse } from './transport-node.js';

type EventMap = Record<string, unknown>;

/** How loud a stream's ending is logged: a slow client is normal operation (warn), anything else an error. */
export type StreamLogLevel = 'warn' | 'error';

/**
 * Options of an adapter (`sse()` for Express, `ssePlugin` for Fastify): the emitter options are the defaults of
 * every stream it opens; per-call options (`res.sse(opts)`) override them key by key.
 */
export interface SseHostOptions extends SseEmitterOptions, ConnectionLimitOptions {
  /** Every stream the adapter opens is tracked by this registry: it counts in `stats()` and `registry.close()` ends it. */
  registry?: ChannelRegistry;
  /**
   * Called when a stream that has started ends with an error (a failing iterable, `completeWithError`, a slow
   * client). Default: the framework's logger (Fastify's `request.log`, the console for Express), at warn level
   * for a slow client and error level otherwise. Nothing of the error is ever sent to the client.
   */
  onStreamError?(err: unknown, req: SseRequest): void;
  /**
   * Asked before a client subscribes to a channel through the adapter's channel helper (`res.sseChannel()` /
   * `reply.sseChannel()`): `true` admits it; `false` or `403` answers 403, `401` answers 401, as a normal JSON
   * response before any byte of stream. Default: every client is admitted.
   */
  authorize?: SseAuthorize;
}

/** The signature adapters give `res.sse()` / `reply.sse()`: a stream for this response, with per-call options. */
export type OpenStream = <Events extends EventMap = EventMap>(options?: SseEmitterOptions) => SseEmitter<Events>;

/**
 * The signature adapters give `res.sseChannel()` / `reply.sseChannel()`: this request subscribed to channel `name`
 * once admitted; `undefined` when it was refused (the refusal was answered).
 */
export type OpenChannelStream = <Events extends EventMap = EventMap>(
  name: string,
  options?: SseEmitterOptions,
) => Promise<SseEmitter<Events> | undefined>;

/**
 * The signature adapters give `res.sseChannels()` / `reply.sseChannels()`: this request subscribed to every channel
 * of `names` on one stream once admitted; `undefined` when it was refused (the refusal was answered).
 */
export type OpenChannelsStream = <Events extends EventMap = EventMap>(
  names: readonly string[],
  options?: SseEmitterOptions,
) => Promise<SseEmitter<Events> | undefined>;

/** One request/response as an adapter hands it to the host. */
export interface SseExchange {
  /** The Node request (Express's `req`, Fastify's `request.raw`). */
  readonly req: SseRequest;
  /** The Node response the stream is written to (Express's `res`, Fastify's `reply.raw`). */
  readonly res: SseResponse;
  /**
   * Runs right before the stream's first byte, once per stream. Returns headers the framework collected that the
   * stream must keep (Fastify: `reply.getHeaders()`, then it hijacks the reply here).
   */
  beforeStream?(): OutgoingHttpHeaders | undefined;
  /**
   * Logs an error a started stream ended with, unless the `onStreamError` option is given: at `warn` for a slow
   * client (normal operation under load), at `error` otherwise.
   */
  logError(err: unknown, level: StreamLogLevel): void;
  /**
   * Answers a refused request (503, 401, 403, 400) as a normal response. Default: core writes the JSON refusal to
   * the Node response. Fastify sends it through the reply so its hooks and logging see it.
   */
  refuse?(refusal: SseRefusal | SseNoContent): void;
  /**
   * Asks the adapter's `authorize` hook about `channel` with the framework's own request object (Fastify: the
   * `FastifyRequest`). Default: the host's `authorize` option, called with `req`.
   */
  authorize?(channel: string, info?: SseAuthorizeInfo): SseAuthorization | Promise<SseAuthorization>;
}
