/** Collects what an adapter's `subscribe` hands over. */
import type { StoredEvent } from '@tidings/core';

export interface Collector {
  readonly events: StoredEvent[];
  onEvent(ev: StoredEvent): void;
  /** Resolves once `count` events came in all. */
  next(count: number): Promise<void>;
}

/** A fresh collector: pass its `onEvent` to `adapter.subscribe`. */
export function collector(): Collector {
  const events: StoredEvent[] = [];
  let wanted: { count: number; resolve(): void } | undefined;
  return {
    events,
    onEvent: (ev) => {
      events.push(ev);
      if (wanted !== undefined && events.length >= wanted.count) wanted.resolve();
    },
    next: (count) =>
      new Promise<void>((resolve) => {
        wanted = { count, resolve };
        if (events.length >= count) resolve();
      }),
  };
}
