/**
 * RunLog: the log of one run, in this process. A {@link MemoryLog} big enough for the whole run (never trimmed),
 * plus what makes a run's log different from a channel's: a new client reads it from the start, it ends with
 * one `end` entry, and a client that has read up to that end is given the `end` entry again (its stream then ends).
 * The run's other log, in the shared store of an adapter, is {@link RemoteRunLog} (run-log-remote.ts); both are a
 * {@link RunJournal}.
 */
import { SseRunFullError } from './errors.js';
import type { Serializer, SseEvent } from './frame.js';
import type { AppendOptions, DeliverEntry, LocalChannelLog, LogEntry, RemoteChannelLog } from './log.js';
import { type IdSource, MemoryLog } from './log-memory.js';

/** How a run ends: the data of its `end` frame. */
export type RunEnd = { state: 'ended' } | { state: 'cancelled'; reason?: string };

/** What a run asks of its log, beyond what its channel does. */
export interface RunJournal {
  /** Appends an event, not past the run's `maxEvents` (`SSE_ERR_RUN_FULL`); resolves to its id. */
  record(ev: Readonly<SseEvent>): Promise<string>;
  /**
   * Appends `final` (when given, even past `maxEvents`), then the `end` entry. Resolves to how the run ended:
   * `end`, or how another node ended it first; undefined when the run is gone (expired).
   */
  finish(end: RunEnd, final: Readonly<SseEvent> | undefined): Promise<RunEnd | undefined>;
  /** True when the run is over and `lastEventId` is its end or its last event: the client has everything. */
  hasAllUpTo(lastEventId: string | undefined): boolean;
  /** Keeps the live feed open while the run lives, whether or not anyone here subscribes (the producer's node). */
  pin(): void;
  /** Ends {@link pin}. */
  unpin(): void;
}

/** What a run's log tells the run. */
export interface RunLogEvents {
  /** An event entry was delivered (from this node or another). */
  onAppend(): void;
  /** The `end` entry was delivered. */
  onEnd(end: RunEnd): void;
}

/** A run's log: what its channel reads and listens to, and what the run records into. */
export type RunChannelLog = (LocalChannelLog | RemoteChannelLog) & RunJournal;

/**
 * True when a run is over (`endId`) and a client's `lastEventId` is its end or its last event (`lastEventOfRun`):
 * the client has everything. What both run logs answer for the 204.
 */
export function hasWholeEndedRun(
  lastEventId: string | undefined,
  endId: string | undefined,
  lastEventOfRun: string | undefined,
): boolean {
  return endId !== undefined && lastEventId !== undefined && (lastEventId === endId || lastEventId === lastEventOfRun);
}

export class RunLog implements LocalChannelLog, RunJournal {
  readonly remote = false;
  readonly fromStart = true;
  readonly #runId: string;
  readonly #maxEvents: number;
  readonly #log: MemoryLog;
  /** Events recorded (the `end` entry not counted). */
  #events = 0;
  /** Id of the last event recorded before the end. */
  #lastEventId: string | undefined;
  /** The `end` entry, once the run is over. */
  #end: LogEntry | undefined;

  constructor(
    runId: string,
    maxEvents: number,
    ids: IdSource,
    serialize: Serializer | undefined,
    deliver: DeliverEntry,
    events: RunLogEvents,
  ) {
    this.#runId = runId;
    this.#maxEvents = maxEvents;
    // Room for maxEvents, a final event and the end entry.
    // The registry's ids: an id of another run (or channel) is never one of this run's, so it reads the whole run.
    this.#log = new MemoryLog(maxEvents + 2, ids, serialize, (entry, except) => {
      if (entry.final === true) this.#end = entry;
      else {
        this.#events++;
        this.#lastEventId = entry.prepared.id;
      }
      deliver(entry, except);
      if (entry.final !== true) events.onAppend();
    });
  }

  record(ev: Readonly<SseEvent>): Promise<string> {
    if (this.#events >= this.#maxEvents) return Promise.reject(new SseRunFullError(this.#runId, this.#maxEvents));
    return this.#log.append(ev, {}) as Promise<string>;
  }

  async finish(end: RunEnd, final: Readonly<SseEvent> | undefined): Promise<RunEnd> {
    const last = final === undefined ? undefined : this.#log.append(final, {});
    void this.#log.append({ event: 'end', data: JSON.stringify(end) }, { final: true });
    await last;
    return end;
  }

  hasAllUpTo(lastEventId: string | undefined): boolean {
    return hasWholeEndedRun(lastEventId, this.#end?.prepared.id, this.#lastEventId);
  }

  pin(): void {}

  unpin(): void {}

  append(ev: Readonly<SseEvent>, options: AppendOptions): Promise<string | undefined> {
    return this.#log.append(ev, options);
  }

  listen(): Promise<void> {
    return this.#log.listen();
  }

  release(): void {
    this.#log.release();
  }

  /**
   * The entries after `afterId`. An id this run never gave (another run's, a forged one) reads the whole run: a run
   * has no gap. A client that already has the end gets the `end` entry again, so its stream ends.
   */
  read(afterId: string | undefined): readonly LogEntry[] {
    const entries = this.#log.read(afterId) ?? this.#log.read(undefined) ?? [];
    return entries.length === 0 && this.#end !== undefined ? [this.#end] : entries;
  }

  /** A run's channel is never dropped by a ttl sweep (the run store forgets the run itself). */
  retire(): Promise<void> {
    return this.#log.retire();
  }

  lastId(): string | undefined {
    return this.#log.lastId();
  }

  keyOf(entry: LogEntry): unknown {
    return this.#log.keyOf(entry);
  }
}
