// What the Fetch-standard variants share: the apps (a `fetch` handler plus broadcast and count) for the raw
// baseline, Tidings' sseResponse() and better-sse's createResponse(), and the two servers they run on (Hono on
// @hono/node-server under Node, Bun.serve under Bun).
import { serve } from '@hono/node-server';
import { ChannelRegistry, sseResponse } from '@tidings/core';
import { createChannel, createResponse } from 'better-sse';
import { Hono } from 'hono';
import { makePayload, singleParams } from '../lib/payload.mjs';
import { HEADERS, streamSingle } from './common.mjs';

const encoder = new TextEncoder();
// An opening comment written at once: Bun (and proxies) hold the response head until the first body byte.
const OPENING = encoder.encode(':\n\n');
const { connection: _hopByHop, ...FETCH_HEADERS } = HEADERS; // Fetch runtimes manage the connection header

/** One event's frame, encoded once. */
export const frame = (text) => encoder.encode(`data: ${text}\n\n`);

/** `?n=` events of `?size=` bytes, one per pull: produced only as fast as the client reads. */
function singleStream(url) {
  const { events, size } = singleParams(url);
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i === events) controller.close();
      else controller.enqueue(frame(makePayload(i++, size)));
    },
  });
}

/**
 * The raw Fetch app: `fetch(request)` answers `/single` with a pull-based stream and anything else with a stream
 * that gets every broadcast; `broadcast(text)` encodes once and enqueues the same bytes to every open stream.
 */
export function rawFetchApp() {
  const open = new Set();
  const fetch = (request) => {
    if (new URL(request.url).pathname === '/single')
      return new Response(singleStream(request.url), { headers: FETCH_HEADERS });
    let controller;
    const body = new ReadableStream({
      start(c) {
        controller = c;
        open.add(c);
        c.enqueue(OPENING);
      },
      cancel() {
        open.delete(controller);
      },
    });
    return new Response(body, { headers: FETCH_HEADERS });
  };
  return {
    fetch,
    broadcast(text) {
      const bytes = frame(text);
      for (const c of open) c.enqueue(bytes);
    },
    count: () => open.size,
  };
}

/** Tidings: `sseResponse()` subscribing each stream to one channel; the single stream awaits each send. */
export function tidingsFetchApp() {
  const registry = new ChannelRegistry();
  const channel = registry.channel('bench');
  const fetch = (request) =>
    new URL(request.url).pathname === '/single'
      ? sseResponse(request, (em) => {
          streamSingle(
            request.url,
            (text) => em.send(text),
            () => em.complete(),
          );
        })
      : sseResponse(request, (em) => channel.subscribe(em), { registry });
  return { fetch, broadcast: (text) => channel.broadcast(text), count: () => registry.connections, registry, channel };
}

/** better-sse 0.16's Fetch adapter: `createResponse()` sessions registered with one channel. */
export function betterSseFetchApp() {
  const channel = createChannel();
  return {
    fetch: (request) => createResponse(request, (session) => channel.register(session)),
    broadcast: (text) => channel.broadcast(text),
    count: () => channel.sessionCount,
  };
}

/** Serves `app` (or, given, a Hono app of its own) on @hono/node-server; resolves to the variant's handle. */
export async function serveOnHono(app, honoApp) {
  let routes = honoApp;
  if (routes === undefined) {
    routes = new Hono();
    routes.get('*', (c) => app.fetch(c.req.raw));
  }
  const server = await new Promise((resolve) => {
    const s = serve({ fetch: routes.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  return {
    port: server.address().port,
    broadcast: app.broadcast,
    count: app.count,
    close: () => server.closeAllConnections(),
  };
}

/**
 * Serves `app` with Bun.serve (the process runs under Bun, see RUNTIME in lib/scenarios.mjs). idleTimeout 0:
 * Bun's default (10 s) would cut the idle connections of the idle scenario.
 */
export function serveOnBun(app) {
  const server = Bun.serve({ hostname: '127.0.0.1', port: 0, idleTimeout: 0, fetch: app.fetch });
  return { port: server.port, broadcast: app.broadcast, count: app.count, close: () => server.stop(true) };
}
