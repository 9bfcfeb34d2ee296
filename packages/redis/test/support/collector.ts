/** Collects what an adapter's `subscribe` hands over. */
import { EventEmitter } from 'node:events';
import type { StoredEvent } from '@tidings/core';
import { waitFor } from '@tidings/testkit';

export interface Collector {
  readonly events: StoredEvent[];
  onEvent(ev: StoredEvent): void;
  /** Resolves once `count` events came in all; rejects, naming the count, after testkit's patience period. */
  next(count: number): Promise<void>;
}

/** A fresh collector: pass its `onEvent` to `adapter.subscribe`. */
export function collector(): Collector {
  const events: StoredEvent[] = [];
  const arrivals = new EventEmitter();
  return {
    events,
    onEvent: (ev) => {
      events.push(ev);
      arrivals.emit('data');
    },
    next: (count) =>
      waitFor(`${count} events from the adapter (${events.length} so far)`, () => events.length >= count, {
        source: arrivals,
      }),
  };
}
