import { waitFor } from '@tidings/testkit';
import {
  type BroadcastAdapter,
  ChannelRegistry,
  REGISTRY_DEFAULTS,
  SseEmitter,
  type StoredEvent,
  type WireEvent,
} from '../src/index';
import { trackTimers } from './support/timers';

/**
 * A pending emitter subscribed to `name`: a subscriber that keeps the channel in memory, no socket needed.
 * Returns its unsubscribe function.
 */
function subscriber(registry: ChannelRegistry, name: string): () => void {
  return registry.channel(name).subscribe(new SseEmitter());
}

describe('channel lifecycle (historyTtl), fake timers', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('drops a channel idle for historyTtl (no subscriber, no broadcast); stats().channels is a gauge', async () => {
    expect(REGISTRY_DEFAULTS.historyTtl).toBe(300_000);
    const registry = new ChannelRegistry();
    await registry.broadcast('a', 1);
    registry.channel('b');
    expect(registry.has('a')).toBe(true);
    expect(registry.stats().channels).toBe(2);
    jest.advanceTimersByTime(299_000);
    expect(registry.has('a') && registry.has('b')).toBe(true);
    jest.advanceTimersByTime(2_000); // the sweep runs at most one second after the ttl
    expect(registry.has('a') || registry.has('b')).toBe(false);
    expect(registry.stats().channels).toBe(0);
  });

  it('a broadcast restarts the ttl; a subscriber keeps the channel until it leaves, then the ttl starts', async () => {
    const registry = new ChannelRegistry({ historyTtl: 10_000 });
    await registry.broadcast('busy', 1);
    const leave = subscriber(registry, 'kept');
    jest.advanceTimersByTime(8_000);
    await registry.broadcast('busy', 2);
    jest.advanceTimersByTime(8_000);
    expect(registry.has('busy')).toBe(true);
    jest.advanceTimersByTime(4_000);
    expect(registry.has('busy')).toBe(false);

    jest.advanceTimersByTime(60_000);
    expect(registry.has('kept')).toBe(true);
    leave();
    jest.advanceTimersByTime(9_000);
    expect(registry.has('kept')).toBe(true);
    jest.advanceTimersByTime(2_000);
    expect(registry.has('kept')).toBe(false);
  });

  it('historyTtl 0 never drops and arms no timer; a bad historyTtl is SSE_ERR_INVALID_OPTION', async () => {
    // 2^31 ms is past what a timer can wait: Node would fire the sweep every millisecond.
    for (const historyTtl of [-1, 0.5, Number.NaN, 2 ** 31]) {
      expect(() => new ChannelRegistry({ historyTtl })).toThrow(
        expect.objectContaining({ code: 'SSE_ERR_INVALID_OPTION' }),
      );
    }
    const timers = trackTimers();
    try {
      const registry = new ChannelRegistry({ historyTtl: 0 });
      for (let n = 0; n < 100; n++) await registry.broadcast(`c${n}`, n);
      expect(timers.pending()).toBe(0);
      jest.advanceTimersByTime(365 * 24 * 3600_000);
      expect(registry.stats().channels).toBe(100);
    } finally {
      timers.restore();
    }
  });

  it('one sweep timer for the whole registry, however many channels are idle', async () => {
    const timers = trackTimers();
    try {
      const registry = new ChannelRegistry({ historyTtl: 5_000 });
      for (let n = 0; n < 1_000; n++) {
        await registry.broadcast(`c${n}`, n);
        jest.advanceTimersByTime(3);
      }
      expect(timers.pending()).toBe(1);
      jest.advanceTimersByTime(10_000);
      expect(registry.stats().channels).toBe(0);
      expect(timers.pending()).toBe(0);
      await registry.close();
    } finally {
      timers.restore();
    }
  });

  it('a Channel kept by user code brings its channel back when used; never two live objects for one name', async () => {
    const registry = new ChannelRegistry({ historyTtl: 1_000 });
    const kept = registry.channel('room');
    const before = await kept.broadcast('before');
    jest.advanceTimersByTime(3_000);
    expect(registry.has('room')).toBe(false);

    const after = await kept.broadcast('after');
    expect(registry.has('room')).toBe(true);
    expect(registry.channel('room')).toBe(kept);
    // Ids are never given twice: the one from before the drop is not a position in the new history.
    expect(after).not.toBe(before);

    jest.advanceTimersByTime(3_000);
    const other = registry.channel('room'); // a new object for the name while `kept` is dropped
    expect(other).not.toBe(kept);
    const leave = kept.subscribe(new SseEmitter()); // served by the live object
    expect(other.size).toBe(1);
    expect(kept.size).toBe(0);
    await kept.broadcast('through the live one');
    expect(registry.channel('room')).toBe(other);
    leave();
  });

  it('the sweep stops at registry.close()', async () => {
    const registry = new ChannelRegistry({ historyTtl: 1_000 });
    await registry.broadcast('a', 1);
    await registry.close();
    jest.advanceTimersByTime(10_000);
    expect(registry.has('a')).toBe(true);
  });
});

/** Records adapter calls; unsubscribe settles only when told to. */
class OrderedLog implements BroadcastAdapter {
  readonly calls: string[] = [];
  readonly #unsubscribes: Array<() => void> = [];
  #next = 0;

  async publish(_channel: string, _event: WireEvent): Promise<string> {
    return `0-${++this.#next}`;
  }
  async subscribe(channel: string, _onEvent: (event: StoredEvent) => void): Promise<void> {
    this.calls.push(`subscribe ${channel}`);
  }
  unsubscribe(channel: string): Promise<void> {
    this.calls.push(`unsubscribe ${channel} started`);
    return new Promise((resolve) =>
      this.#unsubscribes.push(() => {
        this.calls.push(`unsubscribe ${channel} done`);
        resolve();
      }),
    );
  }
  settleUnsubscribes(): void {
    for (const settle of this.#unsubscribes.splice(0)) settle();
  }
  async history(): Promise<StoredEvent[] | undefined> {
    return [];
  }
  async close(): Promise<void> {}
}

describe('channel lifecycle with an adapter', () => {
  it('dropping unsubscribes from the adapter; a revival subscribes only after that unsubscription settled', async () => {
    const log = new OrderedLog();
    const registry = new ChannelRegistry({ adapter: log, historyTtl: 30 });
    const kept = registry.channel('news');
    const leaveFirst = subscriber(registry, 'news');
    await waitFor('subscribed', () => log.calls.length === 1);
    leaveFirst();
    await waitFor('dropped', () => !registry.has('news'));
    expect(log.calls).toEqual(['subscribe news', 'unsubscribe news started']);

    const leaveSecond = kept.subscribe(new SseEmitter()); // brings the channel back while the old unsubscription is still in flight
    expect(registry.has('news')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(log.calls).toEqual(['subscribe news', 'unsubscribe news started']);
    log.settleUnsubscribes();
    await waitFor('subscribed again', () => log.calls.length === 4);
    expect(log.calls).toEqual([
      'subscribe news',
      'unsubscribe news started',
      'unsubscribe news done',
      'subscribe news',
    ]);
    leaveSecond();
    await waitFor('unsubscribing', () => log.calls.length === 5);
    log.settleUnsubscribes();
    await registry.close();
  });
});
