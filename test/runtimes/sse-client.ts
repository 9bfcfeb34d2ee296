/** An event-stream client for the runtime scenarios: fetch, read with eventsource-parser, leave with an abort. */
import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface SseClient {
  status: number;
  headers: Headers;
  events: EventSourceMessage[];
  /** Comments seen (keep-alive pings, the opening comment). */
  comments: number;
  /** Resolves once the server ended the stream (or the client left). */
  ended: Promise<void>;
  /** Resolves once `count` events arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs?: number): Promise<EventSourceMessage[]>;
  /** Closes the connection (the client leaves). */
  leave(): void;
}

/** Opens `url` as an event stream (with `headers`); resolves once the response head arrived. */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const ac = new AbortController();
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: ac.signal });
  const events: EventSourceMessage[] = [];
  const client: SseClient = {
    status: response.status,
    headers: response.headers,
    events,
    comments: 0,
    ended: Promise.resolve(),
    async waitFor(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (events.length < count) {
        if (Date.now() > deadline) throw new Error(`${events.length} of ${count} events after ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return events;
    },
    leave: () => ac.abort(),
  };
  const parser = createParser({
    onEvent: (message) => events.push(message),
    onComment: () => client.comments++,
  });
  client.ended = (async () => {
    if (response.body === null) return;
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body) parser.feed(decoder.decode(chunk, { stream: true }));
    } catch {
      // aborted by leave()
    }
  })();
  return client;
}

/** Polls `read` until `done(value)` holds, calling `nudge` between polls; resolves to the last value. */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  nudge: () => Promise<unknown> = async () => {},
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await nudge();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
