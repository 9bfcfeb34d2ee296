// Probes what a runtime does to a long-lived SSE response, with a raw ReadableStream body and no library: one
// pre-encoded chunk per event. Every stream records what happened to it, which
// the test reads back from /log (runtimes keep module state across requests: one process, or one isolate).
// Times are Date.now() values: the test's clock on the same machine (workerd's advances only between I/O).
//   /sse?id=&first=comment|none&every=ms&delay=ms  a stream written from timers (push-based): `: open` at once
//                                                  unless first=none, then an event every `every` ms (0: never)
//                                                  starting after `delay` ms
//   /push?id=                                      writes one event to stream `id` from this other request
//   /bp?id=&chunk=bytes                            a pull-based stream: each pull enqueues one chunk
//   /log?id=                                       what stream `id` recorded, as JSON
const encoder = new TextEncoder();
const streams = new Map();

function record(id) {
  const entry = { events: [], written: 0, produced: 0, controller: undefined };
  entry.note = (what, detail) => entry.events.push({ what, at: Date.now(), ...(detail && { detail }) });
  streams.set(id, entry);
  return entry;
}

/** Enqueues one chunk; returns false (and notes it) when the stream no longer takes any. */
function write(entry, text) {
  try {
    entry.controller.enqueue(encoder.encode(text));
    entry.written++;
    entry.note('write');
    return true;
  } catch (err) {
    entry.note('write-failed', String(err));
    return false;
  }
}

const HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform' };

function sse(request, query) {
  const entry = record(query.get('id'));
  const every = Number(query.get('every') ?? 0);
  const delay = Number(query.get('delay') ?? 0);
  let timer;
  request.signal?.addEventListener('abort', () => entry.note('abort'));
  const body = new ReadableStream({
    start(controller) {
      entry.controller = controller;
      if (query.get('first') !== 'none') write(entry, ': open\n\n');
      const tick = () => {
        if (!write(entry, `data: ${entry.written}\n\n`)) clearInterval(timer);
      };
      if (every > 0)
        setTimeout(() => {
          tick();
          timer = setInterval(tick, every);
        }, delay);
    },
    cancel(reason) {
      entry.note('cancel', String(reason));
      clearInterval(timer);
    },
  });
  return new Response(body, { headers: HEADERS });
}

function backpressure(query) {
  const entry = record(query.get('id'));
  const chunk = new Uint8Array(Number(query.get('chunk') ?? 65536)).fill(0x61); // 'a': a comment's text
  const body = new ReadableStream({
    start(controller) {
      entry.controller = controller;
    },
    pull(controller) {
      controller.enqueue(chunk);
      entry.produced += chunk.byteLength;
    },
    cancel() {
      entry.note('cancel');
    },
  });
  return new Response(body, { headers: HEADERS });
}

export default {
  fetch(request) {
    const url = new URL(request.url);
    const id = url.searchParams.get('id');
    switch (url.pathname) {
      case '/sse':
        return sse(request, url.searchParams);
      case '/bp':
        return backpressure(url.searchParams);
      case '/push': {
        const entry = streams.get(id);
        return new Response(entry && write(entry, 'data: pushed\n\n') ? 'written' : 'gone');
      }
      case '/log': {
        const entry = streams.get(id);
        const { events, written, produced } = entry ?? { events: [], written: 0, produced: 0 };
        return Response.json({ found: entry !== undefined, events, written, produced });
      }
      default:
        return new Response('probe');
    }
  },
};
