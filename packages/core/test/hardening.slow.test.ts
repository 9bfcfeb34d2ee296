/**
 * Slow and stalled clients (issue 8), over real sockets. One client that never reads and 20 normal ones share a
 * channel through 20,000 broadcasts of 1 KiB: what the server buffers for any client stays within its
 * `maxBufferedBytes`, the stalled one is closed as slow, the normal ones get every event in order. A client whose
 * TCP window stays full past `sendTimeout` is closed even when nothing more is sent.
 * Set TIDINGS_REPORT=1 to print the memory figures.
 */
import * as http from 'node:http';
import { ChannelRegistry, event, SseEmitter, type SseEmitterOptions } from '@tidings/core';
import { connectNeverReading, startServer, waitFor } from '@tidings/testkit';

/**
 * A normal reader that keeps no copy of what it reads (20 x 20 MB of kept strings would drown the figure being
 * measured): it checks each event's data against the expected sequence as it arrives and counts.
 */
class CheckingReader {
  received = 0;
  outOfOrder = 0;
  #pending = '';
  readonly #req: http.ClientRequest;

  constructor(url: string, expected: (i: number) => string) {
    this.#req = http.get(url, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const text = this.#pending + chunk;
        let start = 0;
        for (let end = text.indexOf('\n\n'); end !== -1; end = text.indexOf('\n\n', start)) {
          const at = text.indexOf('data: ', start);
          if (at !== -1 && at < end && text.slice(at + 6, end) !== expected(this.received)) this.outOfOrder++;
          this.received++;
          start = end + 2;
        }
        this.#pending = text.slice(start);
      });
    });
    this.#req.on('error', () => {});
  }

  close(): void {
    this.#req.destroy();
  }
}

/** A stream the test server opened: its emitter, its response, and the errors it reported. */
interface Served {
  em: SseEmitter;
  res: http.ServerResponse;
  errors: unknown[];
}

/** A node:http server whose every request opens an emitter with `options`, subscribed to channel `crowd`. */
async function crowdServer(registry: ChannelRegistry, options: SseEmitterOptions) {
  const served: Served[] = [];
  const server = await startServer((req, res) => {
    const em = new SseEmitter(options).attach(req, res);
    const entry: Served = { em, res, errors: [] };
    em.onError((err) => entry.errors.push(err));
    served.push(entry);
    registry.channel('crowd').subscribe(em);
  });
  return { server, base: server.url, served };
}

/**
 * Bytes the server holds for one client in user space: Node's `res.writableLength` counts what the response
 * queued plus what its socket holds (the kernel's buffers are not the process's memory).
 */
function bufferedFor({ res }: Served): number {
  return res.writableLength;
}

const MAX_BUFFERED = 64 * 1024;
const BROADCASTS = 20_000;
const NORMAL = 20;
/** Broadcasts between two looks at the readers: well under what maxBufferedBytes holds (64 x 1 KiB). */
const BATCH = 16;

function payload(i: number): string {
  const head = `${i}:`;
  return head + 'x'.repeat(1024 - head.length);
}

