/** The `compression` middleware in front of event streams: every event reaches the client as it is sent. */
import { SseEmitter } from '@tidings/core';
import { sse, sseHandler } from '@tidings/express';
import { startServer } from '@tidings/testkit';
import { lockstepScenario } from '@tidings/testkit/adapter-scenarios';
import compression from 'compression';
import express from 'express';

test.each([
  ['res.sse()', false],
  ['sseHandler()', true],
])('with compression(), each event arrives before the next is sent (%s)', async (_style, viaHandler) => {
  const scenario = lockstepScenario();
  const events = sse({ keepAlive: false });
  const app = express();
  app.use(compression({ threshold: 0 }));
  app.use(events);
  app.get(
    '/steps',
    viaHandler
      ? sseHandler(() => {
          const em = new SseEmitter();
          void scenario.serve(em);
          return em;
        })
      : (_req, res) => void scenario.serve(res.sse()),
  );
  const running = await startServer(app);
  try {
    const client = await scenario.run(`${running.url}/steps`);
    // `no-transform` makes compression leave the stream alone; its flush() is called after each write anyway.
    expect(client.headers['cache-control']).toBe('no-cache, no-transform');
    expect(client.headers['content-encoding']).toBeUndefined();
  } finally {
    await events.close();
    await running.close();
  }
});
