/**
 * FeedSubscription: a shared log's live feed on this node (a channel's behind a `BroadcastAdapter`, or a run's in
 * an adapter's store), subscribed while wanted: at most one subscription at a time, and a new one only once the
 * last unsubscription has settled (the adapter contract's order).
 */
import { settled } from './internal.js';

export class FeedSubscription {
  readonly #subscribe: () => Promise<void>;
  readonly #unsubscribe: () => Promise<void>;
  /** The subscription, while open. */
  #ready: Promise<void> | undefined;
  /** The last unsubscription. */
  #released: Promise<void>;

  /** `after`: an unsubscription of the same feed still under way (a dropped channel's, say). */
  constructor(subscribe: () => Promise<void>, unsubscribe: () => Promise<void>, after?: Promise<void>) {
    this.#subscribe = subscribe;
    this.#unsubscribe = unsubscribe;
    this.#released = after ?? settled;
  }

  /** Subscribes unless subscribed; resolves once live. A failed subscription is not kept: the next call tries again. */
  listen(): Promise<void> {
    if (this.#ready === undefined) {
      const ready = this.#released.then(this.#subscribe);
      ready.catch(() => {
        if (this.#ready === ready) this.#ready = undefined;
      });
      this.#ready = ready;
    }
    return this.#ready;
  }

  /** Unsubscribes (once the subscription has settled); resolves when that is done. */
  release(): Promise<void> {
    const ready = this.#ready;
    if (ready !== undefined) {
      this.#ready = undefined;
      this.#released = ready.then(this.#unsubscribe).catch(() => {});
    }
    return this.#released;
  }
}
