/** Graceful shutdown: app.close() ends every open stream (the plugin's preClose hook), so it never hangs. */
import { ChannelRegistry } from '@tidings/core';
import { deferred } from '@tidings/testkit';
import { HELLO, serveHello, shutdownScenario } from '@tidings/testkit/adapter-scenarios';
import { listen, sseApp } from './support';

test('app.close() ends 200 open streams, even without forceCloseConnections: every client sees its response end', async () => {
  const app = await sseApp({}, { forceCloseConnections: false });
  app.get('/hello', (_request, reply) => serveHello(reply.sse()));
  await shutdownScenario(`${await listen(app)}/hello`, () => app.close());
});

test('{ sse: true } streams count in the registry, and registry.close() ends them', async () => {
  const registry = new ChannelRegistry();
  const idle = deferred();
  const app = await sseApp({ registry });
  app.sse('/hello', async function* () {
    yield HELLO;
    await idle.promise; // a source that does not end by itself
  });
  try {
    await shutdownScenario(
      `${await listen(app)}/hello`,
      async () => {
        expect(registry.stats().connections).toBe(5);
        await registry.close();
      },
      5,
    );
  } finally {
    idle.resolve();
    await app.close();
  }
});
