/**
 * The stream `connect()` returns: the public surface (listeners, async iteration, state, close) and the loop
 * that runs attempts one after another as the reconnect policy says.
 */
import { type AttemptContext, attempt, MAX_TIMER } from './connection.js';
import { SseClientError } from './errors.js';
import { EventQueue } from './event-queue.js';
import {
  type AnyEvent,
  CLIENT_DEFAULTS,
  type ConnectOptions,
  type EventData,
  type EventMap,
  parseData,
  type ReconnectInfo,
  type SseClientEvent,
} from './options.js';
import { ReconnectPolicy } from './reconnect.js';
import { RequestPlan } from './request.js';

/** 'connecting' before each response opens (and while waiting to reconnect), 'open' while one streams, 'closed' for good. */
export type ReadyState = 'connecting' | 'open' | 'closed';

type Listener = (...args: never[]) => void;

/** How many events the stream keeps for a first `for await` that has not started yet. */
export const EARLY_EVENTS = 1000;

/** Rethrows `err` on its own: a user callback's failure neither stops the stream nor goes unseen. */
function rethrow(err: unknown): void {
  queueMicrotask(() => {
    throw err;
  });
}

/** A live SSE connection that reconnects until closed; iterate it, or listen with `on()`. */
export class SseClientStream<Events extends EventMap = EventMap> implements AsyncIterable<AnyEvent<Events>> {
  #state: ReadyState = 'connecting';
  #lastEventId: string;
  readonly #options: ConnectOptions;
  readonly #listeners = new Map<string, Set<Listener>>();
  readonly #queues = new Set<EventQueue<AnyEvent<Events>>>();
  /** The first loop's queue, filled from the start so `connect(); await x; for await` misses nothing (bounded). */
  #early: EventQueue<AnyEvent<Events>> | undefined = this.#queue();
  #controller = new AbortController();
  #wake: (() => void) | undefined;
  readonly #onAbort = (): void => this.close();

