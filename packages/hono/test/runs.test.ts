/**
 * Runs over Hono on @hono/node-server and real sockets: the shared run scenarios (@tidings/testkit), wired to
 * `sseRun((c) => c.req.param('id'), { registry, authorize, location })`. On Fetch runtimes `maxConnections` is the
 * registry's, and the scenarios' registry is made for them without one, so that scenario is run here on a
 * registry of its own (the last test).
 */
import { createAdaptorServer } from '@hono/node-server';
import { ChannelRegistry, type SseEmitter } from '@tidings/core';
import { sseRun } from '@tidings/hono';
import { describeWith, startServer } from '@tidings/testkit';
import { redisRegistries } from '@tidings/testkit/redis';
import * as scenarios from '@tidings/testkit/run-scenarios';
import { Hono } from 'hono';

const honoApp: scenarios.RunAppFactory = async (registry, options) => {
  const served: SseEmitter[] = [];
  const requests: Array<string | null> = [];
  // The emitters the route opened are the ones the registry is given to count.
  const track = registry.track.bind(registry);
  registry.track = (em) => {
    served.push(em as SseEmitter);
    track(em);
  };
  const authorize = options.authorize;
  const app = new Hono();
  // The route's emitter options come from its query (the scenarios' `mode`, `retry`): one handler per request.
  app.get('/runs/:id', (c, next) => {
    requests.push(c.req.header('last-event-id') ?? null);
    const route = sseRun((c) => c.req.param('id'), {
      ...scenarios.runRouteOptions(new URL(c.req.url).searchParams),
      registry,
      authorize: authorize && ((_c, channel, info) => authorize(channel, info)),
      location: (c) => `/runs/${encodeURIComponent(c.req.param('id') ?? '')}`,
    });
    return route(c, next);
  });
  const running = await startServer(createAdaptorServer({ fetch: app.fetch }) as Parameters<typeof startServer>[0]);
  let closing: Promise<void> | undefined;
  return {
    base: running.url,
    served,
    requests,
    close: () => (closing ??= registry.close().then(() => running.close())),
  };
};

// maxConnections: the Hono route counts through the registry's own limit, tested below.
describeWith(['redis'], 'runs over Hono (@hono/node-server), kept in Redis', () =>
  scenarios.runScenarioTests(honoApp, { registry: redisRegistries('hono-runs'), withoutMaxConnections: true }),
);

describe('runs over Hono (@hono/node-server)', () => {
  scenarios.runScenarioTests(honoApp, { withoutMaxConnections: true });

  it("the registry's maxConnections applies to runs: 503 with Retry-After before any stream byte", async () => {
    const registry = new ChannelRegistry({ maxConnections: 1, retryAfter: 7 });
    const app = await honoApp(registry, {});
    const ac = new AbortController();
    try {
      const run = registry.createRun();
      const first = await fetch(`${app.base}/runs/${run.id}`, { signal: ac.signal });
      expect(first.status).toBe(200);
      const second = await fetch(`${app.base}/runs/${run.id}`);
      expect([second.status, second.headers.get('retry-after'), second.headers.get('tidings-run')]).toEqual([
        503,
        '7',
        null,
      ]);
      expect(((await second.json()) as { error: string }).error).toBe('SSE_ERR_TOO_MANY_CONNECTIONS');
    } finally {
      ac.abort();
      await app.close();
    }
  });
});
