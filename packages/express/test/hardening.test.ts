/**
 * Hardening over real sockets (issue 8): maxConnections (per middleware and registry-wide), authorize with
 * res.sseChannel(), hostile client input, and graceful shutdown of 2,000 streams with broadcasts in flight.
 */
import { ChannelRegistry, type SseHostOptions } from '@tidings/core';
import { sse, sseHandler } from '@tidings/express';
import { startServer, type TestServer } from '@tidings/testkit';
import {
  authorizeScenario,
  capacityScenario,
  type HardeningRoutes,
  hardeningRoutes,
  hostileInputScenario,
  shutdownUnderLoadScenario,
} from '@tidings/testkit/hardening-scenarios';
import express from 'express';

interface HardeningApp {
  running: TestServer;
  registry: ChannelRegistry;
  routes: HardeningRoutes;
  close(): Promise<void>;
}

async function hardeningApp(options: SseHostOptions = {}, registry = new ChannelRegistry()): Promise<HardeningApp> {
  const routes = hardeningRoutes();
  const events = sse({
    keepAlive: false,
    registry,
    authorize: routes.authorize,
    onInvalidLastEventId: (reason) => routes.invalidIds.push(reason),
    ...options,
  });
  const app = express();
  app.use(events);
  app.get('/rooms', (req, res) => res.sseChannel(String(req.query.name)));
  app.get('/echo', (req, res) => routes.echo(res.sse(), req.query));
  app.get(
    '/job',
    sseHandler(() => routes.job()),
  );
  const running = await startServer(app);
  return {
    running,
    registry,
    routes,
    close: async () => {
      await events.close();
      await running.close();
    },
  };
}

/** Runs `scenario` against a fresh app, and closes the app whatever the scenario does. */
async function withHardeningApp(
  options: SseHostOptions,
  scenario: (app: HardeningApp) => Promise<unknown>,
): Promise<void> {
  const app = await hardeningApp(options);
  try {
    await scenario(app);
  } finally {
    await app.close();
  }
}

test('maxConnections on the middleware: the stream past it gets 503 + Retry-After, the open ones keep going', async () => {
  await withHardeningApp({ maxConnections: 3, retryAfter: 7 }, (app) =>
    capacityScenario(app.running.url, app.registry, app.routes, 3, '7'),
  );
});

test('maxConnections on the registry counts every stream it tracks, across middlewares', async () => {
  const registry = new ChannelRegistry({ maxConnections: 2 });
  const other = await hardeningApp({}, registry);
  const app = await hardeningApp({}, registry);
  try {
    // One stream held through another middleware counts against the same registry-wide limit.
    const held = await fetch(`${other.running.url}/rooms?name=elsewhere`);
    expect(held.status).toBe(200);
    await capacityScenario(app.running.url, registry, app.routes, 1, '5');
    await held.body?.cancel();
  } finally {
    await app.close();
    await other.close();
  }
});

test('authorize(req, channel): 401/403 as JSON before any stream byte, admitted clients stream', async () => {
  await withHardeningApp({}, (app) => authorizeScenario(app.running.url, app.registry, app.routes));
});

test('hostile input: each case a clear error or a safe ignore, and the server keeps serving', async () => {
  await withHardeningApp({}, (app) => hostileInputScenario(app.running.url, app.registry, app.routes));
});

test('shutdown under load: close() + server.close() with 2,000 streams and broadcasts in flight', async () => {
  const registry = new ChannelRegistry();
  const events = sse({ keepAlive: false, registry });
  const app = express();
  app.use(events);
  app.get('/rooms', (req, res) => res.sseChannel(String(req.query.name)));
  const running = await startServer(app);
  await shutdownUnderLoadScenario(running.url, registry, async () => {
    await events.close();
    await new Promise<void>((resolve) => running.server.close(() => resolve()));
  });
  expect(events.openStreams).toBe(0);
}, 60_000);
