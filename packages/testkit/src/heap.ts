/**
 * Heap measurements for memory bounds (bytes, never times). Jest's memory project runs under `--expose-gc`
 * (`pnpm test:memory`); started without it, the gc is exposed through V8's flags so the suite still measures.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = () => void;

function exposedGc(): Gc {
  const exposed = (globalThis as { gc?: Gc }).gc;
  if (exposed !== undefined) return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as Gc;
}

/** Heap used after a full collection (about half a second with Jest's heap: call it sparingly). */
export function heapAfterGc(): number {
  exposedGc()();
  return process.memoryUsage().heapUsed;
}
