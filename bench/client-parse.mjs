// Client parse throughput: events/s that @tidings/client, the `eventsource` client (v4), `eventsource-client` and
// `eventsource-parser` alone get out of the same bytes, in one process, one run. The clients read a Response whose
// body replays a prepared event stream in 16 KiB chunks (cut anywhere, so events straddle chunks) through their
// `fetch` option: no network, only decoding, parsing and dispatch. Every variant must see every event, in order,
// with its full data, or the script exits non-zero. Measures the built @tidings/client (run `pnpm build` first).
//
//   node bench/client-parse.mjs            3 rounds (variants alternate; the best round is kept)
//   node bench/client-parse.mjs --rounds 5
//   node bench/client-parse.mjs --quick    smaller streams, 1 round: checks the script works
//   pnpm bench --scenario client [...]     the same
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { EventSource } from 'eventsource';
import { createEventSource } from 'eventsource-client';
import { createParser } from 'eventsource-parser';

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, rounds: { type: 'string' } } });
const quick = values.quick === true;
const rounds = quick ? 1 : Number(values.rounds ?? 3);

const CHUNK_BYTES = 16 * 1024;
const EVENT_NAME = 'tick';
const SIZES = [
  { label: '100 B', dataBytes: 100, events: quick ? 20_000 : 200_000 },
  { label: '4 KiB', dataBytes: 4096, events: quick ? 1_000 : 10_000 },
];

/** Data of exactly `bytes` ASCII bytes that is valid JSON (an object with a padding string), as servers send. */
function payload(bytes) {
  const head = '{"seq":0,"pad":"';
  return `${head}${'x'.repeat(bytes - head.length - 2)}"}`;
}

/** The stream: `count` events with an id, a name and `dataBytes` of data, cut into 16 KiB chunks. */
function streamChunks(count, dataBytes) {
  const data = payload(dataBytes);
  let text = '';
  for (let i = 0; i < count; i++) text += `id: ${i}\nevent: ${EVENT_NAME}\ndata: ${data}\n\n`;
  const bytes = new TextEncoder().encode(text);
  const chunks = [];
  for (let at = 0; at < bytes.length; at += CHUNK_BYTES) chunks.push(bytes.subarray(at, at + CHUNK_BYTES));
  return { chunks, wireBytes: bytes.length };
}

