/**
 * The lifecycle of a registry's channels: a channel with no subscriber and no broadcast for `historyTtl` ms is
 * dropped from memory with its history. Idle channels are kept in one map in the order they became idle (a
 * broadcast moves a channel to its end), so a sweep reads only the channels it drops, plus one; one unref'd timer
 * per registry, never one per channel.
 */
import { unref } from './internal.js';

/** The longest wait between a channel's expiry and its drop: expiries closer than this share one sweep. */
const SWEEP_GRANULARITY_MS = 1_000;

/** Idle channels and the one timer that drops those idle for `ttl` ms. `C` is the channel type. */
export class ChannelLifecycle<C> {
  readonly #ttl: number;
  readonly #drop: (channel: C) => void;
  /** Idle channels → when they became idle (or were last broadcast to), oldest first. */
  readonly #idleSince = new Map<C, number>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  /** `drop` removes a channel from memory; it is called from the sweep timer. */
  constructor(ttl: number, drop: (channel: C) => void) {
    this.#ttl = ttl;
    this.#drop = drop;
  }

  /** `channel` has no subscriber (it was just made, or its last one left), or it was used while idle: its ttl restarts. */
  idle(channel: C): void {
    this.#idleSince.delete(channel);
    this.#idleSince.set(channel, Date.now());
    this.#arm();
  }

  /** `channel` has a subscriber: it is not dropped while it has one. */
  busy(channel: C): void {
    this.#idleSince.delete(channel);
  }

  /** Stops the timer for good (the registry closed): nothing is dropped any more. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#stopped) return;
    const oldest = this.#idleSince.values().next();
    if (oldest.done === true) return;
    const due = oldest.value + this.#ttl - Date.now();
    const wait = Math.max(due, Math.min(SWEEP_GRANULARITY_MS, this.#ttl));
    this.#timer = unref(setTimeout(() => this.#sweep(), wait));
  }

  #sweep(): void {
    this.#timer = undefined;
    const expired = Date.now() - this.#ttl;
    for (const [channel, since] of this.#idleSince) {
      if (since > expired) break;
      this.#idleSince.delete(channel);
      this.#drop(channel);
    }
    this.#arm();
  }
}
