// Many channels (issue 12), on the built packages (`pnpm build` first). `pnpm bench --scenario channels` or:
//   node bench/channels.mjs [--quick] [--touched 200000] [--active 10000] [--rounds 5] [--ttl 15000 (--quick: 2000)] [--size 100]
// One server process (node --expose-gc, core 0) with a ChannelRegistry({ historyTtl: ttl }); one load client
// (socket-load.mjs, core 1) on raw sockets. In order, on the same server:
//   1. `active` channel names made and left empty: heap per empty channel in memory; then the ttl drops them.
//   2. `touched` channel names broadcast to once each (history of 1 event): heap per channel while in memory,
//      stats().channels before and after the ttl's sweep, heap per dropped channel once swept.
//   3. `active` channels with one subscriber each on a real socket: heap per active channel (its stream
//      included); `rounds` times one broadcast to each channel: server CPU per delivery.
//   4. Fan-out in the same run: `active` subscribers on one channel, `rounds` broadcasts: server CPU per delivery.
// Heap figures are heapUsed after gc() against the same figure just before the step. The script exits 1 only
// when an event was lost or duplicated, never on a time or a size.
import { createServer } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep, setImmediate as turn } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makePayload } from './lib/payload.mjs';
import { answerCalls, fileLimits, placement, startWorker } from './lib/workers.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));

