/**
 * A streaming HTTP client for adapter tests (Express and Fastify alike): reads an event stream over a real
 * socket as it arrives and parses it with eventsource-parser, a spec parser independent of Tidings.
 */
import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import { createGunzip } from 'node:zlib';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { waitUntil } from '../../../core/test/support/http';

export { waitUntil };

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
  /** True once the whole response arrived (the server ended it, rather than the connection breaking). */
  readonly complete: boolean;
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
        get complete() {
          return res.complete;
        },
        ended,
        waitForEvents: (count) =>
          waitUntil(() => events.length >= count, `${count} events`, arrivals, 'event').then(() => events),
        close: () => req.destroy(),
      });
    });
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
