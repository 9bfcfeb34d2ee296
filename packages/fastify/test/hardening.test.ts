/**
 * Hardening over real sockets (issue 8): maxConnections (per plugin and registry-wide), authorize with
 * reply.sseChannel(), hostile client input, and app.close() with 2,000 streams and broadcasts in flight.
 */
import { ChannelRegistry } from '@tidings/core';
import type { SsePluginOptions } from '@tidings/fastify';
import {
  authorizeScenario,
  capacityScenario,
  type HardeningRoutes,
  hardeningRoutes,
  hostileInputScenario,
  shutdownUnderLoadScenario,
} from '@tidings/testkit/hardening-scenarios';
import type { FastifyInstance } from 'fastify';
import { listen, sseApp } from './support';

interface HardeningApp {
  app: FastifyInstance;
  url: string;
  registry: ChannelRegistry;
  routes: HardeningRoutes;
}

type Query = Record<string, unknown>;

async function hardeningApp(options: SsePluginOptions = {}, registry = new ChannelRegistry()): Promise<HardeningApp> {
  const routes = hardeningRoutes();
  const app = await sseApp({
    registry,
    authorize: (request, channel) => routes.authorize(request, channel),
    onInvalidLastEventId: (reason) => routes.invalidIds.push(reason),
    ...options,
  });
  app.get('/rooms', (request, reply) => reply.sseChannel(String((request.query as Query).name)));
  app.get('/echo', (request, reply) => routes.echo(reply.sse(), request.query as Query));
  app.get('/job', { sse: true }, async () => routes.job());
  return { app, url: await listen(app), registry, routes };
}

/** Runs `scenario` against a fresh app, and closes the app whatever the scenario does. */
async function withHardeningApp(
  options: SsePluginOptions,
  scenario: (app: HardeningApp) => Promise<unknown>,
): Promise<void> {
  const running = await hardeningApp(options);
  try {
    await scenario(running);
  } finally {
    await running.app.close();
  }
}

test('maxConnections on the plugin: the stream past it gets 503 + Retry-After, the open ones keep going', async () => {
  await withHardeningApp({ maxConnections: 3, retryAfter: 7 }, ({ url, registry, routes }) =>
    capacityScenario(url, registry, routes, 3, '7'),
  );
});

test('maxConnections on the registry counts every stream it tracks, across apps', async () => {
  const registry = new ChannelRegistry({ maxConnections: 2 });
  const other = await hardeningApp({}, registry);
  const main = await hardeningApp({}, registry);
  try {
    const held = await fetch(`${other.url}/rooms?name=elsewhere`);
    expect(held.status).toBe(200);
    await capacityScenario(main.url, registry, main.routes, 1, '5');
    await held.body?.cancel();
  } finally {
    await main.app.close();
    await other.app.close();
  }
});

test('authorize(request, channel): 401/403 as JSON replies before any stream byte, admitted clients stream', async () => {
  await withHardeningApp({}, ({ url, registry, routes }) => authorizeScenario(url, registry, routes));
});

test('hostile input: each case a clear error or a safe ignore, and the server keeps serving', async () => {
  await withHardeningApp({}, ({ url, registry, routes }) => hostileInputScenario(url, registry, routes));
});

test('shutdown under load: app.close() with 2,000 streams and broadcasts in flight', async () => {
  const { app, url, registry } = await hardeningApp();
  await shutdownUnderLoadScenario(url, registry, () => app.close());
}, 60_000);
