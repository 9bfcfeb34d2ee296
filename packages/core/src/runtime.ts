/**
 * Which runtime Tidings runs in, for the few defaults that differ (see docs/runtimes.md for what was measured):
 * Bun's server cuts a response that sends nothing for 10 s (`idleTimeout`); workerd cancels a response whose
 * request has no timer or I/O of its own pending; Bun and the edge runtime hold the response head until the first
 * body byte. Free of Node-only imports.
 */
import { EMITTER_DEFAULTS, type SseEmitterOptions } from './emitter-options.js';

/** The runtimes whose defaults differ; `other` covers Node and Deno. */
export type FetchRuntime = 'bun' | 'workerd' | 'edge' | 'other';

function detect(): FetchRuntime {
  const scope = globalThis as { Bun?: unknown; EdgeRuntime?: unknown; navigator?: { userAgent?: string } };
  if (scope.Bun !== undefined) return 'bun';
  if (scope.navigator?.userAgent === 'Cloudflare-Workers') return 'workerd';
  if (scope.EdgeRuntime !== undefined) return 'edge'; // Vercel's edge runtime (Next.js Edge routes)
  return 'other';
}

/** The runtime this module was loaded in. */
export const fetchRuntime: FetchRuntime = detect();

/** Keep-alive period under Bun when none is set: comfortably inside its 10 s idleTimeout. */
export const BUN_KEEP_ALIVE = 8000;

/** What `sseResponse()` does differently in a runtime. */
export interface RuntimeDefaults {
  /** The emitter options. */
  emitter: SseEmitterOptions;
  /** The period of the body's own keep-alive timer (workerd), if any. */
  bodyKeepAlive?: number;
  /** Write a `:` comment when the stream opens, so the head goes out at once (Bun, the edge runtime). */
  opening: boolean;
}

/** The defaults `sseResponse()` uses with `options` in `runtime` (see the file comment). */
export function runtimeDefaults(options: SseEmitterOptions, runtime: FetchRuntime = fetchRuntime): RuntimeDefaults {
  const opening = runtime === 'bun' || runtime === 'edge';
  if (runtime === 'bun' && options.keepAlive === undefined) {
    return { emitter: { ...options, keepAlive: BUN_KEEP_ALIVE }, opening };
  }
  const period = options.keepAlive ?? EMITTER_DEFAULTS.keepAlive;
  if (runtime === 'workerd' && period !== false && period > 0) {
    // Each body pings from a timer of its own request; the shared keep-alive timer would belong to one request.
    return { emitter: { ...options, keepAlive: false }, bodyKeepAlive: period, opening };
  }
  return { emitter: options, opening };
}
