/**
 * ChannelFeed: this node's delivery of one stream (a channel's, or a run's log), in stream order, exactly once. It takes runs of entries
 * ("every stream entry after `from`, up to the last of these"): a live message is a run of one whose `from` is
 * the entry before it; a catch-up read or a history read is a longer run. A run that starts at or before the
 * last entry delivered continues it (entries up to there are dropped); one that starts after it leaves a hole,
 * which is filled by reading the stream from the last entry delivered before going on. Runs that arrive while
 * the start position is unknown or a fill is under way wait, in arrival order.
 *
 * A run that starts before the last entry delivered and goes past it without holding it shows that the stream
 * lost entries this node delivered (a failover to a replica that never got them): the loss is recorded, so that
 * a client resuming from before it is told of a gap instead of being handed what follows as if complete.
 */
import type { StoredEvent } from '@tidings/core';
import { compareStreamIds, decodeEntry } from './stream-entry.js';

/** A stream entry as Redis returns it. */
export type RawEntry = [id: string, fields: string[]];

/** What a feed needs from the adapter. */
export interface FeedSource {
  /**
   * Reads the entries after `afterId` (exclusive), at most `readCount` of them, oldest first, as a run: `from`
   * is `afterId` while the stream holds it, else the entry before it in the stream now (`0-0` for none).
   */
  readAfter(afterId: string): Promise<Run>;
  readCount: number;
  /** Pause before a failed catch-up read is tried again. */
  retryMs: number;
  onError(err: Error): void;
}

/** A run of entries: every stream entry after `from`, up to the last of `entries`. */
export interface Run {
  from: string;
  entries: readonly RawEntry[];
}

export class ChannelFeed {
  readonly #onEvent: (event: StoredEvent) => void;
  readonly #source: FeedSource;
  /** The last entry delivered (or the stream's end when the channel was subscribed); undefined until known. */
  #lastId: string | undefined;
  readonly #waiting: Run[] = [];
  #filling = false;
  /** A catch-up was asked for during a fill, whose read may have come too early for it: read once more. */
  #fillAgain = false;
  /** A catch-up was asked for before the start position was known. */
  #fillOnStart = false;
  #retry: NodeJS.Timeout | undefined;
  #closed = false;
  /**
   * The newest delivered entry the stream lost (a failover): a client resuming from before it is told of a gap.
   * Entries are delivered in increasing order, so it stands for every earlier loss too.
   */
  #lostThrough: string | undefined;
  /** Callers of {@link reached} waiting for an entry to be delivered. */
  readonly #waiters: { id: string; resolve(): void }[] = [];

  constructor(onEvent: (event: StoredEvent) => void, source: FeedSource) {
    this.#onEvent = onEvent;
    this.#source = source;
  }

  /** The last entry delivered (the stream's end when the channel was subscribed); undefined until known. */
  get lastDelivered(): string | undefined {
    return this.#lastId;
  }

  /** True when entries after `afterId` that this node delivered were lost from the stream since (a gap). */
  lostAfter(afterId: string): boolean {
    return this.#lostThrough !== undefined && compareStreamIds(afterId, this.#lostThrough) < 0;
  }

  /** Delivery starts after entry `lastId` (the stream's end when the channel was subscribed). */
  start(lastId: string): void {
    if (this.#closed || this.#lastId !== undefined) return;
    this.#lastId = lastId;
    if (this.#fillOnStart) this.catchUp();
    else this.#applyWaiting();
  }

  /** Takes a run: every stream entry after `from`, up to the last of `entries`, oldest first. */
  offer(from: string, entries: readonly RawEntry[]): void {
    if (this.#closed) return;
    this.#waiting.push({ from, entries });
    this.#applyWaiting();
  }

  /**
   * Reads the stream from the last entry delivered to its end and delivers what it finds, then the runs that
   * waited. Used for a hole, and after the live feed reconnected (messages sent while it was away are gone).
   */
  catchUp(): void {
    if (this.#closed) return;
    if (this.#lastId === undefined) {
      this.#fillOnStart = true;
      return;
    }
    if (this.#filling) {
      this.#fillAgain = true;
      return;
    }
    this.#filling = true;
    clearTimeout(this.#retry);
    void this.#fill();
  }

  /** Resolves once entry `id` (or a later one) has been delivered, or the feed closed. */
  reached(id: string): Promise<void> {
    if (this.#closed || (this.#lastId !== undefined && compareStreamIds(this.#lastId, id) >= 0)) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiters.push({ id, resolve }));
  }

  /** Stops delivery; whoever waits in {@link reached} is let go. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#waiting.length = 0;
    for (const waiter of this.#waiters.splice(0)) waiter.resolve();
  }

  async #fill(): Promise<void> {
    try {
      do {
        this.#fillAgain = false;
        for (;;) {
          const run = await this.#source.readAfter(this.#lastId!);
          if (this.#closed) return;
          this.#take(run);
          if (run.entries.length < this.#source.readCount) break;
        }
      } while (this.#fillAgain);
    } catch (err) {
      if (this.#closed) return;
      this.#source.onError(err instanceof Error ? err : new Error(String(err)));
      this.#filling = false;
      this.#retry = setTimeout(() => this.catchUp(), this.#source.retryMs);
      return;
    }
    this.#filling = false;
    this.#applyWaiting();
  }

  /** Applies the runs that waited, in arrival order, until one leaves a hole (then a fill comes first). */
  #applyWaiting(): void {
    while (this.#waiting.length > 0 && this.#lastId !== undefined && !this.#filling && !this.#closed) {
      const run = this.#waiting[0]!;
      if (compareStreamIds(run.from, this.#lastId) > 0) {
        this.catchUp();
        return;
      }
      this.#waiting.shift();
      this.#take(run);
    }
  }

  /** Takes a run that starts at or before the last entry delivered: notes what the stream lost, delivers the rest. */
  #take(run: Run): void {
    const last = run.entries.at(-1)?.[0];
    if (
      last !== undefined &&
      compareStreamIds(run.from, this.#lastId!) < 0 &&
      compareStreamIds(last, this.#lastId!) > 0
    ) {
      // The run claims every entry after `from`: if the last one delivered is not among them, it is gone.
      const lastId = this.#lastId!;
      if (!run.entries.some(([id]) => id === lastId)) this.#lostThrough = lastId;
    }
    this.#deliver(run.entries);
  }

  /** Delivers the entries after the last one delivered, in order. */
  #deliver(entries: readonly RawEntry[]): void {
    for (const [id, fields] of entries) {
      if (this.#closed) return;
      if (compareStreamIds(id, this.#lastId!) <= 0) continue;
      this.#lastId = id;
      try {
        this.#onEvent(decodeEntry(id, fields));
      } catch (err) {
        this.#source.onError(err instanceof Error ? err : new Error(String(err)));
      }
    }
    this.#settle();
  }

  /** Lets go the waiters whose entry has been delivered. */
  #settle(): void {
    let kept = 0;
    for (const waiter of this.#waiters) {
      if (compareStreamIds(waiter.id, this.#lastId!) > 0) this.#waiters[kept++] = waiter;
      else waiter.resolve();
    }
    this.#waiters.length = kept;
  }
}
