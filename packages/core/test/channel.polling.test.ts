import { sequence, waitFor } from '@tidings/testkit';
import { longPollBursts } from '@tidings/testkit/channel-scenarios';
import { EventSource } from 'eventsource';
import { ChannelRegistry, type SseEmitter } from '../src/index';
import { type ChannelRoute, testBed } from './support/channel-server';

const bed = testBed();
const open = bed.open;
const start = bed.serve;
afterEach(() => bed.cleanup());

/** Long-poll route: `?timeout=` sets the emitter timeout. */
const longPoll: ChannelRoute = {
  emitter: (url) => ({ mode: 'long-poll', timeout: Number(url.searchParams.get('timeout') ?? 0) }),
};

/** Answers a short poll the way a JSON-only client asks for it. */
async function poll(
  url: string,
): Promise<{ events: Array<{ id?: string; event: string; data: string }>; lastEventId: string | null }> {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return (await res.json()) as Awaited<ReturnType<typeof poll>>;
}

describe('long-poll mode', () => {
  it('ends the response once the replayed events are flushed; the next request continues exactly', async () => {
    const registry = new ChannelRegistry();
    const { base } = await start(registry, longPoll);
    const ids = await Promise.all(sequence(5).map((n) => registry.broadcast('lp', n)));

    const first = open(`${base}/lp`, ids[0]);
    await first.ended;
    expect(first.data).toEqual(['2', '3', '4', '5']);
    expect(first.retries).toEqual([0]); // reconnect at once

    await registry.broadcast('lp', '6');
    const second = open(`${base}/lp`, first.lastEventId);
    await second.ended;
    expect(second.data).toEqual(['6']);
    expect(registry.channel('lp').size).toBe(0);
  });

  it('holds a request with nothing pending until an event arrives, then ends; or until the timeout, empty', async () => {
    const registry = new ChannelRegistry();
    const { base } = await start(registry, longPoll);
    const waiting = open(`${base}/lp`);
    await waitFor('subscriber', () => registry.channel('lp').size === 1);
    await registry.broadcast('lp', 'news');
    await waiting.ended;
    expect(waiting.data).toEqual(['news']);

    const idle = open(`${base}/lp?timeout=50`, waiting.lastEventId);
    await idle.ended;
    expect(idle.status).toBe(200);
    expect(idle.dispatched).toEqual([]);
    expect(registry.stats().connections).toBe(0);
  });

  it('delivers 100 events exactly once, in order, to the eventsource client reconnecting over long-poll', async () => {
    const registry = new ChannelRegistry();
    const { base, served } = await start(registry, longPoll);
    const received: string[] = [];
    const es = new EventSource(`${base}/lp`);
    bed.defer(() => es.close());
    es.onmessage = (e) => received.push(e.data as string);
    await waitFor('first subscriber', () => registry.channel('lp').size === 1);

    await longPollBursts(
      (data) => registry.broadcast('lp', data),
      () => received.length,
    );
    await waitFor('100 events', () => received.length >= 100);
    es.close();
    expect(received).toEqual(sequence(100));
    expect(served.length).toBeGreaterThanOrEqual(5); // it really polled: many short responses
  });
});

describe('short polling (JSON clients)', () => {
  it('answers { events, lastEventId } from history at once, through the same subscribe call', async () => {
    const gaps: string[] = [];
    const registry = new ChannelRegistry({ history: 3, onGap: (_channel, id) => gaps.push(id) });
    const { base, served } = await start(registry);
    const ids = await Promise.all(sequence(5).map((n) => registry.broadcast('sp', n)));

    const everything = await poll(`${base}/sp`);
    expect(everything).toEqual({
      events: ids.slice(2).map((id, i) => ({ id, event: 'message', data: String(i + 3) })),
      lastEventId: ids[4],
    });
    expect((served[0] as SseEmitter).mode).toBe('short-poll');

    const after = await poll(`${base}/sp?lastEventId=${encodeURIComponent(ids[3]!)}`);
    expect(after).toEqual({ events: [{ id: ids[4], event: 'message', data: '5' }], lastEventId: ids[4] });

    const nothingNew = await poll(`${base}/sp?lastEventId=${encodeURIComponent(ids[4]!)}`);
    expect(nothingNew).toEqual({ events: [], lastEventId: ids[4] });

    // An id the history no longer holds: onGap, and lastEventId null (not the unknown id echoed), so the
    // client's next poll without an id gets what the history has.
    const evicted = await poll(`${base}/sp?lastEventId=${encodeURIComponent(ids[0]!)}`);
    expect(evicted).toEqual({ events: [], lastEventId: null });
    expect(gaps).toEqual([ids[0]]);
    expect(registry.channel('sp').size).toBe(0);
    expect(registry.stats().connections).toBe(0);
  });

  it('with history off, answers no events and lastEventId null', async () => {
    const registry = new ChannelRegistry({ history: 0 });
    const { base } = await start(registry);
    await registry.broadcast('sp', 'gone');
    expect(await poll(`${base}/sp`)).toEqual({ events: [], lastEventId: null });
    expect(await poll(`${base}/sp?lastEventId=x`)).toEqual({ events: [], lastEventId: null });
  });
});
