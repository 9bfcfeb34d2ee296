/**
 * Runs over Express and real sockets: the shared run scenarios, wired to `sse({ registry })` and `res.sseRun()`, with
 * runs in memory, then kept in the shared Redis (`redisAdapter()`).
 */
import type { SseEmitter } from '@tidings/core';
import { sse } from '@tidings/express';
import { describeWith, startServer } from '@tidings/testkit';
import { redisRegistries } from '@tidings/testkit/redis';
import * as scenarios from '@tidings/testkit/run-scenarios';
import express from 'express';

const expressApp: scenarios.RunAppFactory = async (registry, options) => {
  const authorize = options.authorize;
  const events = sse({
    registry,
    maxConnections: options.maxConnections,
    authorize: authorize && ((_req, channel, info) => authorize(channel, info)),
  });
  const served: SseEmitter[] = [];
  const requests: Array<string | null> = [];
  const app = express();
  app.use(events);
  app.get('/runs/:id', async (req, res) => {
    requests.push(req.get('last-event-id') ?? null);
    const emitter = scenarios.runRouteOptions(new URL(req.url, 'http://localhost').searchParams);
    const em = await res.sseRun(req.params.id, { ...emitter, location: `/runs/${encodeURIComponent(req.params.id)}` });
    if (em !== undefined) served.push(em);
  });
  const running = await startServer(app);
  let closing: Promise<void> | undefined;
  return {
    base: running.url,
    served,
    requests,
    close: () => (closing ??= events.close().then(() => running.close())),
  };
};

describe('runs over Express', () => scenarios.runScenarioTests(expressApp));

describeWith(['redis'], 'runs over Express, kept in Redis', () =>
  scenarios.runScenarioTests(expressApp, { registry: redisRegistries('express-runs') }),
);
