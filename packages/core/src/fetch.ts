/**
 * Tidings on Fetch-standard runtimes (Next.js route handlers, Hono, Bun, Deno, Workers, the edge runtime): a
 * `Request` in, a `Response` out, with the same emitter, channels, replay, modes, limits and slow-client policy as
 * on Node responses. The body is a {@link WebStreamTransport}. Free of Node-only imports.
 */
import {
  refusalOf,
  type SseAuthorization,
  type SseAuthorizeInfo,
  type SseNoContent,
  type SseRefusal,
} from './admission.js';
import { SseEmitter, streamOf } from './emitter.js';
import { checkEmitterOptions, type SseEmitterOptions } from './emitter-options.js';
import {
  SseClosedError,
  type SseInvalidChannelError,
  SseInvalidOptionError,
  SseSlowClientError,
  SseUnauthorizedError,
} from './errors.js';
import type { AnyEmitter } from './internal.js';
import { type ChannelRegistry, checkChannelName } from './registry.js';
import { acceptsOnlyJson, lastEventIdOf } from './request.js';
import { runtimeDefaults } from './runtime.js';
import { isEmitter, isSseSource, type SseIterable, startSource } from './source.js';
import { jsonAnswer, STREAM_HEADERS } from './transport.js';
import { WebStreamTransport } from './transport-web.js';

type EventMap = Record<string, unknown>;

/** Options of {@link sseResponse}: the emitter's, plus where the stream is counted and how its errors are told. */
export interface SseResponseOptions extends SseEmitterOptions {
  /**
   * Counts the stream among the registry's open streams (`stats()`, `close()` ends it); past the registry's
   * `maxConnections` the request is answered 503 with `Retry-After` before any stream.
   */
  registry?: ChannelRegistry;
  /** Headers added to the response (CORS, custom); the stream's own headers win over them. */
  headers?: ConstructorParameters<typeof Headers>[0];
  /**
   * Called when the stream ends with an error once the response was returned (a handler promise or iterable that
   * failed, `completeWithError`, a slow client). Default: `console.warn` for a slow client, else `console.error`.
   * Nothing of the error is ever sent to the client.
   */
  onStreamError?(err: unknown, request: Request): void;
}

/**
 * Decides whether `request` may subscribe to `channel` (before any byte of stream; may be async): `true` admits
 * it, `false` or `403` answers 403, `401` answers 401. For a run, `channel` is `run:<id>` and `info` is
 * `{ kind: 'run' }`.
 */
export type SseFetchAuthorize = (
  request: Request,
  channel: string,
  info?: SseAuthorizeInfo,
) => SseAuthorization | Promise<SseAuthorization>;

/** Options of {@link sseChannelResponse}: {@link SseResponseOptions} with the registry required, and `authorize`. */
export interface SseChannelResponseOptions extends SseResponseOptions {
  registry: ChannelRegistry;
  authorize?: SseFetchAuthorize;
}

/**
 * What {@link sseResponse} calls with the stream's emitter. It may use `em` (subscribe it, send on it) and return
 * nothing (or what `subscribe` returns), return `em` or another emitter it made, or return an (async) iterable of
 * events, pulled as fast as the client reads; or a promise of any of these.
 */
export type SseFetchHandler<Events extends EventMap = EventMap> = (em: SseEmitter<Events>) => unknown;

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache, no-transform' };

/**
 * Answers `request` with an event stream: a `Response` whose body is a pull-paced `ReadableStream` (returned at
 * once; the handler may still be at work). `Last-Event-ID` is the request's header, else its `?lastEventId=`
 * query value. The client leaving (`request.signal` aborting, or the body being cancelled) completes the emitter.
 * A request that accepts JSON but not an event stream gets the short-poll answer. Past the registry's
 * `maxConnections`, a plain 503 `Response` with `Retry-After`.
 *
 * Throws what the handler throws synchronously (nothing was answered yet), and `SSE_ERR_INVALID_OPTION` for an
 * option that cannot work. A handler promise that rejects after the response was returned completes the stream
 * with that error (reported to `onStreamError`, never sent).
 */
