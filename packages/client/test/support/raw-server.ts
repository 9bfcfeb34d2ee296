/**
 * A raw node:http server on 127.0.0.1 (port 0) whose handler writes exact bytes, recording every request it
 * gets (method, path, headers, body, when), and helpers that run a client stream to its end.
 */
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SseClientError, SseClientStream } from '@tidings/client';

/** A request as the server saw it. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** ms since the server started (performance.now() based). */
  at: number;
  /** The request body, once read. */
  body: Promise<string>;
  /** Resolves when the client's side of the exchange went away (or the response ended). */
  closed: Promise<void>;
}

/** Answers request number `n` (0-based). */
export type RawHandler = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;

export interface RawServer {
  readonly url: string;
  readonly requests: SeenRequest[];
  close(): Promise<void>;
}

/** Starts a server that hands each request to `handler`. */
export async function rawServer(handler: RawHandler): Promise<RawServer> {
  const requests: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    requests.push({
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      at: performance.now(),
      body: once(req, 'end').then(() => Buffer.concat(chunks).toString('utf8')),
      closed: once(res, 'close').then(() => undefined),
    });
    handler(req, res, requests.length - 1);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Writes an event-stream response head and `body`, then ends it unless `keepOpen`. */
export function stream(res: http.ServerResponse, body: string | Buffer, keepOpen = false, headers = {}): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', ...headers });
  res.flushHeaders();
  if (body.length) res.write(body);
  if (!keepOpen) res.end();
}

/** Everything a stream reported until it closed. */
export interface Outcome {
  events: { event: string; data: unknown; id: string }[];
  errors: SseClientError[];
  reconnects: { delay: number; failures: number; error: SseClientError | undefined; at: number }[];
  /** The error onClose got (undefined: closed normally). */
  closeError: SseClientError | undefined;
}

/** How long a stream may take to close before the helper fails with a clear message. */
const PATIENCE_MS = 10_000;

/** Listens to everything `s` reports (events of any of `names`, errors, reconnects) and resolves once it closed. */
export function outcome(s: SseClientStream, names = ['message']): Promise<Outcome> {
  const result: Outcome = { events: [], errors: [], reconnects: [], closeError: undefined };
  for (const name of names) s.on(name, (_data, ev) => result.events.push(ev));
  s.onError((err) => result.errors.push(err));
  s.onReconnect((info) => result.reconnects.push({ ...info, at: performance.now() }));
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => {
      s.close();
      reject(new Error(`the stream did not close within ${PATIENCE_MS} ms`));
    }, PATIENCE_MS);
    s.onClose((err) => {
      clearTimeout(guard);
      result.closeError = err;
      resolve(result);
    });
  });
}

/** Resolves when `check()` holds (polled every 5 ms); rejects naming `label` after a while. */
export async function until(check: () => boolean, label: string): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > PATIENCE_MS) throw new Error(`timed out waiting for ${label}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
