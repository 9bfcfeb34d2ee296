// Tidings on Hono (@hono/node-server): @tidings/hono's sse() subscribing each stream to a registry channel.
import { streamSingle } from './common.mjs';
import { serveOnHono, tidingsFetchApp } from './fetch-common.mjs';

export async function create() {
  const { sse } = await import('@tidings/hono');
  const { Hono } = await import('hono');
  const app = tidingsFetchApp();
  const routes = new Hono();
  routes.get(
    '/sse',
    sse((_c, em) => app.channel.subscribe(em), { registry: app.registry }),
  );
  routes.get(
    '/single',
    sse((c, em) => {
      streamSingle(
        c.req.url,
        (text) => em.send(text),
        () => em.complete(),
      );
    }),
  );
  return serveOnHono(app, routes);
}
