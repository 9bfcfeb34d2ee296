/**
 * One server of a test cluster, run in its own process (see cluster.ts): an Express or a Fastify app on a
 * ChannelRegistry shared through redisAdapter(). `/events/<channel>` streams a channel; `/runs/<id>` streams a
 * run (`res.sseRun` / `reply.sseRun`, with `location`). The parent drives it over IPC: `broadcast`; for runs,
 * `createRun` (this node is the producer), `append` and `end` (of a run made here), `cancel` (of any run, found
 * by `registry.findRun`), `abort` (when the signal of a run made here aborted, and why), `drop` (ends the
 * streams this node serves of a run, as a lost connection does); and `close`. onGap sends an event named `gap`
 * with the rejected id as data, so clients can see it.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ChannelRegistry,
  event,
  isSseError,
  type OpenRunStream,
  type Run,
  type RunStreamOptions,
  type SseEmitter,
} from '@tidings/core';
import { sse } from '@tidings/express';
import { ssePlugin } from '@tidings/fastify';
import { redisAdapter } from '@tidings/redis';
import fastify from 'fastify';

/** The little of Express used here (its types belong to @tidings/express's dependencies, not this package's). */
interface ExpressApp {
  use(handler: unknown): void;
  get(path: string, handler: (req: { params: Record<string, string> }, res: ExpressResponse) => unknown): void;
  listen(port: number, host: string): Server;
}
interface ExpressResponse {
  sse(): SseEmitter;
  sseRun: OpenRunStream;
}
const express = require('express') as () => ExpressApp;

export type NodeCommand =
  | { seq: number; cmd: 'broadcast'; channel: string; data: string }
  | { seq: number; cmd: 'createRun'; idleTimeout?: number }
  | { seq: number; cmd: 'append'; run: string; data: string }
  | { seq: number; cmd: 'end'; run: string }
  | { seq: number; cmd: 'cancel'; run: string; reason: string }
  | { seq: number; cmd: 'abort'; run: string; waitMs: number }
  | { seq: number; cmd: 'drop'; run: string }
  | { seq: number; cmd: 'close' };

/** A command's answer: `value` (what its handler resolved to), or the error it rejected with. */
export type NodeReply = { seq: number; value?: unknown; error?: { code: string; message: string } };

/** The answer to `abort`: whether the producer's signal aborted, its reason, and when (ms, {@link now}). */
export interface AbortState {
  aborted: boolean;
  reason?: unknown;
  at?: number;
}

/** Milliseconds on a clock every process of the machine shares, finer than Date.now(). */
function now(): number {
  return performance.timeOrigin + performance.now();
}

const registry = new ChannelRegistry({
  adapter: redisAdapter({
    redis: process.env.REDIS_CLUSTER_SEEDS?.split(',') ?? process.env.REDIS_URL!,
    prefix: process.env.REDIS_PREFIX!,
    name: process.env.NODE_FRAMEWORK,
    timeout: Number(process.env.ADAPTER_TIMEOUT ?? 5000),
    blockMs: 1000,
  }),
  onGap: (_channel, lastEventId, em) => void em.send(event({ event: 'gap', data: lastEventId })),
});

/** The runs this node made (it is their producer), with when each one's signal aborted. */
const produced = new Map<string, { run: Run; abortedAt?: number }>();
/** The streams this node serves, by run id. */
const served = new Map<string, SseEmitter[]>();

function producedRun(id: string): { run: Run; abortedAt?: number } {
  const entry = produced.get(id);
  if (entry === undefined) throw new Error(`no run ${id} was made on this node`);
  return entry;
}

/** The options of a run stream: no keep-alive, a short retry (clients come back quickly), `Content-Location`. */
function runStreamOptions(id: string): RunStreamOptions {
  return { keepAlive: false, retry: 50, location: `/runs/${encodeURIComponent(id)}` };
}

/** Keeps a served run stream, for `drop`. */
function serving(id: string, em: SseEmitter | undefined): void {
  if (em !== undefined) served.set(id, [...(served.get(id) ?? []), em]);
}

/** The Express or the Fastify app, as NODE_FRAMEWORK says: both stream `/events/:channel` and `/runs/:id`. */
async function listen(): Promise<{ port: number; close(): Promise<void> }> {
  if (process.env.NODE_FRAMEWORK === 'fastify') {
    // Fastify answers 404 itself for a path parameter past maxParamLength (default 100): let long ids reach sseRun.
    const app = fastify({ forceCloseConnections: true, routerOptions: { maxParamLength: 16 * 1024 } });
    await app.register(ssePlugin, { keepAlive: false, registry });
    app.sse('/events/:channel', (request, reply) => {
      registry.channel((request.params as { channel: string }).channel).subscribe(reply.sse());
    });
    app.get<{ Params: { id: string } }>('/runs/:id', async (request, reply) => {
      const id = request.params.id;
      serving(id, await reply.sseRun(id, runStreamOptions(id)));
      return reply;
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
  }
  const app = express();
  const events = sse({ keepAlive: false, registry });
  app.use(events);
  app.get('/events/:channel', (req, res) => {
    registry.channel(req.params.channel!).subscribe(res.sse());
  });
  app.get('/runs/:id', async (req, res) => {
    const id = req.params.id!;
    serving(id, await res.sseRun(id, runStreamOptions(id)));
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      await events.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** What each command does; the reply carries what it resolves to. */
const commands: { [C in NodeCommand as C['cmd']]: (command: C) => unknown } = {
  broadcast: ({ channel, data }) => registry.broadcast(channel, data),
  createRun: async ({ idleTimeout }) => {
    const run = registry.createRun({ idleTimeout });
    const entry: { run: Run; abortedAt?: number } = { run };
    run.signal.addEventListener('abort', () => {
      entry.abortedAt = now();
    });
    produced.set(run.id, entry);
    // Resolves once the run is in Redis, so that any node finds it.
    if ((await registry.findRun(run.id)) === undefined) throw new Error(`run ${run.id} is not in Redis`);
    return run.id;
  },
  append: ({ run, data }) => producedRun(run).run.append(data),
  end: ({ run }) => producedRun(run).run.end(),
  // Answers when the cancel began (ms, now()).
  cancel: async ({ run, reason }) => {
    const found = await registry.findRun(run);
    if (found === undefined) throw new Error(`no run ${run} found`);
    const at = now();
    await found.cancel(reason);
    return at;
  },
  // Waits up to waitMs for the signal, then answers what it is.
  abort: async ({ run, waitMs }): Promise<AbortState> => {
    const entry = producedRun(run);
    const { signal } = entry.run;
    if (!signal.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
    }
    return { aborted: signal.aborted, reason: signal.reason, at: entry.abortedAt };
  },
  drop: ({ run }) => {
    for (const em of served.get(run) ?? []) em.complete();
    served.delete(run);
  },
  close: async () => {
    await Promise.all([registry.close(), server.then((app) => app.close())]);
    setImmediate(() => process.disconnect());
  },
};

process.on('message', (message: NodeCommand) => {
  const handler = commands[message.cmd] as (command: NodeCommand) => unknown;
  Promise.resolve()
    .then(() => handler(message))
    .then(
      (value) => process.send!({ seq: message.seq, value } satisfies NodeReply),
      (err: unknown) =>
        process.send!({
          seq: message.seq,
          error: { code: isSseError(err) ? err.code : 'UNKNOWN', message: String(err) },
        } satisfies NodeReply),
    );
});

const server = listen();
server.then((app) => process.send!({ port: app.port }));
