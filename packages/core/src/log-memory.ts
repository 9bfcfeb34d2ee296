/**
 * MemoryLog: a channel's log in this process. Ids are generated (`<registry prefix>-<n>`, monotonic) unless the
 * broadcast set one; the last `history` entries are kept in a ring buffer for replay.
 */
import { SseSerializeError } from './errors.js';
import { type PreparedEvent, prepareEvent, type Serializer, type SseEvent } from './frame.js';
import { History } from './history.js';
import { rejected } from './internal.js';
import type { AppendOptions, DeliverEntry, LocalChannelLog, LogEntry } from './log.js';

const live = Promise.resolve();

export class MemoryLog implements LocalChannelLog {
  readonly remote = false;
  readonly #history: History<LogEntry> | undefined;
  readonly #idPrefix: string;
  readonly #serialize: Serializer | undefined;
  readonly #deliver: DeliverEntry;
  /** Last generated id number. */
  #seq = 0;

  /** `historySize` 0 keeps no log (and generates no ids). */
  constructor(historySize: number, idPrefix: string, serialize: Serializer | undefined, deliver: DeliverEntry) {
    this.#history = historySize > 0 ? new History<LogEntry>(historySize) : undefined;
    this.#idPrefix = idPrefix;
    this.#serialize = serialize;
    this.#deliver = deliver;
  }

  append(ev: Readonly<SseEvent>, options: AppendOptions): Promise<string | undefined> {
    const generated = ev.id === undefined && this.#history !== undefined;
    const id = generated ? `${this.#idPrefix}-${this.#seq + 1}` : ev.id === undefined ? undefined : String(ev.id);
    // A copy: the history keeps it for replay filters, and a builder may be changed and broadcast again.
    const fields: SseEvent = id === undefined ? { ...ev } : { ...ev, id };
    let prepared: PreparedEvent;
    try {
      prepared = prepareEvent(fields, this.#serialize);
    } catch (err) {
      if (err instanceof SseSerializeError) return rejected(err);
      throw err;
    }
    if (generated) this.#seq++;
    const entry: LogEntry = { prepared, fields, audience: options.filter, final: options.final === true };
    if (id !== undefined) this.#history?.append(id, entry);
    this.#deliver(entry, options.except);
    return Promise.resolve(id);
  }

  listen(): Promise<void> {
    return live;
  }

  release(): void {}

  read(afterId: string | undefined): readonly LogEntry[] | undefined {
    if (this.#history === undefined) return afterId === undefined ? [] : undefined;
    return this.#history.after(afterId);
  }

  /** Replay and live delivery hand over the same entry object. */
  keyOf(entry: LogEntry): unknown {
    return entry;
  }
}
