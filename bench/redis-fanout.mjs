// @tidings/redis under load, against the in-memory registry, on the built packages (`pnpm build` first):
//   node bench/redis-fanout.mjs [--before <git ref>] [--only fanout,channels] [--clients 500] [--events 1000]
//     [--rate 20] [--paced-events 200] [--rounds 3] [--size 100] [--channels 10,1000,20000] [--channel-broadcasts 200] [--channel-rate 50]
// Redis is a private redis-server the bench starts on a free port (so INFO cpu is this bench's alone), or
// REDIS_URL. `--before <ref>` also runs the adapter as it was at that commit (built into bench/node_modules),
// in the same invocation, one after the other.
//   fanout    2 server processes × `clients` raw-socket clients, one channel. `burst`: `events` broadcasts as fast
//             as the servers publish them (events/s delivered = events read by all clients / (last read - first
//             send)); `paced`: `paced-events` at `rate`/s: latency from the publishing server building the event
//             to a client reading it, `rounds` times with the registries alternating (the added latency is the
//             median over the rounds of each round's difference). In memory every server broadcasts every event to
//             its own clients; through Redis the servers alternate and every client gets every event.
//   channels  1 server process subscribed to N channels (10 channels per raw-socket stream: 20,000 channels are
//             2,000 sockets), `channel-broadcasts` broadcasts at `channel-rate`/s, each to a random channel: Redis
//             CPU (INFO cpu, its background work included) and server CPU per broadcast, from the first broadcast
//             until the client read the last.
// The load client reads raw sockets with lib/stream-reader.mjs (no allocation per frame) and reports its own CPU
// (% of one core over the measured window), so a saturated client shows. Nothing fails on a time; a run with
// lost events says so and exits non-zero.
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { adapterAt } from './lib/adapter-at.mjs';
import { forkRole, openEventStream, untilAllOrQuiet } from './lib/forked.mjs';
import { makePayload } from './lib/payload.mjs';
import { cpuFromInfo, deleteMatching, openRedis } from './lib/redis.mjs';
import { latencySummary, median } from './lib/stats.mjs';

/** Channels each stream of the channels scenario subscribes to. */
const CHANNELS_PER_STREAM = 10;

/** Broadcasts each server of the cluster scenario keeps in flight. */
const FLOOD_IN_FLIGHT = 64;

const role = process.env.FANOUT_ROLE;
if (role === 'server') await serve();
else if (role === 'client') await load();
else await main();

