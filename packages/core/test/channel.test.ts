import { type SseTestClient, sequence, startServer, waitFor } from '@tidings/testkit';
import { ChannelRegistry, event, SseEmitter } from '../src/index';
import { testBed } from './support/channel-server';

const bed = testBed();
const open = bed.open;
const start = bed.serve;
afterEach(() => bed.cleanup());

/** A fresh registry and server, with one client subscribed to `name`. */
async function oneSubscriber(name: string) {
  const registry = new ChannelRegistry();
  const { base } = await start(registry);
  const ch = registry.channel(name);
  const client = open(`${base}/${name}`);
  await waitFor('subscriber', () => ch.size === 1);
  return { registry, ch, client };
}

describe('Channel subscribe / broadcast', () => {
  it('subscribe returns an unsubscribe function, and a client that leaves is unsubscribed by itself', async () => {
    const registry = new ChannelRegistry();
    const { base, unsubscribes } = await start(registry);
    const news = registry.channel('news');
    const first = open(`${base}/news`);
    await waitFor('first subscriber', () => news.size === 1);
    const second = open(`${base}/news`);
    await waitFor('second subscriber', () => news.size === 2);
    expect(registry.stats().connections).toBe(2);

    await news.broadcast('a');
    unsubscribes[0]!();
    expect(news.size).toBe(1);
    await news.broadcast('b');
    await waitFor('b', () => second.events.length === 2);
    expect(first.data).toEqual(['a']);
    expect(second.data).toEqual(['a', 'b']);

    second.close();
    await waitFor('auto-unsubscribe', () => news.size === 0);
    first.close();
    await waitFor('connections released', () => registry.stats().connections === 0);
  });

  it('broadcast resolves to the id it used: generated and monotonic with history, yours when given', async () => {
    const { registry, ch, client } = await oneSubscriber('ids');

    const generated = [await ch.broadcast('x'), await ch.broadcast(event({ event: 'named', data: 'y' }))];
    const given = await ch.broadcast(event({ id: 7, data: 'z' }));
    const after = await ch.broadcast('w');
    expect(generated[0]).toMatch(/^[0-9a-z]+-1$/);
    expect(generated[1]).toBe(generated[0]!.replace(/-1$/, '-2'));
    expect(given).toBe('7');
    expect(after).toBe(generated[0]!.replace(/-1$/, '-3'));
    await waitFor('4 events', () => client.events.length === 4);
    expect(client.ids).toEqual([generated[0], generated[1], '7', after]);
    expect(client.dispatched[1]).toEqual({ id: generated[1], event: 'named', data: 'y' });

    const noHistory = new ChannelRegistry({ history: 0 }).channel('ids');
    expect(await noHistory.broadcast('x')).toBeUndefined();
    expect(await noHistory.broadcast(event({ id: 'mine', data: 'x' }))).toBe('mine');
    // Numbers are counted across the registry: another channel never gets an id this one had.
    expect(await registry.broadcast('other', 'via registry')).toBe(generated[0]!.replace(/-1$/, '-4'));
  });

  it('filter and except choose who gets a broadcast; a subscriber filter picks events', async () => {
    const registry = new ChannelRegistry();
    const { base, served } = await start(registry, {
      subscribe: (url) => (url.searchParams.has('alerts') ? { filter: (ev) => ev.event === 'alert' } : {}),
    });
    const ch = registry.channel('room');
    const a = open(`${base}/room`);
    await waitFor('a', () => ch.size === 1);
    const b = open(`${base}/room`);
    await waitFor('b', () => ch.size === 2);
    const alertsOnly = open(`${base}/room?alerts`);
    await waitFor('c', () => ch.size === 3);
    const [emA, emB] = served as [SseEmitter, SseEmitter];

    await ch.broadcast('to everyone');
    await ch.broadcast('not to a', { except: emA });
    await ch.broadcast('only b', { filter: (em) => em === emB });
    await registry.broadcast('room', 'b excepted', { except: emB });
    await ch.broadcast(event({ event: 'alert', data: 'fire' }));
    await ch.broadcast(event({ event: 'alert', data: 'not for a' }), { except: emA });

    await waitFor('all deliveries', () => a.events.length + b.events.length + alertsOnly.events.length === 10);
    expect(a.data).toEqual(['to everyone', 'b excepted', 'fire']);
    expect(b.data).toEqual(['to everyone', 'not to a', 'only b', 'fire', 'not for a']);
    expect(alertsOnly.data).toEqual(['fire', 'not for a']);
  });

  it('encodes each broadcast once, whatever the number of subscribers, filters and replays', async () => {
    let serializerCalls = 0;
    const registry = new ChannelRegistry({
      serialize: (value) => {
        serializerCalls++;
        return JSON.stringify(value);
      },
    });
    const { base, served } = await start(registry, {
      subscribe: (url) =>
        url.searchParams.has('odd') ? { filter: (ev) => (ev.data as { n: number }).n % 2 === 1 } : {},
    });
    const ch = registry.channel('fan');
    // Odd-numbered clients keep odd n only. Opened one by one, so served[i] is all[i]'s emitter.
    const all: SseTestClient[] = [];
    for (let i = 0; i < 40; i++) {
      all.push(open(`${base}/fan${i % 2 ? '?odd' : ''}`));
      await waitFor('subscriber', () => ch.size === i + 1);
    }

    let firstId: string | undefined;
    for (let n = 1; n <= 10; n++) {
      // served[0] is left out of n = 3, 6, 9 (except); served[1] out of n = 5, 10 (filter).
      const options =
        n % 3 === 0 ? { except: served[0] } : n % 5 === 0 ? { filter: (em: SseEmitter) => em !== served[1] } : {};
      const id = await ch.broadcast({ n }, options);
      firstId ??= id;
    }
    expect(serializerCalls).toBe(10);

    // A reconnecting client is replayed the same bytes: no encoding either.
    const resumed = open(`${base}/fan`, firstId);
    await waitFor('replay', () => resumed.events.length === 9);
    expect(serializerCalls).toBe(10);

    const numbers = (c: SseTestClient) => c.data.map((d) => (JSON.parse(d) as { n: number }).n);
    const expected = (i: number) =>
      i === 0 ? [1, 2, 4, 5, 7, 8, 10] : i === 1 ? [1, 3, 7, 9] : i % 2 ? [1, 3, 5, 7, 9] : sequence(10).map(Number);
    await waitFor('deliveries', () => all.every((c, i) => c.events.length === expected(i).length));
    all.forEach((c, i) => {
      expect(numbers(c)).toEqual(expected(i));
    });
    expect(numbers(resumed)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('asks a broadcast filter again on replay: a targeted event never reaches another client', async () => {
    const users = new WeakMap<SseEmitter, string>();
    const registry = new ChannelRegistry();
    const { base } = await start(registry, {
      subscribe: (url, em) => {
        users.set(em, url.searchParams.get('user') ?? '');
        return {};
      },
    });
    const ch = registry.channel('inbox');
    const start1 = await ch.broadcast('public 1');
    await ch.broadcast('secret for alice', { filter: (em) => users.get(em) === 'alice' });
    await ch.broadcast('public 2');

    const bob = open(`${base}/inbox?user=bob`, start1);
    const alice = open(`${base}/inbox?user=alice`, start1);
    await waitFor('replays', () => bob.events.length === 1 && alice.events.length === 2);
    expect(bob.data).toEqual(['public 2']);
    expect(alice.data).toEqual(['secret for alice', 'public 2']);
  });

  it('rejects an unserializable broadcast with SSE_ERR_SERIALIZE, sends nothing, and keeps the channel usable', async () => {
    const { ch, client } = await oneSubscriber('c');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(ch.broadcast(circular)).rejects.toMatchObject({ code: 'SSE_ERR_SERIALIZE' });
    await expect(ch.broadcast(10n)).rejects.toMatchObject({ code: 'SSE_ERR_SERIALIZE' });
    const id = await ch.broadcast('fine');
    await waitFor('fine', () => client.events.length === 1);
    expect(client.dispatched).toEqual([{ id, event: 'message', data: 'fine' }]);
    expect(id).toMatch(/-1$/); // failed broadcasts used no id
  });

  it('treats an emitter subscribed twice as one subscriber: each event once, one unsubscribe', async () => {
    const registry = new ChannelRegistry();
    const ch = registry.channel('twice');
    const unsubscribes: Array<() => void> = [];
    const server = await startServer((req, res) => {
      const em = new SseEmitter().attach(req, res);
      unsubscribes.push(ch.subscribe(em), ch.subscribe(em, { filter: () => false }));
    });
    bed.defer(() => server.close());
    const client = open(`${server.url}/twice`);
    await waitFor('subscriber', () => ch.size === 1);
    expect(unsubscribes[0]).toBe(unsubscribes[1]);
    await ch.broadcast('once');
    await waitFor('event', () => client.events.length === 1);
    unsubscribes[0]!();
    expect(ch.size).toBe(0);
    await ch.broadcast('not any more');
    await ch.broadcast(event({ event: 'probe', data: 'x' })); // nothing queued behind: the client got only 'once'
    expect(client.data).toEqual(['once']);
  });

  it('skips a subscriber whose filter throws (a process warning says so); the others get the event', async () => {
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const registry = new ChannelRegistry();
      const { base } = await start(registry, {
        subscribe: (url) =>
          url.searchParams.has('broken')
            ? {
                filter: () => {
                  throw new Error('filter bug');
                },
              }
            : {},
      });
      const ch = registry.channel('f');
      const broken = open(`${base}/f?broken`);
      const fine = open(`${base}/f`);
      await waitFor('2 subscribers', () => ch.size === 2);
      await ch.broadcast('a');
      await ch.broadcast('b', { filter: (em) => em.state === 'open' });
      await waitFor('fine', () => fine.events.length === 2);
      expect(fine.data).toEqual(['a', 'b']);
      expect(broken.dispatched).toEqual([]);
      expect(emitWarning).toHaveBeenCalledWith(
        expect.stringContaining('filter bug'),
        expect.objectContaining({ code: 'SSE_LISTENER_THREW' }),
      );
    } finally {
      emitWarning.mockRestore();
    }
  });

  it('catches up an emitter subscribed before it was attached, once it opens (no loss, no duplicate)', async () => {
    const registry = new ChannelRegistry();
    const ch = registry.channel('early');
    const server = await startServer((req, res) => {
      const em = new SseEmitter();
      ch.subscribe(em); // pending: its Last-Event-ID is not known yet
      void ch.broadcast(`live while pending ${req.headers['last-event-id'] ?? 'fresh'}`);
      setImmediate(() => em.attach(req, res));
    });
    bed.defer(() => server.close());
    const base = server.url;
    const before = await ch.broadcast('before');
    await ch.broadcast('missed');

    const fresh = open(`${base}/early`);
    await waitFor('fresh', () => fresh.events.length === 1);
    const resumed = open(`${base}/early`, before);
    await waitFor('resumed', () => resumed.events.length === 3);
    await ch.broadcast('after');
    await waitFor('after', () => fresh.events.length === 3 && resumed.events.length === 4);
    expect(fresh.data).toEqual(['live while pending fresh', `live while pending ${before}`, 'after']);
    expect(resumed.data).toEqual(['missed', 'live while pending fresh', `live while pending ${before}`, 'after']);
  });
});
