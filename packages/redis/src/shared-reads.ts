/**
 * SharedReads: calls for the same read share one call. A reconnect storm (many clients of a channel resuming from
 * the same Last-Event-ID) then costs Redis one read per channel and position, not one per client.
 *
 * A read is shared while it is in flight, and once finished for as long as the caller says it stays valid (the
 * adapter: until the channel's feed delivers its next entry, see {@link forget}). The caller puts in the key
 * everything that makes two calls the same read (for history: the channel's live-feed position too).
 */
import type { StoredEvent } from '@tidings/core';

/** A read of a stream: its events (undefined: a gap), and the stream's last entry it saw (none: not to be kept). */
export interface StreamRead {
  events: StoredEvent[] | undefined;
  end?: string;
}

/** What a read gives: its value, and the key under which it stays valid once finished (none: not kept). */
export interface ReadResult<T> {
  value: T;
  keepAs?: string;
}

/**
 * Most finished reads kept at once, over all channels; past it the channel kept longest ago is forgotten.
 * A finished read holds at most `maxLen` events.
 */
const MAX_FINISHED_READS = 1_000;

export class SharedReads<T> {
  readonly #inFlight = new Map<string, Promise<T>>();
  /** Finished reads still valid, by channel, then by key. */
  readonly #finished = new Map<string, Map<string, T>>();
  #finishedCount = 0;

  /**
   * The read under `key` of `channel` (finished and still valid, or in flight), or a new one made by `read`;
   * each caller gets what `copy` makes of the value.
   */
  run(channel: string, key: string, read: () => Promise<ReadResult<T>>, copy: (value: T) => T): Promise<T> {
    const finished = this.#finished.get(channel);
    if (finished?.has(key)) return Promise.resolve(copy(finished.get(key)!));
    const flightKey = `${key} ${channel}`;
    let shared = this.#inFlight.get(flightKey);
    if (shared === undefined) {
      shared = read()
        .then(({ value, keepAs }) => {
          if (keepAs !== undefined) this.#keep(channel, keepAs, value);
          return value;
        })
        .finally(() => this.#inFlight.delete(flightKey));
      this.#inFlight.set(flightKey, shared);
    }
    return shared.then(copy);
  }

  /** Drops the finished reads of `channel`: its feed delivered an entry they do not hold, so they are stale. */
  forget(channel: string): void {
    const finished = this.#finished.get(channel);
    if (finished === undefined) return;
    this.#finishedCount -= finished.size;
    this.#finished.delete(channel);
  }

  #keep(channel: string, key: string, value: T): void {
    let finished = this.#finished.get(channel);
    if (finished === undefined) {
      finished = new Map();
      this.#finished.set(channel, finished);
    }
    if (!finished.has(key)) this.#finishedCount++;
    finished.set(key, value);
    while (this.#finishedCount > MAX_FINISHED_READS) this.forget(this.#finished.keys().next().value!);
  }
}
