// better-sse 0.16 on node:http: a session per client registered with a channel; channel.broadcast per event.
import { createServer } from 'node:http';
import { createChannel, createSession } from 'better-sse';
import { listen } from './common.mjs';

export async function create() {
  const channel = createChannel();
  const server = createServer(async (req, res) => {
    channel.register(await createSession(req, res));
  });
  const port = await listen(server);
  return {
    port,
    broadcast: (text) => channel.broadcast(text),
    count: () => channel.sessionCount,
    close: () => server.closeAllConnections(),
  };
}
