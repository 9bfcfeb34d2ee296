// The dashboard on Express: `pnpm start:express` (PORT, REDIS_URL optional). Same page and routes as server-fastify.mjs.
import { once } from 'node:events';
import { sse, sseHandler } from '@tidings/express';
import express from 'express';
import { closeOnSignals, createDemo, listenAddress, pageFiles, RETRY_MS } from './shared.mjs';

const demo = await createDemo('express');
const app = express();
// `authorize` guards res.sseChannel() (the private feed's bearer token) and res.sseRun() (see demo.authorize).
const streams = sse({
  registry: demo.registry,
  authorize: (req, channel, info) => demo.authorize(req.headers.authorization, channel, info),
});
app.use(streams);
app.use(express.json());

for (const [path, file] of Object.entries(pageFiles)) {
  app.get(path, (_req, res) => res.type(file.type).send(file.body));
}

// res.sse(): the handler opens the stream itself. One stream a tab: clock, stats and the chat channel.
// Requests that accept only JSON get the chat history at once (short polling) from the same route.
app.get('/events', (req, res) =>
  demo.connect(res.sse({ retry: RETRY_MS }), { tab: req.query.tab, socket: req.socket }),
);

// The private feed: a channel behind a bearer token, which only a fetch-based client such as @tidings/client can send.
app.get('/channels/:name', (req, res) => res.sseChannel(req.params.name, { retry: RETRY_MS }));

// Spring style: the handler returns an emitter; the stream ends when the job calls complete().
app.get(
  '/job',
  sseHandler(async () => demo.startJob()),
);

// Runs: POST starts a generation and streams it (Content-Location says where to resume); GET resumes it by id,
// from its start or after Last-Event-ID; DELETE stops it.
app.post('/runs', async (req, res) => {
  const started = demo.startGeneration(req.body);
  if (started.run === undefined) return res.status(started.status).json(started.body);
  await res.sseRun(started.run.id, { location: `/runs/${started.run.id}` });
});
app.get('/runs/:id', (req, res) => res.sseRun(req.params.id));
app.delete('/runs/:id', async (req, res) => {
  const { status, body } = await demo.stopGeneration(req.params.id);
  res.status(status).json(body);
});

for (const [path, action] of [
  ['/chat', demo.postChat],
  ['/drop', demo.dropStream],
  ['/login', demo.login],
]) {
  app.post(path, async (req, res) => {
    const { status, body } = await action(req.body);
    res.status(status).json(body);
  });
}

app.get('/metrics', async (_req, res) => res.type(demo.metrics.contentType).send(await demo.metrics.text()));

const server = app.listen(listenAddress.port, listenAddress.host);
await once(server, 'listening');
// Ctrl-C: every stream gets a last `bye` event and ends, then the server closes.
closeOnSignals(async () => {
  await demo.close();
  await streams.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
const { address, port } = server.address();
console.log(
  `Tidings dashboard (Express, ${process.env.REDIS_URL ? 'Redis' : 'in-memory'}) on http://${address}:${port}`,
);
