// Baseline for Hono: a Hono app on @hono/node-server whose routes answer ReadableStream bodies, one pre-encoded
// chunk per event enqueued to every open stream.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { rawFetchApp } from './fetch-common.mjs';

export async function create() {
  const raw = rawFetchApp();
  const app = new Hono();
  app.get('/sse', (c) => raw.fetch(c.req.raw));
  app.get('/single', (c) => raw.fetch(c.req.raw));
  const server = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  return {
    port: server.address().port,
    broadcast: raw.broadcast,
    count: raw.count,
    close: () => server.closeAllConnections(),
  };
}
