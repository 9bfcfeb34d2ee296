/** Graceful shutdown: the middleware's close() ends every stream it opened, with or without a registry. */
import { ChannelRegistry } from '@tidings/core';
import { sse, sseHandler } from '@tidings/express';
import { deferred, startServer } from '@tidings/testkit';
import { HELLO, serveHello, shutdownScenario } from '@tidings/testkit/adapter-scenarios';
import express from 'express';

test('close() ends 200 open streams: it resolves and every client sees its response end', async () => {
  const events = sse({ keepAlive: false });
  const app = express();
  app.use(events);
  app.get('/hello', (_req, res) => serveHello(res.sse()));
  const running = await startServer(app);
  try {
    await shutdownScenario(`${running.url}/hello`, () => events.close());
    expect(events.openStreams).toBe(0);
  } finally {
    await running.close();
  }
});

test('with a registry, registry.close() ends the streams too, and sseHandler streams count in its stats', async () => {
  const registry = new ChannelRegistry();
  const idle = deferred();
  const events = sse({ keepAlive: false, registry });
  const app = express();
  app.use(events);
  app.get(
    '/hello',
    sseHandler(async function* () {
      yield HELLO;
      await idle.promise; // a source that does not end by itself
    }),
  );
  const running = await startServer(app);
  try {
    await shutdownScenario(
      `${running.url}/hello`,
      async () => {
        expect(registry.stats().connections).toBe(5);
        await registry.close();
      },
      5,
    );
  } finally {
    idle.resolve();
    await events.close();
    await running.close();
  }
});
