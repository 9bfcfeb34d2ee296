// What both servers share: the registry, the job runner, chat, the "drop my connection" switch, sign-in for the
// private feed, stats and the page's files. The server-*.mjs files only bind these to routes, the way an application would.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { ChannelRegistry, event, SseEmitter } from '@tidings/core';
import { Gauge, Registry as MetricsRegistry } from 'prom-client';

const publicDir = new URL('./public/', import.meta.url);
/** @tidings/client's browser ESM build, served as is: the private feed imports it through an import map. */
const clientDir = new URL('./', import.meta.resolve('@tidings/client'));
const HTML = 'text/html; charset=utf-8';
const JS = 'text/javascript; charset=utf-8';

/** The pages: URL path → file body and content type, read once at startup. */
export const pageFiles = Object.fromEntries(
  [
    ['/', new URL('index.html', publicDir), HTML],
    ['/app.js', new URL('app.js', publicDir), JS],
    ['/style.css', new URL('style.css', publicDir), 'text/css; charset=utf-8'],
    ['/private', new URL('private.html', publicDir), HTML],
    ['/private.js', new URL('private.js', publicDir), JS],
    ...readdirSync(clientDir)
      .filter((file) => file.endsWith('.js'))
      .map((file) => [`/vendor/tidings-client/${file}`, new URL(file, clientDir), JS]),
  ].map(([path, file, type]) => [path, { type, body: readFileSync(file) }]),
);

