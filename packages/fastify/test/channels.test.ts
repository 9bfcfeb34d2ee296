/** Channels over Fastify and real sockets: the shared channel scenarios, wired to `ssePlugin` with `{ registry }`. */
import type { Socket } from 'node:net';
import type { SseEmitter } from '@tidings/core';
import { ssePlugin } from '@tidings/fastify';
import * as scenarios from '@tidings/testkit/channel-scenarios';
import Fastify from 'fastify';

const fastifyApp: scenarios.ChannelAppFactory = async (registry) => {
  const app = Fastify({ forceCloseConnections: true });
  await app.register(ssePlugin, { registry });
  const served: SseEmitter[] = [];
  const severalSockets: Socket[] = [];
  app.get<{ Querystring: { c: string } }>('/-/several', (request, reply) => {
    severalSockets.push(request.raw.socket);
    return reply.sseChannels(request.query.c.split(','), { keepAlive: false });
  });
  app.get<{ Params: { channel: string } }>('/:channel', (request, reply) => {
    const { emitter, subscribe } = scenarios.routeOptions(new URL(request.url, 'http://localhost').searchParams);
    const em = reply.sse(emitter);
    served.push(em);
    registry.channel(request.params.channel).subscribe(em, subscribe);
  });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  let closing: Promise<void> | undefined;
  return { base, served, severalSockets, close: () => (closing ??= app.close()) };
};

describe('channels over Fastify', () => scenarios.channelScenarioTests(fastifyApp));
