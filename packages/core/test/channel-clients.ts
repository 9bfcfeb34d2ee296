/**
 * Test clients for channel suites (core, Express, Fastify): real sockets, a small incremental event-stream
 * parser fast enough for hundreds of clients × thousands of events, and a client that never reads.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import { type ChannelRegistry, SseEmitter, type SseEmitterOptions, type SubscribeOptions } from '../src/index';

/** One dispatched event, as an EventSource would see it. */
export interface ReceivedEvent {
  id: string | undefined;
  event: string;
  data: string;
}

/** What a client sends when it connects. */
export interface ConnectOptions {
  /** Sent as the `Last-Event-ID` header. */
  lastEventId?: string;
  /** The `Accept` header; default `text/event-stream`. */
  accept?: string;
}

/**
 * One streaming request. Parses as it reads: blank line = dispatch, `data` lines joined with LF, one leading
 * space dropped, comments ignored, an event without data dispatches nothing (but its id counts).
 */
export class StreamClient {
  readonly events: ReceivedEvent[] = [];
  /** Resolves when the response ended or the connection closed. */
  readonly ended: Promise<void>;
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  /** Comment lines read (keep-alives). */
  comments = 0;
  /** `retry:` values read. */
  readonly retries: number[] = [];
  /** The last id the stream set (what an EventSource sends back on reconnect). */
  lastEventId: string | undefined;
  #pending = '';
  readonly #req: http.ClientRequest;

  constructor(url: string, options: ConnectOptions = {}) {
    const headers: http.OutgoingHttpHeaders = { accept: options.accept ?? 'text/event-stream' };
    if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
    this.#req = http.get(url, { headers, agent: false });
    this.ended = new Promise<void>((resolve) => {
      this.#req.on('error', () => resolve());
      this.#req.on('close', () => resolve());
      this.#req.on('response', (res) => {
        this.status = res.statusCode ?? 0;
        this.headers = res.headers;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => this.#feed(chunk));
        res.on('error', () => resolve());
        res.on('close', () => resolve());
      });
    });
  }

  /** The ids received, in order. */
  get ids(): Array<string | undefined> {
    return this.events.map((e) => e.id);
  }

  /** The data of every event received, in order. */
  get data(): string[] {
    return this.events.map((e) => e.data);
  }

  /** Drops the connection (the server sees a disconnect). */
  close(): void {
    this.#req.destroy();
  }

  #feed(chunk: string): void {
    const text = this.#pending + chunk;
    let start = 0;
    for (let end = text.indexOf('\n\n'); end !== -1; end = text.indexOf('\n\n', start)) {
      this.#dispatch(text.slice(start, end));
      start = end + 2;
    }
    this.#pending = text.slice(start);
  }

  #dispatch(block: string): void {
    let data: string | undefined;
    let name = 'message';
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comments++;
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'data') data = data === undefined ? value : `${data}\n${value}`;
      else if (field === 'event') name = value;
      else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
      else if (field === 'retry' && /^\d+$/.test(value)) this.retries.push(Number(value));
    }
    if (data !== undefined) this.events.push({ id: this.lastEventId, event: name, data });
  }
}

/** Opens a streaming request to `url`. */
export function connect(url: string, options?: ConnectOptions): StreamClient {
  return new StreamClient(url, options);
}

/** A GET that sends its request and then never reads a byte: the server's writes pile up. */
export function connectNeverReading(url: string): Promise<net.Socket> {
  const { hostname, port, pathname, search } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: hostname, port: Number(port) }, () => {
      socket.write(`GET ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}\r\nAccept: text/event-stream\r\n\r\n`);
      socket.pause();
      resolve(socket);
    });
    socket.on('error', reject);
  });
}

/** Resolves once `condition()` holds; rejects with `what` after `limitMs` so a broken test fails, never hangs. */
export async function waitFor(what: string, condition: () => boolean, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** `http://127.0.0.1:<port>` of a listening server. */
export function baseUrl(server: net.Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Starts a node:http server on 127.0.0.1 with an ephemeral port. */
export async function listen(handler: http.RequestListener): Promise<http.Server> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Closes a server and every connection it still holds. */
export async function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** The numbers 1..n as strings (expected data sequences). */
export function sequence(n: number, from = 1): string[] {
  return Array.from({ length: n }, (_, i) => String(from + i));
}

/** How the test server opens and subscribes each stream; both see the request URL. */
export interface ChannelRoute {
  emitter?(url: URL): SseEmitterOptions;
  subscribe?(url: URL, em: SseEmitter): SubscribeOptions;
}

/** A plain node:http server: `GET /<channel>` opens an emitter and subscribes it to that channel. */
export interface ChannelServer {
  server: http.Server;
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
  const server = await listen((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const em = new SseEmitter(route.emitter?.(url)).attach(req, res);
    served.push(em);
    unsubscribes.push(registry.channel(url.pathname.slice(1)).subscribe(em, route.subscribe?.(url, em)));
  });
  return { server, base: baseUrl(server), served, unsubscribes };
}

/**
 * A client that drops its connection on demand and reconnects with the last id it saw, as an EventSource
 * does; `events` is what all its connections received, in order.
 */
export class ResumingClient {
  /** Connections opened so far. */
  connections = 1;
  readonly #url: string;
  readonly #earlier: ReceivedEvent[] = [];
  #lastEventId: string | undefined;
  #current: StreamClient;

  constructor(url: string, options: ConnectOptions = {}) {
    this.#url = url;
    this.#lastEventId = options.lastEventId;
    this.#current = connect(url, options);
  }

  /** Everything received, over every connection. */
  get events(): ReceivedEvent[] {
    return [...this.#earlier, ...this.#current.events];
  }

  /** How many events were received, over every connection. */
  get count(): number {
    return this.#earlier.length + this.#current.events.length;
  }

  /** Drops the connection (bytes in flight are lost) and opens a new one with `Last-Event-ID`. */
  reconnect(): void {
    const old = this.#current;
    old.close();
    this.#earlier.push(...old.events);
    this.#lastEventId = old.lastEventId ?? this.#lastEventId;
    this.#current = connect(this.#url, { lastEventId: this.#lastEventId });
    this.connections++;
  }

  close(): void {
    this.#current.close();
  }
}

/** What one test opened; {@link TestBed.cleanup} (in `afterEach`) closes it all, clients first. */
export interface TestBed {
  /** Opens a streaming client, resuming after `lastEventId` when given. */
  open(url: string, lastEventId?: string): StreamClient;
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
      others.push(() => closeServer(served.server));
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

/**
 * Broadcasts "1".."100" in ten bursts of ten for a long-polling client. Every other burst waits until the client
 * has it, so at least five distinct responses carry events; the bursts in between may land while the client is
 * between two requests, and then reach it by replay.
 */
export async function longPollBursts(broadcast: (data: string) => Promise<unknown>, received: () => number) {
  for (let burst = 0; burst < 10; burst++) {
    for (let n = burst * 10 + 1; n <= burst * 10 + 10; n++) await broadcast(String(n));
    if (burst % 2 === 0) await waitFor(`burst ${burst}`, () => received() >= burst * 10 + 10);
  }
}
