// Tidings on Express 5: the sse({ registry }) middleware, res.sse(), registry.channel().subscribe.
import { createServer } from 'node:http';
import { ChannelRegistry } from '@tidings/core';
import { sse } from '@tidings/express';
import express from 'express';
import { listen, streamSingle, tidingsVariant } from './common.mjs';

export async function create() {
  const registry = new ChannelRegistry();
  const channel = registry.channel('bench');
  const app = express();
  app.use(sse({ registry }));
  app.get('/sse', (_req, res) => channel.subscribe(res.sse()));
  app.get('/single', (req, res) => {
    const em = res.sse();
    streamSingle(
      req.url,
      (text) => em.send(text),
      () => em.complete(),
    );
  });
  const server = createServer(app);
  const port = await listen(server);
  return tidingsVariant(port, registry, channel, server);
}
