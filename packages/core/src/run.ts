/**
 * Run: a resumable stream of one job (an LLM answer, a build log, an export). The producer appends to the run's
 * log whether or not anyone listens; a client subscribes at any time and gets the whole run from its start (or
 * after its Last-Event-ID), then live, exactly once and in order; when the run is over every subscriber gets an
 * `end` frame and its response ends. Holding, replaying and delivering are a {@link Channel}'s, over a
 * {@link RunLog}: one machinery, each event encoded once.
 */
import { Channel } from './channel.js';
import type { EventData, EventName, SseEmitter } from './emitter.js';
import { SseRunEndedError, SseRunFullError } from './errors.js';
import { type Serializer, type SseEvent, type SseEventBuilder, toEvent } from './frame.js';
import { type AnyEmitter, rejected, unref } from './internal.js';
import { RunLog } from './run-log.js';
import type { StreamHandle } from './stream-handle.js';

type EventMap = Record<string, unknown>;

/** Where a run is: `running` until `end()` (`ended`) or `cancel()` (`cancelled`, also after `idleTimeout`). */
export type RunState = 'running' | 'ended' | 'cancelled';

/** Options of `registry.createRun()`. */
export interface RunOptions {
  /** The run's id: 1–256 URL-safe characters (`A–Z a–z 0–9 - _ . ~`). Default: a random UUID. */
  id?: string;
  /** Milliseconds the run is kept after it ended (its log replayable, `findRun` finds it). Default 10 min. */
  ttl?: number;
  /** Most events a run holds (its log is never trimmed); appending past it rejects `SSE_ERR_RUN_FULL`. Default 10,000. */
  maxEvents?: number;
  /** Milliseconds without an append after which the run is cancelled with reason `"stalled"`. Default 5 min. */
  idleTimeout?: number;
}

/** The defaults of {@link RunOptions}. */
export const RUN_DEFAULTS = Object.freeze({
  /** 10 minutes after the run ended. */
  ttl: 10 * 60_000,
  /** 10,000 events. */
  maxEvents: 10_000,
  /** 5 minutes without an append. */
  idleTimeout: 5 * 60_000,
});

/** The data of a run's `end` frame. */
export type RunEnd = { state: 'ended' } | { state: 'cancelled'; reason?: string };

/** What a run needs from the registry that made it. */
export interface RunContext {
  readonly serialize: Serializer | undefined;
  /** Makes a run's event ids unique to this registry instance. */
  readonly idPrefix: string;
  /** Counts a subscriber among the registry's open streams. */
  track(stream: StreamHandle): void;
  /** The run's `ttl` after its end has passed: forget it. */
  expire(run: AnyRun): void;
}

/** Options of a run once checked (see {@link RunOptions}). */
export interface RunSettings {
  readonly ttl: number;
  readonly maxEvents: number;
  readonly idleTimeout: number;
}

// biome-ignore lint/suspicious/noExplicitAny: internal holders serve runs of every event map
type AnyRun = Run<any>;

/** @internal The host's question to a run's log: does a client with `lastEventId` have the whole, ended run? */
export let hasWholeRun: (run: AnyRun, lastEventId: string | undefined) => boolean;

/**
 * One job's stream, made by `registry.createRun()`. `Events` maps event names to data types, as for `SseEmitter`.
 *
 * @example
 * const run = registry.createRun();
 * for await (const token of model.generate(prompt, { signal: run.signal })) await run.append(token);
 * await run.end();
 */
export class Run<Events extends EventMap = EventMap> {
  /** The run's id (URL-safe). */
  readonly id: string;
  readonly #settings: RunSettings;
  readonly #ctx: RunContext;
  readonly #log: RunLog;
  readonly #channel: Channel;
  readonly #abort = new AbortController();
  #state: RunState = 'running';
  #lastAppend = Date.now();
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  static {
    hasWholeRun = (run, lastEventId) => run.#log.hasAllUpTo(lastEventId);
  }

