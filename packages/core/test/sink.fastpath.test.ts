/**
 * The sink's fast path: on a plain chunked HTTP/1.1 response, frames go straight to the socket as chunks.
 * Read the raw bytes off a real socket and check the framing, that a broadcast writes one shared chunk, that
 * backpressure still works, and that anything which could tell the difference (compression or any middleware
 * that replaced `res.write`, HTTP/1.0) keeps the http layer.
 */
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import { ChannelRegistry, encodeEvent, event, SseEmitter } from '@tidings/core';

type Middleware = (req: http.IncomingMessage, res: http.ServerResponse, next: () => void) => void;
// The compression middleware (Express's, connect-style), as an app would mount it. It ships no types.
const compression = require('compression') as () => Middleware;

const servers: http.Server[] = [];
const sockets: net.Socket[] = [];

afterEach(async () => {
  jest.restoreAllMocks();
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function listen(handler: http.RequestListener): Promise<number> {
  const server = http.createServer(handler);
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** A raw client: sends the request line by hand and keeps every byte that comes back. */
function rawGet(port: number, version = '1.1') {
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  let bytes = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    bytes = Buffer.concat([bytes, chunk]);
  });
  socket.write(`GET /events HTTP/${version}\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
  const head = () => bytes.toString('latin1', 0, Math.max(0, bytes.indexOf('\r\n\r\n')));
  const body = () => bytes.subarray(bytes.indexOf('\r\n\r\n') + 4).toString('utf8');
  return {
    socket,
    head,
    body,
    /** Resolves once the body ends with `tail` (or the socket closed). */
    async until(check: () => boolean, label: string) {
      const deadline = Date.now() + 10_000;
      while (!check()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}; got ${JSON.stringify(body())}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
  };
}

const chunk = (frame: string) => `${Buffer.byteLength(frame).toString(16)}\r\n${frame}\r\n`;
const LAST_CHUNK = '0\r\n\r\n';

describe('sink fast path (chunked HTTP/1.1 straight to the socket)', () => {
  it('writes each frame as one chunk on the socket, and end() still writes the last chunk', async () => {
    const frames = [encodeEvent({ data: 'one' }), encodeEvent({ id: '7', event: 'add', data: { a: 1 } })];
    let socketWrites: unknown[][] = [];
    const port = await listen((req, res) => {
      const em = new SseEmitter({ keepAlive: false }).attach(req, res);
      const spy = jest.spyOn(res.socket as net.Socket, 'write');
      void em.send('one');
      void em.send(event({ id: '7', event: 'add', data: { a: 1 } }));
      socketWrites = spy.mock.calls.map((call) => [...call]);
      em.complete();
    });
    const client = rawGet(port);
    await client.until(() => client.body().endsWith(LAST_CHUNK), 'the last chunk');

    expect(client.head()).toMatch(/\r\ntransfer-encoding: chunked/i);
    expect(client.body()).toBe(frames.map(chunk).join('') + LAST_CHUNK);
    // One socket write per frame, each a whole chunk: nothing went through res.write's four corked writes.
    expect(socketWrites.map(([buf]) => (buf as Buffer).toString('utf8'))).toEqual(frames.map(chunk));
  });

  it('writes one shared chunk Buffer to every subscriber of a broadcast', async () => {
    const registry = new ChannelRegistry({ history: 0 });
    const channel = registry.channel('news');
    const spies: jest.SpyInstance[] = [];
    const port = await listen((req, res) => {
      channel.subscribe(new SseEmitter({ keepAlive: false }).attach(req, res));
      spies.push(jest.spyOn(res.socket as net.Socket, 'write'));
    });
    const clients = [rawGet(port), rawGet(port)];
    await clients[0]!.until(() => channel.size === 2, 'two subscribers');

    await channel.broadcast('hello');
    const expected = chunk(encodeEvent({ data: 'hello' }));
    for (const client of clients) await client.until(() => client.body() === expected, 'the broadcast chunk');
    const [first, second] = spies.map((spy) => spy.mock.calls);
    expect(first).toHaveLength(1);
    expect(first?.[0]?.[0]).toBe(second?.[0]?.[0]); // the very same Buffer
    await registry.close();
  });

  it('keeps backpressure: a send waits for the socket to drain, then everything arrives in order', async () => {
    const data = 'x'.repeat(64 * 1024);
    const frame = chunk(encodeEvent({ data }));
    let pending: Promise<void> | undefined;
    let sent = 0;
    let em: SseEmitter | undefined;
    const port = await listen(async (req, res) => {
      em = new SseEmitter({ keepAlive: false, maxBufferedBytes: 256 * 1024 * 1024 }).attach(req, res);
      // Send until one send is not accepted at once: the socket buffer is past its high-water mark.
      for (sent = 1; sent <= 2000; sent++) {
        let settled = false;
        const p = em.send(data).then(() => {
          settled = true;
        });
        await new Promise((resolve) => setImmediate(resolve));
        if (!settled) {
          pending = p;
          break;
        }
      }
    });
    const client = rawGet(port);
    client.socket.pause();
    await client.until(() => pending !== undefined || sent > 2000, 'a send that waits for drain');
    expect(pending).toBeDefined();
    client.socket.resume();
    await pending;
    em!.complete();
    await client.until(() => client.body().endsWith(LAST_CHUNK), 'the last chunk');
    expect(client.body()).toBe(frame.repeat(sent) + LAST_CHUNK);
  });

  it('leaves a response with compression middleware to the http layer, which sees every frame', async () => {
    const seen: string[] = [];
    let flushed = 0;
    // A body-watching middleware (metrics, logging) behind compression: it must see every frame.
    const watch: Middleware = (_req, res, next) => {
      const write = res.write;
      res.write = function (this: http.ServerResponse, ...args: unknown[]) {
        seen.push(String(args[0]));
        return (write as (...a: unknown[]) => boolean).apply(this, args);
      } as typeof res.write;
      next();
    };
    const compress = compression();
    const port = await listen((req, res) => {
      compress(req, res, () =>
        watch(req, res, () => {
          const flushable = res as http.ServerResponse & { flush(): void };
          const flush = flushable.flush;
          flushable.flush = function (this: http.ServerResponse) {
            flushed++;
            flush.call(this);
          };
          const em = new SseEmitter({ keepAlive: false }).attach(req, res);
          void em.send('a');
          void em.send('b');
          em.complete();
        }),
      );
    });
    const client = rawGet(port);
    await client.until(() => client.body().endsWith(LAST_CHUNK), 'the last chunk');

    const frames = [encodeEvent({ data: 'a' }), encodeEvent({ data: 'b' })];
    expect(seen).toEqual(frames);
    expect(flushed).toBeGreaterThanOrEqual(2);
    // `no-transform` keeps compression from gzipping the stream; the bytes are the plain chunked frames.
    expect(client.head()).not.toMatch(/content-encoding/i);
    expect(client.body()).toBe(frames.map(chunk).join('') + LAST_CHUNK);
  });

  it('answers an HTTP/1.0 client through the http layer with a plain, close-delimited body', async () => {
    const frames = [encodeEvent({ data: 'old' }), encodeEvent({ data: 'client' })];
    const port = await listen((req, res) => {
      const em = new SseEmitter({ keepAlive: false }).attach(req, res);
      void em.send('old');
      void em.send('client');
      em.complete();
    });
    const client = rawGet(port, '1.0');
    await once(client.socket, 'close');
    expect(client.head()).not.toMatch(/transfer-encoding/i);
    expect(client.body()).toBe(frames.join(''));
  });
});
