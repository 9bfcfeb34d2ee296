/**
 * Churn (issue 8): 20,000 connect/disconnect cycles over real sockets against a channel with history, through
 * SseHost (the path every adapter takes). Afterwards nothing is left: no tracked connection, no subscriber, no
 * keep-alive timer, no socket or timer handle, no listener, and the heap after gc() is back within 5 MB.
 * Set TIDINGS_REPORT=1 to print the heap figures.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { ChannelRegistry, keepAliveTimerCount, type SseExchange, SseHost } from '@tidings/core';
import { waitFor } from '@tidings/testkit';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

const CYCLES = 20_000;
const CONCURRENCY = 50;
const WARM_UP = 1_000;

/** Heap used after full collections (a few, so finalizers and weak callbacks run). */
async function settledHeap(): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
  return process.memoryUsage().heapUsed;
}

/** Active handles by type (sockets, servers, timers), as Node reports them. */
function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

function listenerCounts(emitter: NodeJS.EventEmitter): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of emitter.eventNames()) counts[String(name)] = emitter.listenerCount(name);
  return counts;
}

test('20,000 connect/disconnect cycles leave nothing behind', async () => {
  const registry = new ChannelRegistry({ history: 100 });
  const host = new SseHost({ registry, keepAlive: 15_000 });
  const server = http.createServer((req, res) => {
    const exchange: SseExchange = { req, res, logError: (err) => console.error(err) };
    void host.subscribe(exchange, 'churn');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const channel = registry.channel('churn');
  const recentIds: string[] = [];
  const broadcast = async (n: number): Promise<void> => {
    const id = await registry.broadcast('churn', { n, pad: 'x'.repeat(200) });
    if (id !== undefined) recentIds.push(id);
    if (recentIds.length > 10) recentIds.shift();
  };
  for (let n = 0; n < 10; n++) await broadcast(n);

  /**
   * One cycle on a raw socket (no client-side HTTP machinery to pay for 20,000 times): connect, resuming a few
   * events back on odd cycles so replay runs, then drop the connection once the head (even cycles) or the
   * replayed events (odd cycles) arrived.
   */
  const cycle = (i: number): Promise<void> =>
    new Promise((resolve) => {
      const resume = i % 2 === 1 ? `Last-Event-ID: ${recentIds[recentIds.length - 3]}\r\n` : '';
      const socket = net.connect({ host: '127.0.0.1', port }, () =>
        socket.write(`GET / HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n${resume}\r\n`),
      );
      let received = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        received += chunk;
        if (i % 2 === 0 ? received.includes('\r\n\r\n') : received.includes('\ndata: ')) socket.destroy();
      });
      socket.on('error', () => {});
      socket.on('close', () => resolve());
    });

  let next = 0;
  const run = async (until: number): Promise<void> => {
    const worker = async (): Promise<void> => {
      while (next < until) {
        const i = next++;
        if (i % 200 === 0) await broadcast(i);
        await cycle(i);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await waitFor('every stream to be released', () => registry.connections === 0 && host.openStreams === 0);
  };

  try {
    await run(WARM_UP); // JIT, pools and lazily created structures reach their steady size first
    const resourcesBefore = activeResources();
    const listenersBefore = listenerCounts(server);
    const heapBefore = await settledHeap();

    await run(CYCLES + WARM_UP);

    expect(next).toBe(CYCLES + WARM_UP);
    expect(registry.connections).toBe(0);
    expect(channel.size).toBe(0);
    expect(registry.stats().connections).toBe(0);
    expect(keepAliveTimerCount()).toBe(0);
    // No more handles of any type than before (fewer is fine: a timer an earlier suite in this worker left may
    // have fired meanwhile).
    const leftOver = (): string[] =>
      Object.entries(activeResources()).flatMap(([type, n]) =>
        n > (resourcesBefore[type] ?? 0) ? [`${type}: ${n}`] : [],
      );
    // Not waitFor: its own poll and deadline timers are two more Timeouts, so the check could never hold once it polled.
    const deadline = Date.now() + 20_000;
    while (leftOver().length > 0 && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
    expect(leftOver()).toEqual([]);
    expect(listenerCounts(server)).toEqual(listenersBefore);
    const heapAfter = await settledHeap();
    const grownMb = (heapAfter - heapBefore) / 2 ** 20;
    if (process.env.TIDINGS_REPORT) {
      console.log(
        `churn: ${CYCLES} cycles, heap after gc ${(heapBefore / 2 ** 20).toFixed(1)} MB -> ` +
          `${(heapAfter / 2 ** 20).toFixed(1)} MB (${grownMb >= 0 ? '+' : ''}${grownMb.toFixed(2)} MB)`,
      );
    }
    expect(grownMb).toBeLessThan(5);
  } finally {
    await host.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}, 120_000);
