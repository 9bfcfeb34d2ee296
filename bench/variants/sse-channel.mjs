// sse-channel 4 on node:http: addClient per request; channel.send encodes once and writes to every client.
import { createServer } from 'node:http';
import SseChannel from 'sse-channel';
import { listen } from './common.mjs';

export async function create() {
  const channel = new SseChannel();
  const server = createServer((req, res) => channel.addClient(req, res));
  const port = await listen(server);
  return {
    port,
    broadcast: (text) => channel.send({ data: text }),
    count: () => channel.getConnectionCount(),
    close: () => {
      clearInterval(channel.timer);
      server.closeAllConnections();
    },
  };
}
