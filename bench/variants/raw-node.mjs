// Baseline: plain node:http, one pre-encoded Buffer per event written to every response.
import { createServer } from 'node:http';
import { HEADERS, listen, openSet, rawSender, rawVariant, streamSingle } from './common.mjs';

export async function create() {
  const clients = openSet();
  const server = createServer((req, res) => {
    res.writeHead(200, HEADERS);
    if (req.url.startsWith('/single')) {
      res.flushHeaders();
      streamSingle(req.url, rawSender(res), () => res.end());
      return;
    }
    res.flushHeaders();
    clients.add(res, res);
  });
  const port = await listen(server);
  return rawVariant(port, clients, server);
}
