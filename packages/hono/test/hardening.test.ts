/**
 * The hardening corpus the Express and Fastify adapters pass (@tidings/testkit), run against a Hono app on
 * @hono/node-server over real sockets: the registry's maxConnections, authorize(c, channel) with sseChannel(),
 * hostile client input, shutdown under load with registry.close(). (The same app on Bun, Deno, workerd and the
 * edge runtime: test/runtimes/scenarios.test.ts.)
 */
import { createAdaptorServer } from '@hono/node-server';
import { ChannelRegistry, type SseEmitterOptions } from '@tidings/core';
import { sse, sseChannel } from '@tidings/hono';
import { startServer, type TestServer } from '@tidings/testkit';
import {
  authorizeScenario,
  capacityScenario,
  type HardeningRoutes,
  hardeningRoutes,
  hostileInputScenario,
  shutdownUnderLoadScenario,
} from '@tidings/testkit/hardening-scenarios';
import { Hono } from 'hono';

interface HardeningApp {
  running: TestServer;
  registry: ChannelRegistry;
  routes: HardeningRoutes;
}

async function hardeningApp(registry: ChannelRegistry, options: SseEmitterOptions = {}): Promise<HardeningApp> {
  const routes = hardeningRoutes();
  const streamOptions = {
    keepAlive: false as const,
    registry,
    onInvalidLastEventId: (reason: (typeof routes.invalidIds)[number]) => routes.invalidIds.push(reason),
    ...options,
  };
  const app = new Hono();
  app.get(
    '/rooms',
    sseChannel((c) => c.req.query('name') ?? '', {
      ...streamOptions,
      authorize: (c, channel) => routes.authorize({ headers: c.req.header() }, channel),
    }),
  );
  app.get(
    '/echo',
    sse((c, em) => routes.echo(em, c.req.query()), streamOptions),
  );
  app.get(
    '/job',
    sse(() => routes.job(), streamOptions),
  );
  const running = await startServer(createAdaptorServer({ fetch: app.fetch }) as Parameters<typeof startServer>[0]);
  return { running, registry, routes };
}

/** Runs `scenario` against a fresh app on `registry`, and closes the app whatever the scenario does. */
async function withHardeningApp(registry: ChannelRegistry, scenario: (app: HardeningApp) => Promise<unknown>) {
  const app = await hardeningApp(registry);
  try {
    await scenario(app);
  } finally {
    await registry.close();
    await app.running.close();
  }
}

test("the registry's maxConnections: the stream past it gets 503 + Retry-After, the open ones keep going", async () => {
  const registry = new ChannelRegistry({ maxConnections: 3, retryAfter: 7 });
  await withHardeningApp(registry, (app) => capacityScenario(app.running.url, registry, app.routes, 3, '7'));
});

test('authorize(c, channel): 401/403 as JSON before any stream byte, admitted clients stream', async () => {
  const registry = new ChannelRegistry();
  await withHardeningApp(registry, (app) => authorizeScenario(app.running.url, registry, app.routes));
});

test('hostile input: each case a clear error or a safe ignore, and the server keeps serving', async () => {
  const registry = new ChannelRegistry();
  await withHardeningApp(registry, (app) => hostileInputScenario(app.running.url, registry, app.routes));
});

test('shutdown under load: registry.close() + server close with 2,000 streams and broadcasts in flight', async () => {
  const registry = new ChannelRegistry();
  const app = await hardeningApp(registry);
  await shutdownUnderLoadScenario(app.running.url, registry, async () => {
    await registry.close();
    await app.running.close();
  });
  expect(registry.connections).toBe(0);
}, 60_000);
