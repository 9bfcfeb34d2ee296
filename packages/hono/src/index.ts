/**
 * @tidings/hono: Server-Sent Events for Hono, on every runtime Hono runs on. A thin binding over `sseResponse()`
 * from @tidings/core (which does the framing, backpressure, keep-alive, limits and the client leaving): the
 * handler gets Hono's `Context` and the emitter, and Hono's middleware (CORS, auth) works as on any route.
 */
import {
  type SseAuthorization,
  type SseAuthorizeInfo,
  SseEmitter,
  type SseFetchAuthorize,
  type SseResponseOptions,
  sseChannelResponse,
  sseResponse,
  sseRunResponse,
} from '@tidings/core';
import type { Context, Env, Handler, Input } from 'hono';

type EventMap = Record<string, unknown>;

/**
 * What `sse()` calls for each request: `c` is Hono's context, `em` the stream's emitter. Like an Express or Fastify
 * handler, it may use `em` and return nothing, return an emitter, or return an (async) iterable of events; or a
 * promise of these.
 */
export type SseHonoHandler<E extends Env, P extends string, I extends Input, Events extends EventMap> = (
  c: Context<E, P, I>,
  em: SseEmitter<Events>,
) => unknown;

/**
 * A Hono handler that answers with an event stream (see `sseResponse()` in @tidings/core for what `options`
 * hold: the emitter options, `registry`, `headers`, `onStreamError`). Headers set with `c.header()` or by
 * middleware are kept. Throws `SSE_ERR_INVALID_OPTION` at once for an option that cannot work.
 *
 * @example
 * app.get('/clock', sse((c, em) => { const t = setInterval(() => em.send(Date.now()), 1000); em.onCompletion(() => clearInterval(t)); }));
 */
export function sse<
  Events extends EventMap = EventMap,
  E extends Env = Env,
  P extends string = string,
  I extends Input = Input,
>(handler: SseHonoHandler<E, P, I, Events>, options: SseResponseOptions = {}): Handler<E, P, I> {
  const { registry: _registry, headers: _headers, onStreamError: _onStreamError, ...emitterOptions } = options;
  new SseEmitter(emitterOptions); // checks the options now (it throws), not on the first request; never bound
  return (c) => sseResponse<Events>(c.req.raw, (em) => handler(c, em), options);
}

/**
 * Decides whether the request of `c` may subscribe to `channel`: `true` admits it, `false`/`403` → 403, `401` → 401.
 * For a run, `channel` is `run:<id>` and `info` is `{ kind: 'run' }`.
 */
export type SseHonoAuthorize<E extends Env, P extends string, I extends Input> = (
  c: Context<E, P, I>,
  channel: string,
  info?: SseAuthorizeInfo,
) => SseAuthorization | Promise<SseAuthorization>;

/** Options of {@link sseChannel}: `sseResponse()`'s with the registry required, and `authorize`. */
export interface SseChannelOptions<E extends Env = Env, P extends string = string, I extends Input = Input>
  extends SseResponseOptions {
  registry: NonNullable<SseResponseOptions['registry']>;
  /** Asked before any byte of stream; refusals are answered 401/403 as plain JSON responses. */
  authorize?: SseHonoAuthorize<E, P, I>;
}

/**
 * A Hono handler that subscribes each request to a channel of `options.registry`, with replay after its
 * Last-Event-ID. `name` is the channel, or a function of the context (e.g. `(c) => c.req.param('room')`): a name
 * taken from the request that is not valid is answered 400 `SSE_ERR_INVALID_CHANNEL`. Then `authorize(c, name)`
 * (401/403) and the registry's `maxConnections` (503 with `Retry-After`), all before any byte of stream.
 */
export function sseChannel<
  Events extends EventMap = EventMap,
  E extends Env = Env,
  P extends string = string,
  I extends Input = Input,
>(name: string | ((c: Context<E, P, I>) => string), options: SseChannelOptions<E, P, I>): Handler<E, P, I> {
  const { authorize, ...rest } = options;
  return (c) =>
    sseChannelResponse<Events>(c.req.raw, typeof name === 'function' ? name(c) : name, {
      ...rest,
      authorize: askingWith(c, authorize),
    });
}

/** Options of {@link sseRun}: {@link SseChannelOptions}, and `location`. */
export interface SseRunOptions<E extends Env = Env, P extends string = string, I extends Input = Input>
  extends SseChannelOptions<E, P, I> {
  /**
   * Sent as `Content-Location` (e.g. `/runs/<id>`): where a client whose POST started the run resumes with GET. A
   * function of the context gives it per request (e.g. `(c) => \`/runs/${c.req.param('id')}\``).
   */
  location?: string | ((c: Context<E, P, I>) => string | undefined);
}

/**
 * A Hono handler that streams a run of `options.registry` (`registry.createRun()`): from its start (or after the
 * request's Last-Event-ID), then live, then the `end` frame, and the response ends, with `Tidings-Run: <id>` (and
 * `Content-Location` with `location`). `id` is the run's id, or a function of the context (e.g.
 * `(c) => c.req.param('id')`; no id is an invalid one); `location` likewise. Answered before any byte of stream, as plain responses: 400
 * `SSE_ERR_INVALID_RUN_ID` for an id that is not 1–256 URL-safe characters, `authorize(c, 'run:<id>', { kind:
 * 'run' })` 401/403, 404 `SSE_ERR_RUN_NOT_FOUND`, 204 to a client that has the whole of an ended run (EventSource
 * stops), 503 past `maxConnections`. The handler rejects with what `authorize` threw, and with
 * `SSE_ERR_INVALID_OPTION` for a `location` that cannot be a header value (Hono's error handling gets both).
 *
 * @example
 * app.get('/runs/:id', sseRun((c) => c.req.param('id'), { registry, location: (c) => `/runs/${c.req.param('id')}` }));
 */
export function sseRun<
  Events extends EventMap = EventMap,
  E extends Env = Env,
  P extends string = string,
  I extends Input = Input,
>(id: string | ((c: Context<E, P, I>) => string | undefined), options: SseRunOptions<E, P, I>): Handler<E, P, I> {
  const { authorize, location, ...rest } = options;
  return (c) =>
    sseRunResponse<Events>(c.req.raw, (typeof id === 'function' ? id(c) : id) ?? '', {
      ...rest,
      authorize: askingWith(c, authorize),
      location: typeof location === 'function' ? location(c) : location,
    });
}

/** Core's `authorize(request, channel, info)` asking Hono's `authorize(c, channel, info)` about this request. */
function askingWith<E extends Env, P extends string, I extends Input>(
  c: Context<E, P, I>,
  authorize: SseHonoAuthorize<E, P, I> | undefined,
): SseFetchAuthorize | undefined {
  return authorize && ((_request, channel, info) => authorize(c, channel, info));
}
