/** redisAdapter() in one process against the shared Redis: the wire format, history's gaps, bounds, close(). */
import { describeWith, SHARED_REDIS_URL } from '@tidings/testkit';
import { Redis } from 'ioredis';
import { channelKey, connectionNames, redisAdapter } from '../src/index';
import { collector } from './support/collector';
import { sharedRedisFixture } from './support/keys';
import { freePort } from './support/redis-server';

describeWith(['redis'], 'redisAdapter (Redis on 127.0.0.1:6379)', () => {
  const { prefix, redis: looker } = sharedRedisFixture(SHARED_REDIS_URL, 'adapter');

  test('every field, the tag included, travels through the stream unchanged; the entry id is the event id', async () => {
    const adapter = redisAdapter({ redis: SHARED_REDIS_URL, prefix });
    const seen = collector();
    await adapter.subscribe('wire', seen.onEvent);
    const full = { event: 'update', data: 'line 1\nline 2\r\n', retry: 0, comment: 'note', tag: 'node-1:7' };
    const fullId = await adapter.publish('wire', full);
    const emptyId = await adapter.publish('wire', {});
    await seen.next(2);
    expect(seen.events).toEqual([{ id: fullId, ...full }, { id: emptyId }]);
    expect(await adapter.history('wire', undefined)).toEqual(seen.events);
    await adapter.close();
  });

  test('history: what follows a held id; a gap (undefined) for an unknown, malformed or trimmed-away id', async () => {
    const adapter = redisAdapter({ redis: SHARED_REDIS_URL, prefix, maxLen: 10 });
    const ids: string[] = [];
    for (let i = 0; i < 300; i++) ids.push(await adapter.publish('trim', { data: String(i) }));
    const held = await looker().xrange(channelKey(prefix, 'trim'), '-', '+');
    // MAXLEN ~ trims whole stream nodes: the first ids are gone, the last 10 at least are kept.
    expect(held.length).toBeGreaterThanOrEqual(10);
    expect(held.length).toBeLessThan(300);
    const firstHeld = held[0]![0];
    const after = await adapter.history('trim', firstHeld);
    expect(after?.map((ev) => ev.id)).toEqual(held.slice(1).map(([id]) => id));
    expect(await adapter.history('trim', ids.at(-1))).toEqual([]);
    expect(await adapter.history('trim', ids[0])).toBeUndefined();
    const [ms, seq] = ids.at(-1)!.split('-');
    for (const unknown of [
      `${ms}-${Number(seq) + 1}`,
      '1-0',
      `${ms}`,
      `0${ids.at(-1)}`,
      'abc',
      '',
      '99999999999999999999-0',
    ]) {
      expect(await adapter.history('trim', unknown)).toBeUndefined();
    }
    expect(await adapter.history('never-written', '1-0')).toBeUndefined();
    expect(await adapter.history('never-written', undefined)).toEqual([]);
    await adapter.close();
  });

  test('a channel subscribed while another is being read gets its events at once, whatever blockMs', async () => {
    // blockMs longer than jest's timeout: the liveness check never fires here; delivery must not wait on it.
    const adapter = redisAdapter({ redis: SHARED_REDIS_URL, prefix, blockMs: 600_000 });
    const first = collector();
    await adapter.subscribe('blocked-1', first.onEvent);
    await adapter.publish('blocked-1', { data: 'a' });
    await first.next(1);
    for (let i = 0; i < 5; i++) {
      const later = collector();
      await adapter.subscribe(`blocked-later-${i}`, later.onEvent);
      const id = await adapter.publish(`blocked-later-${i}`, { data: 'b' });
      await later.next(1);
      expect(later.events[0]?.id).toBe(id);
    }
    await adapter.close();
  });

  test('unsubscribe then subscribe again at once: only the new subscription gets later events, once each', async () => {
    const adapter = redisAdapter({ redis: SHARED_REDIS_URL, prefix });
    const first = collector();
    const second = collector();
    const firstSubscribed = adapter.subscribe('again', first.onEvent);
    await adapter.unsubscribe('again');
    await Promise.all([firstSubscribed, adapter.subscribe('again', second.onEvent)]);
    const id = await adapter.publish('again', { data: 'x' });
    const id2 = await adapter.publish('again', { data: 'y' });
    await second.next(2);
    expect(second.events.map((ev) => ev.id)).toEqual([id, id2]);
    expect(first.events).toEqual([]);
    await adapter.close();
  });

  test('with Redis unreachable, publish, subscribe and history reject with SSE_ERR_ADAPTER_UNAVAILABLE (bounded), and close() ends it all', async () => {
    const errors: Error[] = [];
    const adapter = redisAdapter({
      redis: `redis://127.0.0.1:${await freePort()}`,
      prefix,
      timeout: 200,
      onError: (err) => errors.push(err),
    });
    const unavailable = { code: 'SSE_ERR_ADAPTER_UNAVAILABLE' };
    await expect(adapter.publish('down', { data: 'x' })).rejects.toMatchObject(unavailable);
    await expect(adapter.subscribe('down', () => {})).rejects.toMatchObject(unavailable);
    await expect(adapter.history('down', undefined)).rejects.toMatchObject(unavailable);
    expect(errors.length).toBeGreaterThan(0); // connection errors reached onError instead of crashing
    const pending = adapter.publish('down', { data: 'y' });
    await adapter.close();
    await expect(pending).rejects.toMatchObject(unavailable);
    await expect(adapter.publish('down', { data: 'z' })).rejects.toMatchObject(unavailable);
  });

  test("close() closes the adapter's own connections, never the client it was given", async () => {
    const client = new Redis(SHARED_REDIS_URL);
    const adapter = redisAdapter({ redis: client, prefix });
    await adapter.subscribe('mine', () => {});
    const readerName = connectionNames(prefix).reader;
    const names = async (): Promise<string> => (await looker().client('LIST')) as string;
    expect(await names()).toContain(`name=${readerName} `);
    await adapter.close();
    await adapter.close(); // idempotent
    // Redis notices a closed connection on its next turn: look until it is gone (or give up and fail).
    for (let i = 0; i < 50 && (await names()).includes(`name=${readerName} `); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await names()).not.toContain(`name=${readerName} `);
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });

  test('options that cannot work throw SSE_ERR_INVALID_OPTION', () => {
    const invalid = expect.objectContaining({ code: 'SSE_ERR_INVALID_OPTION' });
    const bounds = [
      { maxLen: 0 },
      { ttl: 0 },
      { ttl: 1.5 },
      { timeout: -1 },
      { blockMs: 1.5 },
      { readCount: Number.NaN },
    ];
    for (const bad of [...bounds, { prefix: '' }]) {
      expect(() => redisAdapter({ redis: SHARED_REDIS_URL, ...bad })).toThrow(invalid);
    }
    // Neither a client, a URL nor a non-empty list of redis:// seed URLs.
    for (const redis of [42, [], ['http://127.0.0.1:7000'], [SHARED_REDIS_URL, 7001], null]) {
      expect(() => redisAdapter({ redis: redis as unknown as string })).toThrow(invalid);
    }
  });
});
