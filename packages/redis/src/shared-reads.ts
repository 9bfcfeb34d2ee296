/**
 * SharedReads: concurrent calls for the same thing share one call in flight. A reconnect storm (many clients of
 * a channel resuming from the same Last-Event-ID) then costs Redis one read per channel and position, not one
 * per client.
 */
export class SharedReads<T> {
  readonly #inFlight = new Map<string, Promise<T>>();

  /** The call in flight under `key`, or a new one made by `read`; each caller gets what `copy` makes of the result. */
  run(key: string, read: () => Promise<T>, copy: (value: T) => T): Promise<T> {
    let shared = this.#inFlight.get(key);
    if (shared === undefined) {
      shared = read().finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, shared);
    }
    return shared.then(copy);
  }
}
