/**
 * RemoteRunLog: the log of one run in an adapter's shared store (`adapter.runs`, e.g. `@tidings/redis`), so that
 * any node serves any run. Appends and the end are the store's atomic steps (it refuses an append after the end
 * or past `maxEvents`, whichever node sends it); every node delivers the entries when the store hands them back,
 * in the store's order, with the store's ids. The producer's node keeps the live feed open for the run's whole
 * life (`pin`), so an `end` entry written by another node (a cancel) reaches its run, and its signal, at once.
 */
import type { RunAdapter, StoredEvent, StoredRun, WireEvent } from './adapter.js';
import { FeedSubscription } from './feed-subscription.js';
import type { Serializer, SseEvent } from './frame.js';
import { settled, unref } from './internal.js';
import type { AppendOptions, DeliverEntry, LogEntry, RemoteChannelLog } from './log.js';
import { fromLog, toWire } from './log-adapter.js';
import { hasWholeEndedRun, type RunEnd, type RunJournal, type RunLogEvents } from './run-log.js';

/** Pause before a pinned live feed that could not be opened is tried again. */
const PIN_RETRY_MS = 1_000;

export class RemoteRunLog implements RemoteChannelLog, RunJournal {
  readonly remote = true;
  readonly fromStart = true;
  readonly #store: RunAdapter;
  readonly #runId: string;
  readonly #serialize: Serializer | undefined;
  readonly #deliver: DeliverEntry;
  readonly #events: RunLogEvents;
  /** The run's creation in the store: appends and the end wait for it (they fail with it). */
  readonly #created: Promise<void>;
  /** The store's live feed of the run, while this node listens. */
  readonly #feed: FeedSubscription;
  /** The run's channel has local subscribers. */
  #wanted = false;
  /** The producer's node listens for the run's whole life. */
  #pinned = false;
  /** Id of the last event before the end, as far as this node knows. */
  #lastEventId: string | undefined;
  /** Id of the `end` entry, once this node knows the run is over. */
  #endId: string | undefined;

  /** `created`: the run's creation in the store when this node made the run; undefined for a run found there. */
  constructor(
    store: RunAdapter,
    runId: string,
    serialize: Serializer | undefined,
    deliver: DeliverEntry,
    events: RunLogEvents,
    created: Promise<void> | undefined,
  ) {
    this.#store = store;
    this.#runId = runId;
    this.#serialize = serialize;
    this.#deliver = deliver;
    this.#events = events;
    this.#created = created ?? settled;
    this.#feed = new FeedSubscription(
      () => store.subscribeRun(runId, (event) => this.#onStored(event)),
      () => store.unsubscribeRun(runId),
    );
    // A failed creation reaches the producer through its first append or end.
    this.#created.catch(() => {});
  }

  /** Takes what the store said of the run (by `findRun`, or an answer to the end). */
  learn(stored: StoredRun): void {
    if (stored.lastEventId !== undefined) this.#lastEventId = stored.lastEventId;
    if (stored.endId !== undefined) this.#endId = stored.endId;
  }

  async record(ev: Readonly<SseEvent>): Promise<string> {
    const wire = toWire(ev, this.#serialize);
    await this.#created;
    return await this.#store.appendRun(this.#runId, wire);
  }

  async finish(end: RunEnd, final: Readonly<SseEvent> | undefined): Promise<RunEnd | undefined> {
    let wire: WireEvent | undefined;
    let failed: unknown;
    try {
      wire = final === undefined ? undefined : toWire(final, this.#serialize);
    } catch (err) {
      // The run still ends; the caller hears why `final` was not appended.
      failed = err;
    }
    await this.#created;
    const stored = await this.#store.endRun(this.#runId, end, { final: wire });
    if (failed !== undefined) throw failed;
    return this.#endOf(stored);
  }

  /**
   * Cancels the run with reason `"stalled"` if no append came for `idleTimeout` ms, by the store's clock (another
   * node may be appending where this one does not listen). Resolves to how the run ended, to the ms it has been
   * idle when it is still running, or to undefined when it is gone.
   */
  async cancelIfIdle(idleTimeout: number): Promise<RunEnd | number | undefined> {
    await this.#created;
    const stored = await this.#store.endRun(
      this.#runId,
      { state: 'cancelled', reason: 'stalled' },
      { ifIdleFor: idleTimeout },
    );
    if (stored === undefined || stored.state !== 'running') return this.#endOf(stored);
    return stored.idleMs;
  }

  hasAllUpTo(lastEventId: string | undefined): boolean {
    return hasWholeEndedRun(lastEventId, this.#endId, this.#lastEventId);
  }

  pin(): void {
    this.#pinned = true;
    const attempt = (): void => {
      this.#feed.listen().catch(() => {
        if (this.#pinned) unref(setTimeout(attempt, PIN_RETRY_MS));
      });
    };
    attempt();
  }

  unpin(): void {
    this.#pinned = false;
    this.#unsubscribeIfUnused();
  }

  /** A run's channel never broadcasts: the run records through {@link record} and {@link finish}. */
  append(ev: Readonly<SseEvent>, _options: AppendOptions): Promise<string | undefined> {
    return this.record(ev);
  }

  listen(): Promise<void> {
    this.#wanted = true;
    return this.#feed.listen();
  }

  release(): void {
    this.#wanted = false;
    this.#unsubscribeIfUnused();
  }

  retire(): Promise<void> {
    this.#wanted = false;
    this.#pinned = false;
    return this.#feed.release();
  }

  /**
   * The entries after `afterId`: the whole run for an id that is not one of its own (a run has no gap), the `end`
   * entry alone for a client that has everything (its stream then ends).
   */
  async read(afterId: string | undefined): Promise<readonly LogEntry[]> {
    const stored = await this.#store.runHistory(this.#runId, afterId);
    return stored.map((event) => this.#note(event));
  }

  keyOf(entry: LogEntry): unknown {
    return entry.prepared.id;
  }

  #unsubscribeIfUnused(): void {
    if (!this.#wanted && !this.#pinned) void this.#feed.release();
  }

  #onStored(stored: StoredEvent): void {
    const entry = this.#note(stored);
    this.#deliver(entry, undefined);
    if (entry.final !== true) this.#events.onAppend();
    else this.#events.onEnd(parseEnd(stored.data));
  }

  /** An entry of the store, encoded once for this node, and what it tells of the run's end. */
  #note(stored: StoredEvent): LogEntry {
    if (stored.final === true) this.#endId = stored.id;
    else if (this.#endId === undefined) this.#lastEventId = stored.id;
    return fromLog(stored);
  }

  #endOf(stored: StoredRun | undefined): RunEnd | undefined {
    if (stored === undefined) return undefined;
    this.learn(stored);
    return endOfStored(stored);
  }
}

/** How a run the store holds ended; undefined while it runs. */
export function endOfStored(stored: StoredRun): RunEnd | undefined {
  if (stored.state === 'running') return undefined;
  return stored.state === 'ended' ? { state: 'ended' } : { state: 'cancelled', reason: stored.reason };
}

/** The `end` entry's data, as the store wrote it; a cancel when it cannot be read (it ended either way). */
function parseEnd(data: string | undefined): RunEnd {
  try {
    const end = JSON.parse(data ?? '') as { state?: unknown; reason?: unknown };
    if (end.state === 'ended') return { state: 'ended' };
    return { state: 'cancelled', reason: typeof end.reason === 'string' ? end.reason : undefined };
  } catch {
    return { state: 'cancelled' };
  }
}
