// What `pnpm bench` measures, at full size and at `--quick` (smoke) size, and which variants run each.

/** Every variant, and the raw baseline of the framework it runs on. */
export const BASELINE = {
  'raw-node': 'raw-node',
  'raw-express': 'raw-express',
  'raw-fastify': 'raw-fastify',
  'tidings-node': 'raw-node',
  'tidings-express': 'raw-express',
  'tidings-fastify': 'raw-fastify',
  'better-sse': 'raw-node',
  'sse-channel': 'raw-node',
  'fastify-sse': 'raw-fastify',
  'fastify-sse-v2': 'raw-fastify',
  'raw-hono': 'raw-hono',
  'tidings-hono': 'raw-hono',
  'better-sse-hono': 'raw-hono',
  'raw-bun': 'raw-bun',
  'tidings-bun': 'raw-bun',
  'better-sse-bun': 'raw-bun',
};

/** Variants whose server process runs under another runtime than Node (the binary an npm package installs). */
export const RUNTIME = { 'raw-bun': 'bun', 'tidings-bun': 'bun', 'better-sse-bun': 'bun' };

/** The better-sse variant each Fetch variant's "× better-sse" compares with (default: better-sse on node:http). */
export const BETTER_SSE = {
  'raw-hono': 'better-sse-hono',
  'tidings-hono': 'better-sse-hono',
  'better-sse-hono': 'better-sse-hono',
  'raw-bun': 'better-sse-bun',
  'tidings-bun': 'better-sse-bun',
  'better-sse-bun': 'better-sse-bun',
};

/** Display names. */
export const LABEL = {
  'raw-node': 'raw node:http',
  'raw-express': 'raw Express 5',
  'raw-fastify': 'raw Fastify 5 (hijack)',
  'tidings-node': 'Tidings on node:http',
  'tidings-express': 'Tidings on Express',
  'tidings-fastify': 'Tidings on Fastify',
  'better-sse': 'better-sse 0.16 (node:http)',
  'sse-channel': 'sse-channel 4 (node:http)',
  'fastify-sse': '@fastify/sse 0.6',
  'fastify-sse-v2': 'fastify-sse-v2 4.2',
  'raw-hono': 'raw Hono 4 (@hono/node-server, ReadableStream)',
  'tidings-hono': 'Tidings on Hono (@tidings/hono)',
  'better-sse-hono': 'better-sse 0.16 on Hono (createResponse)',
  'raw-bun': 'raw Bun.serve (ReadableStream)',
  'tidings-bun': 'Tidings on Bun.serve (sseResponse)',
  'better-sse-bun': 'better-sse 0.16 on Bun.serve (createResponse)',
};

/** The Fetch-standard servers (Hono on Node, Bun): fan-out and single stream. */
const FETCH = ['raw-hono', 'tidings-hono', 'better-sse-hono', 'raw-bun', 'tidings-bun', 'better-sse-bun'];
/** The Fetch variants with a way to wait for the reader (better-sse has none). */
const FETCH_BACKPRESSURE = FETCH.filter((v) => !v.startsWith('better-sse'));
/** Every Node framework variant (the Fetch ones run in the scenarios that list FETCH). */
const ALL = Object.keys(BASELINE).filter((v) => !FETCH.includes(v));
// `--before <checkout>`: the same Tidings variants on an earlier build (the Node ones: the hook is Node's loader).
for (const v of ALL.filter((name) => name.startsWith('tidings-'))) {
  BASELINE[`${v}@before`] = BASELINE[v];
  LABEL[`${v}@before`] = `${LABEL[v]} (before)`;
}
const RAW_AND_TIDINGS = [
  'raw-node',
  'raw-express',
  'raw-fastify',
  'tidings-node',
  'tidings-express',
  'tidings-fastify',
];
// The two long fan-outs (1M deliveries each) run what their targets compare, to keep `pnpm bench` under 10 minutes;
// `--variants` runs any other variant on them.
const FANOUT_5000 = [...RAW_AND_TIDINGS, 'better-sse'];
const TIDINGS_VS_BETTER_SSE = ['raw-node', 'tidings-node', 'better-sse'];
/** Variants with a way to wait for drain (better-sse and sse-channel have none). */
const BACKPRESSURE = [...RAW_AND_TIDINGS, 'fastify-sse', 'fastify-sse-v2', ...FETCH_BACKPRESSURE];
const QUICK = ['raw-node', 'tidings-node', 'raw-express', 'tidings-express', 'better-sse'];

/**
 * The scenarios: `kind` picks the procedure in run.mjs; `variants` run by default, `--variants` may pick any of
 * `eligible` (default: every variant).
 */
export function scenarios(quick) {
  if (quick) {
    return [
      {
        name: 'fanout-quick',
        kind: 'fanout',
        title: 'Fan-out (smoke): 100 clients × 50 events of 100 B',
        clients: 100,
        events: 50,
        size: 100,
        variants: QUICK,
      },
      {
        name: 'single-quick',
        kind: 'single',
        title: 'Single stream (smoke): 5,000 events of 100 B',
        events: 5000,
        size: 100,
        variants: QUICK.filter((v) => BACKPRESSURE.includes(v)),
        eligible: BACKPRESSURE,
      },
      {
        name: 'slow-quick',
        kind: 'slow',
        title: 'Slow reader (smoke): 1 stalled + 3 reading, 2,000 events of 1 KiB at 5,000 events/s',
        readers: 3,
        events: 2000,
        size: 1024,
        rate: 5000,
        variants: QUICK,
      },
      {
        name: 'idle-quick',
        kind: 'idle',
        title: 'Idle memory (smoke): 200 connections',
        clients: 200,
        variants: QUICK,
      },
    ];
  }
  return [
    {
      name: 'fanout-1000',
      rounds: 2,
      kind: 'fanout',
      title: 'Fan-out: 1,000 clients × 200 events of 100 B, as fast as possible',
      clients: 1000,
      events: 200,
      size: 100,
      variants: [...ALL, ...FETCH],
    },
    {
      name: 'fanout-5000',
      rounds: 2,
      kind: 'fanout',
      title: 'Fan-out: 5,000 clients × 200 events of 100 B, as fast as possible',
      clients: 5000,
      events: 200,
      size: 100,
      variants: FANOUT_5000,
    },
    {
      name: 'fanout-1000x1000',
      kind: 'fanout',
      title: 'Fan-out: 1,000 clients × 1,000 events of 100 B (Tidings vs better-sse)',
      clients: 1000,
      events: 1000,
      size: 100,
      variants: TIDINGS_VS_BETTER_SSE,
    },
    {
      name: 'paced',
      kind: 'fanout',
      title: 'Paced: 1,000 clients, 20 events/s for 5 s (100 events of 100 B)',
      clients: 1000,
      events: 100,
      size: 100,
      rate: 20,
      variants: ALL,
    },
    {
      name: 'single',
      kind: 'single',
      title: 'Single stream: 1 client, 200,000 events of 100 B, with backpressure',
      events: 200_000,
      size: 100,
      variants: BACKPRESSURE,
      eligible: BACKPRESSURE,
    },
    { name: 'idle', kind: 'idle', title: 'Idle memory: 5,000 idle connections', clients: 5000, variants: ALL },
    {
      name: 'slow',
      kind: 'slow',
      title: 'Slow reader: 1 client that never reads + 10 reading, 20,000 events of 1 KiB at 5,000 events/s',
      readers: 10,
      events: 20_000,
      size: 1024,
      rate: 5000,
      variants: ALL,
    },
  ];
}
