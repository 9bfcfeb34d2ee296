/**
 * RunLog: the log of one run, in this process. A {@link MemoryLog} big enough for the whole run (never trimmed),
 * plus what makes a run's log different from a channel's: a new client reads it from the start, it ends with
 * one `end` entry, and a client that has read up to that end is given the `end` entry again (its stream then ends).
 */
import type { Serializer, SseEvent } from './frame.js';
import type { AppendOptions, DeliverEntry, LocalChannelLog, LogEntry } from './log.js';
import { MemoryLog } from './log-memory.js';

export class RunLog implements LocalChannelLog {
  readonly remote = false;
  readonly fromStart = true;
  readonly #log: MemoryLog;
  /** Events recorded (the `end` entry not counted). */
  #events = 0;
  /** Id of the last event recorded before the end. */
  #lastEventId: string | undefined;
  /** The `end` entry, once the run is over. */
  #end: LogEntry | undefined;

  /** Keeps up to `capacity` entries: the run's `maxEvents`, its final event and its `end` entry. */
  constructor(capacity: number, idPrefix: string, serialize: Serializer | undefined, deliver: DeliverEntry) {
    this.#log = new MemoryLog(capacity, { prefix: idPrefix, seq: 0 }, serialize, (entry, except) => {
      if (entry.final === true) this.#end = entry;
      else {
        this.#events++;
        this.#lastEventId = entry.prepared.id;
      }
      deliver(entry, except);
    });
  }

  /** Events recorded so far (the `end` entry not counted). */
  get events(): number {
    return this.#events;
  }

  /** True when the run is over and `lastEventId` is its end or its last event: the client has everything. */
  hasAllUpTo(lastEventId: string | undefined): boolean {
    const end = this.#end;
    return (
      end !== undefined &&
      lastEventId !== undefined &&
      (lastEventId === end.prepared.id || lastEventId === this.#lastEventId)
    );
  }

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
