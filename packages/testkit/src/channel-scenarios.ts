/**
 * Channel scenarios every framework adapter must pass over real sockets, written once. A framework test only
 * provides a {@link ChannelAppFactory}: an app whose `GET /<channel>` route opens a stream with the framework's
 * own API, applies {@link routeOptions} and subscribes it to the registry's channel.
 */

import type { Socket } from 'node:net';
import {
  type ChannelRegistry,
  type ChannelRegistryOptions,
  event,
  ChannelRegistry as Registry,
  type SseEmitter,
  type SseEmitterOptions,
  type SubscribeOptions,
} from '@tidings/core';
import { EventSource } from 'eventsource';
import { type AppScope, withinApp } from './app-scope';
import { connectNeverReading } from './raw-socket';
import { ResumingClient } from './resuming-client';
import type { SseTestClient } from './sse-client';
import { sequence, waitFor } from './wait';

/** A running framework app serving `GET /<channel>` (see {@link routeOptions}). */
export interface ChannelApp {
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** The emitters the route opened, in arrival order. */
  served: SseEmitter[];
  /**
   * The server side of each connection of `GET /-/several?c=a,b` (a stream on channels a and b, opened with
   * `res.sseChannels()` / `reply.sseChannels()`), in arrival order: a scenario destroys one to cut a stream.
   */
  severalSockets: Socket[];
  /**
   * The framework's own shutdown (Express: middleware `close()` then `server.close()`; Fastify: `app.close()`).
   * Idempotent: a scenario may call it before the runner does.
   */
  close(): Promise<void>;
}

/** Starts an app for `registry` (given to the adapter as its `registry` option). */
export type ChannelAppFactory = (registry: ChannelRegistry) => Promise<ChannelApp>;

/**
 * What the route does with the request's query: `mode` and `timeout` (ms) and `maxBufferedBytes` become emitter
 * options; `only=<event name>` becomes a subscriber filter on the event name.
 */
export function routeOptions(query: URLSearchParams): { emitter: SseEmitterOptions; subscribe: SubscribeOptions } {
  const emitter: SseEmitterOptions = { keepAlive: false };
  const mode = query.get('mode');
  if (mode === 'long-poll') emitter.mode = mode;
  if (query.has('timeout')) emitter.timeout = Number(query.get('timeout'));
  if (query.has('maxBufferedBytes')) emitter.maxBufferedBytes = Number(query.get('maxBufferedBytes'));
  const only = query.get('only');
  return { emitter, subscribe: only === null ? {} : { filter: (ev) => ev.event === only } };
}

/** One scenario run: a fresh registry and app, clients closed and the app shut down afterwards. */
async function withApp(
  factory: ChannelAppFactory,
  options: ChannelRegistryOptions,
  body: (ctx: AppScope<ChannelApp>) => Promise<void>,
): Promise<void> {
  const registry = new Registry(options);
  return withinApp(registry, await factory(registry), body);
}

/** Opens `count` more clients on `channel` and waits until the channel holds them all. */
async function crowd(
  ctx: { registry: ChannelRegistry; open(path: string): SseTestClient },
  channel: string,
  count: number,
  query = '',
): Promise<SseTestClient[]> {
  const expected = ctx.registry.channel(channel).size + count;
  const clients = Array.from({ length: count }, () => ctx.open(`/${channel}${query}`));
  await waitFor(`${expected} subscribers`, () => ctx.registry.channel(channel).size === expected);
  return clients;
}