export function sseResponse<Events extends EventMap = EventMap>(
  request: Request,
  handler: SseFetchHandler<Events>,
  options: SseResponseOptions = {},
): Response {
  const { registry, headers, onStreamError, ...emitterOptions } = options;
  checkEmitterOptions(emitterOptions);
  try {
    registry?.admit();
  } catch (err) {
    return refusalResponse(refusalOf(err as SseInvalidChannelError));
  }
  const defaults = runtimeDefaults(emitterOptions);
  const transport = new WebStreamTransport(request.signal, {
    keepAlive: defaults.bodyKeepAlive,
    opening: defaults.opening,
  });
  const wantsJson = acceptsOnlyJson(request.headers.get('accept'));
  const mode = emitterOptions.mode ?? (wantsJson ? 'short-poll' : 'stream');
  const report = (err: unknown): void => {
    if (onStreamError !== undefined) onStreamError(err, request);
    else if (err instanceof SseSlowClientError) console.warn('[tidings] slow client closed:', err.message);
    else console.error('[tidings] event stream failed:', err);
  };

  /** Binds `em` to the body: it opens (or, when the client has already left, completes) and is tracked. */
  const bind = (em: AnyEmitter): void => {
    if (transport.closed) {
      em.completeWithError(new SseClosedError());
      return;
    }
    streamOf(em).bind({
      lastEventId: lastEventIdOf(request.headers.get('last-event-id'), request.url),
      wantsJson,
      transport: (events) => transport.connect(events),
    });
    if (em.state === 'completed') return;
    em.onError(report);
    registry?.track(em);
    if (request.method === 'HEAD') em.complete();
  };

  const em = new SseEmitter<Events>(defaults.emitter);
  /** Serves what the handler returned (or resolved to); see {@link SseFetchHandler}. */
  const serve = (result: unknown): void => {
    if (isEmitter(result) && result !== em) {
      em.complete(); // never bound: the handler made its own
      bind(result);
    } else if (isSseSource(result) && !isEmitter(result)) {
      bind(em);
      startSource(result as SseIterable).then(
        (started) => started.pipeTo(em as SseEmitter<never>),
        (err) => fail(err),
      );
    } else bind(em);
  };
  const fail = (err: unknown): void => {
    if (em.state === 'pending') bind(em);
    if (em.state !== 'completed') em.completeWithError(err);
    else report(err);
  };

  let result: unknown;
  try {
    result = handler(em);
  } catch (err) {
    transport.destroy();
    throw err;
  }
  if (isPromiseLike(result)) result.then(serve, fail);
  else serve(result);

  const head = new Headers(headers);
  for (const [name, value] of Object.entries(mode === 'short-poll' ? JSON_HEADERS : STREAM_HEADERS)) {
    head.set(name, value);
  }
  return new Response(request.method === 'HEAD' ? null : transport.body, { status: 200, headers: head });
}

/**
 * Subscribes `request` to channel `name` of `options.registry`, with replay after its Last-Event-ID: checks the
 * name (taken from the request: a bad one is answered 400 `SSE_ERR_INVALID_CHANNEL`), asks `authorize(request,
 * name)` (401/403), then answers with {@link sseResponse} (503 past `maxConnections`). Refusals are plain JSON
 * `Response`s. Rejects with what `authorize` threw; throws `SSE_ERR_INVALID_OPTION` without a registry.
 */
export async function sseChannelResponse<Events extends EventMap = EventMap>(
  request: Request,
  name: string,
  options: SseChannelResponseOptions,
): Promise<Response> {
  const { authorize, ...rest } = options;
  const registry = options.registry as ChannelRegistry | undefined;
  if (registry === undefined) {
    throw new SseInvalidOptionError('sseChannelResponse() needs the option `registry` (the channels live there).');
  }
  try {
    checkChannelName(name);
  } catch (err) {
    return refusalResponse(refusalOf(err as SseInvalidChannelError));
  }
  const verdict = authorize === undefined ? true : await authorize(request, name);
  if (verdict !== true) return refusalResponse(refusalOf(new SseUnauthorizedError(verdict === 401 ? 401 : 403)));
  return sseResponse<Events>(request, (em) => registry.channel(name).subscribe(em), rest);
}

/** A refusal (503, 401, 403, 400, 404) as a plain JSON `Response`; a 204 as an empty one. */
export function refusalResponse(refusal: SseRefusal | SseNoContent): Response {
  if (refusal.body === undefined) return new Response(null, { status: refusal.status, headers: refusal.headers });
  const answer = jsonAnswer(refusal.status, refusal.body, refusal.headers);
  return new Response(answer.text, { status: answer.status, headers: answer.headers });
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}
