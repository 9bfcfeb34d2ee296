/** A real EventSource (the `eventsource` npm client) against Express: named events, reconnect, Last-Event-ID. */
import { sse } from '@tidings/express';
import { startServer, type TestServer } from '@tidings/testkit';
import { reconnectScenario } from '@tidings/testkit/adapter-scenarios';
import express from 'express';

test('EventSource gets named events, reconnects after the socket is destroyed, and sends Last-Event-ID', async () => {
  const scenario = reconnectScenario();
  const events = sse({ retry: 20, keepAlive: false });
  const app = express();
  app.use(events);
  app.get('/greetings', (req, res) => scenario.serve(res.sse(), req.lastEventId, () => req.socket.destroy()));
  const running: TestServer = await startServer(app);
  try {
    await scenario.run(`${running.url}/greetings`);
  } finally {
    await events.close();
    await running.close();
  }
});