  /** Starts connecting at once (on the next microtask, so listeners added now see everything). */
  constructor(url: string | URL, options: ConnectOptions = {}) {
    this.#options = options;
    this.#lastEventId = options.lastEventId ?? '';
    const { signal } = options;
    if (signal?.aborted) {
      this.#finish(undefined);
      return;
    }
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    const plan = new RequestPlan(url, options);
    queueMicrotask(() => this.#run(plan));
  }

  /** 'connecting', 'open' or 'closed'. */
  get readyState(): ReadyState {
    return this.#state;
  }

  /** The id of the last event (as the standard tracks it): sent as Last-Event-ID on every reconnect. */
  get lastEventId(): string {
    return this.#lastEventId;
  }

  /** Calls `cb(data, event)` for each event named `name` (any name: 'message' for unnamed ones). Returns a function that removes it. */
  on<N extends (keyof Events & string) | (string & {})>(
    name: N,
    cb: (data: EventData<Events, N>, event: SseClientEvent<N, EventData<Events, N>>) => void,
  ): () => void {
    return this.#listen(`e:${name}`, cb);
  }

  /** Calls `cb(response)` each time a response opens as an event stream. Returns a function that removes it. */
  onOpen(cb: (response: Response) => void): () => void {
    return this.#listen('open', cb);
  }

  /** Calls `cb(error)` on each failure, passing or final (then `readyState` is already 'closed'). Returns a remover. */
  onError(cb: (error: SseClientError) => void): () => void {
    return this.#listen('error', cb);
  }

  /** Calls `cb({ delay, failures, error })` before each wait for a reconnect. Returns a function that removes it. */
  onReconnect(cb: (info: ReconnectInfo) => void): () => void {
    return this.#listen('reconnect', cb);
  }

  /** Calls `cb(error)` once when the stream closes for good; `error` is undefined when it ended normally or by close(). */
  onClose(cb: (error: SseClientError | undefined) => void): () => void {
    return this.#listen('close', cb);
  }

  /** Closes the stream for good: aborts the request in flight, sends no other. Idempotent; never throws. */
  close(): void {
    this.#finish(undefined);
  }

  /**
   * The first `for await` gets every event since connect() (up to EARLY_EVENTS of them kept before it starts);
   * a later one gets the events from its start. Leaving a loop closes the stream; a final error is thrown.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<AnyEvent<Events>> {
    const queue = this.#early ?? this.#queue();
    this.#early = undefined;
    if (this.#state === 'closed') queue.end(); // a queue that saw the close keeps its events and error
    return queue;
  }

  #queue(): EventQueue<AnyEvent<Events>> {
    const queue = new EventQueue<AnyEvent<Events>>(() => this.close());
    this.#queues.add(queue);
    return queue;
  }

  #listen(key: string, cb: Listener): () => void {
    let set = this.#listeners.get(key);
    if (!set) {
      set = new Set();
      this.#listeners.set(key, set);
    }
    set.add(cb);
    return () => set.delete(cb);
  }

  #emit(key: string, ...args: unknown[]): void {
    for (const cb of [...(this.#listeners.get(key) ?? [])]) {
      try {
        (cb as (...a: unknown[]) => void)(...args);
      } catch (err) {
        rethrow(err);
      }
    }
  }

  /** The parser's dispatch: the id counts even when no event fires. */
  readonly #dispatch = (name: string, data: string | undefined, id: string): void => {
    if (this.#state === 'closed') return;
    this.#lastEventId = id;
    if (data === undefined) return;
    let value: unknown;
    try {
      value = (this.#options.parse ?? parseData)(data, name);
    } catch (err) {
      const message = `parse() threw on a "${name}" event (see cause), so it was skipped: make parse accept every payload the server sends.`;
      this.#emit('error', new SseClientError('SSE_CLIENT_ERR_PARSE', message, undefined, err));
      return;
    }
    const event = { event: name, data: value, id } as AnyEvent<Events>;
    this.#emit(`e:${name}`, value, event);
    for (const queue of this.#queues) queue.push(event);
    // Nobody iterates (on() only, most likely): stop keeping events for a loop that may never come.
    if (this.#early && this.#early.size > EARLY_EVENTS) {
      this.#queues.delete(this.#early);
      this.#early = undefined;
    }
  };

  async #run(plan: RequestPlan): Promise<void> {
    const options = this.#options;
    const policy = new ReconnectPolicy(options.retry, typeof options.headers === 'function');
    const context: Omit<AttemptContext, 'controller' | 'lastEventId'> = {
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      stallTimeout: options.stallTimeout ?? CLIENT_DEFAULTS.stallTimeout,
      open: (response) => {
        this.#state = 'open';
        this.#emit('open', response);
      },
      dispatch: this.#dispatch,
      retry: (ms) => {
        policy.serverRetry = ms;
      },
    };
    while (!this.#isClosed()) {
      this.#controller = new AbortController();
      const result = await attempt(plan, { ...context, controller: this.#controller, lastEventId: this.#lastEventId });
      if (this.#isClosed()) return;
      const next = policy.next(result, plan.resendable);
      if (typeof next !== 'number') return this.#finish(next.stop);
      this.#state = 'connecting';
      if (result.error) this.#emit('error', result.error);
      this.#emit('reconnect', { delay: next, failures: policy.failures, error: result.error } satisfies ReconnectInfo);
      // A listener may have closed the stream (close(), or aborting the signal): then there is no wait to start.
      if (this.#isClosed()) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(next, MAX_TIMER));
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** A method, not a field read: TypeScript keeps no narrowing of it across the awaits of #run. */
  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  /** The one place the stream ends: state, request, timers, listeners, iterators. */
  #finish(error: SseClientError | undefined): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#controller.abort();
    this.#wake?.();
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
    if (error) this.#emit('error', error);
    this.#emit('close', error);
    for (const queue of this.#queues) queue.end(error);
    this.#queues.clear();
  }
}

/**
 * Opens an SSE stream to `url` with fetch and keeps it open (reconnecting) until close(), the signal, a final
 * error, a 204 or a run's end. `Events` is the server's event map. Throws nothing: failures go to onError
 * and onClose (and out of `for await` when final).
 */
export function connect<Events extends EventMap = EventMap>(
  url: string | URL,
  options?: ConnectOptions,
): SseClientStream<Events> {
  return new SseClientStream<Events>(url, options);
}
