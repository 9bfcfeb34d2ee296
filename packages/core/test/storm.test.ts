import { connect, type SseTestClient, sequence, startServer, waitFor } from '@tidings/testkit';
import type { StoredEvent, WireEvent } from '../src/adapter';
import { History } from '../src/history';
import { ChannelRegistry, SseEmitter } from '../src/index';
import { AdapterLog } from '../src/log-adapter';

describe('reconnect storm', () => {
  it('2,000 streams reconnect at once with their Last-Event-ID: each gets what it missed exactly once, one history lookup', async () => {
    const count = 2_000;
    const registry = new ChannelRegistry();
    const server = await startServer((req, res) => {
      registry.channel('storm').subscribe(new SseEmitter({ keepAlive: false }).attach(req, res));
    });
    const clients: SseTestClient[] = [];
    const lookups = jest.spyOn(History.prototype, 'after');
    try {
      for (let n = 0; n < count; n++) clients.push(connect(`${server.url}/storm`));
      await waitFor('every subscriber', () => registry.channel('storm').size === count, { timeoutMs: 60_000 });
      await registry.broadcast('storm', 'position');
      await waitFor('every position', () => clients.every((c) => c.events.length === 1), { timeoutMs: 60_000 });
      for (const client of clients) client.close();
      await waitFor('every client gone', () => registry.channel('storm').size === 0, { timeoutMs: 60_000 });

      for (const n of sequence(20)) await registry.broadcast('storm', n);
      lookups.mockClear();
      const resumed = clients.map((client) => connect(`${server.url}/storm`, { lastEventId: client.lastEventId }));
      clients.push(...resumed);
      await waitFor('every client caught up', () => resumed.every((c) => c.events.length >= 20), { timeoutMs: 60_000 });
      await registry.broadcast('storm', 'live');
      await waitFor('live', () => resumed.every((c) => c.events.length >= 21), { timeoutMs: 60_000 });
      const expected = [...sequence(20), 'live'].join('\n');
      expect(resumed.filter((c) => c.data.join('\n') !== expected)).toHaveLength(0);
      // Every client resumed from the same position: the history was looked up once for all of them.
      expect(lookups).toHaveBeenCalledTimes(1);
      expect(registry.stats().slowClosed).toBe(0);
    } finally {
      lookups.mockRestore();
      for (const client of clients) client.close();
      await registry.close();
      await server.close();
    }
  });

  it('AdapterLog shares one adapter.history read per position while it is in flight', async () => {
    const calls: Array<string | undefined> = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const adapter = {
      publish: async (_c: string, _e: WireEvent) => '0-1',
      subscribe: async () => {},
      unsubscribe: async () => {},
      history: async (_c: string, afterId: string | undefined): Promise<StoredEvent[]> => {
        calls.push(afterId);
        await gate;
        return [{ id: '0-2', data: 'missed' }];
      },
      close: async () => {},
    };
    const log = new AdapterLog(adapter, 'c', undefined, 'tag', () => {}, undefined);
    const reads = [...Array.from({ length: 100 }, () => log.read('0-1')), log.read('0-0'), log.read('0-0')];
    expect(calls).toEqual(['0-1', '0-0']);
    release();
    const results = await Promise.all(reads);
    expect(results.every((entries) => entries?.[0]?.prepared.data === 'missed')).toBe(true);
    await log.read('0-1'); // settled reads are not kept: a later reader reads again
    expect(calls).toEqual(['0-1', '0-0', '0-1']);
  });
});
