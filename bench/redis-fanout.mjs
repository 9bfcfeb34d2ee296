// Fan-out through Redis against the in-memory registry: 2 server processes × 500 clients (one load-client
// process), on the built packages (`pnpm build` first) and Redis at REDIS_URL (default redis://127.0.0.1:6379).
//   node bench/redis-fanout.mjs [--clients 500] [--events 1000] [--rate 20] [--paced-events 200] [--size 100]
// Two workloads, each run with `memory` (every server broadcasts every event to its own clients: no sharing)
// and `redis` (the servers share one channel through @tidings/redis; broadcasts alternate between them):
//   burst   every event as fast as the servers can publish it: delivered events/s = events read by all
//           clients / (last read - first send)
//   paced   `paced-events` events at `rate` events/s, far below saturation: latency from the publishing
//           server building the event to a client reading it; redis minus memory is what the Redis round
//           trip (XADD, then XREAD on every server) adds.
// Nothing here fails on a time; a run with lost events says so.
import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import { forkRole, untilAllOrQuiet } from './lib/forked.mjs';
import { makePayload, nowUs } from './lib/payload.mjs';
import { latencySummary } from './lib/stats.mjs';
import { StreamReader } from './lib/stream-reader.mjs';

const role = process.env.FANOUT_ROLE;
if (role === 'server') await serve();
else if (role === 'client') await load();
else await main();