/** A `fetch` that answers every request with an event-stream Response replaying `chunks`. */
function replayingFetch(chunks) {
  return async () => {
    let next = 0;
    const body = new ReadableStream({
      pull(controller) {
        if (next < chunks.length) controller.enqueue(chunks[next++]);
        else controller.close();
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  };
}

/**
 * Counts what a variant dispatches and checks it: ids in order, every event named `tick` with data of the expected
 * length. `done` resolves once `expected` events were seen.
 */
function tally(expected, dataBytes) {
  let seen = 0;
  let wrong = 0;
  let finish;
  const done = new Promise((resolve) => {
    finish = resolve;
  });
  return {
    done,
    get seen() {
      return seen;
    },
    get wrong() {
      return wrong;
    },
    /** One dispatched event: its name, its data as a string and its id. */
    add(name, data, id) {
      if (name !== EVENT_NAME || data.length !== dataBytes || id !== String(seen)) wrong++;
      if (++seen === expected) finish();
    },
  };
}

/** eventsource-parser fed the decoded chunks directly: the floor every parser-based client builds on. */
async function runEventsourceParser(chunks, t) {
  const parser = createParser({ onEvent: (ev) => t.add(ev.event, ev.data, ev.id) });
  const decoder = new TextDecoder();
  for (const chunk of chunks) parser.feed(decoder.decode(chunk, { stream: true }));
  await t.done;
}

/** The `eventsource` package (v4, WHATWG EventSource on fetch + eventsource-parser). */
async function runEventsource(chunks, t) {
  const es = new EventSource('http://bench.invalid/', { fetch: replayingFetch(chunks) });
  es.addEventListener(EVENT_NAME, (ev) => t.add(ev.type, ev.data, ev.lastEventId));
  await t.done;
  es.close();
}

/** `eventsource-client` (fetch + eventsource-parser). */
async function runEventsourceClient(chunks, t) {
  const es = createEventSource({
    url: 'http://bench.invalid/',
    fetch: replayingFetch(chunks),
    onMessage: (ev) => t.add(ev.event, ev.data, ev.id),
  });
  await t.done;
  es.close();
}

const clientBuild = new URL('../packages/client/dist/esm/index.js', import.meta.url);
const tidings = existsSync(clientBuild) ? await import(clientBuild.href) : undefined;
/** The client's parser module (internal): measured alone beside eventsource-parser alone. */
const tidingsParser = tidings ? await import(new URL('parser.js', clientBuild).href) : undefined;

/** @tidings/client's parser fed the raw chunks (it decodes UTF-8 itself). */
async function runTidingsParser(chunks, t) {
  const feed = tidingsParser.createParser(
    (name, data, id) => t.add(name, data, id),
    () => {},
  );
  for (const chunk of chunks) feed(chunk);
  await t.done;
}

/**
 * @tidings/client through `connect()`: `parse` returns the string, so it does the same work as the others; the
 * default parse (JSON.parse of every payload) is measured as a row of its own.
 */
function runTidings(parse) {
  return async (chunks, t) => {
    const stream = tidings.connect('http://bench.invalid/', {
      fetch: replayingFetch(chunks),
      ...(parse ? { parse } : {}),
    });
    stream.on(EVENT_NAME, (data, ev) => t.add(ev.event, typeof data === 'string' ? data : JSON.stringify(data), ev.id));
    await t.done;
    stream.close();
  };
}

const VARIANTS = [
  ...(tidings
    ? [
        { name: '@tidings/client', run: runTidings((data) => data), baseline: true },
        { name: '@tidings/client, default parse (JSON values)', run: runTidings(undefined) },
        { name: '@tidings/client parser alone', run: runTidingsParser },
      ]
    : []),
  { name: 'eventsource 4 (EventSource)', run: runEventsource },
  { name: 'eventsource-client', run: runEventsourceClient },
  { name: 'eventsource-parser alone', run: runEventsourceParser },
];

/** One timed pass of `variant` over the stream; resolves to events/s, or throws when an event was wrong or missing. */
async function pass(variant, size, stream) {
  const t = tally(size.events, size.dataBytes);
  const start = process.hrtime.bigint();
  let deadline;
  const stuck = new Promise((_, reject) => {
    deadline = setTimeout(
      () => reject(new Error(`${variant.name}: ${t.seen}/${size.events} events after 60 s`)),
      60_000,
    );
  });
  try {
    await Promise.race([variant.run(stream.chunks, t), stuck]);
  } finally {
    clearTimeout(deadline);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (t.wrong > 0) throw new Error(`${variant.name}: ${t.wrong} of ${size.events} events wrong (name, data or id)`);
  return size.events / seconds;
}

async function main() {
  console.log(
    `# client parse throughput: Node ${process.version}, ${rounds} round(s), ${CHUNK_BYTES / 1024} KiB chunks`,
  );
  if (!tidings) console.log('(@tidings/client is not built: run `pnpm build` to include it)');
  for (const size of SIZES) {
    const stream = streamChunks(size.events, size.dataBytes);
    const best = new Map(VARIANTS.map((v) => [v.name, 0]));
    const warmUp = { ...size, events: Math.min(size.events, 2000) };
    const warmUpStream = streamChunks(warmUp.events, size.dataBytes);
    for (const variant of VARIANTS) await pass(variant, warmUp, warmUpStream);
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < VARIANTS.length; k++) {
        const variant = VARIANTS[(k + round) % VARIANTS.length];
        best.set(variant.name, Math.max(best.get(variant.name), await pass(variant, size, stream)));
      }
    }
    const baseline = VARIANTS.find((v) => v.baseline);
    console.log(
      `\n#### ${size.label} events: ${size.events.toLocaleString('en')} events, ${(stream.wireBytes / 2 ** 20).toFixed(1)} MiB\n`,
    );
    console.log('| client | events/s | MiB/s | × @tidings/client |\n| --- | ---: | ---: | ---: |');
    for (const variant of VARIANTS) {
      const rate = best.get(variant.name);
      const mibs = (rate * stream.wireBytes) / size.events / 2 ** 20;
      const ratio = baseline ? `${(rate / best.get(baseline.name)).toFixed(2)}×` : '–';
      console.log(`| ${variant.name} | ${Math.round(rate).toLocaleString('en')} | ${mibs.toFixed(1)} | ${ratio} |`);
    }
  }
}

await main();
