// Runs against channel broadcast, the same workload side by side (issue 14's figures), in memory and through Redis,
// and vercel's resumable-stream on the same workload, on the built packages (`pnpm build` first).
// `pnpm bench --scenario runs` or:
//   node bench/runs.mjs [--quick] [--modes runs,channels,runs-redis,channels-redis,resumable-stream] [--runs 1000]
//     [--tokens 200] [--subscribers 2] [--size 64] [--tick 33]
// One server process (on node:http), one load-client process (raw sockets, frames parsed without allocation). Each
// mode opens `runs` streams of `subscribers` clients each: a registry.createRun() each (`runs`), a
// registry.channel() each (`channels`), the same with the registry on redisAdapter() (`runs-redis`,
// `channels-redis`), or a resumable-stream each (`resumable-stream`: the producer's stream of SSE frames made by
// createNewResumableStream, every client a resumeExistingStream, through Redis pub/sub). One timer appends (or
// broadcasts, or enqueues) one token to every stream each `tick` ms, `tokens` times (~30 tokens/s per stream),
// then the runs end. Redis is a private redis-server on a free port (or REDIS_URL; see lib/redis.mjs).
// Figures: tokens delivered per second, server CPU (user+system) per delivery, Redis CPU per delivery (INFO cpu),
// server heap and Redis memory per stream while running and after the end (after gc; a run's clients have all
// been answered its end), p99 latency from append to a client reading it. `--quick`: 50 streams × 20 tokens.
// Nothing here fails on a time; a run with lost tokens says so.
import { once } from 'node:events';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { forkRole, openEventStream, untilAllOrQuiet } from './lib/forked.mjs';
import { makePayload } from './lib/payload.mjs';
import { openRedis } from './lib/redis.mjs';
import { latencySummary } from './lib/stats.mjs';

/** Each mode: its row's label, and whether it needs Redis. */
const MODES = {
  runs: { label: 'runs', redis: false },
  channels: { label: 'channels', redis: false },
  'runs-redis': { label: 'runs (Redis)', redis: true },
  'channels-redis': { label: 'channels (Redis)', redis: true },
  'resumable-stream': { label: 'resumable-stream 2.2.13 (Redis)', redis: true },
};

const role = process.env.RUNS_ROLE;
if (role === 'server') await serve();
else if (role === 'client') await load();
else await main();

/**
 * Tidings' streams for `mode`: a run or a channel each, the registry in memory or on redisAdapter() at `redisUrl`.
 * `create(count)`, `serve(n, req, res)`, `push(n, data)`, `end()` (the runs), `close()`.
 */
async function tidingsStreams(mode, redisUrl, prefix) {
  const { ChannelRegistry, SseEmitter } = await import('@tidings/core');
  const adapter = redisUrl && (await import('@tidings/redis')).redisAdapter({ redis: redisUrl, prefix });
  const runs = mode.startsWith('runs');
  const registry = new ChannelRegistry({ adapter, history: runs ? 0 : 100 });
  let streams = [];
  return {
    ends: runs,
    create(count) {
      streams = Array.from({ length: count }, (_, i) =>
        runs ? registry.createRun({ id: `run-${i}` }) : registry.channel(`channel-${i}`),
      );
    },
    serve(n, req, res) {
      streams[n].subscribe(new SseEmitter({ keepAlive: false }).attach(req, res));
    },
    push(n, data) {
      if (runs) streams[n].append(data);
      else streams[n].broadcast(data);
    },
    end: () => (runs ? Promise.all(streams.map((run) => run.end())) : undefined),
    close: () => registry.close(),
  };
}

/**
 * vercel's resumable-stream (its `generic` entry, given ioredis clients): each stream's producer is a
 * ReadableStream of SSE frames handed to createNewResumableStream, which keeps every chunk in this process and
 * answers each client's resumeExistingStream over Redis pub/sub (one PUBLISH per chunk per client). The stream
 * createNewResumableStream returns (what the request that started it would read) is cancelled: every client comes
 * later, as with runs.
 */
async function resumableStreams(redisUrl, prefix) {
  const { Redis } = await import('ioredis');
  const { createResumableStreamContext } = await import('resumable-stream/generic');
  const publisher = new Redis(redisUrl);
  const subscriber = new Redis(redisUrl);
  const context = createResumableStreamContext({ waitUntil: null, publisher, subscriber, keyPrefix: prefix });
  let producers = [];
  return {
    ends: true,
    async create(count) {
      producers = await Promise.all(
        Array.from({ length: count }, async (_, i) => {
          let producer;
          const source = new ReadableStream({ start: (controller) => (producer = controller) });
          const own = await context.createNewResumableStream(`run-${i}`, () => source);
          await own.cancel();
          return producer;
        }),
      );
    },
    async serve(n, _req, res) {
      const stream = await context.resumeExistingStream(`run-${n}`);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.flushHeaders();
      for await (const chunk of stream) res.write(chunk);
      res.end();
    },
    push(n, data) {
      producers[n].enqueue(`data: ${data}\n\n`);
    },
    end() {
      for (const producer of producers) producer.close();
    },
    close() {
      publisher.disconnect();
      subscriber.disconnect();
    },
  };
}

