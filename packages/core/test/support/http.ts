/**
 * Real sockets for emitter tests: a node:http server on 127.0.0.1, a streaming client that reads what
 * arrives as it arrives, and a raw client that sends a request and never reads (a stalled browser).
 */
import { EventEmitter, once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import { keepAliveTimerCount, SseEmitter, type SseEmitterOptions } from '@tidings/core';
import { type ParsedStream, parseStream } from './parse';

/** How long a test waits for something that should happen at once, before it fails with a clear message. */
const PATIENCE_MS = 10_000;

/** A node:http server listening on an ephemeral loopback port. */
export interface TestServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** Starts a node:http server with `handler` on 127.0.0.1. */
export async function startServer(handler: http.RequestListener): Promise<TestServer> {
  const server = http.createServer(handler);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Resolves when `check()` holds, re-checked whenever `source` emits `signal`; rejects with `label` otherwise. */
export function waitUntil(
  check: () => boolean,
  label: string,
  source?: NodeJS.EventEmitter,
  signal = 'data',
): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const poll = setInterval(test, 10);
    const guard = setTimeout(() => finish(new Error(`Timed out waiting for: ${label}`)), PATIENCE_MS);
    function test(): void {
      if (check()) finish();
    }
    function finish(err?: Error): void {
      clearInterval(poll);
      clearTimeout(guard);
      source?.off(signal, test);
      if (err) reject(err);
      else resolve();
    }
    source?.on(signal, test);
  });
}

/** A client reading an event stream as it arrives. */
export interface StreamClient {
  /** Resolves with the response once its headers arrived. */
  readonly response: Promise<http.IncomingMessage>;
  /** Everything read so far. */
  readonly body: string;
  /** Resolves when the server ended the response (or the connection closed). */
  readonly ended: Promise<void>;
  /** What a spec parser makes of the body so far. */
  parsed(): ParsedStream;
  /** Resolves once `check` holds for what arrived. */
  waitFor(check: (client: StreamClient) => boolean, label: string): Promise<void>;
  /** Drops the connection, as a closed browser tab does. */
  close(): void;
}

/** Opens `path` on `server` with http.get (a fresh socket, no agent pooling). */
export function openStream(server: TestServer, path = '/', headers: http.OutgoingHttpHeaders = {}): StreamClient {
  let body = '';
  const data = new EventEmitter();
  const req = http.get(`${server.url}${path}`, { agent: false, headers });
  const response = new Promise<http.IncomingMessage>((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
  const ended = new Promise<void>((resolve) => {
    req.once('close', resolve);
    req.once('error', () => resolve());
  });
  response.then(
    (res) => {
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        data.emit('data');
      });
      res.on('error', () => {});
    },
    () => {},
  );
  const client: StreamClient = {
    response,
    get body() {
      return body;
    },
    ended,
    parsed: () => parseStream(body),
    waitFor: (check, label) => waitUntil(() => check(client), label, data),
    close: () => req.destroy(),
  };
  return client;
}

/**
 * A raw TCP client that sends a GET and then never reads: the server's writes pile up in the kernel's
 * socket buffers and then in Node's, as with a frozen client. `resume()` starts reading.
 */
export async function stalledClient(server: TestServer, path = '/'): Promise<net.Socket> {
  const socket = net.connect(server.port, '127.0.0.1');
  await once(socket, 'connect');
  socket.pause();
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
  return socket;
}

/** A promise with its resolve exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** An emitter served on a test server, with the response it writes to. */
export interface Served {
  em: SseEmitter;
  req: http.IncomingMessage;
  res: http.ServerResponse;
}

/** A test server whose next request is answered by whatever `serve` or `handle` set up last. */
export interface EmitterServer extends TestServer {
  /** Answers the next request with a fresh emitter (keep-alive off unless given); resolves once attached. */
  serve(options?: SseEmitterOptions, beforeAttach?: (em: SseEmitter) => void): Promise<Served>;
  /** Answers the next requests with `handler`. */
  handle(handler: http.RequestListener): void;
}

/** Starts a server for emitter tests. */
export async function startEmitterServer(): Promise<EmitterServer> {
  let current: http.RequestListener = (_req, res) => res.writeHead(500).end();
  const server = await startServer((req, res) => current(req, res));
  return {
    ...server,
    handle: (handler) => {
      current = handler;
    },
    serve: (options = {}, beforeAttach) => {
      const attached = deferred<Served>();
      current = (req, res) => {
        const em = new SseEmitter({ keepAlive: false, ...options });
        beforeAttach?.(em);
        attached.resolve({ em: em.attach(req, res), req, res });
      };
      return attached.promise;
    },
  };
}

/**
 * For a test file: starts an emitter server before its tests and closes it after them, and checks after
 * each test that no keep-alive timer outlived it. Use the returned server inside tests only.
 */
export function useEmitterServer(): EmitterServer {
  let started: EmitterServer | undefined;
  const get = (): EmitterServer => {
    if (started === undefined) throw new Error('The emitter server starts in beforeAll: use it inside tests.');
    return started;
  };
  beforeAll(async () => {
    started = await startEmitterServer();
  });
  afterEach(() => {
    expect(keepAliveTimerCount()).toBe(0);
  });
  afterAll(() => started?.close());
  return {
    get port() {
      return get().port;
    },
    get url() {
      return get().url;
    },
    close: () => get().close(),
    serve: (options, beforeAttach) => get().serve(options, beforeAttach),
    handle: (handler) => get().handle(handler),
  };
}

/** Resolves after the callbacks and I/O of the next two event-loop turns have run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}