/** A server process: Tidings on node:http, the registry in memory or shared through Redis. */
async function serve() {
  const { ChannelRegistry, SseEmitter } = await import('@tidings/core');
  const shared = process.env.FANOUT_MODE === 'redis';
  let adapter;
  if (shared) {
    const { redisAdapter } = await import('@tidings/redis');
    adapter = redisAdapter({ redis: process.env.REDIS_URL, prefix: process.env.FANOUT_PREFIX });
  }
  const registry = new ChannelRegistry({ adapter, history: 0 });
  const channel = registry.channel('bench');
  const server = createServer((req, res) => channel.subscribe(new SseEmitter({ keepAlive: false }).attach(req, res)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  process.on('message', async ({ cmd, seqs, size, intervalMs, delayMs }) => {
    if (cmd === 'publish') {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      // One broadcast per turn (burst) or per interval (paced); not awaited: slowness shows as latency.
      const pending = [];
      for (const seq of seqs) {
        pending.push(channel.broadcast(makePayload(seq, size)));
        await new Promise((resolve) => (intervalMs ? setTimeout(resolve, intervalMs) : setImmediate(resolve)));
      }
      const failed = (await Promise.allSettled(pending)).filter((r) => r.status === 'rejected').length;
      process.send({ published: seqs.length, failed });
    } else if (cmd === 'close') {
      server.closeAllConnections();
      server.close();
      await registry.close();
      process.disconnect();
    }
  });
  process.send({ port: server.address().port });
}

/** The load-client process: raw HTTP/1.1 sockets, frames parsed without allocation, latency per event. */
async function load() {
  const conns = [];
  let latencies = new Float64Array(0);
  let count = 0;
  let received = 0;
  let firstSent = Number.MAX_SAFE_INTEGER;
  let lastRead = 0;
  process.on('message', async ({ cmd, ports, clients, events }) => {
    if (cmd === 'connect') {
      latencies = new Float64Array(ports.length * clients * events);
      for (const port of ports) {
        const opened = [];
        for (let i = 0; i < clients; i++) opened.push(openStream(port));
        conns.push(...(await Promise.all(opened)));
      }
      process.send({ connected: conns.length });
    } else if (cmd === 'collect') {
      const target = conns.length * events;
      // Until every client has every event, or nothing arrived for 3 s (then the rest counts as lost).
      await untilAllOrQuiet(() => received, target);
      const complete = conns.filter((c) => c.received === events).length;
      process.send({
        received,
        lost: target - received,
        complete,
        firstSent,
        lastRead,
        latency: latencySummary(latencies, count),
      });
      for (const c of conns) c.received = 0;
      received = 0;
      count = 0;
      firstSent = Number.MAX_SAFE_INTEGER;
    } else if (cmd === 'close') {
      for (const c of conns) c.socket.destroy();
      process.disconnect();
    }
  });
  function openStream(port) {
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      const conn = { socket, received: 0 };
      let now = 0;
      const reader = new StreamReader(
        () => resolve(conn),
        (_seq, sentUs) => {
          if (count < latencies.length) latencies[count++] = (now - sentUs) / 1000;
          if (sentUs < firstSent) firstSent = sentUs;
          lastRead = now;
          conn.received++;
          received++;
        },
      );
      socket.on('data', (buf) => {
        now = nowUs();
        reader.feed(buf);
      });
      socket.on('error', () => {});
      socket.write(`GET /bench HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
    });
  }
  process.send({ ready: true });
}

/** A process of this script in role `env.FANOUT_ROLE`. */
function start(env) {
  return forkRole(new URL(import.meta.url), env);
}

async function run(mode, workload, options) {
  const prefix = `tidings-bench:${process.pid}:${mode}:${workload}`;
  const env = { FANOUT_ROLE: 'server', FANOUT_MODE: mode, FANOUT_PREFIX: prefix, REDIS_URL: options.redis };
  const servers = await Promise.all([start(env), start(env)]);
  const ports = await Promise.all(servers.map(async (s) => (await s.next()).port));
  const client = await start({ FANOUT_ROLE: 'client' });
  await client.next();
  const events = workload === 'paced' ? options.pacedEvents : options.events;
  const { connected } = await client.ask({ cmd: 'connect', ports, clients: options.clients, events });
  const all = Array.from({ length: events }, (_, i) => i);
  // memory: each server sends every event to its own clients; redis: they alternate, each client gets all.
  const share = (s) => (mode === 'redis' ? all.filter((seq) => seq % 2 === s) : all);
  const intervalMs = workload === 'paced' ? (1000 / options.rate) * (mode === 'redis' ? 2 : 1) : 0;
  const collecting = client.ask({ cmd: 'collect', events });
  const published = await Promise.all(
    // Paced through Redis, the second server starts half an interval later: events stay evenly spaced.
    servers.map((s, i) =>
      s.ask({
        cmd: 'publish',
        seqs: share(i),
        size: options.size,
        intervalMs,
        delayMs: mode === 'redis' ? (i * intervalMs) / 2 : 0,
      }),
    ),
  );
  const result = await collecting;
  for (const s of [...servers, client]) {
    s.child.send({ cmd: 'close' });
    await once(s.child, 'exit');
  }
  if (mode === 'redis') {
    const { Redis } = await import('ioredis');
    const redis = new Redis(options.redis);
    await redis.del(`${prefix}:bench`);
    redis.disconnect();
  }
  const seconds = (result.lastRead - result.firstSent) / 1e6;
  return {
    mode,
    workload,
    clients: connected,
    failedPublishes: published.reduce((n, p) => n + p.failed, 0),
    delivered: result.received,
    lost: result.lost,
    eventsPerSecond: Math.round(result.received / seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      clients: { type: 'string', default: '500' },
      events: { type: 'string', default: '1000' },
      rate: { type: 'string', default: '20' },
      'paced-events': { type: 'string', default: '200' },
      size: { type: 'string', default: '100' },
    },
  });
  const options = {
    clients: Number(values.clients),
    events: Number(values.events),
    rate: Number(values.rate),
    pacedEvents: Number(values['paced-events']),
    size: Number(values.size),
    redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  };
  console.log(
    `2 servers × ${options.clients} clients; burst: ${options.events} events, paced: ${options.pacedEvents} at ${options.rate}/s; ${options.size} B each; Node ${process.version}`,
  );
  const rows = [];
  for (const workload of ['burst', 'paced'])
    for (const mode of ['memory', 'redis']) rows.push(await run(mode, workload, options));
  console.log('\n| workload | registry | clients | delivered | lost | events/s delivered | latency p50 ms | p99 ms |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    console.log(
      `| ${r.workload} | ${r.mode} | ${r.clients} | ${r.delivered} | ${r.lost}${r.failedPublishes ? ` (${r.failedPublishes} publishes failed)` : ''} | ${r.eventsPerSecond.toLocaleString('en-US')} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} |`,
    );
  }
  const paced = (mode) => rows.find((r) => r.workload === 'paced' && r.mode === mode);
  const added = (p) => (paced('redis')[p] - paced('memory')[p]).toFixed(2);
  console.log(`\nAdded by Redis at ${options.rate} events/s: p50 +${added('p50')} ms, p99 +${added('p99')} ms`);
  if (rows.some((r) => r.lost > 0)) process.exitCode = 1;
}
