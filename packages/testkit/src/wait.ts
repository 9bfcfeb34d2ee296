/** Waiting in tests without sleeping blindly: poll a condition with a deadline, hand control over with a promise. */
import type { EventEmitter } from 'node:events';

/** How long {@link waitFor} waits by default before it fails with the label (a broken test fails, never hangs). */
export const PATIENCE_MS = 20_000;

/** Options of {@link waitFor}. */
export interface WaitOptions {
  /** Give up after this many ms (default {@link PATIENCE_MS}). */
  timeoutMs?: number;
  /** Re-check at once whenever `source` emits `signal`, besides the 5 ms poll. */
  source?: EventEmitter;
  /** The event of `source` to listen to (default `data`). */
  signal?: string;
}

/**
 * Resolves once `check()` holds. Rejects with `Timed out waiting for <label>` after the patience period.
 */
export function waitFor(label: string, check: () => boolean, options: WaitOptions = {}): Promise<void> {
  if (check()) return Promise.resolve();
  const { timeoutMs = PATIENCE_MS, source, signal = 'data' } = options;
  return new Promise<void>((resolve, reject) => {
    const poll = setInterval(test, 5);
    const guard = setTimeout(() => finish(new Error(`Timed out waiting for ${label}`)), timeoutMs);
    function test(): void {
      if (check()) finish();
    }
    function finish(err?: Error): void {
      clearInterval(poll);
      clearTimeout(guard);
      source?.off(signal, test);
      if (err) reject(err);
      else resolve();
    }
    source?.on(signal, test);
  });
}

/** A promise with its resolve function exposed, for handing control between a test and a route. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

/** Makes a {@link Deferred}. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** Resolves after the callbacks and I/O of the next two event-loop turns have run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

/** The numbers `from`..`from + n - 1` as strings (expected data sequences). */
export function sequence(n: number, from = 1): string[] {
  return Array.from({ length: n }, (_, i) => String(from + i));
}
