import { sequence, waitFor } from '@tidings/testkit';
import {
  type BroadcastAdapter,
  ChannelRegistry,
  type ChannelRegistryOptions,
  event,
  type StoredEvent,
  type WireEvent,
} from '../src/index';
import { testBed } from './support/channel-server';

/**
 * An in-process stand-in for a shared log (what @tidings/redis provides): ids from the log, delivery a turn
 * later (as from a network), and a history read that can be made slow to widen the replay seam.
 */
class FakeLog implements BroadcastAdapter {
  readonly entries = new Map<string, StoredEvent[]>();
  readonly listeners = new Map<string, (event: StoredEvent) => void>();
  readonly calls: string[] = [];
  historyDelayMs = 0;
  /** How long an event takes to come back to subscribers (0: the next turn of the event loop). */
  liveDelayMs = 0;
  failSubscribe = 0;
  #next = 0;

  async publish(channel: string, event: WireEvent): Promise<string> {
    this.calls.push(`publish ${channel}`);
    const stored: StoredEvent = { ...event, id: `0-${++this.#next}` };
    const log = this.entries.get(channel) ?? [];
    log.push(stored);
    this.entries.set(channel, log);
    const deliver = () => this.listeners.get(channel)?.(stored);
    if (this.liveDelayMs > 0) setTimeout(deliver, this.liveDelayMs);
    else setImmediate(deliver);
    return stored.id;
  }

  async subscribe(channel: string, onEvent: (event: StoredEvent) => void): Promise<void> {
    this.calls.push(`subscribe ${channel}`);
    if (this.failSubscribe > 0) {
      this.failSubscribe--;
      throw new Error('log unreachable');
    }
    this.listeners.set(channel, onEvent);
  }

  async unsubscribe(channel: string): Promise<void> {
    this.calls.push(`unsubscribe ${channel}`);
    this.listeners.delete(channel);
  }

  async history(channel: string, afterId: string | undefined): Promise<StoredEvent[] | undefined> {
    this.calls.push(`history ${channel}`);
    if (this.historyDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.historyDelayMs));
    const log = this.entries.get(channel) ?? [];
    if (afterId === undefined) return [...log];
    const at = log.findIndex((e) => e.id === afterId);
    return at === -1 ? undefined : log.slice(at + 1);
  }

  async close(): Promise<void> {
    this.calls.push('close');
  }
}

const bed = testBed();
afterEach(() => bed.cleanup());

async function start(options: Omit<ChannelRegistryOptions, 'adapter'> = {}) {
  const log = new FakeLog();
  const registry = new ChannelRegistry({ ...options, adapter: log });
  const { base, served } = await bed.serve(registry);
  const open = (path: string, lastEventId?: string) => bed.open(`${base}${path}`, lastEventId);
  return { log, registry, open, served, base };
}

describe('Channel with a BroadcastAdapter', () => {
  it('publishes once (data serialized once), delivers when the log hands the event back, resolves to the log id', async () => {
    let serializerCalls = 0;
    const { log, registry, open } = await start({
      serialize: (v) => {
        serializerCalls++;
        return JSON.stringify(v);
      },
    });
    const a = open('/news');
    const b = open('/news');
    await waitFor('2 subscribers', () => registry.channel('news').size === 2);
    await waitFor('adapter subscribed', () => log.listeners.has('news'));
    const id = await registry.broadcast('news', { n: 1 });
    expect(id).toBe('0-1');
    expect(serializerCalls).toBe(1);
    await waitFor('delivered', () => a.events.length === 1 && b.events.length === 1);
    expect(a.dispatched).toEqual([{ id: '0-1', event: 'message', data: '{"n":1}' }]);
    expect(log.calls.filter((c) => c.startsWith('subscribe'))).toHaveLength(1); // one per channel, not per client
  });

  it('applies except on the publishing node, and refuses a broadcast filter (it cannot travel)', async () => {
    const { registry, open, served } = await start();
    const a = open('/room');
    await waitFor('a', () => registry.channel('room').size === 1);
    const b = open('/room');
    await waitFor('b', () => registry.channel('room').size === 2);
    await registry.broadcast('room', 'not to a', { except: served[0] });
    await registry.broadcast('room', 'to all');
    await waitFor('delivered', () => a.events.length === 1 && b.events.length === 2);
    expect(a.data).toEqual(['to all']);
    expect(b.data).toEqual(['not to a', 'to all']);
    expect(() => registry.channel('room').broadcast('x', { filter: () => true })).toThrow(
      expect.objectContaining({ code: 'SSE_ERR_INVALID_OPTION' }),
    );
  });

  it('seam: replay from a slow log read plus live events meanwhile gives every event once, in order', async () => {
    const { log, registry, open } = await start();
    const watcher = open('/s'); // keeps the channel subscribed at the log
    await waitFor('watcher', () => log.listeners.has('s'));
    const ids = [];
    for (const n of sequence(10)) ids.push(await registry.broadcast('s', n));
    log.historyDelayMs = 30;
    log.liveDelayMs = 5; // the log read runs ahead of the live feed: some events reach the replay first
    const resumed = open('/s', ids[4]);
    await waitFor('resumed subscriber', () => registry.channel('s').size === 2);
    // These land while the replay is being read: some are in the read, some after it.
    for (const n of sequence(20, 11)) {
      await registry.broadcast('s', n);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    await waitFor('resumed complete', () => resumed.events.length >= 25 && watcher.events.length === 30);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(resumed.data).toEqual(sequence(25, 6));
    expect(watcher.data).toEqual(sequence(30));
  });

  it('reports an id the log does not hold through onGap, and answers short polls from the log alone', async () => {
    const gaps: string[] = [];
    const { log, registry, open, base } = await start({ onGap: (_c, id) => gaps.push(id) });
    for (const n of sequence(3)) await registry.broadcast('g', event({ event: 'n', data: n }));
    const lost = open('/g', 'gone');
    await waitFor('gap', () => gaps.length === 1);
    expect(gaps).toEqual(['gone']);

    const before = log.calls.filter((c) => c.startsWith('subscribe')).length;
    const res = await fetch(`${base}/g?lastEventId=0-1`, { headers: { accept: 'application/json' } });
    expect(await res.json()).toEqual({
      events: [
        { id: '0-2', event: 'n', data: '2' },
        { id: '0-3', event: 'n', data: '3' },
      ],
      lastEventId: '0-3',
    });
    expect(log.calls.filter((c) => c.startsWith('subscribe')).length).toBe(before);
    lost.close();
  });

  it('ends a stream whose log subscription failed, retries for the next one, and unsubscribes when the last leaves', async () => {
    const { log, registry, open } = await start();
    log.failSubscribe = 1;
    const first = open('/f');
    await first.ended;
    const second = open('/f');
    await waitFor('subscribed', () => log.listeners.has('f'));
    await registry.broadcast('f', 'ok');
    await waitFor('delivered', () => second.events.length === 1);
    second.close();
    await waitFor('unsubscribed', () => !log.listeners.has('f'));
    expect(log.calls.filter((c) => c !== 'publish f')).toEqual(['subscribe f', 'subscribe f', 'unsubscribe f']);
    await registry.close();
    expect(log.calls.at(-1)).toBe('close');
  });
});
