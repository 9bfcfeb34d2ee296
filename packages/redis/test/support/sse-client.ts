/** A minimal EventSource for tests: one real HTTP request, events parsed by eventsource-parser. */
import { type ClientRequest, request } from 'node:http';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface TestClient {
  /** Every event received, in order. */
  readonly events: EventSourceMessage[];
  /** The data of the received events named `message`. */
  messages(): string[];
  /** Resolves once `count` events were received (rejects if the stream ends before). */
  waitFor(count: number): Promise<void>;
  close(): void;
}

/** Opens `url` with an optional Last-Event-ID and collects what arrives. */
export function connect(url: string, lastEventId?: string): TestClient {
  const events: EventSourceMessage[] = [];
  const waiters = new Set<{ count: number; resolve(): void; reject(err: Error): void }>();
  let ended = false;
  const settle = (): void => {
    for (const waiter of waiters) {
      if (events.length >= waiter.count) waiter.resolve();
      else if (ended) waiter.reject(new Error(`stream ended after ${events.length} of ${waiter.count} events`));
      else continue;
      waiters.delete(waiter);
    }
  };
  const parser = createParser({
    onEvent: (ev) => {
      events.push(ev);
      settle();
    },
  });
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
  const req: ClientRequest = request(url, { headers, agent: false }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => parser.feed(chunk));
    res.on('close', () => {
      ended = true;
      settle();
    });
  });
  req.on('error', () => {
    ended = true;
    settle();
  });
  req.end();
  return {
    events,
    messages: () => events.filter((ev) => ev.event === undefined).map((ev) => ev.data),
    waitFor: (count) =>
      new Promise<void>((resolve, reject) => {
        waiters.add({ count, resolve, reject });
        settle();
      }),
    close: () => {
      ended = true;
      req.destroy();
    },
  };
}
