/** A client that reconnects on demand, resuming with the last id it saw, and keeps what every connection got. */
import { connect, type DispatchedEvent, type SseTestClient, type StreamOptions } from './sse-client';

/**
 * Drops its connection on {@link ResumingClient.reconnect} and opens a new one with `Last-Event-ID`, as an
 * EventSource does after a network error; `dispatched` is what all its connections received, in order.
 */
export class ResumingClient {
  /** Connections opened so far. */
  connections = 1;
  readonly #earlier: DispatchedEvent[] = [];
  #current: SseTestClient;

  constructor(url: string, options?: StreamOptions) {
    this.#current = connect(url, options);
  }

  /** Everything received, over every connection. */
  get dispatched(): DispatchedEvent[] {
    return [...this.#earlier, ...this.#current.dispatched];
  }

  /** How many events were received, over every connection. */
  get count(): number {
    return this.#earlier.length + this.#current.events.length;
  }

  /** Drops the connection (bytes in flight are lost) and opens a new one with `Last-Event-ID`. */
  reconnect(): void {
    const old = this.#current;
    this.#current = old.reconnect();
    this.#earlier.push(...old.dispatched);
    this.connections++;
  }

  /** Drops the current connection. */
  close(): void {
    this.#current.close();
  }
}
