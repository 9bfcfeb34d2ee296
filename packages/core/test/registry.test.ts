import { startServer, waitFor } from '@tidings/testkit';
import {
  ChannelRegistry,
  checkChannelName,
  encodeEvent,
  event,
  MAX_CHANNEL_NAME_LENGTH,
  REGISTRY_DEFAULTS,
  SseEmitter,
} from '../src/index';
import { testBed } from './support/channel-server';

const bed = testBed();
const open = bed.open;
const start = bed.serve;
afterEach(() => bed.cleanup());

describe('ChannelRegistry', () => {
  it('gets or creates channels by name, and refuses bad names with SSE_ERR_INVALID_CHANNEL', () => {
    const registry = new ChannelRegistry();
    expect(registry.channel('news')).toBe(registry.channel('news'));
    expect(registry.channel('x'.repeat(MAX_CHANNEL_NAME_LENGTH)).name).toHaveLength(256);
    expect(registry.channel('émoji 🎉 / with:colons').size).toBe(0);
    const bad: unknown[] = ['', 'x'.repeat(257), 'a\nb', 'a\rb', 'nul\0', 'tab\there', 'del\x7f', 42, undefined];
    for (const name of bad) {
      expect(() => registry.channel(name as string)).toThrow(
        expect.objectContaining({ name: 'SseInvalidChannelError', code: 'SSE_ERR_INVALID_CHANNEL' }),
      );
      expect(() => checkChannelName(name as string)).toThrow(TypeError);
      expect(() => registry.broadcast(name as string, 'x')).toThrow(TypeError);
    }
    expect(registry.stats().channels).toBe(3);
  });

  it('refuses a history size that is not a non-negative integer; defaults to 100 events a channel', async () => {
    for (const history of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new ChannelRegistry({ history })).toThrow(
        expect.objectContaining({ code: 'SSE_ERR_INVALID_OPTION' }),
      );
    }
    expect(REGISTRY_DEFAULTS.history).toBe(100);
    const registry = new ChannelRegistry();
    const ids = [];
    for (let n = 0; n < 101; n++) ids.push(await registry.broadcast('h', n));
    const { base } = await start(registry);
    // The 100 newest are kept: resuming after the oldest kept replays 99; the evicted one is a gap.
    const pollAfter = async (id: string | undefined) => {
      const res = await fetch(`${base}/h?lastEventId=${id}`, { headers: { accept: 'application/json' } });
      return (await res.json()) as { events: unknown[]; lastEventId: string | null };
    };
    expect((await pollAfter(ids[1])).events).toHaveLength(99);
    expect(await pollAfter(ids[0])).toEqual({ events: [], lastEventId: null });
  });

  it('counts event frames delivered, one per client, with their bytes; keep-alives and retry lines are not counted', async () => {
    const registry = new ChannelRegistry();
    const { base } = await start(registry, { emitter: () => ({ keepAlive: 20, retry: 1500 }) });
    {
      const a = open(`${base}/s`);
      const b = open(`${base}/s`);
      await waitFor('2 subscribers', () => registry.channel('s').size === 2);
      const ids = [await registry.broadcast('s', 'one'), await registry.broadcast('s', { two: 2 })];
      await registry.channel('s').broadcast(event({ event: 'three', data: '3' }), { except: undefined });
      await waitFor('3 events each', () => a.events.length === 3 && b.events.length === 3);
      await waitFor('keep-alives', () => a.comments.length >= 2 && b.comments.length >= 2);
      expect(a.retries).toEqual([1500]);

      const frames = [
        encodeEvent({ id: ids[0], data: 'one' }),
        encodeEvent({ id: ids[1], data: { two: 2 } }),
        encodeEvent({ id: a.ids[2], event: 'three', data: '3' }),
      ];
      const bytes = frames.reduce((sum, f) => sum + Buffer.byteLength(f), 0);
      expect(registry.stats()).toEqual({
        channels: 1,
        connections: 2,
        eventsSent: 6,
        bytesSent: 2 * bytes,
        slowClosed: 0,
      });
    }
  });

  it('close(final) sends the final event to every stream, completes them all and resolves; later subscribers end at once', async () => {
    const registry = new ChannelRegistry();
    const { base } = await start(registry);
    const streams = Array.from({ length: 30 }, (_, i) => open(`${base}/room-${i % 3}`));
    await waitFor('30 subscribers', () => registry.stats().connections === 30);
    await registry.broadcast('room-0', 'hello');

    const closing = registry.close(event({ event: 'bye', data: 'server restarting' }));
    expect(registry.close()).toBe(closing); // idempotent
    await closing;
    expect(registry.stats().connections).toBe(0);
    await Promise.all(streams.map((s) => s.ended));
    for (const [i, s] of streams.entries()) {
      const expected = i % 3 === 0 ? ['message:hello', 'bye:server restarting'] : ['bye:server restarting'];
      expect(s.dispatched.map((e) => `${e.event}:${e.data}`)).toEqual(expected);
    }

    const late = open(`${base}/room-0`);
    await late.ended;
    expect(late.status).toBe(200);
    expect(late.dispatched).toEqual([]);
    expect(registry.channel('room-0').size).toBe(0);
    expect(registry.stats().connections).toBe(0);
  });

  it('close() completes streams the registry tracks without a channel, and still closes all when final cannot be serialized', async () => {
    const registry = new ChannelRegistry();
    const tracked: SseEmitter[] = [];
    const server = await startServer((req, res) => {
      const em = new SseEmitter().attach(req, res);
      registry.track(em); // what an adapter given this registry does for every stream it opens
      tracked.push(em);
    });
    bed.defer(() => server.close());
    const { port } = server;
    const streams = [open(`http://127.0.0.1:${port}/`), open(`http://127.0.0.1:${port}/`)];
    await waitFor('2 tracked', () => registry.stats().connections === 2);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(registry.close(circular)).rejects.toMatchObject({ code: 'SSE_ERR_SERIALIZE' });
    await Promise.all(streams.map((s) => s.ended));
    expect(tracked.map((em) => em.state)).toEqual(['completed', 'completed']);
    expect(registry.stats().connections).toBe(0);

    const pending = new SseEmitter();
    registry.track(pending);
    expect(pending.state).toBe('completed');
  });

  it('turns an onGap hook that throws into a process warning; the stream stays live', async () => {
    const emitWarning = jest.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const registry = new ChannelRegistry({
        onGap: () => {
          throw new Error('hook failed');
        },
      });
      const { base } = await start(registry);
      const client = open(`${base}/g`, 'unknown');
      await waitFor('subscriber', () => registry.channel('g').size === 1);
      await registry.broadcast('g', 'live');
      await waitFor('live', () => client.events.length === 1);
      expect(emitWarning).toHaveBeenCalledWith(
        expect.stringContaining('hook failed'),
        expect.objectContaining({ code: 'SSE_LISTENER_THREW' }),
      );
    } finally {
      emitWarning.mockRestore();
    }
  });
});