/** The server process: `GET /<n>` subscribes to stream number n. */
async function serve() {
  const mode = process.env.RUNS_MODE;
  const redisUrl = process.env.RUNS_REDIS;
  const prefix = process.env.RUNS_PREFIX;
  const streams =
    mode === 'resumable-stream'
      ? await resumableStreams(redisUrl, prefix)
      : await tidingsStreams(mode, redisUrl, prefix);
  const info = redisUrl && new (await import('ioredis')).Redis(redisUrl);
  let served = 0;
  let answered = 0;
  const server = createServer((req, res) => {
    served++;
    res.on('close', () => answered++);
    streams.serve(Number(req.url.slice(1)), req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  /** Heap after gc, and Redis's used_memory (0 without Redis). */
  const memory = async () => {
    globalThis.gc();
    const redisBytes = info ? Number(/used_memory:(\d+)/.exec(await info.info('memory'))[1]) : 0;
    return { heap: process.memoryUsage().heapUsed, redis: redisBytes };
  };
  process.on('message', async ({ cmd, count, tokens, size, tick }) => {
    if (cmd === 'create') {
      const base = await memory();
      await streams.create(count);
      process.send({ created: count, base });
    } else if (cmd === 'produce') {
      const cpu = process.cpuUsage();
      let running;
      // An absolute schedule (round t at start + t × tick), so that every mode pushes at the same rate: sleeping
      // `tick` after each round would slow the modes whose push writes every socket before it returns.
      const start = performance.now();
      for (let t = 0; t < tokens; t++) {
        for (let n = 0; n < count; n++) streams.push(n, makePayload(t, size));
        if (t === tokens >> 1) running = await memory();
        const due = start + (t + 1) * tick;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
      }
      const used = process.cpuUsage(cpu);
      await streams.end();
      // After the end: every client of a run has been answered its end (its response is over).
      if (streams.ends) await untilAllOrQuiet(() => answered, served);
      process.send({ cpuMs: (used.user + used.system) / 1000, running, ended: await memory() });
    } else if (cmd === 'close') {
      server.closeAllConnections();
      server.close();
      await streams.close();
      info?.disconnect();
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

/** Per stream, KiB. */
function perStream(bytes, o) {
  return (bytes / o.runs / 1024).toFixed(1);
}

async function measure(mode, o, redis) {
  const prefix = `tidings-bench-runs:${mode}:${process.pid}`;
  const env = { RUNS_ROLE: 'server', RUNS_MODE: mode, RUNS_PREFIX: prefix };
  if (MODES[mode].redis) env.RUNS_REDIS = redis.url;
  const server = await start(env, ['--expose-gc']);
  const { port } = await server.next();
  const client = await start({ RUNS_ROLE: 'client' });
  await client.next();
  const { base } = await server.ask({ cmd: 'create', count: o.runs });
  await client.ask({ cmd: 'connect', port, count: o.runs, subscribers: o.subscribers, tokens: o.tokens });
  const redisCpu = MODES[mode].redis ? await redis.cpuMs() : 0;
  const produced = server.ask({ cmd: 'produce', count: o.runs, tokens: o.tokens, size: o.size, tick: o.tick });
  const read = await client.ask({ cmd: 'collect', tokens: o.tokens });
  const made = await produced;
  const redisCpuMs = MODES[mode].redis ? (await redis.cpuMs()) - redisCpu : 0;
  server.stop();
  client.stop();
  await Promise.all([once(server.child, 'exit'), once(client.child, 'exit')]);
  if (MODES[mode].redis) await redis.deleteKeys(prefix);
  const seconds = (read.lastRead - read.firstRead) / 1e6;
  const viaRedis = (figure) => (MODES[mode].redis ? figure : '-');
  return {
    mode: MODES[mode].label,
    'tokens/s delivered': Math.round(read.received / seconds),
    lost: read.lost,
    'server CPU µs/delivery': ((made.cpuMs * 1000) / read.received).toFixed(2),
    'Redis CPU µs/delivery': viaRedis(((redisCpuMs * 1000) / read.received).toFixed(2)),
    'heap/run running (KiB)': perStream(made.running.heap - base.heap, o),
    'heap/run after end (KiB)': perStream(made.ended.heap - base.heap, o),
    'Redis/run running (KiB)': viaRedis(perStream(made.running.redis - base.redis, o)),
    'Redis/run after end (KiB)': viaRedis(perStream(made.ended.redis - base.redis, o)),
    'p99 latency (ms)': read.latency.p99.toFixed(1),
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      modes: { type: 'string', default: Object.keys(MODES).join(',') },
      runs: { type: 'string' },
      tokens: { type: 'string' },
      subscribers: { type: 'string', default: '2' },
      size: { type: 'string', default: '64' },
      tick: { type: 'string', default: '33' },
      scenario: { type: 'string' },
    },
  });
  const o = {
    runs: Number(values.runs ?? (values.quick ? 50 : 1000)),
    tokens: Number(values.tokens ?? (values.quick ? 20 : 200)),
    subscribers: Number(values.subscribers),
    size: Number(values.size),
    tick: Number(values.tick),
  };
  const modes = values.modes.split(',');
  const unknown = modes.filter((mode) => !(mode in MODES));
  if (unknown.length > 0)
    throw new Error(`unknown mode ${unknown.join(', ')}: one of ${Object.keys(MODES).join(', ')}`);
  const redis = modes.some((mode) => MODES[mode].redis) ? await openRedis() : undefined;
  console.log(
    `runs: ${o.runs} × ${o.tokens} tokens × ${o.subscribers} subscribers, ${o.size} B tokens every ${o.tick} ms` +
      (redis ? `; Redis: ${redis.private ? `private redis-server at ${redis.url}` : redis.url}` : ''),
  );
  const rows = [];
  try {
    for (const mode of modes) rows.push(await measure(mode, o, redis));
  } finally {
    await redis?.close();
  }
  console.table(rows);
}
