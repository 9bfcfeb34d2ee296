// The dashboard on Fastify: `pnpm start` (PORT, REDIS_URL optional). Same page and routes as server-express.mjs.
import { ssePlugin } from '@tidings/fastify';
import Fastify from 'fastify';
import { closeOnSignals, createDemo, listenAddress, pageFiles, RETRY_MS } from './shared.mjs';

const demo = await createDemo('fastify');
const app = Fastify({ logger: { level: 'warn' }, forceCloseConnections: true });
// `authorize` guards reply.sseChannel() (the private feed's bearer token) and reply.sseRun() (see demo.authorize).
await app.register(ssePlugin, {
  registry: demo.registry,
  authorize: (request, channel, info) => demo.authorize(request.headers.authorization, channel, info),
});

for (const [path, file] of Object.entries(pageFiles)) {
  app.get(path, (_req, reply) => reply.type(file.type).send(file.body));
}

// fastify.sse() = GET + { sse: true }; reply.sse() opens the stream. One stream a tab: clock, stats, chat channel.
// Requests that accept only JSON get the chat history at once (short polling) from the same route.
app.sse('/events', (req, reply) =>
  demo.connect(reply.sse({ retry: RETRY_MS }), { tab: req.query.tab, socket: req.raw.socket }),
);

// The private feed: a channel behind a bearer token, which only a fetch-based client such as @tidings/client can send.
app.get('/channels/:name', (req, reply) => reply.sseChannel(req.params.name, { retry: RETRY_MS }));

// Spring style: the handler returns an emitter; the stream ends when the job calls complete().
app.get('/job', { sse: true }, async () => demo.startJob());

// Runs: POST starts a generation and streams it (Content-Location says where to resume); GET resumes it by id,
// from its start or after Last-Event-ID; DELETE stops it.
app.post('/runs', async (req, reply) => {
  const started = demo.startGeneration(req.body);
  if (started.run === undefined) return reply.code(started.status).send(started.body);
  await reply.sseRun(started.run.id, { location: `/runs/${started.run.id}` });
  return reply;
});
app.get('/runs/:id', async (req, reply) => {
  await reply.sseRun(req.params.id);
  return reply;
});
app.delete('/runs/:id', async (req, reply) => {
  const { status, body } = await demo.stopGeneration(req.params.id);
  return reply.code(status).send(body);
});

for (const [path, action] of [
  ['/chat', demo.postChat],
  ['/drop', demo.dropStream],
  ['/login', demo.login],
]) {
  app.post(path, async (req, reply) => {
    const { status, body } = await action(req.body);
    return reply.code(status).send(body);
  });
}

app.get('/metrics', async (_req, reply) => reply.type(demo.metrics.contentType).send(await demo.metrics.text()));

// Ctrl-C: every stream gets a last `bye` event and ends, then the server closes (its preClose ends any stragglers).
closeOnSignals(async () => {
  await demo.close();
  await app.close();
});

const url = await app.listen(listenAddress);
console.log(`Tidings dashboard (Fastify, ${process.env.REDIS_URL ? 'Redis' : 'in-memory'}) on ${url}`);
