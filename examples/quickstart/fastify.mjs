// Tidings quickstart for Fastify: the three handler styles, a channel, and graceful shutdown.
//   node fastify.mjs           serves on http://127.0.0.1:3000 (PORT to change it); try `curl -N .../count`
//   node fastify.mjs --check   starts on a free port, reads /count and /news once as a client would, and exits
import { ChannelRegistry, event, SseEmitter } from '@tidings/core';
import { ssePlugin } from '@tidings/fastify';
import Fastify from 'fastify';
import { checkQuickstart } from './check.mjs';

const registry = new ChannelRegistry({ history: 50 });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const app = Fastify({ logger: process.argv.includes('--check') ? false : { level: 'info' } });
await app.register(ssePlugin, { keepAlive: 15_000, registry });

// 1. reply.sse(): headers set so far are kept, the reply is hijacked, the emitter stays open until completed.
app.get('/clock', (_request, reply) => {
  const em = reply.sse();
  const timer = setInterval(() => void em.send(event({ event: 'tick', data: new Date().toISOString() })), 1000);
  em.onCompletion(() => clearInterval(timer));
});

// 2. { sse: true }: a returned emitter stays open until complete() (Spring semantics).
app.get('/job', { sse: true }, async () => {
  const em = new SseEmitter({ timeout: 60_000 });
  (async () => {
    for (const step of ['queued', 'running', 'done']) {
      await em.send(event({ event: 'status', data: { step } }));
      await sleep(300);
    }
    em.complete();
  })();
  return em;
});

// 3. app.sse() = GET + { sse: true }: an async generator is pulled as fast as the client reads.
app.sse('/count', async function* (request) {
  const from = Number(request.lastEventId ?? 0);
  for (let n = from + 1; n <= from + 3; n++) {
    yield event({ id: String(n), event: 'count', data: n });
    await sleep(100);
  }
});

// A channel: every subscriber gets each broadcast; a reconnecting client catches up from its Last-Event-ID.
app.sse('/news', (_request, reply) => {
  registry.channel('news').subscribe(reply.sse());
});
app.post('/news', async (request) => ({ id: await registry.broadcast('news', request.body) }));

const check = process.argv.includes('--check');
const url = await app.listen({ port: check ? 0 : Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
if (check) {
  await checkQuickstart(url, registry.channel('news'));
  await app.close(); // ends every open stream first (the plugin's preClose hook)
}
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => app.close());