/** A server process: Tidings on node:http, the registry in memory or shared through the adapter at FANOUT_ADAPTER. */
async function serve() {
  const { ChannelRegistry, SseEmitter } = await import('@tidings/core');
  let adapter;
  if (process.env.FANOUT_ADAPTER) {
    const { redisAdapter } = await import(process.env.FANOUT_ADAPTER);
    adapter = process.env.FANOUT_CLUSTER
      ? await clusterAdapter(redisAdapter, process.env.FANOUT_CLUSTER.split(','), process.env.FANOUT_PREFIX)
      : redisAdapter({ redis: process.env.REDIS_URL, prefix: process.env.FANOUT_PREFIX });
  }
  const registry = new ChannelRegistry({ adapter, history: 0 });
  const server = createServer((req, res) => {
    const em = new SseEmitter({ keepAlive: false }).attach(req, res);
    const query = new URL(req.url, 'http://bench').searchParams;
    // `/bench`: the one channel of the fan-out; `/multi?first=i`: channels c<i> ... c<i + 9>.
    if (!query.has('first')) registry.channel('bench').subscribe(em);
    else
      for (let i = 0; i < CHANNELS_PER_STREAM; i++)
        registry.channel(`c${Number(query.get('first')) + i}`).subscribe(em);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  process.on('message', async ({ cmd, seqs, size, intervalMs, delayMs, channels, count }) => {
    if (cmd === 'publish') {
      // One broadcast per turn (burst) or on a fixed schedule (paced); not awaited: slowness shows as latency.
      // The schedule is absolute, not a sleep after each broadcast: an in-memory broadcast writes every socket
      // before it returns, and sleeping after it would pace the in-memory baseline below `rate`.
      const start = performance.now() + delayMs;
      const pending = [];
      for (const [k, seq] of seqs.entries()) {
        const due = start + k * intervalMs;
        await new Promise((resolve) =>
          intervalMs || k === 0 ? setTimeout(resolve, Math.max(0, due - performance.now())) : setImmediate(resolve),
        );
        const channel = channels === undefined ? 'bench' : `c${Math.floor(Math.random() * channels)}`;
        pending.push(registry.broadcast(channel, makePayload(seq, size)));
      }
      const failed = (await Promise.allSettled(pending)).filter((r) => r.status === 'rejected').length;
      process.send({ published: seqs.length, failed });
    } else if (cmd === 'flood') {
      process.send(await flood(registry, channels, count, size));
    } else if (cmd === 'cpu') {
      process.send({ cpuMs: cpuMs() });
    } else if (cmd === 'close') {
      server.closeAllConnections();
      server.close();
      await registry.close();
      process.disconnect();
    }
  });
  process.send({ port: server.address().port });
}

/**
 * The adapter on a Redis Cluster: given the seed URLs when it takes them; an adapter from before cluster support
 * gets an ioredis Cluster and a hash-tagged prefix instead (every channel in one slot: what its README advised).
 */
async function clusterAdapter(redisAdapter, seeds, prefix) {
  try {
    return redisAdapter({ redis: seeds, prefix });
  } catch (err) {
    if (err?.code !== 'SSE_ERR_INVALID_OPTION') throw err;
    const { Cluster } = await import('ioredis');
    return redisAdapter({ redis: new Cluster(seeds), prefix: `{${prefix}}` });
  }
}

/** Broadcasts `count` events round-robin over `channels`, FLOOD_IN_FLIGHT at a time; resolves to the time taken. */
async function flood(registry, channels, count, size) {
  const started = performance.now();
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < count) {
      const seq = next++;
      await registry.broadcast(channels[seq % channels.length], makePayload(seq, size)).catch(() => failed++);
    }
  };
  await Promise.all(Array.from({ length: FLOOD_IN_FLIGHT }, worker));
  return { ms: performance.now() - started, failed };
}

/** The load-client process: raw HTTP/1.1 sockets, frames parsed without allocation, latency per event. */
async function load() {
  const conns = [];
  let latencies = new Float64Array(0);
  let count = 0;
  let received = 0;
  let firstSent = Number.MAX_SAFE_INTEGER;
  let lastRead = 0;
  process.on('message', async ({ cmd, targets, expected }) => {
    if (cmd === 'connect') {
      // In batches: thousands of connects at once overflow the server's accept backlog.
      for (let i = 0; i < targets.length; i += 500) {
        conns.push(...(await Promise.all(targets.slice(i, i + 500).map(({ port, path }) => openStream(port, path)))));
      }
      process.send({ connected: conns.length });
    } else if (cmd === 'collect') {
      latencies = new Float64Array(expected);
      const cpuBefore = cpuMs();
      const started = Date.now();
      // Until every event arrived, or nothing arrived for 3 s (then the rest counts as lost).
      await untilAllOrQuiet(() => received, expected);
      const busyMs = cpuMs() - cpuBefore;
      process.send({
        received,
        lost: expected - received,
        firstSent,
        lastRead,
        latency: latencySummary(latencies, count),
        clientCpu: busyMs / (Date.now() - started),
      });
      received = 0;
      count = 0;
      firstSent = Number.MAX_SAFE_INTEGER;
    } else if (cmd === 'close') {
      for (const c of conns) c.destroy();
      process.disconnect();
    }
  });
  function openStream(port, path) {
    return openEventStream(port, path, (_seq, sentUs, now) => {
      if (count < latencies.length) latencies[count++] = (now - sentUs) / 1000;
      if (sentUs < firstSent) firstSent = sentUs;
      lastRead = now;
      received++;
    });
  }
  process.send({ ready: true });
}

