// Two Tidings servers behind one port: an Express and a Fastify server (server.mjs, each its own process)
// share their channels through Redis, and a tiny round-robin proxy on one port sends each request to the next
// server, as a load balancer would.
//   node main.mjs           proxy on http://127.0.0.1:3000 (PORT); try
//                           curl -N localhost:3000/events/news        (twice: one per server)
//                           curl -d hello localhost:3000/events/news   (either server; both streams get it)
//   node main.mjs --check   starts everything on free ports, moves a client from one server to the other
//                           with Last-Event-ID, checks it missed nothing and saw nothing twice, and exits
// Needs Redis (REDIS_URL, default redis://127.0.0.1:6379) and the built packages (`pnpm build`).
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import { Redis } from 'ioredis';

const check = process.argv.includes('--check');
const prefix = check ? `tidings-example-check:${process.pid}` : 'tidings-example';

/** Starts server.mjs as `kind` in its own process; resolves to its port and the process. */
async function startServer(kind) {
  const child = fork(new URL('./server.mjs', import.meta.url), [kind], {
    env: { ...process.env, TIDINGS_PREFIX: prefix },
  });
  const [{ port }] = await once(child, 'message');
  return { kind, port, child };
}

/** A round-robin reverse proxy: request n goes to backend n mod 2, streamed both ways. */
function roundRobin(backends) {
  let next = 0;
  return createServer((req, res) => {
    const backend = backends[next++ % backends.length];
    const upstream = request(
      { host: '127.0.0.1', port: backend.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode, { ...answer.headers, 'x-served-by': backend.kind });
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
}

const backends = await Promise.all([startServer('express'), startServer('fastify')]);
const proxy = roundRobin(backends);
proxy.listen(check ? 0 : Number(process.env.PORT ?? 3000), '127.0.0.1');
await once(proxy, 'listening');
const base = `http://127.0.0.1:${proxy.address().port}`;

async function shutdown() {
  proxy.close();
  for (const { child } of backends) child.kill('SIGTERM');
  await Promise.all(backends.map(({ child }) => once(child, 'exit')));
}

if (!check) {
  console.log(`Two servers (express :${backends[0].port}, fastify :${backends[1].port}) behind ${base}`);
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
} else {
  await runCheck();
  await shutdown();
}

/** Opens a stream through the proxy; `events` fills as they arrive ({ id, data } each). */
function listen(lastEventId) {
  const ac = new AbortController();
  const headers = { accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) };
  const stream = { events: [], servedBy: undefined, close: () => ac.abort() };
  stream.ready = fetch(`${base}/events/news`, { headers, signal: ac.signal }).then((res) => {
    stream.servedBy = res.headers.get('x-served-by');
    (async () => {
      let buffered = '';
      for await (const chunk of res.body.pipeThrough(new TextDecoderStream())) {
        buffered += chunk;
        const frames = buffered.split('\n\n');
        buffered = frames.pop();
        for (const frame of frames) {
          const field = (name) => frame.match(new RegExp(`^${name}: (.*)$`, 'm'))?.[1];
          if (field('data') !== undefined) stream.events.push({ id: field('id'), data: field('data') });
        }
      }
    })().catch(() => {});
  });
  return stream;
}

async function broadcast(text) {
  const res = await fetch(`${base}/events/news`, {
    method: 'POST',
    body: text,
    headers: { 'content-type': 'text/plain' },
  });
  return res.json();
}

async function until(condition) {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 25));
}

async function runCheck() {
  const first = await broadcast('hello'); // a starting point to resume from
  const client = listen(first.id);
  await client.ready;
  for (let i = 1; i <= 4; i++) console.log('broadcast', JSON.stringify(await broadcast(`before-${i}`)));
  await until(() => client.events.length === 4);
  client.close();
  const lastSeen = client.events.at(-1).id;
  console.log(`client on ${client.servedBy} saw ${client.events.map((e) => e.data).join(', ')}; leaves at ${lastSeen}`);
  for (let i = 1; i <= 4; i++) console.log('broadcast', JSON.stringify(await broadcast(`while-away-${i}`)));
  const resumed = listen(lastSeen);
  await resumed.ready;
  await broadcast('after');
  await until(() => resumed.events.length === 5);
  resumed.close();
  console.log(`client back on ${resumed.servedBy} got ${resumed.events.map((e) => e.data).join(', ')}`);
  const ok =
    client.servedBy !== resumed.servedBy &&
    resumed.events.map((e) => e.data).join() === 'while-away-1,while-away-2,while-away-3,while-away-4,after';
  console.log(ok ? 'scale-out check passed' : 'scale-out check FAILED');
  if (!ok) process.exitCode = 1;
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  await redis.del(`${prefix}:news`);
  redis.disconnect();
}
