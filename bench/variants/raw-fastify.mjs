// Baseline: a Fastify 5 route that hijacks the reply, one pre-encoded Buffer per event written to every raw response.
import Fastify from 'fastify';
import { HEADERS, openSet, rawSender, rawVariant, streamSingle } from './common.mjs';

export async function create() {
  const clients = openSet();
  const app = Fastify({ logger: false });
  const open = (reply) => {
    reply.hijack();
    reply.raw.writeHead(200, HEADERS);
    reply.raw.flushHeaders();
    return reply.raw;
  };
  app.get('/sse', (_req, reply) => {
    const res = open(reply);
    clients.add(res, res);
  });
  app.get('/single', (req, reply) => {
    const res = open(reply);
    streamSingle(req.url, rawSender(res), () => res.end());
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return rawVariant(app.server.address().port, clients, app.server);
}
