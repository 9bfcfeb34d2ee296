/**
 * A streaming HTTP client for adapter tests (Express and Fastify alike): reads an event stream over a real
 * socket as it arrives and parses it with eventsource-parser, a spec parser independent of Tidings.
 */
import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import { createGunzip } from 'node:zlib';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** How long a wait for something that should happen at once lasts before the test fails with a clear message. */
const PATIENCE_MS = 10_000;

/** One open event stream, read as it arrives. */
export interface StreamClient {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** Events dispatched so far, as a browser's EventSource would. */
  readonly events: EventSourceMessage[];
  readonly comments: string[];
  readonly retries: number[];
  /** Everything received, decoded. */
  readonly text: string;
  /** Resolves once the server ended the response (or the connection closed). */
  readonly ended: Promise<void>;
  /** Resolves once `count` events have arrived; rejects after a patience period naming what was missing. */
  waitForEvents(count: number): Promise<EventSourceMessage[]>;
  /** Drops the connection (a client going away). */
  close(): void;
}

/** Opens `url` with `headers` and resolves once the response head arrived. */
export function openStream(url: string, headers: http.OutgoingHttpHeaders = {}): Promise<StreamClient> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers: { accept: 'text/event-stream', ...headers } });
    req.once('error', reject);
    req.once('response', (res) => {
      const arrivals = new EventEmitter();
      const events: EventSourceMessage[] = [];
      const comments: string[] = [];
      const retries: number[] = [];
      const parser = createParser({
        onEvent: (ev) => {
          events.push({ ...ev });
          arrivals.emit('event');
        },
        onComment: (text) => comments.push(text),
        onRetry: (ms) => retries.push(ms),
      });
      const body = res.headers['content-encoding'] === 'gzip' ? res.pipe(createGunzip()) : res;
      body.setEncoding('utf8');
      let received = '';
      body.on('data', (text: string) => {
        received += text;
        parser.feed(text);
      });
      const ended = new Promise<void>((done) => {
        res.once('close', () => done());
        res.once('end', () => done());
      });
      req.on('error', () => {}); // an aborted or reset connection is how streams end here
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        events,
        comments,
        retries,
        get text() {
          return received;
        },
        ended,
        waitForEvents: (count) =>
          waitFor(() => events.length >= count, `${count} events`, arrivals, 'event').then(() => events),
        close: () => req.destroy(),
      });
    });
  });
}

/** Resolves when `check()` holds, re-checked whenever `source` emits `signal` (and every 10 ms). */
export function waitFor(check: () => boolean, label: string, source?: EventEmitter, signal = 'event'): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const poll = setInterval(test, 10);
    const guard = setTimeout(() => finish(new Error(`Timed out waiting for ${label}`)), PATIENCE_MS);
    source?.on(signal, test);
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
  });
}

/** A promise with its resolve function, for handing control between a test and a route. */
export function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
