// What the hand-written variants share: the stream headers, the encoding of one event, the set of open
// responses, and the single-stream loop with backpressure.
import { once } from 'node:events';
import { makePayload, singleParams } from '../lib/payload.mjs';

/** The headers the raw baselines answer with (what an SSE library sends). */
export const HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
};

/** One event's frame, encoded once. */
export function frame(text) {
  return Buffer.from(`data: ${text}\n\n`);
}

/** A set of open responses (or sessions) that forgets each one when its connection closes. */
export function openSet() {
  const open = new Set();
  return {
    open,
    add(item, res) {
      open.add(item);
      res.once('close', () => open.delete(item));
    },
  };
}

/**
 * Streams `?n=` events of `?size=` bytes (from the request `url`) through `send(text)`, which returns true when
 * the frame was accepted, else a promise that settles when more may be sent. Then calls `end()`.
 */
export async function streamSingle(url, send, end) {
  const { events, size } = singleParams(url);
  for (let i = 0; i < events; i++) {
    const accepted = send(makePayload(i, size));
    if (accepted !== true) await accepted;
  }
  end();
}

/** For raw writes: `write(buf)`, resolving after `drain` when the response is behind. */
export function rawSender(res) {
  return (text) => (res.write(frame(text)) ? true : once(res, 'drain'));
}

/** Listens on 127.0.0.1 on a free port; resolves to the port. */
export function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

/** The handle of a raw baseline: one Buffer per event, written to every open response of `clients`. */
export function rawVariant(port, clients, server) {
  return {
    port,
    broadcast(text) {
      const buf = frame(text);
      for (const res of clients.open) res.write(buf);
    },
    count: () => clients.open.size,
    close: () => server.closeAllConnections(),
  };
}

/** The handle of a Tidings variant: broadcast through the channel, count what the registry tracks. */
export function tidingsVariant(port, registry, channel, server) {
  return {
    port,
    broadcast: (text) => channel.broadcast(text),
    count: () => registry.connections,
    close: () => server.closeAllConnections(),
  };
}
