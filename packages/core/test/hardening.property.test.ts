/**
 * Property test (issue 8) over real sockets: random interleavings of send, broadcast, complete,
 * completeWithError, client abort and timeout (with a last event sent from onTimeout). Whatever the order:
 * onCompletion runs exactly once per emitter, no promise rejection goes unhandled, no MaxListenersExceededWarning,
 * and what each client received is a prefix of what was sent to it, in order.
 *
 * How the two process-wide conditions are checked: inside Jest's sandbox, `process.on('unhandledRejection')` and
 * `process.on('warning')` never fire (Jest keeps the real process's events for itself). Jest itself fails the test
 * on any unhandled rejection, with its reason. A MaxListenersExceededWarning is Node noticing an emitter with more
 * listeners than its limit: the test checks that condition directly on every emitter a stream involves (server
 * request, response and socket), after every run.
 */
import { EventEmitter } from 'node:events';
import type * as http from 'node:http';
import { ChannelRegistry, event, SseEmitter } from '@tidings/core';
import { connect, type SseTestClient, startServer, type TestServer, waitFor } from '@tidings/testkit';
import * as fc from 'fast-check';

type Command =
  | { kind: 'send'; client: number }
  | { kind: 'broadcast' }
  | { kind: 'complete'; client: number }
  | { kind: 'error'; client: number }
  | { kind: 'abort'; client: number }
  | { kind: 'sleep'; ms: number };

const MAX_CLIENTS = 4;
const client = fc.nat({ max: MAX_CLIENTS - 1 });
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('send' as const), client }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('broadcast' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('complete' as const), client }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('error' as const), client }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('abort' as const), client }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('sleep' as const), ms: fc.constantFrom(0, 5, 25) }) },
);
/** Per client: its emitter's timeout (0 = none; short ones fire during the sleeps). */
const timeouts = fc.array(fc.constantFrom(0, 0, 10, 30), { minLength: 1, maxLength: MAX_CLIENTS });

/** Events of `emitter` with more listeners than its limit (what makes Node warn MaxListenersExceededWarning). */
function overLimit(emitter: NodeJS.EventEmitter | null | undefined): string[] {
  if (emitter == null) return [];
  const limit = emitter.getMaxListeners();
  return emitter.eventNames().flatMap((name) => (emitter.listenerCount(name) > limit ? [String(name)] : []));
}

/** One client's side of a run: the server's emitter and exchange, what was sent to it, what it received. */
interface Lane {
  em: SseEmitter;
  exchange: Exchange;
  client: SseTestClient;
  sent: string[];
  completions: number;
}

let server: TestServer;
interface Exchange {
  em: SseEmitter;
  req: http.IncomingMessage;
  res: http.ServerResponse;
}
const arrivals = new Map<string, (exchange: Exchange) => void>();
let registry: ChannelRegistry;

beforeAll(async () => {
  registry = new ChannelRegistry({ history: 0 });
  server = await startServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const em = new SseEmitter({ keepAlive: false, timeout: Number(url.searchParams.get('timeout')) }).attach(req, res);
    registry.channel(url.searchParams.get('run')!).subscribe(em);
    arrivals.get(url.searchParams.get('key')!)?.({ em, req, res });
  });
});

afterAll(async () => {
  await server.close();
});

test('the listener check sees an emitter past its limit (probe)', () => {
  // The limit is lowered after the listeners are added: Node warns only while adding, so the probe proves the
  // check without printing a leak warning into the test log.
  const probe = new EventEmitter();
  for (let i = 0; i < 3; i++) probe.on('data', () => {});
  expect(overLimit(probe)).toEqual([]);
  probe.setMaxListeners(2);
  expect(overLimit(probe)).toEqual(['data']);
});

let runs = 0;
/** Over all runs: events received and timeouts fired, so a run that exercised nothing cannot pass unnoticed. */
const coverage = { received: 0, timeouts: 0 };

async function openLane(run: string, index: number, timeout: number): Promise<Lane> {
  const key = `${run}-${index}`;
  const arrived = new Promise<Exchange>((resolve) => arrivals.set(key, resolve));
  const client = connect(`${server.url}/?run=${run}&key=${key}&timeout=${timeout}`);
  const exchange = await arrived;
  arrivals.delete(key);
  const { em } = exchange;
  const lane: Lane = { em, exchange, client, sent: [], completions: 0 };
  em.onCompletion(() => lane.completions++);
  // A last event from onTimeout is allowed (the emitter is still open): it is part of what was sent.
  em.onTimeout(() => {
    coverage.timeouts++;
    lane.sent.push(`bye-${key}`);
    void em.send(`bye-${key}`);
  });
  return lane;
}

test('random interleavings: onCompletion once, nothing unhandled, every client gets a prefix of its sends', async () => {
  await fc.assert(
    fc.asyncProperty(timeouts, fc.array(command, { maxLength: 25 }), async (laneTimeouts, commands) => {
      const run = `r${++runs}`;
      const lanes: Lane[] = [];
      for (const [i, timeout] of laneTimeouts.entries()) lanes.push(await openLane(run, i, timeout));
      let seq = 0;
      for (const cmd of commands) {
        const lane = 'client' in cmd ? lanes[cmd.client % lanes.length]! : undefined;
        switch (cmd.kind) {
          case 'send': {
            const data = `s${++seq}`;
            if (lane!.em.state === 'open') lane!.sent.push(data);
            void lane!.em.send(event({ id: String(seq), data }));
            break;
          }
          case 'broadcast': {
            const data = `b${++seq}`;
            for (const l of lanes) if (l.em.state === 'open') l.sent.push(data);
            void registry.broadcast(run, data);
            break;
          }
          case 'complete':
            lane!.em.complete();
            break;
          case 'error':
            lane!.em.completeWithError(new Error('failed on purpose'));
            break;
          case 'abort':
            lane!.client.close();
            break;
          case 'sleep':
            await new Promise((resolve) => setTimeout(resolve, cmd.ms));
            break;
        }
      }
      for (const { exchange } of lanes) {
        for (const emitter of [exchange.req, exchange.res, exchange.res.socket]) expect(overLimit(emitter)).toEqual([]);
      }
      for (const lane of lanes) lane.em.complete();
      await Promise.all(lanes.map((l) => l.client.ended));
      await waitFor('every emitter to complete', () => lanes.every((l) => l.completions >= 1));
      await new Promise((resolve) => setTimeout(resolve, 5)); // room for a second, wrong, completion

      for (const lane of lanes) {
        expect(lane.completions).toBe(1);
        expect(lane.sent.slice(0, lane.client.data.length)).toEqual(lane.client.data);
        coverage.received += lane.client.data.length;
      }
      expect(registry.channel(run).size).toBe(0);
    }),
    { numRuns: 100 },
  );
  expect(coverage.received).toBeGreaterThan(100);
  expect(coverage.timeouts).toBeGreaterThan(0);
}, 60_000);
