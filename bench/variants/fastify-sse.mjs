// @fastify/sse 0.6: an SSE-only route kept open with keepAlive(); broadcast calls reply.sse.send on every client
// (the plugin formats each send), and the single stream awaits each send (it waits for drain).
import fastifySse from '@fastify/sse';
import Fastify from 'fastify';
import { openSet, streamSingle } from './common.mjs';

export async function create() {
  const clients = openSet();
  const app = Fastify({ logger: false });
  await app.register(fastifySse);
  app.get('/sse', { sse: 'only' }, async (_req, reply) => {
    reply.sse.keepAlive();
    reply.sse.sendHeaders();
    reply.raw.flushHeaders(); // sendHeaders() only calls writeHead: without this the client sees nothing until the first event
    clients.add(reply.sse, reply.raw);
  });
  app.get('/single', { sse: 'only' }, async (req, reply) => {
    await streamSingle(
      req.url,
      (text) => reply.sse.send(text),
      () => {},
    );
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    port: app.server.address().port,
    broadcast(text) {
      for (const sse of clients.open) sse.send(text).catch(() => {});
    },
    count: () => clients.open.size,
    close: () => app.server.closeAllConnections(),
  };
}
