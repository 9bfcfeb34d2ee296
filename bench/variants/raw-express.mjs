// Baseline: an Express 5 route, one pre-encoded Buffer per event written to every (Express) response.
import { createServer } from 'node:http';
import express from 'express';
import { HEADERS, listen, openSet, rawSender, rawVariant, streamSingle } from './common.mjs';

export async function create() {
  const clients = openSet();
  const app = express();
  app.get('/sse', (_req, res) => {
    res.writeHead(200, HEADERS);
    res.flushHeaders();
    clients.add(res, res);
  });
  app.get('/single', (req, res) => {
    res.writeHead(200, HEADERS);
    res.flushHeaders();
    streamSingle(req.url, rawSender(res), () => res.end());
  });
  const server = createServer(app);
  const port = await listen(server);
  return rawVariant(port, clients, server);
}
