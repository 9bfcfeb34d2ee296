// Tidings quickstart for Express: the three handler styles, a channel, and graceful shutdown.
//   node express.mjs           serves on http://127.0.0.1:3000 (PORT to change it); try `curl -N .../count`
//   node express.mjs --check   starts on a free port, reads /count and /news once as a client would, and exits
import { ChannelRegistry, event, SseEmitter } from '@tidings/core';
import { sse, sseHandler } from '@tidings/express';
import compression from 'compression';
import express from 'express';
import { checkQuickstart } from './check.mjs';

const registry = new ChannelRegistry({ history: 50 });
const events = sse({ keepAlive: 15_000, registry });
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const app = express();
app.use(compression()); // safe: every event still reaches the client as it is sent
app.use(events);

// 1. res.sse(): an emitter bound to this response; it stays open until completed or the client leaves.
app.get('/clock', (_req, res) => {
  const em = res.sse();
  const timer = setInterval(() => void em.send(event({ event: 'tick', data: new Date().toISOString() })), 1000);
  em.onCompletion(() => clearInterval(timer));
});

// 2. Return an emitter: it stays open until complete() (Spring semantics), not until the handler returns.
app.get(
  '/job',
  sseHandler(() => {
    const em = new SseEmitter({ timeout: 60_000 });
    (async () => {
      for (const step of ['queued', 'running', 'done']) {
        await em.send(event({ event: 'status', data: { step } }));
        await sleep(300);
      }
      em.complete();
    })();
    return em;
  }),
);

// 3. Return an async iterable: pulled as fast as the client reads, stopped (finally runs) if it leaves.
app.get(
  '/count',
  sseHandler(async function* (req) {
    const from = Number(req.lastEventId ?? 0);
    for (let n = from + 1; n <= from + 3; n++) {
      yield event({ id: String(n), event: 'count', data: n });
      await sleep(100);
    }
  }),
);

// A channel: every subscriber gets each broadcast; a reconnecting client catches up from its Last-Event-ID.
app.get('/news', (_req, res) => registry.channel('news').subscribe(res.sse()));
app.post('/news', express.json(), async (req, res) => {
  res.json({ id: await registry.broadcast('news', req.body) });
});

const check = process.argv.includes('--check');
const server = app.listen(check ? 0 : Number(process.env.PORT ?? 3000), '127.0.0.1', async () => {
  const url = `http://127.0.0.1:${server.address().port}`;
  if (!check) return console.log(`Tidings + Express on ${url} (/clock, /job, /count, /news)`);
  await checkQuickstart(url, registry.channel('news'));
  await shutdown();
});

// Graceful shutdown: end every stream (clients see the end and reconnect elsewhere), then stop the server.
async function shutdown() {
  await events.close();
  server.close();
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