  /** @internal Use `registry.createRun()`. */
  constructor(id: string, settings: RunSettings, ctx: RunContext) {
    this.id = id;
    this.#settings = settings;
    this.#ctx = ctx;
    let log: RunLog | undefined;
    this.#channel = new Channel(`run:${id}`, {
      // The end frame and an `end(final)` event come on top of maxEvents.
      makeLog: (_name, deliver) => {
        log = new RunLog(settings.maxEvents + 2, ctx.idPrefix, ctx.serialize, deliver);
        return log;
      },
      // A run's channel is not the registry's: it is never dropped or revived; the run store forgets the run.
      revive: (channel) => channel,
      idle: () => {},
      busy: () => {},
      track: (stream) => ctx.track(stream),
      onGap: () => {}, // a run's log reads the whole run for an id it does not hold: never a gap
    });
    this.#log = log!;
    this.#armIdleTimer(settings.idleTimeout);
  }

  /** `running`, then `ended` or `cancelled` for good. */
  get state(): RunState {
    return this.#state;
  }

  /** For the producer: aborted when the run is cancelled (by `cancel()` or after `idleTimeout`), with the reason. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /**
   * Appends an event (made with `event()`) or data (anything else) to the run and sends it to every subscriber,
   * encoded once; the run gives the id (an id you set is not used). Resolves to that id. Rejects
   * `SSE_ERR_RUN_ENDED` once the run is over, `SSE_ERR_RUN_FULL` past `maxEvents`, `SSE_ERR_SERIALIZE` when the
   * data cannot be serialized (nothing appended); throws `SSE_ERR_INVALID_FIELD` for a bad field. Rejections are
   * pre-handled.
   */
  append<N extends EventName<Events>>(ev: SseEventBuilder<N, EventData<Events, N>>): Promise<string>;
  append<D>(data: D extends SseEventBuilder<string, unknown> ? never : D): Promise<string>;
  append(value: unknown): Promise<string> {
    if (this.#state !== 'running') return rejected(new SseRunEndedError(this.id, this.#state));
    if (this.#log.events >= this.#settings.maxEvents) {
      return rejected(new SseRunFullError(this.id, this.#settings.maxEvents));
    }
    this.#lastAppend = Date.now();
    return this.#record(value);
  }

  /**
   * Ends the run: appends `final` when given (even past `maxEvents`), then the `end` frame; every subscriber's
   * response ends after it. Does nothing once the run is over. Rejects `SSE_ERR_SERIALIZE` when `final` cannot
   * be serialized (the run still ends); throws `SSE_ERR_INVALID_FIELD` for a bad field of `final` (it does not).
   */
  end<N extends EventName<Events>>(final?: SseEventBuilder<N, EventData<Events, N>>): Promise<void>;
  end<D>(final?: D extends SseEventBuilder<string, unknown> ? never : D): Promise<void>;
  end(final?: unknown): Promise<void> {
    if (this.#state !== 'running') return Promise.resolve();
    const last = final === undefined ? undefined : this.#record(final);
    this.#finish({ state: 'ended' });
    return last === undefined ? Promise.resolve() : last.then(() => undefined);
  }

  /**
   * Cancels the run: `signal` aborts with `reason`, every subscriber gets the `end` frame
   * (`{"state":"cancelled","reason":…}`) and its response ends. Does nothing once the run is over.
   */
  cancel(reason?: string): Promise<void> {
    if (this.#state === 'running') {
      this.#finish({ state: 'cancelled', reason });
      this.#abort.abort(reason);
    }
    return Promise.resolve();
  }

  /**
   * Subscribes `em` to the run: the whole run from its start (or after `em.lastEventId`), then live, exactly once
   * and in order; after the `end` frame `em` completes. A client that already has everything gets the `end` frame
   * again. Returns a function that unsubscribes. Throws `SSE_ERR_FOREIGN_EMITTER` for an emitter made by another
   * copy of the package.
   */
  subscribe(em: SseEmitter<never> | AnyEmitter): () => void {
    return this.#channel.subscribe(em);
  }

  /** Appends without checks: the run gives every id, so a client can always resume by it. */
  #record(value: unknown): Promise<string> {
    const { id: _ignored, ...fields }: SseEvent = toEvent(value);
    return this.#log.append(fields, {}) as Promise<string>;
  }

  #finish(end: RunEnd): void {
    this.#state = end.state;
    clearTimeout(this.#idleTimer);
    void this.#log.append({ event: 'end', data: JSON.stringify(end) }, { final: true });
    unref(setTimeout(() => this.#ctx.expire(this), this.#settings.ttl));
  }

  /**
   * One timer for the run, not one per append: when it fires early (appends came meanwhile) it is set again for
   * what is left of `idleTimeout` after the last append.
   */
  #armIdleTimer(delay: number): void {
    this.#idleTimer = unref(
      setTimeout(() => {
        const idle = Date.now() - this.#lastAppend;
        const left = this.#settings.idleTimeout - idle;
        if (left > 0) this.#armIdleTimer(left);
        else void this.cancel('stalled');
      }, delay),
    );
  }
}
