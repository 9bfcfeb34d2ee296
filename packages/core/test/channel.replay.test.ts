import { ResumingClient, sequence, waitFor } from '@tidings/testkit';
import { ChannelRegistry, event, type SseEmitter } from '../src/index';
import { type ChannelRoute, testBed } from './support/channel-server';

const bed = testBed();
const open = bed.open;
afterEach(() => bed.cleanup());

async function start(registry: ChannelRegistry, route?: ChannelRoute): Promise<string> {
  return (await bed.serve(registry, route)).base;
}

/** Broadcasts the numbers from..to as data; resolves to their ids. */
async function broadcastRange(registry: ChannelRegistry, channel: string, from: number, to: number) {
  const ids: Array<string | undefined> = [];
  for (let n = from; n <= to; n++) ids.push(await registry.broadcast(channel, String(n)));
  return ids;
}

describe('Last-Event-ID replay', () => {
  it('replays what the client missed, from the Last-Event-ID header or the lastEventId query, then goes live', async () => {
    const registry = new ChannelRegistry();
    const base = await start(registry);
    const ids = await broadcastRange(registry, 'news', 1, 5);

    const byHeader = open(`${base}/news`, ids[1]);
    const byQuery = open(`${base}/news?lastEventId=${encodeURIComponent(ids[2]!)}`);
    const fresh = open(`${base}/news`);
    await waitFor('3 subscribers', () => registry.channel('news').size === 3);
    await broadcastRange(registry, 'news', 6, 6);

    await waitFor('deliveries', () => byHeader.events.length === 4 && byQuery.events.length === 3);
    await waitFor('live', () => fresh.events.length === 1);
    expect(byHeader.data).toEqual(['3', '4', '5', '6']);
    expect(byHeader.ids.slice(0, 3)).toEqual(ids.slice(2));
    expect(byQuery.data).toEqual(['4', '5', '6']);
    expect(fresh.data).toEqual(['6']); // a new client starts live
  });

  it('resumes after ids that look like numbers by position ("12" after "9"), never by comparing them', async () => {
    const registry = new ChannelRegistry();
    const base = await start(registry);
    for (let n = 1; n <= 12; n++) await registry.broadcast('c', event({ id: String(n), data: `e${n}` }));
    const client = open(`${base}/c`, '9');
    await waitFor('replay', () => client.events.length === 3);
    expect(client.data).toEqual(['e10', 'e11', 'e12']);
  });

  it('calls onGap for an unknown or evicted id (and with history off), replays nothing and sends live', async () => {
    const gaps: Array<[string, string]> = [];
    const onGap = (channel: string, lastEventId: string, em: SseEmitter) => {
      gaps.push([channel, lastEventId]);
      void em.send(event({ event: 'snapshot', data: 'reload' }));
    };
    const registry = new ChannelRegistry({ history: 3, onGap });
    const base = await start(registry);
    const ids = await broadcastRange(registry, 'small', 1, 5); // 1 and 2 evicted

    const unknown = open(`${base}/small`, 'no-such-id');
    const evicted = open(`${base}/small`, ids[0]);
    const kept = open(`${base}/small`, ids[2]);
    await waitFor('3 subscribers', () => registry.channel('small').size === 3);
    await registry.broadcast('small', 'live');
    await waitFor('deliveries', () => unknown.events.length === 2 && evicted.events.length === 2);
    await waitFor('kept', () => kept.events.length === 3);
    for (const client of [unknown, evicted]) {
      expect(client.dispatched.map((e) => `${e.event}:${e.data}`)).toEqual(['snapshot:reload', 'message:live']);
    }
    expect(kept.data).toEqual(['4', '5', 'live']);
    expect(gaps.sort()).toEqual([
      ['small', ids[0]!],
      ['small', 'no-such-id'],
    ]);

    const off = new ChannelRegistry({ history: 0, onGap });
    const offBase = await start(off);
    await off.broadcast('o', 'before');
    const resumed = open(`${offBase}/o`, 'anything');
    await waitFor('subscriber', () => off.channel('o').size === 1);
    await off.broadcast('o', 'after');
    await waitFor('live', () => resumed.events.length === 2);
    expect(resumed.data).toEqual(['reload', 'after']);
    expect(resumed.ids).toEqual([undefined, undefined]); // history off: no generated ids
    expect(gaps).toContainEqual(['o', 'anything']);
  });

  it('paces a replay bigger than maxBufferedBytes by the client reading it, instead of closing the client', async () => {
    const registry = new ChannelRegistry({ history: 100 });
    const { base, served } = await bed.serve(registry, { emitter: () => ({ maxBufferedBytes: 256 * 1024 }) });
    const big = 'z'.repeat(128 * 1024);
    const ids = [];
    for (let n = 1; n <= 100; n++) ids.push(await registry.broadcast('big', event({ event: String(n), data: big })));
    // 99 × 128 KiB to replay: far past what the socket and the 256 KiB cap can take at once.
    const client = open(`${base}/big`, ids[0]);
    await waitFor('subscribed', () => served.length === 1);
    const live = await registry.broadcast('big', event({ event: 'live', data: 'small' }));
    await waitFor('replay and live', () => client.events.length === 100);
    expect(client.dispatched.map((e) => e.event)).toEqual([...sequence(99, 2), 'live']);
    expect(client.ids.at(-1)).toBe(live);
    expect(served[0]!.state).toBe('open');
    expect(registry.stats().slowClosed).toBe(0);
  });

  it('replays nothing when subscribed with replay: false', async () => {
    const registry = new ChannelRegistry();
    const base = await start(registry, { subscribe: () => ({ replay: false }) });
    const ids = await broadcastRange(registry, 'r', 1, 3);
    const client = open(`${base}/r`, ids[0]);
    await waitFor('subscriber', () => registry.channel('r').size === 1);
    await broadcastRange(registry, 'r', 4, 4);
    await waitFor('live', () => client.events.length === 1);
    expect(client.data).toEqual(['4']);
  });

  it('seam: during a broadcast storm, clients that keep reconnecting end with the full sequence, no duplicate', async () => {
    const total = 2000;
    const registry = new ChannelRegistry({ history: total });
    const base = await start(registry, { emitter: () => ({ keepAlive: false }) });
    const storm = registry.channel('storm');
    const resuming = Array.from({ length: 20 }, () => new ResumingClient(`${base}/storm`));
    for (const client of resuming) bed.defer(() => client.close());
    await waitFor('20 subscribers', () => storm.size === 20);
    // Every client first learns a position, as a client that was ever connected has one.
    await storm.broadcast('start');
    await waitFor('start', () => resuming.every((c) => c.count === 1));

    for (let n = 1; n <= total; n++) {
      void storm.broadcast(String(n));
      if (n % 25 === 0) {
        // Let sockets move, and drop a few clients mid-stream: their in-flight bytes are lost.
        resuming[(n / 25) % resuming.length]!.reconnect();
        if (n % 100 === 0) resuming[(n / 100 + 7) % resuming.length]!.reconnect();
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    await waitFor('every sequence complete', () => resuming.every((c) => c.count >= total + 1));
    for (const client of resuming) {
      expect(client.connections).toBeGreaterThan(1);
      expect(client.dispatched.map((e) => e.data)).toEqual(['start', ...sequence(total)]);
    }
  });
});
