/**
 * A bounded replay log: the last `capacity` entries of a channel, found by id. Ids are looked up, never
 * compared: "after id X" means after X's position in the log, whatever X looks like (a number, a UUID, a
 * generated `prefix-7`), so a client can never be handed a wrong range because `"12" < "9"`.
 */

/**
 * The log of one channel: a ring buffer of `capacity` entries plus an id → position index. Its slots are allocated
 * as entries arrive (an empty history holds no slot), up to `capacity`.
 */
export class History<E> {
  /** Most entries kept; the oldest is evicted when a new one arrives. */
  readonly capacity: number;
  /** Grown by push until `capacity`, then reused as a ring: position p is at p % capacity either way. */
  readonly #entries: Array<E | undefined> = [];
  readonly #ids: string[] = [];
  /** Absolute position of the oldest entry kept. */
  #first = 0;
  #count = 0;
  /** id → absolute position of its latest entry (an id used twice resumes after its latest use). */
  readonly #positionById = new Map<string, number>();

  /** Throws a RangeError unless `capacity` is a positive safe integer (a channel with history 0 keeps no log). */
  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`History capacity must be a positive integer, got ${String(capacity)}.`);
    }
    this.capacity = capacity;
  }

  /** Entries held now. */
  get size(): number {
    return this.#count;
  }

  /** The id of the newest entry held, if any. */
  get lastId(): string | undefined {
    return this.#count === 0 ? undefined : this.#ids[(this.#first + this.#count - 1) % this.capacity];
  }

  /** Appends `entry` under `id`, evicting the oldest entry when full. */
  append(id: string, entry: E): void {
    if (this.#count === this.capacity) {
      const slot = this.#first % this.capacity;
      const oldId = this.#ids[slot]!;
      if (this.#positionById.get(oldId) === this.#first) this.#positionById.delete(oldId);
      this.#entries[slot] = undefined;
      this.#first++;
      this.#count--;
    }
    const position = this.#first + this.#count;
    if (position < this.capacity) {
      this.#entries.push(entry);
      this.#ids.push(id);
    } else {
      this.#entries[position % this.capacity] = entry;
      this.#ids[position % this.capacity] = id;
    }
    this.#positionById.set(id, position);
    this.#count++;
  }

  /**
   * The entries after `id`, oldest first (every entry when `id` is undefined); undefined when the log does not
   * hold `id` (never held, or already evicted): the caller cannot know what the client missed.
   */
  after(id: string | undefined): E[] | undefined {
    const position = id === undefined ? this.#first - 1 : this.#positionById.get(id);
    if (position === undefined) return undefined;
    const entries: E[] = [];
    for (let p = position + 1; p < this.#first + this.#count; p++) entries.push(this.#entries[p % this.capacity]!);
    return entries;
  }
}