/** The server process: `GET /c/<name>` subscribes a stream to channel `<name>`. */
async function serve(ttl) {
  const { ChannelRegistry, SseEmitter } = await import('@tidings/core');
  const registry = new ChannelRegistry({ historyTtl: ttl });
  /** The channels step 3 and 4 broadcast to, as the route subscribed them. */
  const subscribed = new Map();
  const server = createServer((req, res) => {
    const channel = registry.channel(req.url.slice(3));
    subscribed.set(channel.name, channel);
    channel.subscribe(new SseEmitter({ keepAlive: false }).attach(req, res));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', 1024, resolve));
  answerCalls(
    {
      heap() {
        for (let i = 0; i < 3; i++) globalThis.gc();
        return { heapUsed: process.memoryUsage().heapUsed, ...registry.stats() };
      },
      make({ prefix, count }) {
        for (let i = 0; i < count; i++) registry.channel(`${prefix}${i}`);
      },
      touch({ prefix, count, size }) {
        const started = performance.now();
        const payload = makePayload(0, size);
        for (let i = 0; i < count; i++) registry.channel(`${prefix}${i}`).broadcast(payload);
        return { touchMs: performance.now() - started };
      },
      cpu: () => ({ cpu: process.cpuUsage() }),
      async broadcast({ rounds, size }) {
        for (let r = 0; r < rounds; r++) {
          for (const channel of subscribed.values()) channel.broadcast(makePayload(r, size));
          await turn();
        }
      },
      forget() {
        subscribed.clear();
      },
      close() {
        server.closeAllConnections();
        setImmediate(() => process.exit(0));
      },
    },
    { port: server.address().port },
  );
}

/** Polls the server until stats().channels is `channels` (the ttl swept); resolves to the ms it took. */
async function untilChannels(server, channels) {
  const started = Date.now();
  while ((await server.call('heap')).channels !== channels) {
    if (Date.now() - started > 60_000) throw new Error(`channels: stats().channels never fell to ${channels}`);
    await sleep(250);
  }
  return Date.now() - started;
}

/** Opens `o.active` streams (stream i on `paths[i % paths.length]`), broadcasts `rounds` rounds, returns server CPU and what arrived. */
async function deliver(server, client, paths, o) {
  const opened = await client.call('open', { port: server.port, paths, count: o.active, wave: 250, events: o.rounds });
  if (opened.failed > 0) throw new Error(`channels: ${opened.failed} of ${o.active} streams failed to open`);
  const heapOpen = await server.call('heap');
  const { cpu } = await server.call('cpu');
  await server.call('broadcast', { rounds: o.rounds, size: o.size });
  const read = await client.call('expect', {});
  const used = (await server.call('cpu')).cpu;
  const cpuUs = used.user + used.system - cpu.user - cpu.system;
  await client.call('drop');
  await server.call('forget');
  return { heapOpen, read, cpuUsPerDelivery: cpuUs / read.received };
}

async function measure(o) {
  const server = await startWorker(fileURLToPath(import.meta.url), ['server', String(o.ttl)], {
    core: 0,
    nodeArgs: ['--expose-gc'],
  });
  const client = await startWorker(join(here, 'socket-load.mjs'), [], { core: 1 });
  try {
    const start = await server.call('heap');
    await server.call('make', { prefix: 'empty-', count: o.active });
    const empty = await server.call('heap');
    await untilChannels(server, 0);

    const beforeTouch = await server.call('heap');
    const { touchMs } = await server.call('touch', { prefix: 'touched-', count: o.touched, size: o.size });
    const touched = { ...(await server.call('heap')), touchMs };
    const sweepMs = await untilChannels(server, 0);
    const swept = await server.call('heap');

    const active = await deliver(
      server,
      client,
      Array.from({ length: o.active }, (_, i) => `/c/active-${i}`),
      o,
    );
    const fanout = await deliver(server, client, ['/c/fanout'], o);
    return { start, empty, beforeTouch, touched, sweepMs, swept, active, fanout };
  } finally {
    await client.stop('close');
    await server.stop('close');
  }
}

function report(m, o) {
  const perChannel = (after, before, count) => ((after.heapUsed - before.heapUsed) / count).toFixed(0);
  console.log('\n| memory (heapUsed after gc) | channels | stats().channels | heap per channel (B) |');
  console.log('| --- | --- | --- | --- |');
  console.log(`| empty, in memory | ${o.active} | ${m.empty.channels} | ${perChannel(m.empty, m.start, o.active)} |`);
  // Divided by the gauge: on a busy machine the first touched channels may be swept before the heap is read.
  console.log(
    `| touched once (1 event of ${o.size} B, ${m.touched.touchMs.toFixed(0)} ms for all), in memory | ${o.touched} | ${m.touched.channels} | ${perChannel(m.touched, m.beforeTouch, m.touched.channels)} |`,
  );
  console.log(
    `| touched once, dropped by the ttl (${m.sweepMs} ms after the last touch) | ${o.touched} | ${m.swept.channels} | ${perChannel(m.swept, m.beforeTouch, o.touched)} |`,
  );
  console.log(
    `| active: 1 subscriber on a socket each (its stream included) | ${o.active} | ${m.active.heapOpen.channels} | ${perChannel(m.active.heapOpen, m.swept, o.active)} |`,
  );
  console.log(`\n| broadcast (${o.rounds} rounds, ${o.size} B) | deliveries | lost | server CPU µs/delivery | ratio |`);
  console.log('| --- | --- | --- | --- | --- |');
  const expected = o.active * o.rounds;
  for (const [label, r] of [
    [`${o.active} channels × 1 subscriber, one broadcast to each`, m.active],
    [`fan-out: 1 channel × ${o.active} subscribers`, m.fanout],
  ]) {
    const ratio = (r.cpuUsPerDelivery / m.fanout.cpuUsPerDelivery).toFixed(2);
    console.log(
      `| ${label} | ${r.read.received} | ${expected - r.read.received} | ${r.cpuUsPerDelivery.toFixed(2)} | ${ratio}× |`,
    );
  }
}

async function main() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      touched: { type: 'string' },
      active: { type: 'string' },
      rounds: { type: 'string', default: '5' },
      ttl: { type: 'string' },
      size: { type: 'string', default: '100' },
      scenario: { type: 'string' },
    },
  });
  const o = {
    touched: Number(values.touched ?? (values.quick ? 20_000 : 200_000)),
    active: Number(values.active ?? (values.quick ? 1_000 : 10_000)),
    rounds: Number(values.rounds),
    ttl: Number(values.ttl ?? (values.quick ? 2_000 : 15_000)),
    size: Number(values.size),
  };
  console.log(
    `channels: historyTtl ${o.ttl} ms, ${o.touched} touched, ${o.active} active, ${o.rounds} rounds of ${o.size} B; ` +
      `${placement}; open-file limit ${fileLimits()}; ${new Date().toISOString()}`,
  );
  const m = await measure(o);
  report(m, o);
  const bad = [m.active.read, m.fanout.read].some((r) => r.lost + r.duplicated > 0);
  if (bad) {
    console.error('channels: events were lost or duplicated');
    process.exit(1);
  }
}

if (process.argv[2] === 'server') await serve(Number(process.argv[3]));
else await main();