/** Where to listen: PORT (default 3000; 0 picks a free port) on HOST (default 127.0.0.1). */
export const listenAddress = { port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' };

/** The dashboard stream asks browsers to wait this long before reconnecting, so the reconnect can be watched. */
export const RETRY_MS = 2000;
const JOB_STEP_MS = 150;
const JOB_STEP_PERCENT = 5;
const STATS_EVERY_MS = 1000;
const MAX_TEXT = 500;
const MAX_NAME = 40;
/** Signed-in names kept for the private feed; past this, the oldest sign-in is forgotten. */
const MAX_SESSIONS = 1000;
const MAX_PROMPT = 200;
/** The fake model writes about 30 tokens a second. */
const TOKEN_EVERY_MS = 33;
const ANSWER_TOKENS = 300;
const ANSWER_WORDS = (
  'Server-Sent Events keep one response open and write each token as it comes. A run keeps every token in its ' +
  'log, so a tab that reloads, or another device, reads the answer from its start and then follows it live; ' +
  'Last-Event-ID says where a dropped connection stopped, and the end frame tells the browser to stop.'
).split(' ');

/** A server-side clock good enough to order "before this connection" against "after" (sub-millisecond). */
const now = () => performance.timeOrigin + performance.now();

/**
 * Builds the demo's state. With REDIS_URL set, the registry shares channels and history through Redis, so two
 * servers on two ports serve one chat; without it, everything stays in this process.
 * @param {string} flavour 'fastify' or 'express', shown on the page.
 */
export async function createDemo(flavour) {
  const redisUrl = process.env.REDIS_URL;
  let adapter;
  if (redisUrl) {
    const { redisAdapter } = await import('@tidings/redis'); // only loaded when asked for
    // The same replay window as in memory; REDIS_PREFIX keeps separate demos (or test runs) apart.
    adapter = redisAdapter({ redis: redisUrl, prefix: process.env.REDIS_PREFIX ?? 'tidings-demo', maxLen: 100 });
  }
  const registry = new ChannelRegistry({ history: 100, adapter });
  const chat = registry.channel('chat');
  /** tab id → the socket of its stream, for the "drop my connection" button. */
  const tabSockets = new Map();
  /** bearer token → name, from POST /login (a stand-in for a real sign-in; in memory, per server). */
  const sessions = new Map();
  const node = { flavour, adapter: redisUrl ? 'redis' : 'in-memory', pid: process.pid };

  return {
    registry,

    /**
     * The job panel, Spring style: a new emitter, not yet bound to any response, that a handler returns.
     * A timer sends named `progress` events up to 100 %, then `done`, then completes the stream.
     */
    startJob() {
      const em = new SseEmitter({ timeout: 60_000 });
      let percent = 0;
      const timer = setInterval(() => {
        percent += JOB_STEP_PERCENT;
        em.send(event({ event: 'progress', data: { percent } }));
        if (percent < 100) return;
        em.send(event({ event: 'done', data: { finishedAt: new Date().toISOString() } }));
        em.complete();
      }, JOB_STEP_MS);
      em.onCompletion(() => clearInterval(timer));
      return em;
    },

    /**
     * One stream per tab carries the clock, the stats and the chat (browsers allow only six HTTP/1.1
     * connections per host, shared by all tabs). `hello` goes first: the Last-Event-ID the server resumes after,
     * and the moment this connection joined: chat messages stamped earlier were replayed from history (the
     * client missed them), later ones are live. Nothing else is tagged.
     */
    connect(em, { tab, socket }) {
      if (em.mode === 'short-poll') {
        chat.subscribe(em); // a JSON request: the chat history, answered as soon as it is read
        return;
      }
      em.send(event({ event: 'hello', data: { since: now(), resumesAfter: em.lastEventId ?? null, node } }));
      chat.subscribe(em);
      every(em, 1000, () => event({ event: 'tick', data: { now: new Date().toISOString() } }));
      every(em, STATS_EVERY_MS, () => event({ event: 'stats', data: registry.stats() }));
      if (!tab) return;
      tabSockets.set(tab, socket);
      em.onCompletion(() => {
        if (tabSockets.get(tab) === socket) tabSockets.delete(tab);
      });
    },

    /**
     * The Generation card: a run whose producer is a fake model, deterministic for a prompt: the prompt's words,
     * then a fixed text, ~300 tokens at ~30 a second. It stops when the run is cancelled (Stop, or idle).
     * Returns the run, or `{ status, body }` for a prompt that cannot be used.
     */
    startGeneration(body) {
      const prompt = typeof body?.prompt === 'string' ? body.prompt.trim() : '';
      if (prompt === '' || prompt.length > MAX_PROMPT) {
        return { status: 400, body: { error: `Send JSON { prompt }: 1-${MAX_PROMPT} characters.` } };
      }
      const run = registry.createRun({ idleTimeout: 10_000 });
      const tokens = fakeAnswer(prompt);
      let next = 0;
      const timer = setInterval(() => {
        if (next < tokens.length) run.append(event({ event: 'token', data: tokens[next++] }));
        else run.end();
        if (run.state !== 'running') clearInterval(timer);
      }, TOKEN_EVERY_MS);
      run.signal.addEventListener('abort', () => clearInterval(timer));
      return { run };
    },

    /** Stop: cancels the run on the server (the producer's signal aborts, every tab gets the end frame). */
    async stopGeneration(id) {
      const run = await registry.findRun(id);
      if (run === undefined) return { status: 404, body: { error: `No run "${id}".` } };
      await run.cancel('stopped by the user');
      return { status: 200, body: { id, state: run.state } };
    },

    /** Broadcasts a chat message; returns `{ status, body }` for the HTTP answer. */
    async postChat(body) {
      const text = typeof body?.text === 'string' ? body.text.trim() : '';
      const from = typeof body?.from === 'string' ? body.from.trim().slice(0, MAX_NAME) : '';
      if (text === '' || text.length > MAX_TEXT || from === '') {
        return {
          status: 400,
          body: { error: `Send JSON { text, from }: text 1-${MAX_TEXT} characters, from non-empty.` },
        };
      }
      const id = await chat.broadcast(event({ event: 'chat', data: { text, from, at: now() } }));
      return { status: 201, body: { id } };
    },

    /** Signs `{ name }` in for the private feed; returns `{ status, body }` with a bearer token. */
    login(body) {
      const name = typeof body?.name === 'string' ? body.name.trim().slice(0, MAX_NAME) : '';
      if (name === '') return { status: 400, body: { error: 'Send JSON { name }: a non-empty name.' } };
      const token = randomBytes(18).toString('base64url');
      sessions.set(token, name);
      if (sessions.size > MAX_SESSIONS) sessions.delete(sessions.keys().next().value);
      return { status: 201, body: { token, name } };
    },

    /**
     * The adapters' `authorize` for `/channels/:name` (the private feed): a bearer token from /login, else 401;
     * with one, only the chat channel (403 for any other). `EventSource` cannot send this header: the page uses
     * @tidings/client. Runs (`{ kind: 'run' }`) are open to anyone who has the run's id, as in the Generation card.
     */
    authorize(authorization, channel, info) {
      if (info?.kind === 'run') return true;
      const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
      if (token === undefined || !sessions.has(token)) return 401;
      return channel === 'chat' ? true : 403;
    },

    /**
     * Destroys the socket of a tab's stream, as a network failure would, then posts a message that tab
     * cannot receive live: it comes back as a replayed message once the browser reconnects with Last-Event-ID.
     */
    async dropStream(body) {
      const tab = typeof body?.tab === 'string' ? body.tab : '';
      const socket = tabSockets.get(tab);
      if (socket === undefined) return { status: 404, body: { error: `No open stream for tab "${tab}".` } };
      socket.destroy();
      const text = `the server dropped ${tab}'s connection`;
      const id = await chat.broadcast(event({ event: 'chat', data: { text, from: 'server', at: now() } }));
      return { status: 200, body: { dropped: tab, id } };
    },

    metrics: prometheusMetrics(registry),

    /** Graceful shutdown: every stream gets a `bye` event and ends; the browser will reconnect elsewhere. */
    close() {
      return registry.close(event({ event: 'bye', data: { reason: 'the server is shutting down' } }));
    },
  };
}

/** `registry.stats()` as Prometheus gauges, read at scrape time (`GET /metrics`). */
function prometheusMetrics(registry) {
  const metrics = new MetricsRegistry();
  for (const [key, help] of [
    ['connections', 'Open SSE streams'],
    ['channels', 'Channels created'],
    ['eventsSent', 'Event frames delivered since start'],
    ['bytesSent', 'Bytes of event frames delivered since start'],
    ['slowClosed', 'Clients closed for not keeping up since start'],
  ]) {
    new Gauge({
      name: `tidings_${key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`,
      help,
      registers: [metrics],
      collect() {
        this.set(registry.stats()[key]);
      },
    });
  }
  return { contentType: metrics.contentType, text: () => metrics.metrics() };
}

/** The fake model's answer to `prompt`: the same tokens every time (each a word and its space). */
function fakeAnswer(prompt) {
  const words = [`You asked: "${prompt}".`, ...ANSWER_WORDS];
  return Array.from({ length: ANSWER_TOKENS }, (_, i) => `${words[i % words.length]} `);
}

/** Sends `make()` to `em` now and then every `ms` until it completes. */
function every(em, ms, make) {
  em.send(make());
  const timer = setInterval(() => em.send(make()), ms);
  em.onCompletion(() => clearInterval(timer));
}

/** Runs `close` on Ctrl-C / SIGTERM, then exits. */
export function closeOnSignals(close) {
  const stop = async () => {
    await close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
