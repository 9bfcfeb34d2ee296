/**
 * The servers the browser tests load their page from: a real Express app and a real Fastify app built with this
 * repo's adapters, on 127.0.0.1, port 0. Each serves the page, @tidings/client bundled for the browser, and channels
 * behind a bearer token (the adapter's `authorize` option); it logs every stream request it admitted or refused.
 */
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as path from 'node:path';
import { ChannelRegistry, type SseAuthorization, type SseEmitterOptions } from '@tidings/core';
import { sse } from '@tidings/express';
import { ssePlugin } from '@tidings/fastify';
import { build } from 'esbuild';
import express from 'express';
import Fastify from 'fastify';

/** The token the page sends; any other Authorization header is answered 401. */
export const TOKEN = 'browser-test-token';
/** The `retry:` the channel streams send, so a reconnect in the tests takes a tenth of a second. */
export const RETRY_MS = 100;

/** One stream request as the server saw it. */
export interface StreamRequest {
  path: string;
  authorization: string | undefined;
  lastEventId: string | undefined;
  socket: Socket;
  /** Set once the request was subscribed to its channel (a broadcast from then on reaches it). */
  subscribed: boolean;
}

export interface TestServer {
  url: string;
  registry: ChannelRegistry;
  requests: StreamRequest[];
  close(): Promise<void>;
}

/** @tidings/client's sources bundled into one ES module for the browser, as an application's bundler would. */
export async function bundleClient(): Promise<string> {
  const result = await build({
    entryPoints: [path.join(__dirname, '../../src/index.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}

/** URL path → [content type, body] of the page's files. */
function pageFiles(clientBundle: string): Record<string, [string, string]> {
  const read = (file: string) => readFileSync(path.join(__dirname, file), 'utf8');
  return {
    '/': ['text/html; charset=utf-8', read('page.html')],
    '/page.mjs': ['text/javascript; charset=utf-8', read('page.mjs')],
    '/client.js': ['text/javascript; charset=utf-8', clientBundle],
  };
}

/** The adapters' `authorize` hook: the bearer token or 401. */
function bearerOnly(headers: IncomingHttpHeaders): SseAuthorization {
  return headers.authorization === `Bearer ${TOKEN}` ? true : 401;
}

/**
 * The two stream routes: `/channels/:name` streams (with `retry:`), `/poll/:name` answers in long-poll mode.
 * Returns the options for `sseChannel()` and logs the request.
 */
function streamRoute(
  requests: StreamRequest[],
  req: { url: string; headers: IncomingHttpHeaders; socket: Socket },
): { entry: StreamRequest; options: SseEmitterOptions } {
  const lastEventId = req.headers['last-event-id'];
  const entry: StreamRequest = {
    path: req.url,
    authorization: req.headers.authorization,
    lastEventId: typeof lastEventId === 'string' ? lastEventId : undefined,
    socket: req.socket,
    subscribed: false,
  };
  requests.push(entry);
  const options: SseEmitterOptions = req.url.startsWith('/poll/') ? { mode: 'long-poll' } : { retry: RETRY_MS };
  return { entry, options };
}

const address = (server: { address(): AddressInfo | string | null }): string => {
  const { port } = server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
};

/** The Express app: `sse({ registry, authorize })`, `res.sseChannel()`. */
export async function startExpress(clientBundle: string): Promise<TestServer> {
  const registry = new ChannelRegistry();
  const requests: StreamRequest[] = [];
  const app = express();
  const streams = sse({ registry, authorize: (req) => bearerOnly(req.headers) });
  app.use(streams);
  for (const [route, [type, body]] of Object.entries(pageFiles(clientBundle))) {
    app.get(route, (_req, res) => res.type(type).send(body));
  }
  app.get(['/channels/:name', '/poll/:name'], async (req, res) => {
    const { entry, options } = streamRoute(requests, req);
    entry.subscribed = (await res.sseChannel(String(req.params.name), options)) !== undefined;
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: address(server),
    registry,
    requests,
    async close() {
      await registry.close();
      await streams.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The Fastify app: `ssePlugin` with `{ registry, authorize }`, `reply.sseChannel()`. */
export async function startFastify(clientBundle: string): Promise<TestServer> {
  const registry = new ChannelRegistry();
  const requests: StreamRequest[] = [];
  const app = Fastify({ forceCloseConnections: true });
  await app.register(ssePlugin, { registry, authorize: (request) => bearerOnly(request.headers) });
  for (const [route, [type, body]] of Object.entries(pageFiles(clientBundle))) {
    app.get(route, (_req, reply) => reply.type(type).send(body));
  }
  for (const route of ['/channels/:name', '/poll/:name']) {
    app.get<{ Params: { name: string } }>(route, async (request, reply) => {
      const { entry, options } = streamRoute(requests, request.raw as typeof request.raw & { url: string });
      entry.subscribed = (await reply.sseChannel(request.params.name, options)) !== undefined;
    });
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url: address(app.server),
    registry,
    requests,
    async close() {
      await registry.close();
      await app.close();
    },
  };
}
