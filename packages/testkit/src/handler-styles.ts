/**
 * The handler styles both adapters serve, written once: route bodies (what a handler does with the emitter or
 * what it returns) and what a client reads from each, as `[event, id, data]` triples.
 */
import type * as http from 'node:http';
import { Readable } from 'node:stream';
import { event, SseEmitter } from '@tidings/core';
import { openStream, type SseTestClient } from './sse-client';
import { deferred } from './wait';

/** One event as a client saw it: name, id and data (undefined where absent). */
export type Triple = [string | undefined, string | undefined, string];

/** `res.sse()` / `reply.sse()`: two events, one carrying the request's last event id, then complete. */
export function serveClock(em: SseEmitter, lastEventId: string | undefined): void {
  void em.send(event({ event: 'tick', id: '1', data: { last: lastEventId ?? null } }));
  void em.send('plain');
  em.complete();
}

/** A returned emitter that completes later, after the handler has returned. */
export function jobEmitter(): SseEmitter {
  const em = new SseEmitter();
  setImmediate(() => {
    void em.send(event({ event: 'done', data: 42 }));
    em.complete();
  });
  return em;
}

/** An async iterable: an event, a string and an object that only looks like event fields (the one rule). */
export async function* feed(): AsyncGenerator<unknown> {
  yield event({ event: 'tick', id: 'a', data: 1 });
  yield 'plain data';
  yield { id: 5 };
}

/** An object-mode Readable of an event and a string. */
export function readableFeed(): Readable {
  return Readable.from([event({ event: 'r', data: 'one' }), 'two']);
}

/** What a client reads from each style. */
export const EXPECTED = {
  clock: (last: string | null): Triple[] => [
    ['tick', '1', JSON.stringify({ last })],
    [undefined, undefined, 'plain'],
  ],
  job: [['done', undefined, '42']] as Triple[],
  feed: [
    ['tick', 'a', '1'],
    [undefined, undefined, 'plain data'],
    [undefined, undefined, '{"id":5}'],
  ] as Triple[],
  readable: [
    ['r', undefined, 'one'],
    [undefined, undefined, 'two'],
  ] as Triple[],
};

/** Reads the stream at `url` to its end; resolves to the client and the events as triples. */
export async function readAll(
  url: string,
  headers: http.OutgoingHttpHeaders = {},
): Promise<{ client: SseTestClient; events: Triple[] }> {
  const client = await openStream(url, { headers });
  await client.ended;
  return { client, events: client.events.map((e): Triple => [e.event, e.id, e.data]) };
}

/** An endless generator of numbered events; `stopped` resolves with how many it yielded once its finally ran. */
export function endless() {
  const stopped = deferred<number>();
  return {
    stopped: stopped.promise,
    async *source(): AsyncGenerator<unknown> {
      let n = 0;
      try {
        for (;;) {
          yield event({ id: String(++n), data: n });
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      } finally {
        stopped.resolve(n);
      }
    },
  };
}

/** The message of the error {@link failsAfterFirst} throws: it must reach the logs and never the client. */
export const LATE_ERROR = 'secret internal detail';

/** An iterable that fails after its first value, i.e. after the stream's first byte. */
export async function* failsAfterFirst(): AsyncGenerator<unknown> {
  yield 'one';
  throw new Error(LATE_ERROR);
}

/** The status and headers every event stream starts with. */
export function expectStreamHead(client: SseTestClient): void {
  expect(client.status).toBe(200);
  expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
  expect(client.headers['cache-control']).toBe('no-cache, no-transform');
}
