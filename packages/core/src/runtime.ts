/**
 * Which runtime Tidings runs in, for the few defaults that differ (see docs/runtimes.md for what was measured):
 * Bun's server cuts a response that sends nothing for 10 s (`idleTimeout`), and workerd cancels a response whose
 * request has no timer or I/O of its own pending. Free of Node-only imports.
 */
import { EMITTER_DEFAULTS, type SseEmitterOptions } from './emitter-options.js';

/** The runtimes whose defaults differ; `other` covers Node, Deno and the edge runtime. */
export type FetchRuntime = 'bun' | 'workerd' | 'other';

/** The runtime this module was loaded in. */
export const fetchRuntime: FetchRuntime =
  typeof (globalThis as { Bun?: unknown }).Bun !== 'undefined'
    ? 'bun'
    : (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent === 'Cloudflare-Workers'
      ? 'workerd'
      : 'other';

/** Keep-alive period under Bun when none is set: comfortably inside its 10 s idleTimeout. */
export const BUN_KEEP_ALIVE = 8000;

/** The emitter options `sseResponse()` uses in `runtime`, and the period of the body's own keep-alive (workerd). */
export function runtimeDefaults(
  options: SseEmitterOptions,
  runtime: FetchRuntime = fetchRuntime,
): { emitter: SseEmitterOptions; bodyKeepAlive?: number } {
  if (runtime === 'bun' && options.keepAlive === undefined)
    return { emitter: { ...options, keepAlive: BUN_KEEP_ALIVE } };
  const period = options.keepAlive ?? EMITTER_DEFAULTS.keepAlive;
  if (runtime === 'workerd' && period !== false && period > 0) {
    // Each body pings from a timer of its own request; the shared keep-alive timer would belong to one request.
    return { emitter: { ...options, keepAlive: false }, bodyKeepAlive: period };
  }
  return { emitter: options };
}