/** 500 clients on one channel get 1,000 broadcasts exactly once, in order, with the ids broadcast resolved to. */
export function fanOut(factory: ChannelAppFactory): Promise<void> {
  return withApp(factory, {}, async (ctx) => {
    const clients = await crowd(ctx, 'fan', 500);
    const payload = 'x'.repeat(90);
    const ids: Array<string | undefined> = [];
    for (let n = 1; n <= 1000; n++) {
      ids.push(await ctx.registry.broadcast('fan', `${n} ${payload}`));
      if (n % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await waitFor('1,000 events at every client', () => clients.every((c) => c.events.length >= 1000), {
      timeoutMs: 60_000,
    });
    const expected = sequence(1000).map((n) => `${n} ${payload}`);
    // Compared as one string per client (a deep equality of 500 × 1,000 strings costs seconds); the first
    // client that differs, if any, is then compared field by field for a readable diff.
    const [expectedData, expectedIds] = [expected.join('\n'), ids.join('\n')];
    const wrong = clients.filter((c) => c.data.join('\n') !== expectedData || c.ids.join('\n') !== expectedIds);
    expect({ data: wrong[0]?.data, ids: wrong[0]?.ids }).toEqual(wrong.length === 0 ? {} : { data: expected, ids });
    expect(wrong).toHaveLength(0);
    expect(ctx.registry.stats()).toMatchObject({ connections: 500, eventsSent: 500_000, slowClosed: 0 });
  });
}

/** Broadcast `filter` / `except` and subscriber filters choose who gets what. */
export function filtersAndExcept(factory: ChannelAppFactory): Promise<void> {
  return withApp(factory, {}, async (ctx) => {
    const [a] = await crowd(ctx, 'room', 1);
    const [b] = await crowd(ctx, 'room', 1);
    const [alerts] = await crowd(ctx, 'room', 1, '?only=alert');
    const [emA, emB] = ctx.app.served as [SseEmitter, SseEmitter];
    const room = ctx.registry.channel('room');
    await room.broadcast('all');
    await room.broadcast('not a', { except: emA });
    await room.broadcast('only b', { filter: (em) => em === emB });
    await room.broadcast(event({ event: 'alert', data: 'fire' }), { except: emB });
    await waitFor('deliveries', () => a!.events.length + b!.events.length + alerts!.events.length === 6);
    expect(a!.data).toEqual(['all', 'fire']);
    expect(b!.data).toEqual(['all', 'not a', 'only b']);
    expect(alerts!.data).toEqual(['fire']);
  });
}

/** A reconnecting client gets what it missed, from the `Last-Event-ID` header or the `lastEventId` query. */
export function replayAfterReconnect(factory: ChannelAppFactory): Promise<void> {
  return withApp(factory, {}, async (ctx) => {
    const [first] = await crowd(ctx, 'news', 1);
    for (const n of sequence(3)) await ctx.registry.broadcast('news', n);
    await waitFor('3 events', () => first!.events.length === 3);
    first!.close();
    await waitFor('left', () => ctx.registry.channel('news').size === 0);
    for (const n of sequence(3, 4)) await ctx.registry.broadcast('news', n);

    const byHeader = ctx.open('/news', first!.lastEventId);
    const byQuery = ctx.open(`/news?lastEventId=${encodeURIComponent(first!.ids[1]!)}`);
    await waitFor('2 subscribers', () => ctx.registry.channel('news').size === 2);
    await ctx.registry.broadcast('news', '7');
    await waitFor('replays', () => byHeader.events.length === 4 && byQuery.events.length === 5);
    expect(byHeader.data).toEqual(['4', '5', '6', '7']);
    expect(byQuery.data).toEqual(['3', '4', '5', '6', '7']);
  });
}

/** A broadcast storm while clients keep reconnecting: every client ends with the full sequence, no duplicate. */
export function seamStorm(factory: ChannelAppFactory): Promise<void> {
  const total = 2000;
  return withApp(factory, { history: total }, async (ctx) => {
    const clients = Array.from({ length: 20 }, () => new ResumingClient(`${ctx.app.base}/storm`));
    try {
      await waitFor('20 subscribers', () => ctx.registry.channel('storm').size === 20);
      await ctx.registry.broadcast('storm', 'start'); // every client learns a position first
      await waitFor('start', () => clients.every((c) => c.count === 1));
      for (let n = 1; n <= total; n++) {
        void ctx.registry.broadcast('storm', String(n));
        if (n % 25 === 0) {
          clients[(n / 25) % clients.length]!.reconnect();
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      await waitFor('every sequence complete', () => clients.every((c) => c.count >= total + 1));
      for (const client of clients) {
        expect(client.connections).toBeGreaterThan(1);
        expect(client.dispatched.map((e) => e.data)).toEqual(['start', ...sequence(total)]);
      }
    } finally {
      for (const client of clients) client.close();
    }
  });
}

/** An id the history never held calls onGap (which may send a snapshot); nothing is replayed; live follows. */
export function unknownIdCallsOnGap(factory: ChannelAppFactory): Promise<void> {
  const gaps: Array<[string, string]> = [];
  const onGap = (channel: string, lastEventId: string, em: SseEmitter) => {
    gaps.push([channel, lastEventId]);
    void em.send(event({ event: 'snapshot', data: 'full state' }));
  };
  return withApp(factory, { onGap }, async (ctx) => {
    for (const n of sequence(3)) await ctx.registry.broadcast('g', n);
    const lost = ctx.open('/g', 'not-an-id-we-gave');
    await waitFor('subscriber', () => ctx.registry.channel('g').size === 1);
    await ctx.registry.broadcast('g', 'live');
    await waitFor('snapshot and live', () => lost.events.length === 2);
    expect(lost.dispatched.map((e) => `${e.event}:${e.data}`)).toEqual(['snapshot:full state', 'message:live']);
    expect(gaps).toEqual([['g', 'not-an-id-we-gave']]);
  });
}

/**
 * historyTtl over real sockets: a channel nobody follows is dropped with its history once the ttl passed; a client
 * resuming from one of its ids then gets onGap (nothing replayed), and live events follow with ids never seen before.
 */
export function ttlDropAndRevival(factory: ChannelAppFactory): Promise<void> {
  const gaps: Array<[string, string]> = [];
  const onGap = (channel: string, lastEventId: string) => gaps.push([channel, lastEventId]);
  return withApp(factory, { historyTtl: 50, onGap }, async (ctx) => {
    const first = ctx.open('/short-lived');
    await waitFor(
      'subscriber',
      () => ctx.registry.has('short-lived') && ctx.registry.channel('short-lived').size === 1,
    );
    const before = [];
    for (const n of sequence(3)) before.push(await ctx.registry.broadcast('short-lived', n));
    await waitFor('3 events', () => first.events.length === 3);
    first.close();
    await waitFor('dropped after its ttl', () => !ctx.registry.has('short-lived'));
    expect(ctx.registry.stats().channels).toBe(0);

    const resumed = ctx.open('/short-lived', first.lastEventId);
    await waitFor('revived by the subscriber', () => ctx.registry.channel('short-lived').size === 1);
    const after = await ctx.registry.broadcast('short-lived', 'after');
    await waitFor('live event', () => resumed.events.length === 1);
    expect(resumed.data).toEqual(['after']);
    expect(gaps).toEqual([['short-lived', before[2]]]);
    expect(before).not.toContain(after);
  });
}

/**
 * A stream on two channels (`res.sseChannels` / `reply.sseChannels`) read by the eventsource client: the server
 * destroys its socket mid-way, the client resumes with the composite Last-Event-ID, and every event of each
 * channel arrives exactly once, in that channel's order. A list with a bad name is answered 400, no stream byte.
 */
export function severalChannelsResume(factory: ChannelAppFactory): Promise<void> {
  return withApp(factory, {}, async (ctx) => {
    const bad = await fetch(`${ctx.app.base}/-/several?c=ok,${encodeURIComponent('bad\nname')}`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await bad.json()) as { error: string }).error).toBe('SSE_ERR_INVALID_CHANNEL');
    expect(ctx.registry.has('ok')).toBe(false);

    const received: string[] = [];
    const es = new EventSource(`${ctx.app.base}/-/several?c=left,right`);
    es.onmessage = (e) => received.push(e.data as string);
    try {
      const both = () => ctx.registry.channel('left').size === 1 && ctx.registry.channel('right').size === 1;
      await waitFor('subscribed to both', both);
      for (const n of sequence(50)) {
        await ctx.registry.broadcast('left', `l${n}`);
        await ctx.registry.broadcast('right', `r${n}`);
      }
      await waitFor('first 100', () => received.length === 100);
      const opened = ctx.app.severalSockets.length;
      ctx.app.severalSockets[opened - 1]!.destroy(); // cut the stream's connection from the server side, mid-way
      await waitFor('cut', () => ctx.registry.channel('left').size === 0);
      for (const n of sequence(50, 51)) {
        const left = Number(n) % 2 === 0;
        await ctx.registry.broadcast(left ? 'left' : 'right', `${left ? 'l' : 'r'}${n}`);
      }
      await waitFor('resumed on both', () => ctx.app.severalSockets.length === opened + 1 && both());
      await ctx.registry.broadcast('left', 'l-last');
      await ctx.registry.broadcast('right', 'r-last');
      await waitFor('everything', () => received.length === 152);
    } finally {
      es.close();
    }
    const lane = (prefix: string) => received.filter((data) => data.startsWith(prefix));
    const odd = sequence(50, 51).filter((n) => Number(n) % 2 === 1);
    const even = sequence(50, 51).filter((n) => Number(n) % 2 === 0);
    expect(lane('l')).toEqual([...sequence(50).map((n) => `l${n}`), ...even.map((n) => `l${n}`), 'l-last']);
    expect(lane('r')).toEqual([...sequence(50).map((n) => `r${n}`), ...odd.map((n) => `r${n}`), 'r-last']);
  });
}

/** The eventsource client over long-poll receives 100 events exactly once, in order, across many responses. */
export function longPollWithEventSource(factory: ChannelAppFactory): Promise<void> {
  return withApp(factory, {}, async (ctx) => {
    const received: string[] = [];
    const es = new EventSource(`${ctx.app.base}/lp?mode=long-poll`);
    es.onmessage = (e) => received.push(e.data as string);
    try {
      await waitFor('first subscriber', () => ctx.registry.channel('lp').size === 1);
      await longPollBursts(
        (data) => ctx.registry.broadcast('lp', data),
        () => received.length,
      );
      await waitFor('100 events', () => received.length >= 100);
    } finally {
      es.close();
    }
    expect(received).toEqual(sequence(100));
    expect(ctx.app.served.length).toBeGreaterThanOrEqual(5);
    expect(ctx.app.served.every((em) => em.mode === 'long-poll')).toBe(true);
  });
}

/** One client that never reads is closed as slow (SSE_ERR_SLOW_CLIENT) and does not hold up 10 normal ones. */
export function stalledClientIsClosed(factory: ChannelAppFactory): Promise<void> {
  return withApp(factory, { history: 0 }, async (ctx) => {
    const query = `?maxBufferedBytes=${256 * 1024}`;
    const stalledSocket = await connectNeverReading(`${ctx.app.base}/crowd${query}`);
    try {
      await waitFor('stalled subscriber', () => ctx.registry.channel('crowd').size === 1);
      const stalled = ctx.app.served[0]!;
      const errors: unknown[] = [];
      stalled.onError((err) => errors.push(err));
      const readers = await crowd(ctx, 'crowd', 10, query);
      const payload = 'y'.repeat(16 * 1024);
      let sent = 0;
      while (stalled.state !== 'completed' && sent < 4000) {
        await ctx.registry.broadcast('crowd', payload);
        sent++;
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(errors).toEqual([expect.objectContaining({ code: 'SSE_ERR_SLOW_CLIENT' })]);
      expect(ctx.registry.stats().slowClosed).toBe(1);
      await ctx.registry.broadcast('crowd', 'after');
      await waitFor('readers got everything', () => readers.every((r) => r.events.length === sent + 1));
      expect(ctx.registry.channel('crowd').size).toBe(10);
    } finally {
      stalledSocket.destroy();
    }
  });
}

/**
 * Shutdown with 500 open streams: `registry.close(final)` sends the final event to all, ends every response and
 * resolves; a client arriving afterwards is ended at once; the framework's own close then finishes.
 */
export function shutdownWith500Streams(factory: ChannelAppFactory): Promise<void> {
  return withApp(factory, {}, async (ctx) => {
    const clients = await crowd(ctx, 'live', 500);
    await ctx.registry.close(event({ event: 'bye', data: 'restarting' }));
    expect(ctx.registry.stats().connections).toBe(0);
    await Promise.all(clients.map((c) => c.ended));
    for (const client of clients)
      expect(client.dispatched).toEqual([{ id: undefined, event: 'bye', data: 'restarting' }]);

    const late = ctx.open('/live');
    await late.ended;
    expect(late.dispatched).toEqual([]);
    expect(ctx.registry.channel('live').size).toBe(0);
  });
}

/** The framework's own shutdown (`app.close()` / middleware `close()`) ends channel streams too. */
export function frameworkCloseEndsChannelStreams(factory: ChannelAppFactory): Promise<void> {
  return withApp(factory, {}, async (ctx) => {
    const clients = await crowd(ctx, 'live', 100);
    await ctx.app.close();
    await Promise.all(clients.map((c) => c.ended));
    expect(ctx.registry.channel('live').size).toBe(0);
    expect(ctx.registry.stats().connections).toBe(0);
  });
}

/** Declares every scenario above as a test of the app `factory` starts (call it inside a `describe`). */
export function channelScenarioTests(factory: ChannelAppFactory): void {
  it('500 clients on one channel get 1,000 broadcasts exactly once, in order', () => fanOut(factory));
  it('broadcast filter and except, and subscriber filters', () => filtersAndExcept(factory));
  it('replay after reconnect, with the Last-Event-ID header and the lastEventId query', () =>
    replayAfterReconnect(factory));
  it('seam: a broadcast storm while clients reconnect leaves no gap and no duplicate', () => seamStorm(factory));
  it('an unknown Last-Event-ID calls onGap, replays nothing, then sends live', () => unknownIdCallsOnGap(factory));
  it('long-poll: the eventsource client receives 100 events exactly once', () => longPollWithEventSource(factory));
  it('several channels on one stream: exactly once per channel across a server-side cut; a bad name is a 400', () =>
    severalChannelsResume(factory));
  it('historyTtl: an idle channel is dropped with its history; resuming from it is a gap', () =>
    ttlDropAndRevival(factory));
  it('a client that never reads is closed and does not hold up 10 others', () => stalledClientIsClosed(factory));
  it('registry.close(final) with 500 open streams', () => shutdownWith500Streams(factory));
  it("the framework's own close ends channel streams", () => frameworkCloseEndsChannelStreams(factory));
}

/**
 * Broadcasts "1".."100" in ten bursts of ten for a long-polling client. Every other burst waits until the client
 * has it, so at least five distinct responses carry events; the bursts in between may land while the client is
 * between two requests, and then reach it by replay.
 */
export async function longPollBursts(
  broadcast: (data: string) => Promise<unknown>,
  received: () => number,
): Promise<void> {
  for (let burst = 0; burst < 10; burst++) {
    for (let n = burst * 10 + 1; n <= burst * 10 + 10; n++) await broadcast(String(n));
    if (burst % 2 === 0) await waitFor(`burst ${burst}`, () => received() >= burst * 10 + 10);
  }
}
