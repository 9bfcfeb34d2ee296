// fastify-sse-v2 4.2: reply.sse(message) pushes into the reply's own async source; broadcast pushes to every
// client. The single stream hands it an async iterable, which it pulls with backpressure.
import Fastify from 'fastify';
import { FastifySSEPlugin } from 'fastify-sse-v2';
import { makePayload, singleParams } from '../lib/payload.mjs';
import { openSet } from './common.mjs';

export async function create() {
  const clients = openSet();
  const app = Fastify({ logger: false });
  await app.register(FastifySSEPlugin);
  app.get('/sse', (_req, reply) => {
    reply.sse({ comment: 'ok' });
    clients.add(reply, reply.raw);
  });
  app.get('/single', (req, reply) => {
    const { events, size } = singleParams(req.url);
    reply.sse(
      (async function* () {
        for (let i = 0; i < events; i++) yield { data: makePayload(i, size) };
      })(),
    );
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    port: app.server.address().port,
    broadcast(text) {
      for (const reply of clients.open) reply.sse({ data: text });
    },
    count: () => clients.open.size,
    close: () => app.server.closeAllConnections(),
  };
}
