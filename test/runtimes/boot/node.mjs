// Node: serves the handler module given as argv[2] (`export default { fetch }`) through @hono/node-server on
// 127.0.0.1, port 0, and prints `listening <port>` once it listens.
import { serve } from '@hono/node-server';

const { default: handler } = await import(process.argv[2]);
serve({ fetch: (request) => handler.fetch(request), hostname: '127.0.0.1', port: 0 }, (info) =>
  console.log(`listening ${info.port}`),
);
