/**
 * End to end in Node: the client against this repository's Express and Fastify adapters over real sockets.
 * The same scenarios run on both: typed channel events, replay after the server destroys the socket
 * (Last-Event-ID, no loss, no duplicate), and long-poll mode (`retry: 0`, one response per batch).
 */
import { once } from 'node:events';
import type { AddressInfo, Socket } from 'node:net';
import { connect, type SseClientStream } from '@tidings/client';
import { ChannelRegistry, event } from '@tidings/core';
import { sse } from '@tidings/express';
import { ssePlugin } from '@tidings/fastify';
import express from 'express';
import Fastify from 'fastify';
import { until } from './support/raw-server';

/** The map both ends use. */
type News = { headline: { title: string; n: number } };

interface App {
  url: string;
  /** The Last-Event-ID header of each request that reached the SSE routes ('' when absent). */
  lastEventIds: string[];
  /** Destroys every socket that reached an SSE route (a server-side drop). */
  dropAll(): void;
  close(): Promise<void>;
}

type AppFactory = (registry: ChannelRegistry) => Promise<App>;

const streamOptions = { keepAlive: false as const };

const expressApp: AppFactory = async (registry) => {
  const events = sse({ registry, ...streamOptions });
  const sockets: Socket[] = [];
  const app = express();
  app.use(events);
  const result = { lastEventIds: [] as string[] };
  app.get('/news', (req, res) => {
    result.lastEventIds.push(req.get('last-event-id') ?? '');
    sockets.push(req.socket);
    registry.channel('news').subscribe(res.sse());
  });
  app.get('/poll', (req, res) => {
    result.lastEventIds.push(req.get('last-event-id') ?? '');
    sockets.push(req.socket);
    registry.channel('news').subscribe(res.sse({ mode: 'long-poll' }));
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return Object.assign(result, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    dropAll: () => {
      for (const socket of sockets.splice(0)) socket.destroy();
    },
    close: async () => {
      await events.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
};

const fastifyApp: AppFactory = async (registry) => {
  const app = Fastify({ forceCloseConnections: true });
  await app.register(ssePlugin, { registry, ...streamOptions });
  const sockets: Socket[] = [];
  const result = { lastEventIds: [] as string[] };
  app.get('/news', (request, reply) => {
    result.lastEventIds.push(String(request.headers['last-event-id'] ?? ''));
    sockets.push(request.raw.socket);
    registry.channel('news').subscribe(reply.sse());
  });
  app.get('/poll', (request, reply) => {
    result.lastEventIds.push(String(request.headers['last-event-id'] ?? ''));
    sockets.push(request.raw.socket);
    registry.channel('news').subscribe(reply.sse({ mode: 'long-poll' }));
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return Object.assign(result, {
    url,
    dropAll: () => {
      for (const socket of sockets.splice(0)) socket.destroy();
    },
    close: () => app.close(),
  });
};

/** Collects the headlines a stream gets. */
function headlines(s: SseClientStream<News>): { n: number; id: string }[] {
  const got: { n: number; id: string }[] = [];
  s.on('headline', (data, ev) => got.push({ n: data.n, id: ev.id }));
  return got;
}

const headline = (n: number) => event({ event: 'headline', data: { title: `story ${n}`, n } });

describe.each([
  ['Express', expressApp],
  ['Fastify', fastifyApp],
])('%s', (_name, factory) => {
  let registry: ChannelRegistry;
  let app: App;
  let client: SseClientStream<News> | undefined;

  beforeEach(async () => {
    registry = new ChannelRegistry({ history: 100 });
    app = await factory(registry);
  });
  afterEach(async () => {
    client?.close();
    await registry.close();
    await app.close();
  });

  test('a channel: typed events with the ids of its history', async () => {
    client = connect<News>(`${app.url}/news`);
    const got = headlines(client);
    const opened = new Promise((resolve) => client!.onOpen(resolve));
    await opened;
    await until(() => registry.channel('news').size === 1, 'the subscription');
    for (const n of [1, 2, 3]) await registry.broadcast('news', headline(n));
    await until(() => got.length === 3, 'three headlines');
    expect(got.map((h) => h.n)).toEqual([1, 2, 3]);
    expect(new Set(got.map((h) => h.id)).size).toBe(3);
    expect(client.lastEventId).toBe(got[2]!.id);
    expect(client.readyState).toBe('open');
  });

  test('after the server destroys the socket, it resumes with Last-Event-ID: nothing lost, nothing twice', async () => {
    client = connect<News>(`${app.url}/news`, { retry: { initial: 200 } }); // away long enough to miss 3 and 4
    const got = headlines(client);
    const errors: string[] = [];
    client.onError((err) => errors.push(err.code));
    await until(() => registry.channel('news').size === 1, 'the subscription');
    for (const n of [1, 2]) await registry.broadcast('news', headline(n));
    await until(() => got.length === 2, 'two headlines');
    const reconnected = new Promise((resolve) => client!.onReconnect(resolve));
    app.dropAll();
    await reconnected;
    for (const n of [3, 4]) await registry.broadcast('news', headline(n)); // while it is away
    await until(() => got.length === 4, 'the missed headlines');
    await registry.broadcast('news', headline(5));
    await until(() => got.length === 5, 'a live headline after the replay');
    expect(got.map((h) => h.n)).toEqual([1, 2, 3, 4, 5]);
    expect(app.lastEventIds).toEqual(['', got[1]!.id]);
    expect(errors.every((code) => code === 'SSE_CLIENT_ERR_NETWORK')).toBe(true);
  });

  test('long-poll mode: each response ends after its batch, retry: 0 brings the client straight back', async () => {
    client = connect<News>(`${app.url}/poll`, { retry: { initial: 10_000 } }); // only retry: 0 makes this quick
    const got = headlines(client);
    const delays: number[] = [];
    client.onReconnect(({ delay }) => delays.push(delay));
    for (let n = 1; n <= 5; n++) {
      await until(() => registry.channel('news').size === 1, `poll ${n}`);
      await registry.broadcast('news', headline(n));
      await until(() => got.length === n, `headline ${n}`);
    }
    expect(got.map((h) => h.n)).toEqual([1, 2, 3, 4, 5]);
    // One request per batch, each resuming from the last id the one before delivered.
    expect(app.lastEventIds.slice(0, 5)).toEqual(['', ...got.slice(0, 4).map((h) => h.id)]);
    expect(delays.length).toBeGreaterThanOrEqual(4);
    expect(delays.every((d) => d === 0)).toBe(true);
  });
});