test('1 stalled + 20 normal clients, 20,000 broadcasts of 1 KiB: bounded memory, the stalled one closed, every event delivered', async () => {
  const registry = new ChannelRegistry({ history: 100 });
  const { server, base, served } = await crowdServer(registry, {
    maxBufferedBytes: MAX_BUFFERED,
    keepAlive: false,
  });
  const stalledSocket = await connectNeverReading(`${base}/crowd`);
  const readers: CheckingReader[] = [];
  try {
    await waitFor('the stalled subscriber', () => served.length === 1);
    const stalled = served[0]!;
    for (let i = 0; i < NORMAL; i++) readers.push(new CheckingReader(`${base}/crowd`, payload));
    await waitFor('21 subscribers', () => registry.channel('crowd').size === NORMAL + 1);

    const baseline = process.memoryUsage();
    let peakBuffered = 0;
    let peakArrayBuffers = baseline.arrayBuffers;
    let peakRss = baseline.rss;
    let stalledClosedAt: number | undefined;
    for (let sent = 0; sent < BROADCASTS; ) {
      for (let b = 0; b < BATCH; b++) await registry.broadcast('crowd', payload(sent++));
      for (const s of served) if (s.em.state === 'open') peakBuffered = Math.max(peakBuffered, bufferedFor(s));
      if (stalledClosedAt === undefined && stalled.em.state === 'completed') stalledClosedAt = sent;
      if (sent % 1024 === 0) {
        const now = process.memoryUsage();
        peakArrayBuffers = Math.max(peakArrayBuffers, now.arrayBuffers);
        peakRss = Math.max(peakRss, now.rss);
      }
      // Pace like a normal client reads: the next batch goes once every reader has the one before last.
      const behind = sent - BATCH;
      while (!readers.every((r) => r.received >= behind)) await new Promise((r) => setImmediate(r));
    }
    await waitFor('readers to get every event', () => readers.every((r) => r.received === BROADCASTS));

    expect(peakBuffered).toBeLessThanOrEqual(MAX_BUFFERED);
    expect(stalled.em.state).toBe('completed');
    expect(stalled.errors).toEqual([expect.objectContaining({ code: 'SSE_ERR_SLOW_CLIENT' })]);
    expect(registry.stats().slowClosed).toBe(1);
    expect(registry.channel('crowd').size).toBe(NORMAL);
    for (const reader of readers) expect([reader.received, reader.outOfOrder]).toEqual([BROADCASTS, 0]);
    for (const s of served.slice(1)) expect(s.errors).toEqual([]);
    if (process.env.TIDINGS_REPORT) {
      const mb = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MB`;
      console.log(
        `slow clients: peak bytes buffered for one client ${peakBuffered} (cap ${MAX_BUFFERED}); stalled client ` +
          `closed after ${stalledClosedAt} broadcasts; arrayBuffers ${mb(baseline.arrayBuffers)} -> peak ` +
          `${mb(peakArrayBuffers)}, rss ${mb(baseline.rss)} -> peak ${mb(peakRss)} over ${BROADCASTS} x 1 KiB x ` +
          `${NORMAL + 1} clients`,
      );
    }
  } finally {
    stalledSocket.destroy();
    for (const r of readers) r.close();
    await server.close();
  }
}, 60_000);

test('a client whose TCP window stays full past sendTimeout is closed with nothing more sent', async () => {
  const registry = new ChannelRegistry({ history: 0 });
  const { server, base, served } = await crowdServer(registry, {
    maxBufferedBytes: 256 * 1024 * 1024,
    sendTimeout: 200,
    keepAlive: false,
  });
  const stalledSocket = await connectNeverReading(`${base}/crowd`);
  try {
    await waitFor('the stalled subscriber', () => served.length === 1);
    const { em, errors } = served[0]!;
    // Send until a send stays unresolved for a turn of the event loop: the TCP window is full.
    const chunk = 'y'.repeat(64 * 1024);
    let sends = 0;
    let pending: Promise<void> | undefined;
    while (pending === undefined) {
      const sending = em.send(event({ data: chunk }));
      sends++;
      const accepted = await Promise.race([
        sending.then(() => true),
        new Promise<false>((resolve) => setImmediate(() => resolve(false))),
      ]);
      if (!accepted) pending = sending;
    }
    expect(em.state).toBe('open');
    // Nothing more is sent: the send timer alone closes the client.
    await expect(pending).rejects.toMatchObject({ code: 'SSE_ERR_SLOW_CLIENT' });
    expect(em.state).toBe('completed');
    expect(errors).toEqual([
      expect.objectContaining({ code: 'SSE_ERR_SLOW_CLIENT', message: expect.stringContaining('sendTimeout') }),
    ]);
    expect(registry.stats().slowClosed).toBe(1);
    expect(sends).toBeGreaterThan(1);
    await waitFor('the server to drop the socket', () => served[0]!.res.socket === null || served[0]!.res.destroyed);
  } finally {
    stalledSocket.destroy();
    await server.close();
  }
});
