/**
 * SseEmitter: one event stream to one client, modelled on Spring's SseEmitter. A thin public face: the user API
 * (send, comment, complete, listeners) delegating to one internal {@link SseStream} that owns the state machine,
 * delivery, backpressure and the slow-client policy.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { checkEmitterOptions, type SseEmitterOptions, type SseMode } from './emitter-options.js';
import { SseForeignEmitterError, SseInvalidOptionError } from './errors.js';
import type { SseEventBuilder } from './frame.js';
import { SseStream } from './stream.js';
import { publicState, type StreamBinding, type StreamHandle } from './stream-handle.js';
import type { SseRequest, SseResponse } from './transport-node.js';

export { EMITTER_DEFAULTS, type SseEmitterOptions, type SseMode } from './emitter-options.js';
export type { PolledEvent } from './mode-short-poll.js';

/** What {@link SseEmitter.attach} takes besides the request and response. */
export interface AttachOptions {
  /** Headers to add to the response (a framework's collected headers, CORS). */
  headers?: OutgoingHttpHeaders;
}

/** Lifecycle state: `pending` until attached to a response, `open` while streaming, then `completed` for good. */
export type SseEmitterState = 'pending' | 'open' | 'completed';

type EventMap = Record<string, unknown>;
/** The event names an emitter accepts: its map's keys, plus `message` (an unnamed event). */
export type EventName<Events extends EventMap> = (keyof Events & string) | 'message';
/** The data type for event `N` in `Events` (`unknown` for an unnamed event not in the map). */
export type EventData<Events extends EventMap, N extends string> = N extends keyof Events ? Events[N] : unknown;

/** Brands emitters so they are recognised across duplicate copies of the package (see `isEmitter`). */
export const EMITTER = Symbol.for('tidings.emitter');

/** How `attach()` binds a Node request/response: provided by the Node entry point, absent on Fetch runtimes. */
type NodeBinder = (req: SseRequest, res: SseResponse, headers: OutgoingHttpHeaders | undefined) => StreamBinding;
let bindNode: NodeBinder | undefined;

/** @internal Called once by the Node entry point. */
export function provideNodeBinding(binder: NodeBinder): void {
  bindNode = binder;
}

/**
 * The stream behind `em`: the internal interface channels, registries and hosts use. Throws
 * `SSE_ERR_FOREIGN_EMITTER` for an emitter made by another copy of the package, before anything is written.
 */
export let streamOf: (em: SseEmitter<never>) => StreamHandle & SseStream;

/**
 * A Server-Sent Events stream to one client. Sends made before it is attached to a response are queued
 * (bounded by `maxBufferedBytes`) and flushed in order when it opens. `Events` maps event names to data types.
 *
 * @example
 * const em = new SseEmitter<{ tick: number }>({ retry: 3000 }).attach(req, res);
 * await em.send(event({ event: 'tick', data: Date.now() }));
 */
export class SseEmitter<Events extends EventMap = EventMap> {
  /** Brand that recognises emitters across duplicate copies of the package (see `isEmitter`). */
  readonly [EMITTER] = true;
  readonly #stream: SseStream;

  static {
    streamOf = (em) => {
      if (!(typeof em === 'object' && em !== null && #stream in em)) throw new SseForeignEmitterError();
      return em.#stream;
    };
  }

  /** Throws `SSE_ERR_INVALID_OPTION` for an option that cannot work. */
  constructor(options: SseEmitterOptions = {}) {
    this.#stream = new SseStream(this, checkEmitterOptions(options));
  }

  /** `pending` until attached, `open` while streaming, `completed` once ended for any reason. */
  get state(): SseEmitterState {
    return publicState(this.#stream.phase);
  }

  /** The client's `Last-Event-ID` header, else its `?lastEventId=` query value; undefined when absent or ignored. */
  get lastEventId(): string | undefined {
    return this.#stream.lastEventId;
  }

  /** How this emitter carries events; known once attached (or when set as an option). */
  get mode(): SseMode | undefined {
    return this.#stream.mode;
  }

  /**
   * Binds the emitter to a Node request/response and opens the stream (headers go out at once). Adapters call
   * this for you; call it yourself with plain `node:http`. Throws `SSE_ERR_ALREADY_ATTACHED` on a second call
   * and `SSE_ERR_HEADERS_SENT` when the response has already begun.
   */
  attach(req: SseRequest, res: SseResponse, options: AttachOptions = {}): this {
    if (bindNode === undefined) {
      throw new SseInvalidOptionError('attach() binds a Node response; on a Fetch runtime use sseResponse().');
    }
    this.#stream.bind(bindNode(req, res, options.headers));
    return this;
  }

  /**
   * Sends an event made with `event()`, or any other value as the data of an unnamed event (never read as
   * event fields). Resolves once the socket accepted the frame (after `drain` when the client is behind);
   * rejects with `SSE_ERR_CLOSED` once the client is gone or the emitter completed, `SSE_ERR_SERIALIZE` when
   * the data cannot be serialized (the stream stays usable). Rejections are pre-handled: an un-awaited send
   * never crashes the process. Throws `SSE_ERR_INVALID_FIELD` for a field that could forge lines.
   */
  send<N extends EventName<Events>>(ev: SseEventBuilder<N, EventData<Events, N>>): Promise<void>;
  send<D>(data: D extends SseEventBuilder<string, unknown> ? never : D): Promise<void>;
  send(value: unknown): Promise<void> {
    return this.#stream.send(value);
  }

  /** Sends a comment (`: text` lines, ignored by clients); no text sends a bare `:`. */
  comment(text?: string): Promise<void> {
    return this.#stream.comment(text);
  }

  /** Ends the stream once queued frames are flushed (for a pending emitter: once it is attached). Idempotent. */
  complete(): void {
    this.#stream.complete();
  }

  /**
   * Ends the stream because of `err`: `onError` listeners get it, the response ends, and nothing of the error
   * (message, stack) is written to the client.
   */
  completeWithError(err: unknown): void {
    this.#stream.completeWithError(err);
  }

  /** Runs `cb` when the timeout fires, before completion: it may still send a last event. */
  onTimeout(cb: () => void): this {
    this.#stream.onTimeout(cb);
    return this;
  }

  /** Runs `cb` exactly once when the emitter completes for any reason (queued if it already has). */
  onCompletion(cb: () => void): this {
    this.#stream.onCompletion(cb);
    return this;
  }

  /** Runs `cb` with the error on `completeWithError` or when the client is closed as slow. */
  onError(cb: (err: unknown) => void): this {
    this.#stream.onError(cb);
    return this;
  }
}
