// A reconnect storm (issue 12), on the built packages (`pnpm build` first). `pnpm bench --scenario storm` or:
//   node bench/storm.mjs [--quick] [--clients 5000] [--missed 20] [--size 100]
// `clients` raw-socket clients (socket-load.mjs, on core 1) open one channel's stream and read 5 events; they all
// go away; `missed` events are broadcast while nobody listens; then every client reconnects at once with the
// Last-Event-ID it read. Tidings (node:http, one ChannelRegistry, history 100) must replay exactly the missed
// events to each; the floor is raw node:http accepting the same reconnects and replaying nothing. Both servers
// run in the same invocation, one after the other, on core 0. Figures: time from the first reconnect until every
// head / every missed event arrived, server CPU over the storm, peak RSS and heap while it lasts. Every client
// checks the ids it gets against the ids the broadcasts used: the script exits 1 on any lost, duplicated or
// out-of-order event, never on a time.
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makePayload } from './lib/payload.mjs';
import { answerCalls, fileLimits, placement, startWorker } from './lib/workers.mjs';
import { frame, HEADERS } from './variants/common.mjs';

/** Events every client reads before it goes away (so it has a Last-Event-ID). */
const WARM_EVENTS = 5;
/** A storm's listen backlog: the kernel caps it at net.core.somaxconn; the default 511 drops SYNs in a storm. */
const BACKLOG = 8192;
const here = fileURLToPath(new URL('.', import.meta.url));

