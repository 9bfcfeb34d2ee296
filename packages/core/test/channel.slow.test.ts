import { connectNeverReading, type SseTestClient, waitFor } from '@tidings/testkit';
import { ChannelRegistry, type SseEmitter } from '../src/index';
import { type ChannelRoute, testBed } from './support/channel-server';

const bed = testBed();
afterEach(() => bed.cleanup());

/** 10 reading clients and one that never reads, on one channel; `route` sets their emitter options. */
async function crowdWithOneStalled(registry: ChannelRegistry, route: ChannelRoute) {
  const errors = new Map<SseEmitter, unknown[]>();
  const { base, served } = await bed.serve(registry, {
    emitter: route.emitter,
    subscribe: (url, em) => {
      errors.set(em, []);
      em.onError((err) => errors.get(em)!.push(err));
      return route.subscribe?.(url, em) ?? {};
    },
  });
  const ch = registry.channel('crowd');
  const stalledSocket = await connectNeverReading(`${base}/crowd`);
  bed.defer(() => {
    stalledSocket.destroy();
  });
  await waitFor('stalled subscriber', () => ch.size === 1);
  const stalled = served[0]!;
  const readers: SseTestClient[] = [];
  for (let i = 0; i < 10; i++) readers.push(bed.open(`${base}/crowd`));
  await waitFor('11 subscribers', () => ch.size === 11);
  return { ch, stalled, readers, errors };
}

/** Broadcasts 16 KiB events, letting sockets move after each, until `done()` or `max` events. */
async function storm(registry: ChannelRegistry, done: () => boolean, max: number): Promise<number> {
  const payload = 'x'.repeat(16 * 1024);
  let sent = 0;
  while (!done() && sent < max) {
    await registry.broadcast('crowd', payload);
    sent++;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return sent;
}

describe('slow subscribers', () => {
  it('closes a client past maxBufferedBytes (SSE_ERR_SLOW_CLIENT) without holding up the 10 others', async () => {
    const registry = new ChannelRegistry({ history: 0 });
    const { ch, stalled, readers, errors } = await crowdWithOneStalled(registry, {
      emitter: () => ({ maxBufferedBytes: 256 * 1024, keepAlive: false }),
    });

    const sent = await storm(registry, () => stalled.state === 'completed', 4000);
    expect(stalled.state).toBe('completed');
    expect(errors.get(stalled)).toEqual([expect.objectContaining({ code: 'SSE_ERR_SLOW_CLIENT' })]);
    expect(ch.size).toBe(10);
    expect(registry.stats().slowClosed).toBe(1);

    // The others got every event, and keep getting them.
    await registry.broadcast('crowd', 'after');
    await waitFor('readers caught up', () => readers.every((r) => r.events.length === sent + 1));
    for (const reader of readers) expect(reader.data.at(-1)).toBe('after');
    for (const [em, errs] of errors) if (em !== stalled) expect(errs).toEqual([]);
  });

  it('closes a client whose write stays undrained past sendTimeout, however large its buffer cap', async () => {
    const registry = new ChannelRegistry({ history: 0 });
    const { ch, stalled, readers, errors } = await crowdWithOneStalled(registry, {
      emitter: () => ({ maxBufferedBytes: 256 * 1024 * 1024, sendTimeout: 100, keepAlive: false }),
    });

    const sent = await storm(registry, () => stalled.state === 'completed', 4000);
    await waitFor('stalled closed', () => stalled.state === 'completed');
    expect(errors.get(stalled)).toEqual([
      expect.objectContaining({ code: 'SSE_ERR_SLOW_CLIENT', message: expect.stringContaining('sendTimeout') }),
    ]);
    expect(ch.size).toBe(10);
    expect(registry.stats().slowClosed).toBe(1);
    await waitFor('readers caught up', () => readers.every((r) => r.events.length === sent));
  });
});
