/**
 * A bounded replay log: the last `capacity` events of a channel, found by id. Ids are looked up, never
 * compared: "after id X" means after X's position in the log, whatever X looks like.
 */
import type { PreparedEvent } from './frame.js';

export class History {
  readonly capacity: number;
  readonly #entries: Array<PreparedEvent | undefined>;
  /** Absolute sequence number of the oldest entry kept. */
  #firstSeq = 0;
  #count = 0;
  /** id → absolute sequence number of its (latest) entry. */
  readonly #seqById = new Map<string, number>();

  constructor(capacity: number) {
    this.capacity = capacity;
    this.#entries = new Array(capacity);
  }

  get size(): number {
    return this.#count;
  }

  /** Appends an event that has an id, evicting the oldest when full. */
  append(prepared: PreparedEvent & { id: string }): void {
    if (this.capacity === 0) return;
    if (this.#count === this.capacity) {
      const oldest = this.#entries[this.#firstSeq % this.capacity]!;
      if (this.#seqById.get(oldest.id!) === this.#firstSeq) this.#seqById.delete(oldest.id!);
      this.#firstSeq++;
      this.#count--;
    }
    const seq = this.#firstSeq + this.#count;
    this.#entries[seq % this.capacity] = prepared;
    this.#seqById.set(prepared.id, seq);
    this.#count++;
  }

  /**
   * The events after `id`, oldest first (all of them when `id` is undefined); undefined when the log does not
   * hold `id` (never held, or evicted).
   */
  after(id: string | undefined): PreparedEvent[] | undefined {
    const seq = id === undefined ? this.#firstSeq - 1 : this.#seqById.get(id);
    if (seq === undefined) return undefined;
    const events: PreparedEvent[] = [];
    for (let s = seq + 1; s < this.#firstSeq + this.#count; s++) events.push(this.#entries[s % this.capacity]!);
    return events;
  }
}
