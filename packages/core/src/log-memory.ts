/**
 * MemoryLog: a channel's log in this process. Ids are generated (`<registry prefix>-<n>`, `n` counted across the
 * whole registry, so an id is never given twice, even to a channel dropped and brought back) unless the broadcast
 * set one; the last `history` entries are kept in a ring buffer for replay, made when the first entry arrives.
 */
import { SseSerializeError } from './errors.js';
import { type PreparedEvent, prepareEvent, type Serializer, type SseEvent } from './frame.js';
import { History } from './history.js';
import { rejected, settled } from './internal.js';
import type { AppendOptions, DeliverEntry, LocalChannelLog, LogEntry } from './log.js';

/** Most replay reads a log keeps for clients resuming from the same position (see `MemoryLog.#reads`). */
const SHARED_READS = 16;

/** Where generated ids come from: one per registry, shared by its channels. */
export interface IdSource {
  readonly prefix: string;
  /** Last number given. */
  seq: number;
}

export class MemoryLog implements LocalChannelLog {
  /** A getter: a field would cost every channel 8 bytes. */
  get remote(): false {
    return false;
  }
  /** Made by the first entry kept: a channel that was only named holds no buffer. */
  #history: History<LogEntry> | undefined;
  readonly #historySize: number;
  readonly #ids: IdSource;
  readonly #serialize: Serializer | undefined;
  readonly #deliver: DeliverEntry;
  /**
   * Replay reads since the last append, by position: a reconnect storm (every client back at once with its id) looks
   * each position up once. Cleared by the next append; at most {@link SHARED_READS} positions (the oldest goes).
   */
  #reads: Map<string | undefined, readonly LogEntry[] | undefined> | undefined;

  /** `historySize` 0 keeps no log (and generates no ids). */
  constructor(historySize: number, ids: IdSource, serialize: Serializer | undefined, deliver: DeliverEntry) {
    this.#historySize = historySize;
    this.#ids = ids;
    this.#serialize = serialize;
    this.#deliver = deliver;
  }

  append(ev: Readonly<SseEvent>, options: AppendOptions): Promise<string | undefined> {
    const keeps = this.#historySize > 0;
    const generated = ev.id === undefined && keeps;
    const id = generated ? `${this.#ids.prefix}-${this.#ids.seq + 1}` : ev.id === undefined ? undefined : String(ev.id);
    // A copy: the history keeps it for replay filters, and a builder may be changed and broadcast again.
    const fields: SseEvent = id === undefined ? { ...ev } : { ...ev, id };
    let prepared: PreparedEvent;
    try {
      prepared = prepareEvent(fields, this.#serialize);
    } catch (err) {
      if (err instanceof SseSerializeError) return rejected(err);
      throw err;
    }
    if (generated) this.#ids.seq++;
    const entry: LogEntry = { prepared, fields, audience: options.filter, final: options.final === true };
    if (id !== undefined && keeps) {
      this.#history ??= new History<LogEntry>(this.#historySize);
      this.#history.append(id, entry);
      this.#reads = undefined;
    }
    this.#deliver(entry, options.except);
    return Promise.resolve(id);
  }

  listen(): Promise<void> {
    return settled;
  }

  release(): void {}

  retire(): Promise<void> {
    return settled;
  }

  read(afterId: string | undefined): readonly LogEntry[] | undefined {
    if (this.#history === undefined) return afterId === undefined ? [] : undefined;
    this.#reads ??= new Map();
    if (this.#reads.has(afterId)) return this.#reads.get(afterId);
    const entries = this.#history.after(afterId);
    // Unknown ids are not kept: a client can send any number of them.
    if (entries === undefined) return undefined;
    if (this.#reads.size >= SHARED_READS) this.#reads.delete(this.#reads.keys().next().value);
    this.#reads.set(afterId, entries);
    return entries;
  }

  lastId(): string | undefined {
    return this.#history?.lastId;
  }

  /** Replay and live delivery hand over the same entry object. */
  keyOf(entry: LogEntry): unknown {
    return entry;
  }
}
