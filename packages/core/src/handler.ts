/**
 * What every framework adapter shares, written once: adapter options as defaults for each stream, opening,
 * attaching and tracking emitters, serving what a handler returns (an SseEmitter, an async iterable or a
 * Readable) with Spring's semantics, errors before the first byte versus after it, and graceful shutdown.
 * An adapter only describes how its framework hands over a request and a response ({@link SseExchange}).
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { SseEmitter, type SseEmitterOptions } from './emitter.js';
import { SseHeadersSentError, SseInvalidSourceError } from './errors.js';
import type { ChannelRegistry } from './registry.js';
import type { SseRequest, SseResponse } from './sink.js';
import { isEmitter, isSseSource, type SseIterable, startSource } from './source.js';

// biome-ignore lint/suspicious/noExplicitAny: a host holds emitters of any event map
type AnyEmitter = SseEmitter<any>;
type EventMap = Record<string, unknown>;

/**
 * Options of an adapter (`sse()` for Express, `ssePlugin` for Fastify): the emitter options are the defaults of
 * every stream it opens; per-call options (`res.sse(opts)`) override them key by key.
 */
export interface SseHostOptions extends SseEmitterOptions {
  /** Every stream the adapter opens is tracked by this registry: it counts in `stats()` and `registry.close()` ends it. */
  registry?: ChannelRegistry;
  /**
   * Called when a stream that has started ends with an error (a failing iterable, `completeWithError`, a slow
   * client). Default: the framework's logger (Fastify's `request.log`, `console.error` for Express). Nothing of
   * the error is ever sent to the client.
   */
  onStreamError?(err: unknown, req: SseRequest): void;
}

/** One request/response as an adapter hands it to the host. */
export interface SseExchange {
  readonly req: SseRequest;
  readonly res: SseResponse;
  /**
   * Runs right before the stream's first byte, once per stream. Returns headers the framework collected that the
   * stream must keep (Fastify: `reply.getHeaders()`, then it hijacks the reply here).
   */
  beforeStream?(): OutgoingHttpHeaders | undefined;
  /** Logs an error a started stream ended with, unless the `onStreamError` option is given. */
  logError(err: unknown): void;
}

/** Headers that describe one message or one connection; a framework's collected copy of them never reaches a stream. */
const MESSAGE_HEADERS = new Set([
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'keep-alive',
]);

/**
 * The streams of one adapter instance. Every stream opens through {@link SseHost.attach}: the single place where
 * admission checks (connection limits, authorization) belong, so each adapter gets them without copying.
 */
export class SseHost {
  readonly #defaults: SseEmitterOptions;
  readonly #registry: ChannelRegistry | undefined;
  readonly #onStreamError: ((err: unknown, req: SseRequest) => void) | undefined;
  /** Open streams by response: one stream per response. */
  readonly #streams = new Map<SseResponse, AnyEmitter>();
  #closed = false;

  /** Throws `SSE_ERR_INVALID_OPTION` at once (not on the first request) when an emitter option cannot work. */
  constructor(options: SseHostOptions = {}) {
    const { registry, onStreamError, ...defaults } = options;
    new SseEmitter(defaults); // validates the defaults; the emitter itself is discarded
    this.#defaults = defaults;
    this.#registry = registry;
    this.#onStreamError = onStreamError;
  }

  /** Streams open now (attached and not completed). */
  get openStreams(): number {
    return this.#streams.size;
  }