/** The server process, `tidings` or `raw`: `GET /storm` opens a stream on the one channel. */
async function serve(kind) {
  const { ChannelRegistry, SseEmitter } = await import('@tidings/core');
  const registry = new ChannelRegistry();
  const channel = registry.channel('storm');
  const raw = new Set();
  const server = createServer((req, res) => {
    if (kind === 'tidings') {
      channel.subscribe(new SseEmitter({ keepAlive: false }).attach(req, res));
      return;
    }
    res.writeHead(200, HEADERS);
    res.flushHeaders();
    raw.add(res);
    res.once('close', () => raw.delete(res));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', BACKLOG, resolve));
  let sampler;
  const peak = { rss: 0, heapUsed: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
  };
  answerCalls(
    {
      async broadcast({ events, size }) {
        const ids = [];
        for (let i = 0; i < events; i++) {
          const text = makePayload(i, size);
          if (kind === 'tidings') ids.push(await channel.broadcast(text));
          else for (const res of raw) res.write(frame(text));
        }
        return { ids: kind === 'tidings' ? ids : undefined };
      },
      open: () => ({ open: kind === 'tidings' ? registry.connections : raw.size }),
      watch() {
        globalThis.gc();
        const before = process.memoryUsage();
        peak.rss = 0;
        peak.heapUsed = 0;
        sampler = setInterval(sample, 2);
        return { cpu: process.cpuUsage(), rss: before.rss, heapUsed: before.heapUsed };
      },
      stop({ cpu }) {
        clearInterval(sampler);
        sample();
        return { cpu: process.cpuUsage(cpu), peak };
      },
      close() {
        server.closeAllConnections();
        setImmediate(() => process.exit(0));
      },
    },
    { port: server.address().port },
  );
}

async function until(check, what) {
  for (let waited = 0; !(await check()); waited += 20) {
    if (waited > 30_000) throw new Error(`storm: ${what} did not happen in 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function storm(kind, o) {
  const script = fileURLToPath(import.meta.url);
  const server = await startWorker(script, ['server', kind], { core: 0, nodeArgs: ['--expose-gc'] });
  const client = await startWorker(join(here, 'socket-load.mjs'), [], { core: 1 });
  try {
    const paths = ['/storm'];
    const first = await client.call('open', {
      port: server.port,
      paths,
      count: o.clients,
      wave: 250,
      events: WARM_EVENTS,
    });
    if (first.failed > 0) throw new Error(`storm: ${first.failed} of ${o.clients} first connections failed`);
    await server.call('broadcast', { events: WARM_EVENTS, size: o.size });
    const warm = await client.call('expect', {});
    await client.call('drop');
    await until(async () => (await server.call('open')).open === 0, 'every stream closing');
    const { ids } = await server.call('broadcast', { events: o.missed, size: o.size });
    const before = await server.call('watch');
    const reopened = client.call('open', {
      port: server.port,
      paths,
      count: o.clients,
      resume: true,
      ids,
    });
    const caughtUp = await client.call('expect', {});
    const { failed } = await reopened;
    const used = await server.call('stop', { cpu: before.cpu });
    return { kind, warm, failed, caughtUp, cpuMs: (used.cpu.user + used.cpu.system) / 1000, before, peak: used.peak };
  } finally {
    await client.stop('close');
    await server.stop('close');
  }
}

const mib = (bytes) => (bytes / 2 ** 20).toFixed(1);
/** A growth in MiB with its sign. */
const growth = (bytes) => `${bytes < 0 ? '−' : '+'}${mib(Math.abs(bytes))}`;

function row(r, floor, o) {
  const ms = (x) => (x === null ? 'never' : x.toFixed(0));
  const ratio = (a, b) => (r === floor || a === null || b === null ? '' : ` (${(a / b).toFixed(2)}×)`);
  const c = r.caughtUp;
  return [
    r.kind === 'tidings' ? `Tidings (node:http), replays ${o.missed} each` : 'raw node:http, replays nothing (floor)',
    `${ms(c.allHeadsMs)}${ratio(c.allHeadsMs, floor.caughtUp.allHeadsMs)}`,
    `${ms(c.allCaughtUpMs)}${ratio(c.allCaughtUpMs, floor.caughtUp.allCaughtUpMs)}`,
    `${r.cpuMs.toFixed(0)}${ratio(r.cpuMs, floor.cpuMs)}`,
    `${mib(r.peak.rss)} (${growth(r.peak.rss - r.before.rss)})`,
    `${mib(r.peak.heapUsed)} (${growth(r.peak.heapUsed - r.before.heapUsed)})`,
    `${c.received} / ${r.kind === 'tidings' ? o.clients * o.missed : 0}`,
    String(c.lost + r.warm.lost),
    String(c.duplicated + r.warm.duplicated),
    String(c.outOfOrder),
    String(r.failed),
  ];
}

async function main() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      clients: { type: 'string' },
      missed: { type: 'string', default: '20' },
      size: { type: 'string', default: '100' },
      scenario: { type: 'string' },
    },
  });
  const o = {
    clients: Number(values.clients ?? (values.quick ? 500 : 5000)),
    missed: Number(values.missed),
    size: Number(values.size),
  };
  console.log(
    `storm: ${o.clients} clients read ${WARM_EVENTS} events, leave, miss ${o.missed} events of ${o.size} B, ` +
      `reconnect at once with Last-Event-ID; ${placement}; open-file limit ${fileLimits()}; ${new Date().toISOString()}`,
  );
  const floor = await storm('raw', o);
  const tidings = await storm('tidings', o);
  const header = [
    'server',
    'all heads (ms)',
    'all caught up (ms)',
    'server CPU (ms)',
    'peak RSS MiB (growth)',
    'peak heap MiB (growth)',
    'replayed / expected',
    'lost',
    'duplicated',
    'out of order',
    'failed reconnects',
  ];
  const rows = [row(floor, floor, o), row(tidings, floor, o)];
  console.log(`\n| ${header.join(' | ')} |\n|${header.map(() => ' --- ').join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  const bad = [floor, tidings].some(
    (r) => r.caughtUp.lost + r.caughtUp.duplicated + r.caughtUp.outOfOrder + r.warm.lost + r.warm.duplicated > 0,
  );
  if (bad) {
    console.error('storm: events were lost, duplicated or out of order');
    process.exit(1);
  }
}

if (process.argv[2] === 'server') await serve(process.argv[3]);
else await main();
