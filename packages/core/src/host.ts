/**
 * SseHost: what every framework adapter shares, written once: adapter options as defaults for each stream, opening,
 * attaching and tracking emitters, serving what a handler returns (an SseEmitter, an async iterable or a
 * Readable) with Spring's semantics, errors before the first byte versus after it, and graceful shutdown.
 * An adapter only describes how its framework hands over a request and a response ({@link SseExchange}).
 *
 * The contract adapters implement (`SseExchange`, the options, the helper signatures) is in host-contract.ts.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import {
  type AdmissionError,
  ConnectionLimit,
  refusalOf,
  type SseAuthorize,
  type SseAuthorizeInfo,
  type SseNoContent,
  type SseRefusal,
  writeRefusal,
} from './admission.js';
import { SseEmitter, streamOf } from './emitter.js';
import { checkEmitterOptions, type SseEmitterOptions } from './emitter-options.js';
import {
  SseClosedError,
  SseHeadersSentError,
  type SseInvalidChannelError,
  SseInvalidOptionError,
  SseInvalidSourceError,
  SseSlowClientError,
  type SseTooManyConnectionsError,
  SseUnauthorizedError,
} from './errors.js';
import type { SseExchange, SseHostOptions, StreamLogLevel } from './host-contract.js';
import { openRunStream, type RunStreamOptions } from './host-runs.js';
import type { AnyEmitter } from './internal.js';
import { type ChannelRegistry, checkChannelNames } from './registry.js';
import { isEmitter, isSseSource, type SseIterable, startSource } from './source.js';
import type { StreamHandle } from './stream-handle.js';
import { isResponseGone, type SseRequest, type SseResponse } from './transport-node.js';

type EventMap = Record<string, unknown>;

/** What an open stream's completion needs: its response (to forget it) and where its error is reported. */
interface StreamRecord {
  readonly res: SseResponse;
  readonly req: SseRequest;
  readonly logError: (err: unknown, level: StreamLogLevel) => void;
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
  readonly #limit: ConnectionLimit;
  readonly #authorize: SseAuthorize | undefined;
  /** Open streams by response: one stream per response. */
  readonly #streams = new Map<SseResponse, AnyEmitter>();
  /** The same streams by their internal stream, for {@link SseHost.#onStreamFinish}. */
  readonly #open = new Map<StreamHandle, StreamRecord>();
  /**
   * One completion callback for every stream (it gets the stream): forgets it and reports its error.
   * Two closures per stream (completion, error) cost more than the entry in `#open`.
   */
  readonly #onStreamFinish = (stream: StreamHandle, failed: boolean, err: unknown): void => {
    const record = this.#open.get(stream);
    if (record === undefined) return;
    this.#open.delete(stream);
    this.#streams.delete(record.res);
    if (failed) this.#reportError(record.req, record.logError, err);
  };
  #closed = false;

  /** Throws `SSE_ERR_INVALID_OPTION` at once (not on the first request) when an emitter option cannot work. */
  constructor(options: SseHostOptions = {}) {
    const { registry, onStreamError, maxConnections, retryAfter, authorize, ...defaults } = options;
    checkEmitterOptions(defaults);
    this.#defaults = defaults;
    this.#registry = registry;
    this.#onStreamError = onStreamError;
    this.#limit = new ConnectionLimit({ maxConnections, retryAfter });
    this.#authorize = authorize;
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
   * {@link SseHost.close} the stream is completed at once; when the client has already left, `em` is completed with
   * `SSE_ERR_CLOSED` and nothing is written. Throws `SSE_ERR_HEADERS_SENT` when the response has
   * already begun, `SSE_ERR_ALREADY_ATTACHED` when `em` serves another response.
   *
   * This is the admission point: when this host or its registry already holds `maxConnections` streams, the
   * request is answered 503 with `Retry-After` (no byte of stream) and `em` is completed with an
   * `SSE_ERR_TOO_MANY_CONNECTIONS` error (its `onError` listeners get it; sends on it reject with `SSE_ERR_CLOSED`).
   */
  attach<E extends AnyEmitter>(exchange: SseExchange, em: E): E {
    const { req, res } = exchange;
    const stream = streamOf(em); // an emitter of another copy of the package is refused before any byte
    if (res.headersSent) throw new SseHeadersSentError();
    if (isResponseGone(res)) {
      // The client left while the handler was at work: no stream, and a source piped into `em` is stopped.
      em.completeWithError(new SseClosedError());
      return em;
    }
    const refused = this.#checkCapacity();
    if (refused !== undefined) {
      this.#refuse(exchange, refused);
      em.completeWithError(refused);
      return em;
    }
    em.attach(req, res, { headers: keptHeaders(exchange.beforeStream?.()) });
    if (em.state === 'completed') return em;
    this.#streams.set(res, em);
    // Keep only the logger: holding the exchange would keep the framework's request and reply objects alive
    // for as long as the stream is open (about 1 KiB per Fastify stream).
    this.#open.set(stream, { res, req, logError: exchange.logError });
    stream.onFinish(this.#onStreamFinish);
    this.#registry?.track(em);
    // After shutdown, and for HEAD requests (which carry no body), the stream ends right after its headers.
    if (this.#closed || req.method === 'HEAD') em.complete();
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
    // Full: refuse before the handler starts any work for a stream that cannot open.
    const refused = this.#checkCapacity();
    if (refused !== undefined) {
      this.#refuse(exchange, refused);
      return;
    }
    try {
      const result = await handler();
      if (result === undefined) return;
      if (isEmitter(result)) {
        this.#adopt(exchange, result);
        return;
      }
      if (!isSseSource(result)) {
        // The handler already answered, e.g. `channel.subscribe(reply.sse())` returns its unsubscribe function:
        // the stream is open (or its short-poll answer sent), and the return value is not meant as a stream.
        if (exchange.res.headersSent) return;
        throw new SseInvalidSourceError(result);
      }
      const started = await startSource(result as SseIterable); // emitters were served above
      const em = new SseEmitter(this.emitterOptions());
      try {
        this.attach(exchange, em);
      } catch (err) {
        em.completeWithError(err); // piped into a completed emitter, the source is closed: its finally blocks run
        throw err;
      } finally {
        void started.pipeTo(em);
      }
    } catch (err) {
      const em = this.#streams.get(exchange.res);
      if (em === undefined) throw err;
      em.completeWithError(err);
    }
  }

  /**
   * The channel helper (`res.sseChannel(name)` / `reply.sseChannel(name)`): checks `name` (taken from the request,
   * so a bad one is answered 400 `SSE_ERR_INVALID_CHANNEL`, not thrown), asks `authorize(req, name)` (a refusal is
   * answered 401/403), then opens a stream with `overrides` (503 past `maxConnections`) and subscribes it to the
   * registry's channel, with replay after the client's Last-Event-ID. Resolves to the emitter, or `undefined` when
   * no stream opened (refused, the client left while it was being authorized, or the host is shutting down).
   * Rejects with what `authorize` threw, and with `SSE_ERR_INVALID_OPTION` when the adapter was given no `registry`.
   */
  async openChannelStream<Events extends EventMap = EventMap>(
    exchange: SseExchange,
    name: string,
    overrides?: SseEmitterOptions,
  ): Promise<SseEmitter<Events> | undefined> {
    return this.openChannelsStream<Events>(exchange, [name], overrides);
  }

  /**
   * The helper for a stream on several channels (`res.sseChannels(names)` / `reply.sseChannels(names)`): like
   * {@link SseHost.openChannelStream}, with every name checked (400 before any byte if one is bad) and `authorize`
   * asked once per channel (the first refusal is answered), then `registry.subscribe(em, names)`. Resolves and
   * rejects like `openChannelStream`.
   */
  async openChannelsStream<Events extends EventMap = EventMap>(
    exchange: SseExchange,
    names: readonly string[],
    overrides?: SseEmitterOptions,
  ): Promise<SseEmitter<Events> | undefined> {
    const registry = this.#registry;
    if (registry === undefined) {
      throw new SseInvalidOptionError('Subscribing a request to a channel needs the adapter option `registry`.');
    }
    try {
      checkChannelNames(names);
    } catch (err) {
      this.#refuse(exchange, err as SseInvalidChannelError);
      return undefined;
    }
    const authorize = exchange.authorize ?? this.#authorize?.bind(undefined, exchange.req);
    for (const name of authorize === undefined ? [] : new Set(names)) {
      const verdict = await authorize!(name);
      if (verdict !== true) {
        this.#refuse(exchange, new SseUnauthorizedError(verdict === 401 ? 401 : 403));
        return undefined;
      }
    }
    const em = this.open<Events>(exchange, overrides);
    if (em.state === 'completed') return undefined;
    registry.subscribe(em, names);
    return em;
  }

  /**
   * The run helper (`res.sseRun(id)` / `reply.sseRun(id)`): 400 `SSE_ERR_INVALID_RUN_ID` for an id that is not 1–256
   * URL-safe characters, `authorize(req, 'run:<id>', { kind: 'run' })` (401/403), 404 `SSE_ERR_RUN_NOT_FOUND`, 204
   * for a client that has the whole of an ended run, else a stream (503 past `maxConnections`) subscribed to the
   * run, with `Tidings-Run: <id>` and, given `location`, `Content-Location`. Resolves to the emitter, or `undefined`
   * when none opened. Rejects with what `authorize` threw, and `SSE_ERR_INVALID_OPTION` without a `registry`.
   */
  async openRunStream<Events extends EventMap = EventMap>(
    exchange: SseExchange,
    id: string,
    options?: RunStreamOptions,
  ): Promise<SseEmitter<Events> | undefined> {
    const registry = this.#registry;
    if (registry === undefined) {
      throw new SseInvalidOptionError('Streaming a run to a request needs the adapter option `registry`.');
    }
    const authorize = this.#authorize;
    const host = {
      registry,
      authorize: (ex: SseExchange, name: string, info: SseAuthorizeInfo) =>
        ex.authorize?.(name, info) ?? authorize?.(ex.req, name, info) ?? true,
      answer: (ex: SseExchange, refusal: SseRefusal | SseNoContent) => this.#answer(ex, refusal),
      open: <E extends EventMap>(ex: SseExchange, overrides: SseEmitterOptions) => this.open<E>(ex, overrides),
    };
    return openRunStream<Events>(host, exchange, id, options);
  }

  /** @deprecated Renamed {@link SseHost.openChannelStream} (it admits, opens and subscribes); same behaviour. */
  subscribe<Events extends EventMap = EventMap>(
    exchange: SseExchange,
    name: string,
    overrides?: SseEmitterOptions,
  ): Promise<SseEmitter<Events> | undefined> {
    return this.openChannelStream<Events>(exchange, name, overrides);
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

  /** The reason a new stream cannot open now (this host or its registry is full), or undefined. */
  #checkCapacity(): SseTooManyConnectionsError | undefined {
    try {
      this.#limit.admit(this.#streams.size);
      this.#registry?.admit();
      return undefined;
    } catch (err) {
      return err as SseTooManyConnectionsError;
    }
  }

  #refuse(exchange: SseExchange, err: AdmissionError): void {
    this.#answer(exchange, refusalOf(err));
  }

  #answer(exchange: SseExchange, refusal: SseRefusal | SseNoContent): void {
    if (exchange.refuse !== undefined) exchange.refuse(refusal);
    else writeRefusal(exchange.res, refusal);
  }

  #reportError(req: SseRequest, logError: StreamRecord['logError'], err: unknown): void {
    if (this.#onStreamError !== undefined) this.#onStreamError(err, req);
    else logError(err, err instanceof SseSlowClientError ? 'warn' : 'error');
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