  /** The adapter's defaults with `overrides` applied key by key (an `undefined` value keeps the default). */
  emitterOptions(overrides: SseEmitterOptions = {}): SseEmitterOptions {
    const merged: Record<string, unknown> = { ...this.#defaults };
    for (const [key, value] of Object.entries(overrides)) if (value !== undefined) merged[key] = value;
    return merged as SseEmitterOptions;
  }

  /**
   * `res.sse(opts)` / `reply.sse(opts)`: a new emitter with the adapter's defaults and `overrides`, attached to the
   * exchange now (headers go out at once). Throws `SSE_ERR_HEADERS_SENT` when the response has already begun and
   * `SSE_ERR_INVALID_OPTION` for an option that cannot work.
   */
  open<Events extends EventMap = EventMap>(exchange: SseExchange, overrides?: SseEmitterOptions): SseEmitter<Events> {
    return this.attach(exchange, new SseEmitter<Events>(this.emitterOptions(overrides)));
  }

  /**
   * Attaches `em` to the exchange and tracks it (here and in the registry) until it completes. After
   * {@link SseHost.close} the stream is completed at once. Throws `SSE_ERR_HEADERS_SENT` when the response has
   * already begun, `SSE_ERR_ALREADY_ATTACHED` when `em` serves another response.
   */
  attach<E extends AnyEmitter>(exchange: SseExchange, em: E): E {
    const { req, res } = exchange;
    if (res.headersSent) throw new SseHeadersSentError();
    em.attach(req, res, { headers: keptHeaders(exchange.beforeStream?.()) });
    if (em.state === 'completed') return em;
    this.#streams.set(res, em);
    em.onCompletion(() => this.#streams.delete(res));
    em.onError((err) => this.#reportError(exchange, err));
    this.#registry?.track(em);
    if (this.#closed) em.complete();
    return em;
  }

  /**
   * Runs a handler and serves what it returns (or resolves to), Spring style: an emitter stays open until it
   * completes (if the handler did not attach it, it is attached now); an iterable or object-mode Readable is
   * pulled as fast as the client drains and the stream completes when it ends; `undefined` means the handler
   * answered by itself (`res.sse()`, a JSON reply...).
   *
   * Rejects with the error, for the framework's error handling, when the handler (or the iterable's first value)
   * fails before the stream's first byte; `SSE_ERR_INVALID_SOURCE` when the result is not a stream. Once this
   * response's stream has started, an error completes it with that error instead (logged, never sent).
   */
  async serve(exchange: SseExchange, handler: () => unknown): Promise<void> {
    try {
      const result = await handler();
      if (result === undefined) return;
      if (isEmitter(result)) {
        this.#adopt(exchange, result);
        return;
      }
      if (!isSseSource(result)) throw new SseInvalidSourceError(result);
      const started = await startSource(result as SseIterable); // emitters were served above
      void started.pipeTo(this.open(exchange));
    } catch (err) {
      const em = this.#streams.get(exchange.res);
      if (em === undefined) throw err;
      em.completeWithError(err);
    }
  }

  /**
   * Graceful shutdown: completes every open stream (queued events are flushed first) and resolves once each of
   * their responses has closed. Streams opened afterwards are completed at once.
   */
  async close(): Promise<void> {
    this.#closed = true;
    const closing = [...this.#streams].map(([res, em]) => {
      const closed = new Promise<void>((resolve) => res.once('close', () => resolve()));
      em.complete();
      return closed;
    });
    await Promise.all(closing);
  }

  /** A handler returned an emitter: attach it unless it already serves this response. */
  #adopt(exchange: SseExchange, em: AnyEmitter): void {
    if (this.#streams.get(exchange.res) === em) return;
    // Completed before it was attached (early sends, then complete()): attaching flushes them and ends.
    const unattached = em.state === 'pending' || (em.state === 'completed' && !exchange.res.headersSent);
    if (unattached) this.attach(exchange, em);
  }

  #reportError(exchange: SseExchange, err: unknown): void {
    if (this.#onStreamError !== undefined) this.#onStreamError(err, exchange.req);
    else exchange.logError(err);
  }
}

function keptHeaders(collected: OutgoingHttpHeaders | undefined): OutgoingHttpHeaders | undefined {
  if (collected === undefined) return undefined;
  const kept: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(collected)) {
    if (!MESSAGE_HEADERS.has(name.toLowerCase())) kept[name] = value;
  }
  return kept;
}
