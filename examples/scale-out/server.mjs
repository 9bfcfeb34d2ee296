// One server of the scale-out example, Express or Fastify (first argument). Its channels are shared through
// Redis: a broadcast made here reaches the clients of every server, and a client can resume on any of them.
//   GET  /events/:channel   the channel's event stream (send Last-Event-ID to resume)
//   POST /events/:channel   broadcasts the request body (text); answers { id, server }
// Started by main.mjs; on its own: `node server.mjs fastify 3001` (REDIS_URL, default redis://127.0.0.1:6379).
import { ChannelRegistry } from '@tidings/core';
import { sse } from '@tidings/express';
import { ssePlugin } from '@tidings/fastify';
import { redisAdapter } from '@tidings/redis';
import express from 'express';
import fastify from 'fastify';

const kind = process.argv[2] === 'fastify' ? 'fastify' : 'express';
const port = Number(process.argv[3] ?? 0);
const registry = new ChannelRegistry({
  adapter: redisAdapter({
    redis: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    prefix: process.env.TIDINGS_PREFIX ?? 'tidings-example',
    name: kind, // CLIENT LIST shows tidings-example:express:reader, ...:fastify:reader
  }),
});

async function startExpress() {
  const app = express();
  const events = sse({ registry });
  app.use(events);
  app.get('/events/:channel', (req, res) => registry.channel(req.params.channel).subscribe(res.sse()));
  app.post('/events/:channel', express.text(), async (req, res) => {
    res.json({ id: await registry.broadcast(req.params.channel, req.body), server: kind });
  });
  const server = app.listen(port, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { port: server.address().port, close: () => events.close().then(() => server.close()) };
}

async function startFastify() {
  const app = fastify({ forceCloseConnections: true });
  await app.register(ssePlugin, { registry });
  app.sse('/events/:channel', (request, reply) => registry.channel(request.params.channel).subscribe(reply.sse()));
  app.post('/events/:channel', async (request) => ({
    id: await registry.broadcast(request.params.channel, request.body),
    server: kind,
  }));
  await app.listen({ port, host: '127.0.0.1' });
  return { port: app.server.address().port, close: () => app.close() };
}

const server = kind === 'fastify' ? await startFastify() : await startExpress();
if (process.send) process.send({ port: server.port });
else console.log(`${kind} server on http://127.0.0.1:${server.port}`);

// Graceful shutdown: streams end (clients reconnect elsewhere and resume), then Redis connections close.
async function shutdown() {
  await registry.close();
  await server.close();
  process.disconnect?.();
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
