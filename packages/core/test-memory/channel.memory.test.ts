import { heapAfterGc } from '@tidings/testkit';
import { ChannelRegistry } from '../src/index';

/** Channel names made up front, so the strings are in the baseline and only the channels are measured. */
function names(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, n) => `${prefix}:${n}`);
}

/** Heap bytes per item that `work` leaves reachable. */
function bytesPer(count: number, work: () => void): number {
  const before = heapAfterGc();
  work();
  return (heapAfterGc() - before) / count;
}

describe('memory per channel (heap after gc)', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('a channel in memory with an empty history costs at most 512 bytes; a dropped one costs nothing', () => {
    const count = 20_000;
    const registry = new ChannelRegistry({ historyTtl: 1_000 });
    const all = names('empty', count);
    const perChannel = bytesPer(count, () => {
      for (const name of all) registry.channel(name);
    });
    expect(registry.stats().channels).toBe(count);
    process.stdout.write(`empty channel: ${perChannel.toFixed(0)} B\n`);
    expect(perChannel).toBeLessThanOrEqual(512);

    const perDropped = bytesPer(count, () => jest.advanceTimersByTime(5_000));
    expect(registry.stats().channels).toBe(0);
    // Dropping frees what the channels held (a negative number of bytes); at most a few bytes of noise remain.
    expect(perDropped).toBeLessThan(-0.9 * perChannel);
  });

  it('history memory grows with the events, not with the history size', () => {
    const count = 5_000;
    const small = new ChannelRegistry({ history: 1 });
    const large = new ChannelRegistry({ history: 10_000 });
    const withOneEvent = (registry: ChannelRegistry, prefix: string) =>
      bytesPer(count, () => {
        for (const name of names(prefix, count)) void registry.broadcast(name, 'x');
      });
    const smallCost = withOneEvent(small, 'small');
    const largeCost = withOneEvent(large, 'large');
    process.stdout.write(
      `one event a channel: history 1 ${smallCost.toFixed(0)} B, history 10,000 ${largeCost.toFixed(0)} B\n`,
    );
    expect(largeCost).toBeLessThan(smallCost * 1.5);
  });

  it('100,000 names seen, 5,000 active: the registry holds about what 5,000 channels hold', () => {
    const active = names('active', 5_000);
    const baseline = heapAfterGc();
    const onlyActive = new ChannelRegistry({ historyTtl: 1_000_000_000 });
    for (const name of active) void onlyActive.broadcast(name, 'x');
    const activeCost = heapAfterGc() - baseline;

    const registry = new ChannelRegistry({ historyTtl: 1_000 });
    for (const name of active) void registry.broadcast(name, 'x');
    // 100,000 other names, each broadcast once, in rounds of 10,000 a second apart: the sweep drops the old ones
    // while the active ones are broadcast to each round.
    for (let round = 0; round < 10; round++) {
      for (let n = 0; n < 10_000; n++) void registry.broadcast(`seen:${round}:${n}`, 'x');
      for (const name of active) void registry.broadcast(name, 'x');
      jest.advanceTimersByTime(1_001);
    }
    jest.advanceTimersByTime(1_001);
    for (const name of active) void registry.broadcast(name, 'x');
    const bothCost = heapAfterGc() - baseline;
    // Both registries are still reachable here, so both are in `bothCost`.
    expect([onlyActive.stats().channels, registry.stats().channels]).toEqual([5_000, 5_000]);
    process.stdout.write(`5k active: ${activeCost} B; two such registries, one after 100k names: ${bothCost} B\n`);
    expect(bothCost - activeCost).toBeLessThan(activeCost * 1.5);
  });
});
