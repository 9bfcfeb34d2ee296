// Runs against channel broadcast, the same workload side by side (a sketch of issue 14's figures), in memory, on the
// built packages (`pnpm build` first). `pnpm bench --scenario runs` or:
//   node bench/runs.mjs [--runs 1000] [--tokens 200] [--subscribers 2] [--size 64] [--tick 33]
// One server process (Tidings on node:http), one load-client process (raw sockets, frames parsed without
// allocation). Each mode opens `runs` streams of `subscribers` clients each: `runs` mode subscribes them to a
// registry.createRun() each, `channels` mode to a registry.channel() each. One timer appends (or broadcasts) one
// token to every run (channel) each `tick` ms, `tokens` times (~30 tokens/s per run), then the runs end.
// Figures: tokens delivered per second, server CPU (user+system) per delivery, server heap per run while running
// and after the end (after gc), p99 latency from append to a client reading it. Through Redis needs the run log of
// the next Redis adapter (not built yet); vercel's resumable-stream is not run here (see bench/README.md).
// Nothing here fails on a time; a run with lost tokens says so.
import { once } from 'node:events';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { forkRole, openEventStream, untilAllOrQuiet } from './lib/forked.mjs';
import { makePayload } from './lib/payload.mjs';
import { latencySummary } from './lib/stats.mjs';

const role = process.env.RUNS_ROLE;
if (role === 'server') await serve();
else if (role === 'client') await load();
else await main();

/** The server process: `GET /<n>` subscribes to run (or channel) number n. */
async function serve() {
  const { ChannelRegistry, SseEmitter } = await import('@tidings/core');
  const mode = process.env.RUNS_MODE;
  const registry = new ChannelRegistry({ history: mode === 'channels' ? 100 : 0 });
  let streams = [];
  const server = createServer((req, res) => {
    const em = new SseEmitter({ keepAlive: false }).attach(req, res);
    streams[Number(req.url.slice(1))].subscribe(em);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const heapPerStream = () => {
    globalThis.gc();
    return process.memoryUsage().heapUsed;
  };
  process.on('message', async ({ cmd, count, tokens, size, tick }) => {
    if (cmd === 'create') {
      const base = heapPerStream();
      streams = Array.from({ length: count }, (_, i) =>
        mode === 'runs' ? registry.createRun({ id: `run-${i}` }) : registry.channel(`channel-${i}`),
      );
      process.send({ created: count, base });
    } else if (cmd === 'produce') {
      const cpu = process.cpuUsage();
      let heapRunning = 0;
      for (let t = 0; t < tokens; t++) {
        for (const s of streams) {
          if (mode === 'runs') s.append(makePayload(t, size));
          else s.broadcast(makePayload(t, size));
        }
        if (t === tokens >> 1) heapRunning = heapPerStream();
        await new Promise((resolve) => setTimeout(resolve, tick));
      }
      const used = process.cpuUsage(cpu);
      if (mode === 'runs') for (const s of streams) await s.end();
      process.send({ cpuMs: (used.user + used.system) / 1000, heapRunning, heapEnded: heapPerStream() });
    } else if (cmd === 'close') {
      server.closeAllConnections();
      server.close();
      await registry.close();
      process.disconnect();
    }
  });
  process.send({ port: server.address().port });
}

/** The load-client process: `subscribers` raw sockets per stream, a latency per token read. */
async function load() {
  const conns = [];
  let latencies = new Float64Array(0);
  let received = 0;
  let firstRead = 0;
  let lastRead = 0;
  process.on('message', async ({ cmd, port, count, subscribers, tokens }) => {
    if (cmd === 'connect') {
      latencies = new Float64Array(count * subscribers * tokens);
      for (let i = 0; i < count; i++) {
        const opened = [];
        for (let s = 0; s < subscribers; s++) opened.push(openStream(port, i));
        conns.push(...(await Promise.all(opened)));
      }
      process.send({ connected: conns.length });
    } else if (cmd === 'collect') {
      const target = conns.length * tokens;
      await untilAllOrQuiet(() => received, target);
      process.send({
        received,
        lost: target - received,
        firstRead,
        lastRead,
        latency: latencySummary(latencies, received),
      });
    } else if (cmd === 'close') {
      for (const c of conns) c.destroy();
      process.disconnect();
    }
  });
  function openStream(port, n) {
    return openEventStream(port, `/${n}`, (_seq, sentUs, now) => {
      if (received < latencies.length) latencies[received] = (now - sentUs) / 1000;
      if (received === 0) firstRead = now;
      received++;
      lastRead = now;
    });
  }
  process.send({ ready: true });
}

/** A process of this script in role `env.RUNS_ROLE`, with `stop()`. */
async function start(env, execArgv) {
  const role = await forkRole(new URL(import.meta.url), env, execArgv);
  return { ...role, stop: () => role.child.send({ cmd: 'close' }) };
}

async function measure(mode, o) {
  const server = await start({ RUNS_ROLE: 'server', RUNS_MODE: mode }, ['--expose-gc']);
  const { port } = await server.next();
  const client = await start({ RUNS_ROLE: 'client' });
  await client.next();
  const { base } = await server.ask({ cmd: 'create', count: o.runs });
  await client.ask({ cmd: 'connect', port, count: o.runs, subscribers: o.subscribers, tokens: o.tokens });
  const produced = server.ask({ cmd: 'produce', tokens: o.tokens, size: o.size, tick: o.tick });
  const read = await client.ask({ cmd: 'collect', tokens: o.tokens });
  const made = await produced;
  server.stop();
  client.stop();
  const seconds = (read.lastRead - read.firstRead) / 1e6;
  return {
    mode,
    'tokens/s delivered': Math.round(read.received / seconds),
    lost: read.lost,
    'server CPU µs/delivery': ((made.cpuMs * 1000) / read.received).toFixed(2),
    'heap/run running (KiB)': ((made.heapRunning - base) / o.runs / 1024).toFixed(1),
    'heap/run after end (KiB)': ((made.heapEnded - base) / o.runs / 1024).toFixed(1),
    'p99 latency (ms)': read.latency.p99.toFixed(1),
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '1000' },
      tokens: { type: 'string', default: '200' },
      subscribers: { type: 'string', default: '2' },
      size: { type: 'string', default: '64' },
      tick: { type: 'string', default: '33' },
      scenario: { type: 'string' },
    },
  });
  const o = Object.fromEntries(
    Object.entries(values)
      .filter(([k]) => k !== 'scenario')
      .map(([k, v]) => [k, Number(v)]),
  );
  console.log(
    `runs: ${o.runs} × ${o.tokens} tokens × ${o.subscribers} subscribers, ${o.size} B tokens every ${o.tick} ms`,
  );
  const rows = [await measure('runs', o), await measure('channels', o)];
  console.table(rows);
}
