/**
 * One server of a test cluster, run in its own process (see cluster.ts): an Express or a Fastify app whose
 * `/events/<channel>` streams a channel of a ChannelRegistry shared through redisAdapter(). The parent drives
 * it over IPC: `broadcast` (answers with the id) and `close`. onGap sends an event named `gap` with the
 * rejected id as data, so clients can see it.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChannelRegistry, event, isSseError, type SseEmitter } from '@tidings/core';
import { sse } from '@tidings/express';
import { ssePlugin } from '@tidings/fastify';
import { redisAdapter } from '@tidings/redis';
import fastify from 'fastify';

/** The little of Express used here (its types belong to @tidings/express's dependencies, not this package's). */
interface ExpressApp {
  use(handler: unknown): void;
  get(path: string, handler: (req: { params: { channel: string } }, res: { sse(): SseEmitter }) => void): void;
  listen(port: number, host: string): Server;
}
const express = require('express') as () => ExpressApp;

export type NodeCommand =
  | { seq: number; cmd: 'broadcast'; channel: string; data: string }
  | { seq: number; cmd: 'close' };

export type NodeReply = { seq: number; id?: string; error?: { code: string; message: string } };

const registry = new ChannelRegistry({
  adapter: redisAdapter({
    redis: process.env.REDIS_CLUSTER_SEEDS?.split(',') ?? process.env.REDIS_URL!,
    prefix: process.env.REDIS_PREFIX!,
    name: process.env.NODE_FRAMEWORK,
    timeout: Number(process.env.ADAPTER_TIMEOUT ?? 5000),
    blockMs: 1000,
  }),
  onGap: (_channel, lastEventId, em) => void em.send(event({ event: 'gap', data: lastEventId })),
});

/** The Express or the Fastify app, as NODE_FRAMEWORK says: both stream `/events/:channel` from the registry. */
async function listen(): Promise<{ port: number; close(): Promise<void> }> {
  if (process.env.NODE_FRAMEWORK === 'fastify') {
    const app = fastify({ forceCloseConnections: true });
    await app.register(ssePlugin, { keepAlive: false, registry });
    app.sse('/events/:channel', (request, reply) => {
      registry.channel((request.params as { channel: string }).channel).subscribe(reply.sse());
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
  }
  const app = express();
  const events = sse({ keepAlive: false, registry });
  app.use(events);
  app.get('/events/:channel', (req, res) => {
    registry.channel(req.params.channel).subscribe(res.sse());
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      await events.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

function reply(message: NodeReply): void {
  process.send!(message);
}

process.on('message', (message: NodeCommand) => {
  if (message.cmd === 'broadcast') {
    registry.broadcast(message.channel, message.data).then(
      (id) => reply({ seq: message.seq, id }),
      (err: unknown) =>
        reply({
          seq: message.seq,
          error: { code: isSseError(err) ? err.code : 'UNKNOWN', message: String(err) },
        }),
    );
  } else {
    Promise.all([registry.close(), server.then((app) => app.close())]).then(() => {
      reply({ seq: message.seq });
      process.disconnect();
    });
  }
});

const server = listen();
server.then((app) => process.send!({ port: app.port }));
