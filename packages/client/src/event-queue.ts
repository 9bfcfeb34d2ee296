/**
 * One `for await` over a stream: the events that arrived for it and were not taken yet, and the stream's end
 * (done, or the error that closed it). Each iterator has its own queue; the stream decides what goes in.
 */

/** A consumer's pending `next()`. */
interface Waiter<T> {
  resolve(result: IteratorResult<T>): void;
  reject(err: unknown): void;
}

/** The queue behind one async iterator: items in order, then done or one error. */
export class EventQueue<T> implements AsyncIterableIterator<T> {
  readonly #items: T[] = [];
  #waiting: Waiter<T> | undefined;
  #ended = false;
  #error: unknown;
  readonly #onReturn: () => void;

  /** `onReturn` runs when the consumer leaves early (break, return, throw in the loop body). */
  constructor(onReturn: () => void) {
    this.#onReturn = onReturn;
  }

  /** How many items wait to be taken. */
  get size(): number {
    return this.#items.length;
  }

  /** Hands `item` to the waiting consumer, else keeps it for the next `next()`. */
  push(item: T): void {
    if (this.#waiting) this.#take().resolve({ value: item, done: false });
    else if (!this.#ended) this.#items.push(item);
  }

  /** No more items: once the kept ones are taken, `next()` rejects with `error` (once), else is done. */
  end(error?: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    if (this.#waiting) this.#settle(this.#take());
  }

  /** The next event, or done once the stream closed; rejects with the error that closed it. */
  next(): Promise<IteratorResult<T>> {
    if (this.#items.length) return Promise.resolve({ value: this.#items.shift()!, done: false });
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      if (this.#ended) this.#settle(this.#take());
    });
  }

  /** Leaving the loop closes the stream. */
  return(): Promise<IteratorResult<T>> {
    this.end();
    this.#onReturn();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #take(): Waiter<T> {
    const waiting = this.#waiting!;
    this.#waiting = undefined;
    return waiting;
  }

  #settle(waiting: Waiter<T>): void {
    const error = this.#error;
    this.#error = undefined;
    if (error) waiting.reject(error);
    else waiting.resolve({ value: undefined, done: true });
  }
}
