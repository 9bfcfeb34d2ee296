import * as http from 'node:http';
import { connect, type SseTestClient, startServer, waitFor } from '@tidings/testkit';
import { channelKey, decodePositions, encodePositions } from '../src/composite-id';
import {
  ChannelRegistry,
  type ChannelRegistryOptions,
  event,
  MAX_LAST_EVENT_ID_BYTES,
  type MultiSubscribeOptions,
  SseEmitter,
} from '../src/index';

/** A node:http server whose `GET /?c=a,b` opens a stream on channels a and b (`&only=<event>` filters by name). */
async function multiServer(options: ChannelRegistryOptions = {}, filter?: MultiSubscribeOptions['filter']) {
  const gaps: Array<[string, string]> = [];
  const registry = new ChannelRegistry({ ...options, onGap: (channel, id) => gaps.push([channel, id]) });
  // Headers up to 128 KiB reach the handler, so a hostile 64 KiB Last-Event-ID is Tidings' to refuse.
  const handler: http.RequestListener = (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const em = new SseEmitter({ keepAlive: false }).attach(req, res);
    registry.subscribe(em, (url.searchParams.get('c') ?? '').split(','), { filter });
  };
  const server = await startServer(http.createServer({ maxHeaderSize: 128 * 1024 }, handler));
  const clients: SseTestClient[] = [];
  const open = (channels: string, lastEventId?: string) => {
    const client = connect(`${server.url}/?c=${channels}`, { lastEventId });
    clients.push(client);
    return client;
  };
  const cleanup = async () => {
    for (const client of clients) client.close();
    await registry.close();
    await server.close();
  };
  return { registry, server, open, gaps, cleanup };
}

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function subscribers(registry: ChannelRegistry, names: string[]) {
  await waitFor(`subscribers on ${names}`, () => names.every((name) => registry.channel(name).size >= 1));
}

describe('composite Last-Event-ID', () => {
  it('binds each position to a hash of its channel name, escapes ~ and %, refuses anything else', () => {
    const positions = new Map([
      [channelKey('user:42'), 'mxbfll78-12'],
      [channelKey('news'), 'a~b%c'],
    ]);
    const id = encodePositions(positions);
    expect(decodePositions(id)).toEqual(positions);
    expect(channelKey('news')).toMatch(/^[0-9a-z]{8}$/);
    expect(channelKey('news')).not.toBe(channelKey('newt'));
    for (const bad of [
      '',
      'mxbfll78-12',
      '~short',
      `~${channelKey('a')}x%41`,
      `~${channelKey('a')}1~${channelKey('a')}2`,
    ]) {
      expect(decodePositions(bad)).toBeUndefined();
    }
  });

  it('stays under 1,024 bytes for 16 channels with default ids and with Redis stream ids', () => {
    const names = Array.from({ length: 16 }, (_, n) => `user:${1_000_000 + n}`);
    const generated = new Map(
      names.map((name, n) => [channelKey(name), `${Date.now().toString(36)}-${9_999_999 + n}`]),
    );
    const redis = new Map(names.map((name, n) => [channelKey(name), `${Date.now()}-${n + 100}`]));
    for (const positions of [generated, redis]) {
      const id = encodePositions(positions);
      expect(Buffer.byteLength(id)).toBeLessThanOrEqual(1024);
      expect(Buffer.byteLength(id)).toBeLessThanOrEqual(MAX_LAST_EVENT_ID_BYTES);
    }
  });
});

