// One server variant in its own process (pinned to its own core by run.mjs), started as
// `node --expose-gc server.mjs <variant>` (Bun variants: `bun server.mjs <variant>`). It loads bench/variants/<variant>.mjs, listens on 127.0.0.1, and
// answers run.mjs over IPC:
//   { cmd: 'cpu' } → process.cpuUsage()            { cmd: 'mem', gc } → process.memoryUsage() (after gc)
//   { cmd: 'count' } → open event streams          { cmd: 'broadcast', events, size, rate, sampleMs }
//   { cmd: 'clock', us } → a clock sample (Bun: its hrtime does not count from boot; see syncClock)
//   { cmd: 'exit' }
// `broadcast` sends `events` payloads of `size` bytes to every subscriber: one per event-loop turn when `rate`
// is 0 (as fast as possible, letting I/O run between events), else `rate` per second; with `sampleMs` it
// also reports the peak memory seen while sending and until `settleMs` after.
import { setImmediate as immediate, setTimeout as sleep } from 'node:timers/promises';
import { makePayload, syncClock } from './lib/payload.mjs';

const name = process.argv[2];
const { create } = await import(`./variants/${name}.mjs`);
const variant = await create();

function memory() {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}

function collectGarbage() {
  for (let i = 0; i < 3; i++) {
    if (globalThis.gc) globalThis.gc();
    else globalThis.Bun?.gc(true);
  }
}

async function broadcast({ events, size, rate, sampleMs, settleMs = 0 }) {
  const peak = { rss: 0, heapPlusExternal: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heapPlusExternal = Math.max(peak.heapPlusExternal, m.heapUsed + m.external);
  };
  const sampler = sampleMs ? setInterval(sample, sampleMs) : undefined;
  const started = performance.now();
  for (let i = 0; i < events; i++) {
    variant.broadcast(makePayload(i, size));
    if (sampleMs && i % 256 === 0) sample();
    if (rate > 0) {
      const due = started + ((i + 1) * 1000) / rate - performance.now();
      if (due > 0) await sleep(due);
    } else await immediate();
  }
  const sendMs = performance.now() - started;
  if (settleMs) await sleep(settleMs);
  if (sampler) {
    sample();
    clearInterval(sampler);
  }
  return { sendMs, peak: sampleMs ? peak : undefined };
}

process.on('message', async (msg) => {
  let result;
  switch (msg.cmd) {
    case 'cpu':
      result = { cpu: process.cpuUsage() };
      break;
    case 'mem':
      if (msg.gc) collectGarbage();
      result = memory();
      break;
    case 'count':
      result = { open: variant.count() };
      break;
    case 'clock':
      syncClock(msg.us);
      break;
    case 'broadcast':
      result = await broadcast(msg);
      break;
    case 'exit':
      await variant.close();
      process.send({ id: msg.id }, () => process.exit(0));
      return;
  }
  process.send({ id: msg.id, ...result });
});
process.send({ ready: true, port: variant.port });
