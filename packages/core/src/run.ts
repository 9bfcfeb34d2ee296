/**
 * Run: a resumable stream of one job (an LLM answer, a build log, an export). The producer appends to the run's
 * log whether or not anyone listens; a client subscribes at any time and gets the whole run from its start (or
 * after its Last-Event-ID), then live, exactly once and in order; when the run is over every subscriber gets an
 * `end` frame and its response ends. Holding, replaying and delivering are a {@link Channel}'s, over a
 * {@link RunLog}: one machinery, each event encoded once.
 */
import type { RunAdapter, StoredRun } from './adapter.js';
import { Channel } from './channel.js';
import type { EventData, EventName, SseEmitter } from './emitter.js';
import { isSseError, SseRunEndedError } from './errors.js';
import { type Serializer, type SseEvent, type SseEventBuilder, toEvent } from './frame.js';
import { type AnyEmitter, handled, rejected, unref } from './internal.js';
import type { IdSource } from './log-memory.js';
import { type RunChannelLog, type RunEnd, RunLog, type RunLogEvents } from './run-log.js';
import { endOfStored, RemoteRunLog } from './run-log-remote.js';
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

/** Pause before an end the adapter's store did not take (it did not answer) is sent again. */
const END_RETRY_MS = 1_000;

/** The defaults of {@link RunOptions}. */
export const RUN_DEFAULTS = Object.freeze({
  /** 10 minutes after the run ended. */
  ttl: 10 * 60_000,
  /** 10,000 events. */
  maxEvents: 10_000,
  /** 5 minutes without an append. */
  idleTimeout: 5 * 60_000,
});

export type { RunEnd } from './run-log.js';

/** What a run needs from the registry that made it. */
export interface RunContext {
  readonly serialize: Serializer | undefined;
  /** The registry's id source: a run's event ids are unique within the registry, across its runs and channels. */
  readonly ids: IdSource;
  /** The adapter's shared store of runs; undefined: runs live in this process. */
  readonly store: RunAdapter | undefined;
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

/** @internal The run store's word to a run it found again in the adapter's store: what the store says of it now. */
export let learnRun: (run: AnyRun, stored: StoredRun) => void;

/** @internal The run's timers, live feed and retries in this process stop (the registry closed, or the store lost it). */
export let closeRun: (run: AnyRun) => void;

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
  readonly #log: RunChannelLog;
  /** The same log, when it is in the adapter's store. */
  readonly #remote: RemoteRunLog | undefined;
  readonly #channel: Channel;
  readonly #abort = new AbortController();
  #state: RunState = 'running';
  /** When this node last saw an append (its own or, while it listens, another node's). */
  #lastAppend = Date.now();
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Why the run's creation in the store failed: what every append and end rejects with. */
  #failure: unknown;
  /** Nothing of the run goes on in this process (timers, feed, retries): the registry closed, or the store lost it. */
  #closed = false;

  static {
    hasWholeRun = (run, lastEventId) => run.#log.hasAllUpTo(lastEventId);
    learnRun = (run, stored) => run.#learn(stored);
    closeRun = (run) => run.#stop();
  }

