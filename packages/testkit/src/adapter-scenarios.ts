/**
 * Scenarios both adapters must pass, written once: each gives the route body (what a handler does with the
 * emitter the framework handed it) and the client side with its assertions. The framework tests only wire them.
 */
import * as http from 'node:http';
import { event, type SseEmitter } from '@tidings/core';
import { EventSource } from 'eventsource';
import { openStream, type SseTestClient } from './sse-client';
import { deferred, waitFor } from './wait';

/**
 * A real EventSource receives named events, reconnects after the server destroys its socket, and sends the last
 * id it saw as `Last-Event-ID`.
 */
export function reconnectScenario() {
  const lastIdsSeen: Array<string | undefined> = [];
  const firstTwoReceived = deferred();
  return {
    /** Route body: the first connection sends ids 1 and 2, then loses its socket; the next one sends id 3. */
    serve(em: SseEmitter, lastEventId: string | undefined, destroySocket: () => void): void {
      lastIdsSeen.push(lastEventId);
      if (lastIdsSeen.length === 1) {
        void em.send(event({ event: 'greet', id: '1', data: 'a' }));
        void em.send(event({ event: 'greet', id: '2', data: 'b' }));
        void firstTwoReceived.promise.then(destroySocket);
      } else {
        void em.send(event({ event: 'greet', id: '3', data: 'c' }));
      }
    },
    async run(url: string): Promise<void> {
      const received: Array<[string, string]> = [];
      const es = new EventSource(url);
      es.addEventListener('greet', (e) => {
        received.push([e.data, e.lastEventId]);
        if (received.length === 2) firstTwoReceived.resolve();
      });
      try {
        await waitFor('three greet events across a reconnect', () => received.length === 3);
      } finally {
        es.close();
      }
      expect(received).toEqual([
        ['a', '1'],
        ['b', '2'],
        ['c', '3'],
      ]);
      expect(lastIdsSeen).toEqual([undefined, '2']);
    },
  };
}

/** The one event every stream of {@link shutdownScenario} sends before it idles. */
export const HELLO = event({ event: 'hello', data: 'open' });

/** Route body for {@link shutdownScenario}: one event, then the stream stays open. */
export function serveHello(em: SseEmitter): void {
  void em.send(HELLO);
}

/**
 * Graceful shutdown with `count` open streams: `shutdown()` resolves, and every client sees its response end
 * (completely, not as a broken connection) after the event it had.
 */
export async function shutdownScenario(url: string, shutdown: () => Promise<void>, count = 200): Promise<void> {
  const clients: SseTestClient[] = [];
  for (let i = 0; i < count; i++) clients.push(await openStream(url));
  await Promise.all(clients.map((c) => c.waitForEvents(1)));
  await shutdown();
  await Promise.all(clients.map((c) => c.ended));
  expect(clients.filter((c) => c.complete).length).toBe(count);
  expect(clients.every((c) => c.events.length === 1 && c.events[0]?.event === 'hello')).toBe(true);
}

/**
 * Events go out in lock step with the client: the route sends the next event only once the client has the
 * previous one, so an event held in a compression buffer would stall the test (and fail it by its patience).
 */
export function lockstepScenario() {
  const steps = [deferred(), deferred()];
  return {
    async serve(em: SseEmitter): Promise<void> {
      await em.send(event({ event: 'step', data: 0 }));
      for (const [i, step] of steps.entries()) {
        await step.promise;
        await em.send(event({ event: 'step', data: i + 1 }));
      }
      em.complete();
    },
    /** Reads with `Accept-Encoding: gzip`; returns the response headers for the caller's own checks. */
    async run(url: string): Promise<SseTestClient> {
      const client = await openStream(url, { headers: { 'accept-encoding': 'gzip, deflate' }, keepBytes: true });
      for (const [i, step] of steps.entries()) {
        await client.waitForEvents(i + 1);
        step.resolve();
      }
      await client.ended;
      expect(client.events.map((e) => e.data)).toEqual(['0', '1', '2']);
      // `no-transform`: the compressor leaves the stream alone, so the bytes on the wire are the plain frames.
      expect(client.bytes.toString('latin1')).toBe(
        'event: step\ndata: 0\n\nevent: step\ndata: 1\n\nevent: step\ndata: 2\n\n',
      );
      return client;
    },
  };
}

/**
 * The client leaves while the handler is still working on its first value: no stream opens, and the source is
 * stopped at once (its `finally` runs after that one value) instead of being pulled for a client that is gone.
 */
export function leaveEarlyScenario() {
  const entered = deferred();
  const stopped = deferred<number>();
  return {
    /** The route's source; `res` is the Node response of the request it serves. */
    async *source(res: NodeJS.EventEmitter): AsyncGenerator<number> {
      let pulled = 0;
      try {
        entered.resolve();
        await new Promise((resolve) => res.once('close', resolve));
        for (; pulled < 100_000; pulled++) {
          yield pulled;
          await new Promise(setImmediate);
        }
      } finally {
        stopped.resolve(pulled);
      }
    },
    async run(url: string): Promise<void> {
      const req = http.get(url, { agent: false });
      req.on('error', () => {});
      await entered.promise;
      req.destroy();
      expect(await stopped.promise).toBe(0);
    },
  };
}
