// Baseline for Bun (run by the Bun binary, see RUNTIME in lib/scenarios.mjs): Bun.serve answering ReadableStream
// bodies, one pre-encoded chunk per event enqueued to every open stream. idleTimeout 0: Bun's default (10 s)
// would cut the idle connections of the idle scenario.
import { rawFetchApp } from './fetch-common.mjs';

export async function create() {
  const raw = rawFetchApp();
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, idleTimeout: 0, fetch: raw.fetch });
  return {
    port: server.port,
    broadcast: raw.broadcast,
    count: raw.count,
    close: () => server.stop(true),
  };
}
