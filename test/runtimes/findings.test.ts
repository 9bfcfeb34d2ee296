/**
 * What each runtime does to a long-lived SSE response, with a raw ReadableStream body (handlers/probe.mjs) and
 * no library. These are facts about the pinned runtimes that Tidings' Fetch support is built on (and that
 * docs/runtimes.md reports); a runtime upgrade that changes one fails here first.
 */
import * as path from 'node:path';
import { type Launched, launch, type RuntimeName, runtimesHere } from './harness';
import { headersBeforeBody, idleCut, leave, producedWhileStalled, silentThenPush } from './probes';

const probe = path.join(__dirname, 'handlers', 'probe.mjs');

interface Behaviour {
  /** `request.signal` aborts when the client closes its connection. */
  signalAborts: boolean;
  /** The body's cancel() runs when the client leaves, before anything more is written. */
  cancelWithoutWrite: boolean;
  /** A stream with nothing pending (no timer, no I/O) is cancelled by the runtime as hung. */
  cutsStreamWithNothingPending: boolean;
  /** The response head waits for the first body byte. */
  headersWaitForBody: boolean;
  /** A response that sends nothing is cut after about this many seconds; undefined: never (within the probe). */
  idleCutSeconds?: number;
}

const BEHAVIOUR: Record<RuntimeName, Behaviour> = {
  node: {
    signalAborts: true,
    cancelWithoutWrite: true,
    cutsStreamWithNothingPending: false,
    headersWaitForBody: false,
  },
  bun: {
    signalAborts: true,
    cancelWithoutWrite: true,
    cutsStreamWithNothingPending: false,
    headersWaitForBody: true,
    idleCutSeconds: 10,
  },
  deno: {
    signalAborts: true,
    cancelWithoutWrite: true,
    cutsStreamWithNothingPending: false,
    headersWaitForBody: false,
  },
  workerd: {
    signalAborts: false,
    cancelWithoutWrite: false,
    cutsStreamWithNothingPending: true,
    headersWaitForBody: false,
  },
  edge: {
    signalAborts: false,
    cancelWithoutWrite: false,
    cutsStreamWithNothingPending: false,
    headersWaitForBody: true,
  },
};

const runtimes = runtimesHere();

describe.each(runtimes)('%s', (runtime) => {
  const expected = BEHAVIOUR[runtime];
  let server: Launched;
  beforeAll(async () => {
    server = await launch(runtime, probe);
  });
  afterAll(() => server?.stop());

  test(`client leaving: request.signal ${expected.signalAborts ? 'aborts' : 'never aborts'}; cancel() ${
    expected.cancelWithoutWrite ? 'at once' : 'only at the next write'
  }`, async () => {
    // Writes 1 s apart, and 2.5 s to watch: a cancel that comes "at once" but late on a busy machine still comes
    // before the next write, and one that waits for a write comes with the first.
    const [silent, writing] = await Promise.all([leave(server.origin, 0), leave(server.origin, 1000, 2500)]);
    // The stream that writes nothing after the client left:
    expect(silent.abortAfterMs !== undefined).toBe(expected.signalAborts);
    expect(silent.cancelAfterMs !== undefined).toBe(expected.cancelWithoutWrite);
    // The stream that writes every second: cancel() comes at once, or with the first write after leaving.
    expect(writing.cancelAfterMs).toBeDefined();
    expect(writing.writesAfterLeaving).toBe(expected.cancelWithoutWrite ? 0 : 1);
  });

  test(`a stream with nothing pending ${expected.cutsStreamWithNothingPending ? 'is cut' : 'stays open'}; a pending timer keeps it`, async () => {
    const [bare, timed] = await Promise.all([
      silentThenPush(server.origin, false),
      silentThenPush(server.origin, true),
    ]);
    expect(bare.ended).toBe(expected.cutsStreamWithNothingPending);
    // Cut as hung, the stream is not even cancelled: the write from the other request "succeeds" into nothing.
    expect(bare).toMatchObject({ cancelled: false, push: 'written' });
    expect(bare.delivered).toBe(!expected.cutsStreamWithNothingPending);
    // A timer pending (a keep-alive) keeps it, and a write from another request reaches the client.
    expect(timed).toEqual({ cancelled: false, push: 'written', delivered: true, ended: false });
  });

  test(`the response head ${expected.headersWaitForBody ? 'waits for' : 'comes before'} the first body byte`, async () => {
    const timing = await headersBeforeBody(server.origin, 3000);
    expect(timing.firstByteMs).toBeGreaterThanOrEqual(2900);
    expect(timing.writtenAtHead).toBe(expected.headersWaitForBody ? 1 : 0);
  });

  test('a pull-based body is paced by the reader (backpressure holds; bun#32469 fixed on the pinned Bun)', async () => {
    const [first, second] = await producedWhileStalled(server.origin);
    // What the kernel's socket buffers hold on loopback, no more, and nothing more once they are full.
    expect(first).toBeLessThan(16 * 2 ** 20);
    expect(second - first).toBeLessThanOrEqual(256 * 1024);
  });
});

describe('a response that sends nothing after its opening comment', () => {
  // Bun cut these 8.4 to 12.0 s after the opening comment in one probe of 10 streams (its timeouts are checked on
  // a coarse tick, it seems), so the window is wide and the wait longer than its end.
  const WAIT_MS = 14_000;
  // Every runtime at once, so the suite waits the 14 s only once.
  test(
    `is cut by Bun's idleTimeout (10 s), by no other runtime within ${WAIT_MS / 1000} s (workerd: cut as hung)`,
    async () => {
      const launched = await Promise.allSettled(runtimes.map((runtime) => launch(runtime, probe)));
      const servers = launched.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
      try {
        // Those that started are stopped (finally) before a failed launch fails the test.
        for (const outcome of launched) if (outcome.status === 'rejected') throw outcome.reason;
        const cuts = await Promise.all(servers.map((server) => idleCut(server.origin, WAIT_MS)));
        runtimes.forEach((runtime, i) => {
          const { idleCutSeconds, cutsStreamWithNothingPending } = BEHAVIOUR[runtime];
          const cutMs = cuts[i];
          if (cutsStreamWithNothingPending) expect([runtime, cutMs! < 1000]).toEqual([runtime, true]);
          else if (idleCutSeconds === undefined) expect([runtime, cutMs]).toEqual([runtime, undefined]);
          else expect([runtime, Math.abs(cutMs! / 1000 - idleCutSeconds) < 3]).toEqual([runtime, true]);
        });
      } finally {
        await Promise.all(servers.map((server) => server.stop()));
      }
    },
    WAIT_MS + 30_000,
  );
});
