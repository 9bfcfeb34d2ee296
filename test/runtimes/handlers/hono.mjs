// The same scenario server as tidings.mjs, written with Hono and @tidings/hono (sse(), sseChannel(), sseRun()), behind
// Hono's CORS middleware (whose headers the streams must keep). Errors a handler throws before its stream
// (an invalid event name) go through Hono's onError.
import { event } from '@tidings/core';
import { sse, sseChannel, sseRun } from '@tidings/hono';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { admin, limited, streamOptions, ticks, verdict } from './scenario-state.mjs';

const app = new Hono();
app.use('*', cors({ origin: 'https://app.example' }));
app.get(
  '/clock',
  sse((c) => ticks(Number(c.req.query('n'))), { keepAlive: false }),
);
app.get('/news', sseChannel('news', { ...streamOptions, authorize: (c) => verdict(c.req.query('token')) }));
app.get(
  '/channel',
  sseChannel((c) => c.req.query('name') ?? '', streamOptions),
);
app.get(
  '/poll',
  sseChannel((c) => c.req.query('name') ?? '', { ...streamOptions, mode: 'long-poll' }),
);
app.get(
  '/quiet',
  sse(() => {}, { keepAlive: false }),
);
app.get(
  '/limited',
  sse(() => {}, { registry: limited }),
);
app.get(
  '/named',
  sse((c, em) => {
    em.send(event({ event: c.req.query('event'), data: 'named' }));
    em.complete();
  }),
);
app.get(
  '/runs/:id',
  sseRun((c) => c.req.param('id'), { ...streamOptions, location: (c) => c.req.path }),
);
app.get('*', async (c) => (await admin(c.req.raw)) ?? c.text('tidings scenarios (hono)'));
app.onError((err, c) => (err.code ? c.json({ error: err.code }, 400) : c.text('failed', 500)));

export default { fetch: app.fetch };