  /**
   * @internal Use `registry.createRun()` or `registry.findRun()`. With the context's store, `origin` is the run's
   * creation there (this node is the producer's) or what the store said of a run found there.
   */
  constructor(id: string, settings: RunSettings, ctx: RunContext, origin?: { created: Promise<void> } | StoredRun) {
    this.id = id;
    this.#settings = settings;
    this.#ctx = ctx;
    // Made here (the producer's node: the run's creation in the store) or found in the store.
    const created = origin !== undefined && 'created' in origin ? origin.created : undefined;
    const found = origin !== undefined && !('created' in origin) ? origin : undefined;
    const events: RunLogEvents = {
      onAppend: () => {
        this.#lastAppend = Date.now();
      },
      onEnd: (end) => this.#over(end),
    };
    let log: RunChannelLog | undefined;
    this.#channel = new Channel(`run:${id}`, {
      makeLog: (_name, deliver) => {
        log =
          ctx.store === undefined
            ? new RunLog(id, settings.maxEvents, ctx.ids, ctx.serialize, deliver, events)
            : new RemoteRunLog(ctx.store, id, ctx.serialize, deliver, events, created);
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
    this.#remote = log instanceof RemoteRunLog ? log : undefined;
    if (created !== undefined) {
      // The producer's node hears a cancel from any other node on the run's live feed.
      this.#log.pin();
      created.catch((err: unknown) => this.#failed(err));
    }
    if (found !== undefined) this.#learn(found);
    if (this.#state === 'running') {
      const idleFor = found?.idleMs ?? 0;
      this.#lastAppend = Date.now() - idleFor;
      this.#armIdleTimer(Math.max(0, settings.idleTimeout - idleFor));
    }
  }

  /** `running`, then `ended` or `cancelled` for good. */
  get state(): RunState {
    return this.#state;
  }

  /** For the producer: aborted when the run is cancelled (by `cancel()` on any node, or after `idleTimeout`), with the reason. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /**
   * Appends an event (made with `event()`) or data (anything else) to the run and sends it to every subscriber,
   * encoded once; the run gives the id (an id you set is not used). Resolves to that id. Rejects
   * `SSE_ERR_RUN_ENDED` once the run is over (ended on any node), `SSE_ERR_RUN_FULL` past `maxEvents`,
   * `SSE_ERR_SERIALIZE` when the data cannot be serialized (nothing appended); with an adapter,
   * `SSE_ERR_ADAPTER_UNAVAILABLE` when it does not answer, and `SSE_ERR_INVALID_RUN_ID` when another node has a
   * run of this id. Throws `SSE_ERR_INVALID_FIELD` for a bad field. Rejections are pre-handled.
   */
  append<N extends EventName<Events>>(ev: SseEventBuilder<N, EventData<Events, N>>): Promise<string>;
  append<D>(data: D extends SseEventBuilder<string, unknown> ? never : D): Promise<string>;
  append(value: unknown): Promise<string> {
    if (this.#failure !== undefined) return rejected(this.#failure);
    if (this.#state !== 'running') return rejected(new SseRunEndedError(this.id, this.#state));
    this.#lastAppend = Date.now();
    return handled(this.#log.record(fieldsOf(value)));
  }

  /**
   * Ends the run: appends `final` when given (even past `maxEvents`), then the `end` frame; every subscriber's
   * response ends after it. Does nothing once the run is over. Rejects `SSE_ERR_SERIALIZE` when `final` cannot
   * be serialized (the run still ends), and with an adapter `SSE_ERR_ADAPTER_UNAVAILABLE` when it does not
   * answer; throws `SSE_ERR_INVALID_FIELD` for a bad field of `final` (it does not end).
   */
  end<N extends EventName<Events>>(final?: SseEventBuilder<N, EventData<Events, N>>): Promise<void>;
  end<D>(final?: D extends SseEventBuilder<string, unknown> ? never : D): Promise<void>;
  end(final?: unknown): Promise<void> {
    if (this.#state !== 'running') return Promise.resolve();
    const fields = final === undefined ? undefined : fieldsOf(final);
    return handled(this.#finish({ state: 'ended' }, fields));
  }

  /**
   * Cancels the run, on whichever node: the producer's `signal` aborts with `reason` (on another node, as soon
   * as the cancel reaches it through the adapter), every subscriber gets the `end` frame
   * (`{"state":"cancelled","reason":…}`) and its response ends. Does nothing once the run is over.
   */
  cancel(reason?: string): Promise<void> {
    if (this.#state !== 'running') return Promise.resolve();
    return handled(this.#finish({ state: 'cancelled', reason }, undefined));
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

  /** The run is over here at once; the log records the end (and may say another node ended it first). */
  async #finish(end: RunEnd, final: SseEvent | undefined): Promise<void> {
    this.#over(end);
    if (this.#failure !== undefined) throw this.#failure;
    await this.#writeEnd(end, final);
  }

  /**
   * Records the end in the log. A store that did not answer is asked again every {@link END_RETRY_MS} until it does
   * (else other nodes would see the run running until it stalls): its end step leaves a run that is over as it is,
   * so a retry after an end that did land changes nothing.
   */
  async #writeEnd(end: RunEnd, final: SseEvent | undefined): Promise<void> {
    let actual: RunEnd | undefined;
    try {
      actual = await this.#log.finish(end, final);
    } catch (err) {
      if (
        !this.#closed &&
        this.#remote !== undefined &&
        isSseError(err) &&
        err.code === 'SSE_ERR_ADAPTER_UNAVAILABLE'
      ) {
        unref(
          setTimeout(() => {
            if (!this.#closed) void this.#writeEnd(end, final).catch(() => {});
          }, END_RETRY_MS),
        );
      }
      throw err;
    }
    if (actual !== undefined) this.#over(actual);
  }

  /**
   * The run is over (here, or seen from the log): the state, the signal, the timers. Called again with what the
   * store says when another node ended it first: a cancel there still aborts the signal here.
   */
  #over(end: RunEnd): void {
    const first = this.#state === 'running';
    this.#state = end.state;
    if (end.state === 'cancelled' && !this.#abort.signal.aborted) this.#abort.abort(end.reason);
    if (!first) return;
    clearTimeout(this.#idleTimer);
    this.#log.unpin();
    unref(setTimeout(() => this.#ctx.expire(this), this.#settings.ttl));
  }

  /** What the store says of the run (found there, or answered to the end). */
  #learn(stored: StoredRun): void {
    this.#remote?.learn(stored);
    const end = endOfStored(stored);
    if (end !== undefined) this.#over(end);
  }

  /** Nothing of the run goes on in this process any more: no idle check, no live feed, no retry. */
  #stop(): void {
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    this.#log.unpin();
  }

  /** The run's creation in the store failed (its id is taken there, or the store did not answer). */
  #failed(err: unknown): void {
    this.#failure = err;
    this.#abort.abort(err);
    this.#over({ state: 'cancelled', reason: err instanceof Error ? err.message : String(err) });
    // Forgotten at once: `findRun` on this node asks the store (which may hold another node's run of this id).
    this.#ctx.expire(this);
  }

  /**
   * One timer for the run, not one per append: when it fires early (appends came meanwhile) it is set again for
   * what is left of `idleTimeout` after the last append. With a store, the store decides (another node may be
   * appending where this one does not listen), and its answer sets the next check.
   */
  #armIdleTimer(delay: number): void {
    if (this.#closed) return;
    this.#idleTimer = unref(
      setTimeout(() => {
        const left = this.#settings.idleTimeout - (Date.now() - this.#lastAppend);
        if (left > 0) {
          this.#armIdleTimer(left);
          return;
        }
        // In this process every append is seen here: the run is idle.
        if (this.#remote === undefined) {
          void this.cancel('stalled');
          return;
        }
        this.#remote.cancelIfIdle(this.#settings.idleTimeout).then(
          (answer) => {
            if (this.#state !== 'running') return;
            if (answer === undefined) {
              // The store no longer holds the run (it expired there): nothing of it goes on here either.
              this.#stop();
              this.#ctx.expire(this);
            } else if (typeof answer === 'number') {
              this.#lastAppend = Date.now() - answer;
              this.#armIdleTimer(this.#settings.idleTimeout - answer);
            } else this.#over(answer);
          },
          () => {
            // The store did not answer: ask again later.
            if (this.#state === 'running') this.#armIdleTimer(this.#settings.idleTimeout);
          },
        );
      }, delay),
    );
  }
}

/** The event's fields without an id: the run gives every id, so a client can always resume by it. */
function fieldsOf(value: unknown): SseEvent {
  const { id: _ignored, ...fields }: SseEvent = toEvent(value);
  return fields;
}