/** User + system CPU of this process so far, ms. */
function cpuMs() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** A process of this script in role `env.FANOUT_ROLE`. */
function start(env) {
  return forkRole(new URL(import.meta.url), env);
}

/** Closes each process; one that has not exited 5 s later is killed (the adapter before cluster support never
 * finishes closing an ioredis Cluster). */
async function stopAll(processes) {
  for (const p of processes) {
    const exited = once(p.child, 'exit');
    p.child.send({ cmd: 'close' });
    const timer = setTimeout(() => p.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/** Starts `count` servers with `adapter` (undefined: in memory) and the load client; resolves to their handles. */
async function startProcesses(count, adapter, workload, options) {
  const prefix = `tidings-bench:${process.pid}:${adapter?.name ?? 'memory'}:${workload}`;
  const env = {
    FANOUT_ROLE: 'server',
    FANOUT_ADAPTER: adapter?.url ?? '',
    FANOUT_PREFIX: prefix,
    REDIS_URL: options.redis.url,
  };
  const servers = Array.from({ length: count }, () => start(env));
  const ports = await Promise.all(servers.map(async (s) => (await s.next()).port));
  const client = start({ FANOUT_ROLE: 'client' });
  await client.next();
  return { servers, ports, client, prefix };
}

/** One fan-out run (burst or paced) of 2 servers, in memory or through `adapter`. */
async function fanout(adapter, workload, options) {
  const { servers, ports, client, prefix } = await startProcesses(2, adapter, workload, options);
  const targets = ports.flatMap((port) => Array.from({ length: options.clients }, () => ({ port, path: '/bench' })));
  const { connected } = await client.ask({ cmd: 'connect', targets });
  await new Promise((resolve) => setTimeout(resolve, 500)); // the servers' channel subscriptions settle
  const events = workload === 'paced' ? options.pacedEvents : options.events;
  const all = Array.from({ length: events }, (_, i) => i);
  const shared = adapter !== undefined;
  // In memory each server sends every event to its own clients; through Redis they alternate.
  const share = (s) => (shared ? all.filter((seq) => seq % 2 === s) : all);
  const intervalMs = workload === 'paced' ? (1000 / options.rate) * (shared ? 2 : 1) : 0;
  const collecting = client.ask({ cmd: 'collect', expected: connected * events });
  const published = await Promise.all(
    // Paced through Redis, the second server starts half an interval later: events stay evenly spaced.
    servers.map((s, i) =>
      s.ask({
        cmd: 'publish',
        seqs: share(i),
        size: options.size,
        intervalMs,
        delayMs: shared ? (i * intervalMs) / 2 : 0,
      }),
    ),
  );
  const result = await collecting;
  await stopAll([...servers, client]);
  if (shared) await options.redis.deleteKeys(prefix);
  return {
    registry: adapter?.name ?? 'in memory',
    workload,
    clients: connected,
    failedPublishes: published.reduce((n, p) => n + p.failed, 0),
    delivered: result.received,
    lost: result.lost,
    eventsPerSecond: Math.round(result.received / ((result.lastRead - result.firstSent) / 1e6)),
    p50: result.latency.p50,
    p99: result.latency.p99,
    clientCpu: result.clientCpu,
  };
}

/** One server following `channels` channels through `adapter`; paced broadcasts to random ones. */
async function channelCost(adapter, channels, options) {
  const { servers, ports, client, prefix } = await startProcesses(1, adapter, `channels-${channels}`, options);
  const [server] = servers;
  const streams = Math.ceil(channels / CHANNELS_PER_STREAM);
  const targets = Array.from({ length: streams }, (_, i) => ({
    port: ports[0],
    path: `/multi?first=${i * CHANNELS_PER_STREAM}`,
  }));
  await client.ask({ cmd: 'connect', targets });
  // Subscriptions settle (the adapter's first read of each channel), then a quiet second before measuring.
  await new Promise((resolve) => setTimeout(resolve, 1000 + channels / 20));
  const broadcasts = options.channelBroadcasts;
  const redisBefore = await options.redis.cpuMs();
  const { cpuMs: serverBefore } = await server.ask({ cmd: 'cpu' });
  const collecting = client.ask({ cmd: 'collect', expected: broadcasts });
  const seqs = Array.from({ length: broadcasts }, (_, i) => i);
  const published = await server.ask({
    cmd: 'publish',
    seqs,
    size: options.size,
    intervalMs: 1000 / options.channelRate,
    delayMs: 0,
    channels: streams * CHANNELS_PER_STREAM,
  });
  const result = await collecting;
  const { cpuMs: serverAfter } = await server.ask({ cmd: 'cpu' });
  const redisAfter = await options.redis.cpuMs();
  await stopAll([server, client]);
  await options.redis.deleteKeys(prefix);
  return {
    registry: adapter.name,
    channels: streams * CHANNELS_PER_STREAM,
    broadcasts,
    failedPublishes: published.failed,
    lost: result.lost,
    redisMs: (redisAfter - redisBefore) / broadcasts,
    serverMs: (serverAfter - serverBefore) / broadcasts,
    p50: result.latency.p50,
    p99: result.latency.p99,
    clientCpu: result.clientCpu,
  };
}

/**
 * Broadcasts/s of 2 servers flooding channels through `adapter` on the cluster: all on one master, then spread
 * over the three (an adapter from before cluster support puts every channel in one slot whatever their names).
 */
async function clusterThroughput(adapter, cluster, options) {
  const rows = [];
  const placements = adapter.url === '@tidings/redis' ? ['1 master', '3 masters'] : ['one hash tag'];
  for (const placement of placements) {
    const channels = placement === '3 masters' ? cluster.spread : cluster.onFirstMaster;
    const prefix = `tidings-bench:${process.pid}:cluster`;
    const env = {
      FANOUT_ROLE: 'server',
      FANOUT_ADAPTER: adapter.url,
      FANOUT_PREFIX: prefix,
      FANOUT_CLUSTER: cluster.seeds,
    };
    const servers = [start(env), start(env)];
    await Promise.all(servers.map((s) => s.next()));
    const before = await cluster.cpuByMaster();
    const floods = await Promise.all(
      servers.map((s) => s.ask({ cmd: 'flood', channels, count: options.clusterBroadcasts, size: options.size })),
    );
    const after = await cluster.cpuByMaster();
    await stopAll(servers);
    await cluster.deleteKeys(prefix);
    const total = options.clusterBroadcasts * servers.length;
    rows.push({
      registry: adapter.name,
      placement,
      broadcasts: total,
      failed: floods.reduce((n, f) => n + f.failed, 0),
      perSecond: Math.round(total / (Math.max(...floods.map((f) => f.ms)) / 1000)),
      masterCpu: after.map((ms, i) => (ms - before[i]) / total),
    });
  }
  return rows;
}

/**
 * The Redis Cluster of the run: TIDINGS_REDIS_CLUSTER's seeds, or a private one from scripts/redis-cluster.sh
 * (stopped by `close`); with 30 channel names on its first master and 30 spread 10 a master.
 */
async function openCluster() {
  const { Redis } = await import('ioredis');
  const script = new URL('../scripts/redis-cluster.sh', import.meta.url).pathname;
  let dir;
  let seeds = process.env.TIDINGS_REDIS_CLUSTER;
  if (seeds === undefined) {
    dir = mkdtempSync(join(tmpdir(), 'tidings-bench-cluster-'));
    seeds = execFileSync(script, ['start', dir], { encoding: 'utf8' }).trim();
  }
  const seed = new Redis(seeds.split(',')[0]);
  // CLUSTER SLOTS: [[first, last, [host, port, id], ...replicas], ...]
  const ranges = await seed.cluster('SLOTS');
  const ports = [...new Set(ranges.map((range) => range[2][1]))].sort();
  const masters = ports.map((port) => new Redis(port, '127.0.0.1'));
  const masterOf = async (channel) => {
    const slot = await seed.cluster('KEYSLOT', `{${channel}}`);
    return ports.indexOf(ranges.find(([first, last]) => first <= slot && slot <= last)[2][1]);
  };
  const onFirstMaster = [];
  const spread = [];
  const perMaster = ports.map(() => 0);
  for (let i = 0; onFirstMaster.length < 30 || spread.length < 30; i++) {
    const channel = `f${i}`;
    const master = await masterOf(channel);
    if (master === 0 && onFirstMaster.length < 30) onFirstMaster.push(channel);
    if (perMaster[master] < 10) {
      perMaster[master]++;
      spread.push(channel);
    }
  }
  return {
    seeds,
    masters: ports.length,
    onFirstMaster,
    spread,
    /** Each master's user + system CPU so far (INFO cpu), ms. */
    cpuByMaster: () => Promise.all(masters.map(async (redis) => cpuFromInfo(await redis.info('cpu')))),
    async deleteKeys(prefix) {
      for (const redis of masters) await deleteMatching(redis, prefix);
    },
    close() {
      seed.disconnect();
      for (const redis of masters) redis.disconnect();
      if (dir !== undefined) execFileSync(script, ['stop', dir]);
    },
  };
}

/** Prints a markdown table: a header row, then one row a list of cells. */
function printTable(header, rows) {
  console.log(`\n| ${header.join(' | ')} |`);
  console.log(`|${' --- |'.repeat(header.length)}`);
  for (const cells of rows) console.log(`| ${cells.join(' | ')} |`);
}

/** ` (N publishes failed)`, or nothing. */
function failedNote(failed) {
  return failed ? ` (${failed} publishes failed)` : '';
}

function fixed(n) {
  return Number.isFinite(n) ? n.toFixed(2) : '–';
}

function signed(n) {
  return `${n < 0 ? '' : '+'}${fixed(n)}`;
}

function percent(n) {
  return `${Math.round(n * 100)} %`;
}

async function main() {
  const { values } = parseArgs({
    options: {
      clients: { type: 'string', default: '500' },
      events: { type: 'string', default: '1000' },
      rate: { type: 'string', default: '20' },
      'paced-events': { type: 'string', default: '200' },
      size: { type: 'string', default: '100' },
      channels: { type: 'string', default: '10,1000,20000' },
      'channel-broadcasts': { type: 'string', default: '200' },
      'channel-rate': { type: 'string', default: '50' },
      'cluster-broadcasts': { type: 'string', default: '10000' },
      rounds: { type: 'string', default: '3' },
      before: { type: 'string' },
      only: { type: 'string', default: 'fanout,channels,cluster' },
    },
  });
  // Before Redis starts: a `--before` that cannot be built must not leave a private redis-server behind.
  const adapters = [{ name: 'this adapter', url: '@tidings/redis' }];
  if (values.before !== undefined) {
    const before = adapterAt(values.before);
    adapters.unshift({ name: `adapter at ${before.sha}`, url: before.url });
  }
  const redis = await openRedis();
  const options = {
    clients: Number(values.clients),
    events: Number(values.events),
    rate: Number(values.rate),
    pacedEvents: Number(values['paced-events']),
    size: Number(values.size),
    channelBroadcasts: Number(values['channel-broadcasts']),
    channelRate: Number(values['channel-rate']),
    clusterBroadcasts: Number(values['cluster-broadcasts']),
    rounds: Number(values.rounds),
    redis,
  };
  const only = values.only.split(',');
  console.log(
    `Redis: ${redis.private ? `private redis-server at ${redis.url}` : redis.url}; ${options.size} B events; Node ${process.version}`,
  );
  let lost = false;
  try {
    if (only.includes('fanout')) {
      console.log(
        `\nfanout: 2 servers × ${options.clients} clients; burst: ${options.events} events, paced: ${options.pacedEvents} at ${options.rate}/s`,
      );
      const rows = [];
      for (const adapter of [undefined, ...adapters])
        rows.push({ ...(await fanout(adapter, 'burst', options)), round: 1 });
      // Paced rounds alternate the registries, so that a noisy moment of the machine does not land on one of them.
      for (let round = 1; round <= options.rounds; round++)
        for (const adapter of [undefined, ...adapters])
          rows.push({ ...(await fanout(adapter, 'paced', options)), round });
      printTable(
        [
          'workload',
          'round',
          'registry',
          'clients',
          'delivered',
          'lost',
          'events/s delivered',
          'latency p50 ms',
          'p99 ms',
          'load client CPU',
        ],
        rows.map((r) => [
          r.workload,
          r.round,
          r.registry,
          r.clients,
          r.delivered,
          `${r.lost}${failedNote(r.failedPublishes)}`,
          r.eventsPerSecond.toLocaleString('en-US'),
          fixed(r.p50),
          fixed(r.p99),
          percent(r.clientCpu),
        ]),
      );
      const paced = rows.filter((r) => r.workload === 'paced');
      for (const { name } of adapters) {
        // Each round's Redis latency minus the same round's in-memory latency; the median over the rounds.
        const added = (field) =>
          median(
            paced
              .filter((r) => r.registry === name)
              .map((r) => r[field] - paced.find((m) => m.round === r.round && m.registry === 'in memory')[field]),
          );
        console.log(
          `Added by ${name} at ${options.rate} events/s (median of ${options.rounds} rounds): p50 ${signed(added('p50'))} ms, p99 ${signed(added('p99'))} ms`,
        );
      }
      lost ||= rows.some((r) => r.lost > 0);
    }
    if (only.includes('channels')) {
      console.log(
        `\nchannels: 1 server, ${CHANNELS_PER_STREAM} channels per stream, ${options.channelBroadcasts} broadcasts at ${options.channelRate}/s to random channels`,
      );
      const rows = [];
      for (const channels of values.channels.split(',').map(Number))
        for (const adapter of adapters) rows.push(await channelCost(adapter, channels, options));
      printTable(
        [
          'registry',
          'channels',
          'broadcasts',
          'lost',
          'Redis CPU ms / broadcast',
          'server CPU ms / broadcast',
          'latency p50 ms',
          'p99 ms',
          'load client CPU',
        ],
        rows.map((r) => [
          r.registry,
          r.channels.toLocaleString('en-US'),
          r.broadcasts,
          `${r.lost}${failedNote(r.failedPublishes)}`,
          fixed(r.redisMs),
          fixed(r.serverMs),
          fixed(r.p50),
          fixed(r.p99),
          percent(r.clientCpu),
        ]),
      );
      lost ||= rows.some((r) => r.lost > 0);
    }
    if (only.includes('cluster')) {
      const cluster = await openCluster();
      try {
        console.log(
          `\ncluster: ${cluster.masters} masters + replicas, 2 servers each broadcasting ${options.clusterBroadcasts} events (${FLOOD_IN_FLIGHT} in flight) round-robin over 30 channels`,
        );
        const rows = [];
        for (const adapter of adapters) rows.push(...(await clusterThroughput(adapter, cluster, options)));
        printTable(
          ['registry', 'channels on', 'broadcasts', 'failed', 'broadcasts/s', "each master's CPU ms / broadcast"],
          rows.map((r) => [
            r.registry,
            r.placement,
            r.broadcasts,
            r.failed,
            r.perSecond.toLocaleString('en-US'),
            r.masterCpu.map(fixed).join(' / '),
          ]),
        );
      } finally {
        cluster.close();
      }
    }
  } finally {
    await redis.close();
  }
  if (lost) process.exitCode = 1;
}
