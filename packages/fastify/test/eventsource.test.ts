/** A real EventSource (the `eventsource` npm client) against Fastify: named events, reconnect, Last-Event-ID. */
import { reconnectScenario } from '@tidings/testkit/adapter-scenarios';
import { listen, sseApp } from './support';

test('EventSource gets named events, reconnects after the socket is destroyed, and sends Last-Event-ID', async () => {
  const scenario = reconnectScenario();
  const app = await sseApp({ retry: 20 });
  app.get('/greetings', (request, reply) =>
    scenario.serve(reply.sse(), request.lastEventId, () => request.raw.socket.destroy()),
  );
  try {
    await scenario.run(`${await listen(app)}/greetings`);
  } finally {
    await app.close();
  }
});
