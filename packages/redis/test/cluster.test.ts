/**
 * Two servers in two processes share a channel through Redis: fan-out to 200 clients in one order, a client
 * moving between servers gets exactly its gap, the adapter survives CLIENT KILL, unknown ids reach onGap.
 */
import { connect, describeWith, SHARED_REDIS_URL, type SseTestClient } from '@tidings/testkit';
import { deleteKeys, uniquePrefix } from '@tidings/testkit/redis';
import type { EventSourceMessage } from 'eventsource-parser';
import { Redis } from 'ioredis';
import { channelKey, connectionNames } from '../src/index';
import { clientIdsNamed } from './support/clients';
import { type ClusterNode, startNodes } from './support/cluster';

describeWith(
  ['redis'],
  'an Express and a Fastify server in two processes, one channel (Redis on 127.0.0.1:6379)',
  () => {
    const prefix = uniquePrefix('cluster');
    let nodes: ClusterNode[] = [];
    let redis: Redis;
    const clients: SseTestClient[] = [];

    function open(node: ClusterNode, channel: string, lastEventId?: string): SseTestClient {
      const client = connect(`http://127.0.0.1:${node.port}/events/${channel}`, { lastEventId });
      clients.push(client);
      return client;
    }

    /** The ids and data of what is in the channel's stream after `afterId`. */
    async function log(channel: string, afterId: string): Promise<{ ids: string[]; data: string[] }> {
      const entries = await redis.xrange(channelKey(prefix, channel), `(${afterId}`, '+');
      const data = entries.map(([, fields]) => fields[fields.indexOf('data') + 1]!);
      return { ids: entries.map(([id]) => id), data };
    }

    const ids = (events: EventSourceMessage[]): string[] => events.map((ev) => ev.id!);

    beforeAll(async () => {
      redis = new Redis(SHARED_REDIS_URL);
      nodes = await startNodes([
        { redisUrl: SHARED_REDIS_URL, prefix, framework: 'express' },
        { redisUrl: SHARED_REDIS_URL, prefix, framework: 'fastify' },
      ]);
    });

    afterAll(async () => {
      for (const client of clients) client.close();
      await Promise.all(nodes.map((node) => node.close()));
      await deleteKeys(SHARED_REDIS_URL, prefix);
      redis.disconnect();
    });

    /** Broadcasts `data[i]` from node `i % 2`, `batch` at a time; resolves to the ids, in the order given. */
    async function broadcastAlternately(channel: string, data: string[], batch: number): Promise<string[]> {
      const published: string[] = [];
      for (let start = 0; start < data.length; start += batch) {
        const slice = data.slice(start, start + batch);
        const done = slice.map((value, i) => nodes[(start + i) % 2]!.broadcast(channel, value));
        published.push(...(await Promise.all(done)));
      }
      return published;
    }

    test('200 clients on two servers get 1,000 broadcasts made alternately on both, once each, in one order; a client moving from A to B gets exactly its gap', async () => {
      const [a, b] = nodes as [ClusterNode, ClusterNode];
      // Clients resume from a marker: however late their subscription is fixed, replay plus live covers the rest.
      const marker = await a.broadcast('feed', 'marker');
      const audience = Array.from({ length: 200 }, (_, i) => open(i % 2 === 0 ? a : b, 'feed', marker));
      const mover = open(a, 'feed', marker);
      const sent = Array.from({ length: 1000 }, (_, i) => `e${i}`);
      // The mover leaves A after 400 broadcasts and comes back on B after 600, with the last id it saw.
      await broadcastAlternately('feed', sent.slice(0, 400), 50);
      await mover.waitForEvents(400);
      mover.close();
      const seenOnA = mover.events.at(-1)!.id!;
      await broadcastAlternately('feed', sent.slice(400, 600), 50);
      const moved = open(b, 'feed', seenOnA);
      await broadcastAlternately('feed', sent.slice(600), 50);

      // The log's order is the one order every client sees; it holds each broadcast once.
      const stored = await log('feed', marker);
      expect([...stored.data].sort()).toEqual([...sent].sort());
      await Promise.all(audience.map((client) => client.waitForEvents(1000)));
      for (const client of audience) {
        expect(ids(client.events)).toEqual(stored.ids);
        expect(client.messages()).toEqual(stored.data);
      }
      // Exactly the gap: what A delivered, then from B everything after it, nothing twice.
      const onA = ids(mover.events);
      expect(onA).toEqual(stored.ids.slice(0, onA.length));
      expect(onA.at(-1)).toBe(seenOnA);
      await moved.waitForEvents(1000 - onA.length);
      expect(ids(moved.events)).toEqual(stored.ids.slice(onA.length));
    }, 90_000);

    test('CLIENT KILL of every adapter connection mid-stream: no client misses an event', async () => {
      const [a, b] = nodes as [ClusterNode, ClusterNode];
      const marker = await b.broadcast('kill', 'marker');
      const audience = Array.from({ length: 40 }, (_, i) => open(i % 2 === 0 ? a : b, 'kill', marker));
      const sent = Array.from({ length: 300 }, (_, i) => `k${i}`);
      const published = await broadcastAlternately('kill', sent.slice(0, 100), 20);
      expect(await killAdapterConnections()).toBe(4);
      published.push(...(await broadcastAlternately('kill', sent.slice(100, 200), 20)));
      expect(await killAdapterConnections()).toBe(4);
      published.push(...(await broadcastAlternately('kill', sent.slice(200), 20)));
      // A publish cut by the kill may be resent and stored twice (at least once); clients get exactly the log.
      const stored = await log('kill', marker);
      expect(stored.ids).toEqual(expect.arrayContaining(published));
      expect([...new Set(stored.data)].sort()).toEqual([...sent].sort());
      await Promise.all(audience.map((client) => client.waitForEvents(stored.ids.length)));
      for (const client of audience) {
        expect(ids(client.events)).toEqual(stored.ids);
        expect(client.messages()).toEqual(stored.data);
      }
    });

    test('a client moving to a server whose read loop is behind (reconnecting) gets each event once', async () => {
      const [a, b] = nodes as [ClusterNode, ClusterNode];
      const marker = await a.broadcast('lag', 'marker');
      const onB = open(b, 'lag', marker); // keeps B reading the channel
      const mover = open(a, 'lag', marker);
      await a.broadcast('lag', 'x0');
      await Promise.all([onB.waitForEvents(1), mover.waitForEvents(1)]);
      // B's read loop loses its connection; while it reconnects, A broadcasts and the mover, up to date on A,
      // resumes on B from an id B has not delivered yet.
      expect(await killAdapterConnections(['fastify'], ['reader'])).toBe(1);
      for (let i = 1; i <= 5; i++) await a.broadcast('lag', `x${i}`);
      await mover.waitForEvents(6);
      mover.close();
      const moved = open(b, 'lag', mover.events.at(-1)!.id);
      await b.broadcast('lag', 'x6');
      await Promise.all([onB.waitForEvents(7), moved.waitForEvents(1)]);
      await a.broadcast('lag', 'x7'); // a last one: anything duplicated before it would arrive before it
      await Promise.all([onB.waitForEvents(8), moved.waitForEvents(2)]);
      expect(onB.messages()).toEqual(['x0', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7']);
      expect(moved.messages()).toEqual(['x6', 'x7']);
    });

    test('a Last-Event-ID the stream never held (or not an id at all) goes to onGap, then live events follow', async () => {
      const [a, b] = nodes as [ClusterNode, ClusterNode];
      await a.broadcast('gaps', 'before');
      const unknown = open(b, 'gaps', '1-0');
      const malformed = open(a, 'gaps', 'not-an-id');
      await Promise.all([unknown.waitForEvents(1), malformed.waitForEvents(1)]);
      const id = await a.broadcast('gaps', 'after');
      await Promise.all([unknown.waitForEvents(2), malformed.waitForEvents(2)]);
      expect(unknown.events.map((ev) => [ev.event, ev.data])).toEqual([
        ['gap', '1-0'],
        [undefined, 'after'],
      ]);
      expect(malformed.events.map((ev) => [ev.event, ev.data])).toEqual([
        ['gap', 'not-an-id'],
        [undefined, 'after'],
      ]);
      expect(unknown.events[1]!.id).toBe(id);
    });

    /**
     * Kills the adapter connections of the given servers (reader and commands of each, or the reader only) by
     * id, once all of them are connected again after any earlier kill; returns how many it killed.
     */
    async function killAdapterConnections(
      servers = ['express', 'fastify'],
      which = ['reader', 'commands'],
    ): Promise<number> {
      const names = new Set(
        servers.flatMap((server) => {
          const named = connectionNames(prefix, server);
          return which.map((connection) => named[connection as keyof typeof named]);
        }),
      );
      let victims: string[] = [];
      for (let attempt = 0; attempt < 100 && victims.length < names.size; attempt++) {
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50));
        victims = await clientIdsNamed(redis, names);
      }
      for (const victim of victims) await redis.client('KILL', 'ID', victim);
      return victims.length;
    }
  },
);
