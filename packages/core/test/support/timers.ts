/**
 * Counts the timers (setTimeout / setInterval) created through the globals that have neither fired nor been
 * cleared. Unref'd timers are invisible to process.getActiveResourcesInfo(), so leaks are found this way.
 */

/** A live count of pending timers since {@link trackTimers} was called. */
export interface TimerTracker {
  /** Timers created since tracking began that are still pending. */
  pending(): number;
  /** Puts the real globals back. */
  restore(): void;
}

type Callback = (...args: unknown[]) => void;

/** Wraps the global timer functions until `restore()`. */
export function trackTimers(): TimerTracker {
  const live = new Set<unknown>();
  const real = {
    setTimeout: globalThis.setTimeout,
    clearTimeout: globalThis.clearTimeout,
    setInterval: globalThis.setInterval,
    clearInterval: globalThis.clearInterval,
  };
  const tracked = (create: typeof setTimeout | typeof setInterval, once: boolean) =>
    ((cb: Callback, ms?: number, ...args: unknown[]) => {
      const timer: unknown = create(() => {
        if (once) live.delete(timer);
        cb(...args);
      }, ms);
      live.add(timer);
      return timer;
    }) as unknown;
  const cleared = (clear: (t: unknown) => void) => (timer: unknown) => {
    live.delete(timer);
    clear(timer);
  };
  Object.assign(globalThis, {
    setTimeout: tracked(real.setTimeout, true),
    setInterval: tracked(real.setInterval, false),
    clearTimeout: cleared(real.clearTimeout as (t: unknown) => void),
    clearInterval: cleared(real.clearInterval as (t: unknown) => void),
  });
  return {
    pending: () => live.size,
    restore: () => Object.assign(globalThis, real),
  };
}
