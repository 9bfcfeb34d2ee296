/** @fastify/compress in front of event streams: every event reaches the client as it is sent. */
import compress from '@fastify/compress';
import { SseEmitter } from '@tidings/core';
import { lockstepScenario } from '@tidings/testkit/adapter-scenarios';
import { listen, sseApp } from './support';

test.each([
  ['reply.sse()', false],
  ['{ sse: true }', true],
])('with @fastify/compress, each event arrives before the next is sent (%s)', async (_style, viaRouteOption) => {
  const scenario = lockstepScenario();
  const app = await sseApp();
  await app.register(compress, { global: true, threshold: 0 });
  if (viaRouteOption) {
    app.sse('/steps', () => {
      const em = new SseEmitter();
      void scenario.serve(em);
      return em;
    });
  } else {
    app.get('/steps', (_request, reply) => void scenario.serve(reply.sse()));
  }
  try {
    const client = await scenario.run(`${await listen(app)}/steps`);
    expect(client.headers['content-encoding']).toBeUndefined();
  } finally {
    await app.close();
  }
});
