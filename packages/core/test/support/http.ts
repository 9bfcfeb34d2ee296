/**
 * The emitter test server: a node:http server on 127.0.0.1 whose next request is answered by a fresh emitter
 * (or any handler), for core's emitter tests. Clients come from @tidings/testkit.
 */
import type * as http from 'node:http';
import { keepAliveTimerCount, SseEmitter, type SseEmitterOptions } from '@tidings/core';
import { deferred, startServer, type TestServer } from '@tidings/testkit';

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
    get server() {
      return get().server;
    },
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
