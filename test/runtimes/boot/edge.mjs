// Vercel's edge runtime (what Next.js Edge routes run in): evaluates the bundled script given as argv[2] (an
// IIFE that sets `globalThis.__handler`, see bundle() in harness.ts) in an EdgeRuntime context and serves it on
// 127.0.0.1, port 0, through edge-runtime's own server; prints `listening <port>`.
import { readFileSync } from 'node:fs';
import { EdgeRuntime, runServer } from 'edge-runtime';

// edge-runtime's server pipes a body without catching its error: a body errored on purpose (Tidings drops a slow
// client that way) would reject unhandled and end the process. Vercel's and Next.js' servers close the connection.
process.on('unhandledRejection', (err) => console.error('edge-runtime server: body failed:', err?.message ?? err));

const script = readFileSync(process.argv[2], 'utf8');
const runtime = new EdgeRuntime({
  initialCode: `${script}
addEventListener('fetch', (event) => event.respondWith(globalThis.__handler.default.fetch(event.request)));`,
});
const server = await runServer({ runtime, host: '127.0.0.1', port: 0 });
console.log(`listening ${new URL(server.url).port}`);
