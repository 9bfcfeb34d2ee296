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

/**
 * Heap used after full collections, repeated until one frees less than 64 KiB (at most 5): one collection can leave
 * garbage that a later one frees (weak callbacks, what a worker's earlier suites left), and that must not be freed
 * in the middle of a measurement. Each takes up to half a second with Jest's heap: call it sparingly.
 */
export function heapAfterGc(): number {
  const gc = exposedGc();
  gc();
  let used = process.memoryUsage().heapUsed;
  for (let pass = 1; pass < 5; pass++) {
    gc();
    const after = process.memoryUsage().heapUsed;
    const freed = used - after;
    used = after;
    if (freed < 64 * 1024) break;
  }
  return used;
}
