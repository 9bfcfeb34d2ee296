/**
 * Runs over Fastify and real sockets: the shared run scenarios, wired to `ssePlugin` and `reply.sseRun()`, with runs
 * in memory, then kept in the shared Redis (`redisAdapter()`).
 */
import type { SseEmitter } from '@tidings/core';
import { ssePlugin } from '@tidings/fastify';
import { describeWith } from '@tidings/testkit';
import { redisRegistries } from '@tidings/testkit/redis';
import * as scenarios from '@tidings/testkit/run-scenarios';
import Fastify from 'fastify';

const fastifyApp: scenarios.RunAppFactory = async (registry, options) => {
  // Fastify answers 404 itself for a path parameter past maxParamLength (default 100): let long ids reach sseRun.
  const app = Fastify({ forceCloseConnections: true, routerOptions: { maxParamLength: 16 * 1024 } });
  const authorize = options.authorize;
  await app.register(ssePlugin, {
    registry,
    maxConnections: options.maxConnections,
    authorize: authorize && ((_request, channel, info) => authorize(channel, info)),
  });
  const served: SseEmitter[] = [];
  const requests: Array<string | null> = [];
  app.get<{ Params: { id: string } }>('/runs/:id', async (request, reply) => {
    const lastEventId = request.headers['last-event-id'];
    requests.push(typeof lastEventId === 'string' ? lastEventId : null);
    const emitter = scenarios.runRouteOptions(new URL(request.url, 'http://localhost').searchParams);
    const id = request.params.id;
    const em = await reply.sseRun(id, { ...emitter, location: `/runs/${encodeURIComponent(id)}` });
    if (em !== undefined) served.push(em);
    return reply;
  });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  let closing: Promise<void> | undefined;
  return { base, served, requests, close: () => (closing ??= app.close()) };
};

describe('runs over Fastify', () => scenarios.runScenarioTests(fastifyApp));

describeWith(['redis'], 'runs over Fastify, kept in Redis', () =>
  scenarios.runScenarioTests(fastifyApp, { registry: redisRegistries('fastify-runs') }),
);