describe('registry.subscribe(em, names): one stream on several channels', () => {
  it("each channel's events reach the stream once, in order; a resumed stream replays each channel from its place", async () => {
    const bed = await multiServer();
    cleanup = bed.cleanup;
    const first = bed.open('a,b');
    await subscribers(bed.registry, ['a', 'b']);
    await bed.registry.broadcast('a', 'a1');
    await bed.registry.broadcast('b', 'b1');
    await bed.registry.broadcast('a', event({ event: 'named', data: 'a2' }));
    await waitFor('3 events', () => first.events.length === 3);
    expect(first.data).toEqual(['a1', 'b1', 'a2']);
    expect(first.dispatched[2]!.event).toBe('named');
    first.close();
    await waitFor('left', () => bed.registry.channel('a').size === 0);

    await bed.registry.broadcast('b', 'b2');
    await bed.registry.broadcast('a', 'a3');
    await bed.registry.broadcast('b', 'b3');
    const resumed = bed.open('a,b', first.lastEventId);
    await subscribers(bed.registry, ['a', 'b']);
    await bed.registry.broadcast('a', 'a4');
    await waitFor('4 events', () => resumed.events.length === 4);
    const byChannel = (data: string[], c: string) => data.filter((d) => d.startsWith(c));
    expect(byChannel(resumed.data, 'a')).toEqual(['a3', 'a4']);
    expect(byChannel(resumed.data, 'b')).toEqual(['b2', 'b3']);
    expect(bed.gaps).toEqual([]);

    // Another list: b (which it had) replays from its place, c (new to it) starts live; a is left.
    resumed.close();
    await waitFor('left again', () => bed.registry.channel('a').size === 0);
    await bed.registry.broadcast('b', 'b4');
    await bed.registry.broadcast('c', 'c0');
    const other = bed.open('c,b', resumed.lastEventId);
    await subscribers(bed.registry, ['b', 'c']);
    await bed.registry.broadcast('c', 'c1');
    await waitFor('2 events', () => other.events.length === 2);
    expect(other.data).toEqual(['b4', 'c1']);
    expect(other.parseErrors).toEqual([]);
  });

  it('a channel the stream had no event from yet still resumes from where the stream joined it', async () => {
    const bed = await multiServer();
    cleanup = bed.cleanup;
    await bed.registry.broadcast('b', 'before the stream');
    const first = bed.open('a,b');
    await subscribers(bed.registry, ['a', 'b']);
    await bed.registry.broadcast('a', 'a1');
    await waitFor('1 event', () => first.events.length === 1);
    first.close();
    await waitFor('left', () => bed.registry.channel('a').size === 0);
    await bed.registry.broadcast('b', 'b while away');
    const resumed = bed.open('a,b', first.lastEventId);
    await waitFor('replay of b', () => resumed.events.length === 1);
    expect(resumed.data).toEqual(['b while away']);
    expect(bed.gaps).toEqual([]);
  });

  it('an unreadable Last-Event-ID is a gap on every channel (onGap gets the whole header), never a replay', async () => {
    const bed = await multiServer();
    cleanup = bed.cleanup;
    const ids = [await bed.registry.broadcast('a', 'a1'), await bed.registry.broadcast('b', 'b1')];
    for (const garbage of [ids[0]!, '~garbage', `~${channelKey('a')}%zz`]) {
      bed.gaps.length = 0;
      const client = bed.open('a,b', garbage);
      await waitFor('gaps', () => bed.gaps.length === 2);
      expect(bed.gaps.sort()).toEqual([
        ['a', garbage],
        ['b', garbage],
      ]);
      await bed.registry.broadcast('b', 'live');
      await waitFor('live', () => client.events.length === 1);
      expect(client.data).toEqual(['live']);
      client.close();
    }
  });

  it('a position the channel no longer holds is a gap on that channel only, given that position', async () => {
    const bed = await multiServer({ history: 2 });
    cleanup = bed.cleanup;
    const first = bed.open('a,b');
    await subscribers(bed.registry, ['a', 'b']);
    const a1 = await bed.registry.broadcast('a', 'a1');
    const b1 = await bed.registry.broadcast('b', 'b1');
    await waitFor('2 events', () => first.events.length === 2);
    first.close();
    await waitFor('left', () => bed.registry.channel('a').size === 0);
    for (const n of [2, 3, 4]) await bed.registry.broadcast('a', `a${n}`); // a1 is evicted
    await bed.registry.broadcast('b', 'b2');
    const resumed = bed.open('a,b', first.lastEventId);
    await waitFor('replay of b', () => resumed.events.length === 1);
    expect(resumed.data).toEqual(['b2']);
    expect(bed.gaps).toEqual([['a', a1]]);
    // The id the client came back with carried b's position: b resumed after b1.
    expect(decodePositions(first.lastEventId!)?.get(channelKey('b'))).toBe(b1);
  });

  it('hostile input: a 64 KiB Last-Event-ID is ignored (the stream starts live); names are checked before anything', async () => {
    const bed = await multiServer();
    cleanup = bed.cleanup;
    await bed.registry.broadcast('a', 'old');
    const huge = bed.open('a,b', `~${'x'.repeat(64 * 1024)}`);
    await subscribers(bed.registry, ['a', 'b']);
    await bed.registry.broadcast('a', 'live');
    await waitFor('live', () => huge.events.length === 1);
    expect(huge.data).toEqual(['live']);
    expect(bed.gaps).toEqual([]);

    const em = new SseEmitter();
    for (const names of [[], ['ok', 'bad\nname'], ['ok', ''], 'a,b' as unknown as string[]]) {
      expect(() => bed.registry.subscribe(em, names)).toThrow(
        expect.objectContaining({ code: 'SSE_ERR_INVALID_CHANNEL' }),
      );
    }
    expect(bed.registry.has('ok')).toBe(false);
  });

  it('filter sees ev.channel; one name keeps the channel’s own ids', async () => {
    const bed = await multiServer({}, (ev) => ev.channel === 'b' || ev.data === 'keep');
    cleanup = bed.cleanup;
    const client = bed.open('a,b');
    const single = bed.open('a');
    await waitFor('subscribers', () => bed.registry.channel('a').size === 2 && bed.registry.channel('b').size === 1);
    await bed.registry.broadcast('a', 'drop');
    const kept = await bed.registry.broadcast('a', 'keep');
    await bed.registry.broadcast('b', 'b1');
    await waitFor('events', () => client.events.length === 2 && single.events.length === 1);
    expect(client.data).toEqual(['keep', 'b1']);
    expect(single.ids).toEqual([kept]);
  });

  it('short polling answers { events: [{ channel, id, event, data }], lastEventId } and resumes from it', async () => {
    const bed = await multiServer();
    cleanup = bed.cleanup;
    await bed.registry.broadcast('a', 'a1');
    await bed.registry.broadcast('b', event({ event: 'n', data: 'b1' }));
    const poll = async (lastEventId?: string) => {
      const query = lastEventId === undefined ? '' : `&lastEventId=${encodeURIComponent(lastEventId)}`;
      const res = await fetch(`${bed.server.url}/?c=a,b${query}`, { headers: { accept: 'application/json' } });
      return (await res.json()) as { events: Array<Record<string, string>>; lastEventId: string | null };
    };
    const first = await poll();
    expect(first.events.map(({ channel, event, data }) => ({ channel, event, data }))).toEqual([
      { channel: 'a', event: 'message', data: 'a1' },
      { channel: 'b', event: 'n', data: 'b1' },
    ]);
    expect(first.lastEventId).toBe(first.events[1]!.id);
    await bed.registry.broadcast('b', 'b2');
    const second = await poll(first.lastEventId!);
    expect(second.events.map((e) => e.data)).toEqual(['b2']);
  });
});
