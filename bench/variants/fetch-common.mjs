// What the Fetch-standard raw baselines share (Hono on @hono/node-server, Bun.serve): a `fetch` handler whose
// responses are ReadableStreams written with one pre-encoded chunk per event, and a pull-based single stream
// (the reader's pace is the backpressure).
import { makePayload, singleParams } from '../lib/payload.mjs';
import { HEADERS } from './common.mjs';

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
