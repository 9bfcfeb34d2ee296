/**
 * RunStore: the runs of one registry, by id, each forgotten `ttl` after it ended. With an adapter's store of runs,
 * a run is created there too, and one this node does not hold is looked up there (and then held here, so the
 * node's subscribers share one live feed of it).
 */
import { SseInvalidRunIdError } from './errors.js';
import { checkDelay, checkPositiveInteger, checkTimerDelay } from './options.js';
import { closeRun, learnRun, RUN_DEFAULTS, Run, type RunContext, type RunOptions, type RunSettings } from './run.js';
import { checkRunId, generateRunId, isRunId } from './run-id.js';

type EventMap = Record<string, unknown>;

export class RunStore {
  // biome-ignore lint/suspicious/noExplicitAny: runs of every event map
  readonly #runs = new Map<string, Run<any>>();
  readonly #ctx: RunContext;

  /** `ctx` without `expire`: the store forgets its own runs. */
  constructor(ctx: Omit<RunContext, 'expire'>) {
    this.#ctx = {
      ...ctx,
      expire: (run) => {
        if (this.#runs.get(run.id) === run) this.#runs.delete(run.id);
      },
    };
  }

  /**
   * A new run (see `ChannelRegistry.createRun`). Throws `SSE_ERR_INVALID_RUN_ID` for an id that is not 1–256
   * URL-safe characters or is already taken, `SSE_ERR_INVALID_OPTION` for an option that cannot work.
   */
  create<Events extends EventMap = EventMap>(options: RunOptions = {}): Run<Events> {
    const id = options.id === undefined ? generateRunId() : checkRunId(options.id);
    if (this.#runs.has(id)) {
      throw new SseInvalidRunIdError(`A run "${id}" exists already (running, or kept for ttl after it ended).`);
    }
    const settings = {
      ttl: checkDelay('ttl', options.ttl ?? RUN_DEFAULTS.ttl, 'ms'),
      maxEvents: checkPositiveInteger('maxEvents', options.maxEvents ?? RUN_DEFAULTS.maxEvents, 'events'),
      idleTimeout: checkTimerDelay(
        'idleTimeout',
        checkPositiveInteger('idleTimeout', options.idleTimeout ?? RUN_DEFAULTS.idleTimeout, 'ms'),
      ),
    };
    const store = this.#ctx.store;
    const origin = store === undefined ? undefined : { created: store.createRun(id, settings) };
    const run = new Run<Events>(id, settings, this.#ctx, origin);
    this.#runs.set(id, run);
    return run;
  }

  /**
   * The run called `id`; undefined when unknown, expired, or not a valid run id (never looked up then). With a
   * store, asks it (a run another node made, or one this node holds, as it is now); rejects
   * `SSE_ERR_ADAPTER_UNAVAILABLE` when it does not answer.
   */
  async find<Events extends EventMap = EventMap>(id: string): Promise<Run<Events> | undefined> {
    const store = this.#ctx.store;
    if (store === undefined || !isRunId(id)) return this.#runs.get(id);
    const stored = await store.findRun(id);
    const held = this.#runs.get(id);
    if (stored === undefined) {
      // Expired in the store: this node lets go of it too (its producer's feed, its timers).
      if (held !== undefined) {
        closeRun(held);
        this.#runs.delete(id);
      }
      return undefined;
    }
    if (held !== undefined) {
      learnRun(held, stored);
      return held;
    }
    const settings: RunSettings = {
      ttl: stored.ttl,
      maxEvents: stored.maxEvents,
      idleTimeout: stored.idleTimeout,
    };
    const run = new Run<Events>(id, settings, this.#ctx, stored);
    this.#runs.set(id, run);
    return run;
  }

  /** The registry closed: every run's timers, live feed and retries in this process stop (see `closeRun`). */
  close(): void {
    for (const run of this.#runs.values()) closeRun(run);
  }
}
