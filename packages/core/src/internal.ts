/**
 * Small helpers every core module shares: one `handled()`, one `warn()`, one way to run a user callback, one
 * `unref()`. Free of Node-only imports: Fetch runtimes load this too.
 */
import type { SseEmitter } from './emitter.js';

/** An emitter of any event map, as channels, registries and hosts hold them. */
// biome-ignore lint/suspicious/noExplicitAny: internal holders serve emitters of every event map
export type AnyEmitter = SseEmitter<any>;

/** Marks `promise` handled, so a caller that never awaits it cannot crash the process; returns it unchanged. */
export function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

/** A promise already resolved: what "nothing to wait for" returns, one for all. */
export const settled: Promise<void> = Promise.resolve();

/** A rejected, pre-handled promise. */
export function rejected<T = never>(err: unknown): Promise<T> {
  return handled(Promise.reject(err));
}

/**
 * Reports a failure that must not stop delivery (a listener or filter that threw, a bad log entry): a process
 * warning on Node, `console.warn` elsewhere.
 */
export function warn(what: string, err: unknown, code: string): void {
  const reason = err instanceof Error ? err.message : String(err);
  const detail = err instanceof Error ? err.stack : undefined;
  const proc = (globalThis as { process?: { emitWarning?: (msg: string, opts: object) => void } }).process;
  if (typeof proc?.emitWarning === 'function') proc.emitWarning(`${what}: ${reason}`, { code, detail });
  else console.warn(`[${code}] ${what}: ${reason}`);
}

/** Runs a user callback; one that throws becomes a warning instead of breaking the caller's cleanup. */
export function callSafely(cb: () => void, what = 'A listener threw'): void {
  try {
    cb();
  } catch (err) {
    warn(what, err, 'SSE_LISTENER_THREW');
  }
}

/** Lets the process exit while `timer` is pending (Node); a no-op where timers are plain numbers. */
export function unref<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}

/**
 * Runs `fn` after the current turn's I/O: `setImmediate` on Node (frames written this turn are handed to the
 * socket first), a zero timeout elsewhere.
 */
export const afterThisTurn: (fn: () => void) => void =
  typeof setImmediate === 'function' ? (fn) => void setImmediate(fn) : (fn) => void setTimeout(fn, 0);
