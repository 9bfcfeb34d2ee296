/**
 * Channel test servers for core: a plain node:http server whose `GET /<channel>` opens an emitter and subscribes
 * it, and a per-file bed that closes every client and server a test opened. Clients come from @tidings/testkit.
 */
import { type ChannelRegistry, SseEmitter, type SseEmitterOptions, type SubscribeOptions } from '@tidings/core';
import { connect, type SseTestClient, startServer, type TestServer } from '@tidings/testkit';

/** How the test server opens and subscribes each stream; both see the request URL. */
export interface ChannelRoute {
  emitter?(url: URL): SseEmitterOptions;
  subscribe?(url: URL, em: SseEmitter): SubscribeOptions;
}

/** A plain node:http server: `GET /<channel>` opens an emitter and subscribes it to that channel. */
export interface ChannelServer {
  server: TestServer;
  base: string;
  /** The emitters opened, in arrival order. */
  served: SseEmitter[];
  /** The unsubscribe functions, in arrival order. */
  unsubscribes: Array<() => void>;
}

/** Starts a {@link ChannelServer} for `registry`. */
export async function channelServer(registry: ChannelRegistry, route: ChannelRoute = {}): Promise<ChannelServer> {
  const served: SseEmitter[] = [];
  const unsubscribes: Array<() => void> = [];
  const server = await startServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const em = new SseEmitter(route.emitter?.(url)).attach(req, res);
    served.push(em);
    unsubscribes.push(registry.channel(url.pathname.slice(1)).subscribe(em, route.subscribe?.(url, em)));
  });
  return { server, base: server.url, served, unsubscribes };
}

/** What one test opened; {@link TestBed.cleanup} (in `afterEach`) closes it all, clients first. */
export interface TestBed {
  /** Opens a streaming client, resuming after `lastEventId` when given. */
  open(url: string, lastEventId?: string): SseTestClient;
  /** Starts a {@link ChannelServer} for `registry`. */
  serve(registry: ChannelRegistry, route?: ChannelRoute): Promise<ChannelServer>;
  /** Registers anything else to close. */
  defer(close: () => void | Promise<void>): void;
  cleanup(): Promise<void>;
}

/** A {@link TestBed}: one per test file. */
export function testBed(): TestBed {
  const clients: Array<() => void> = [];
  const others: Array<() => void | Promise<void>> = [];
  return {
    open(url, lastEventId) {
      const client = connect(url, { lastEventId });
      clients.push(() => client.close());
      return client;
    },
    async serve(registry, route) {
      const served = await channelServer(registry, route);
      others.push(() => served.server.close());
      return served;
    },
    defer(close) {
      others.push(close);
    },
    async cleanup() {
      for (const close of clients.splice(0)) close();
      for (const close of others.splice(0)) await close();
    },
  };
}
