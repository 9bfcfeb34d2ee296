// Tidings on Fastify 5: ssePlugin with a registry, reply.sse(), registry.channel().subscribe.
import { ChannelRegistry } from '@tidings/core';
import { ssePlugin } from '@tidings/fastify';
import Fastify from 'fastify';
import { streamSingle, tidingsVariant } from './common.mjs';

export async function create() {
  const registry = new ChannelRegistry();
  const channel = registry.channel('bench');
  const app = Fastify({ logger: false });
  await app.register(ssePlugin, { registry });
  app.get('/sse', (_req, reply) => {
    channel.subscribe(reply.sse());
  });
  app.get('/single', (req, reply) => {
    const em = reply.sse();
    streamSingle(
      req.url,
      (text) => em.send(text),
      () => em.complete(),
    );
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return tidingsVariant(app.server.address().port, registry, channel, app.server);
}
