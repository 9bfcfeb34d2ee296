/**
 * Channel: a named group of subscribers. A broadcast is encoded once and the same bytes are written to every
 * subscriber; with history on, a subscriber that comes back with a Last-Event-ID first gets what it missed.
 */
import type { BroadcastAdapter, StoredEvent, WireEvent } from './adapter.js';
import type { SseEmitter } from './emitter.js';
import { SseSerializeError } from './errors.js';
import { type PreparedEvent, prepareEvent, type Serializer, type SseEvent, serializeData, toEvent } from './frame.js';
import { History } from './history.js';
import { kDeliver, kOnFinish } from './symbols.js';

// biome-ignore lint/suspicious/noExplicitAny: a channel holds emitters of any event map
type AnyEmitter = SseEmitter<any>;

export interface SubscribeOptions {
  /** Only events for which this returns true reach this subscriber (decided once per event, not per byte). */
  filter?(ev: SseEvent): boolean;
  /** Replay what the client missed after its Last-Event-ID. Default true. */
  replay?: boolean;
}

export interface BroadcastOptions {
  /** Only subscribers for which this returns true get the event. */
  filter?(em: AnyEmitter): boolean;
  /** A subscriber that does not get the event (typically the sender). */
  except?: AnyEmitter;
}

/** What a channel needs from its registry. */
export interface ChannelContext {
  readonly historySize: number;
  readonly adapter: BroadcastAdapter | undefined;
  readonly serialize: Serializer | undefined;
  /** Prefix of generated ids, unique per registry instance, so ids from before a restart are never mistaken for new ones. */
  readonly idPrefix: string;
  track(em: AnyEmitter): void;
  onGap(channel: string, lastEventId: string, em: AnyEmitter): void;
}

interface Subscriber {
  readonly em: AnyEmitter;
  readonly filter: ((ev: SseEvent) => boolean) | undefined;
  /** Live events held back while this subscriber's replay is being fetched (adapter only). */
  held: PreparedEvent[] | undefined;
}

/** Per-broadcast options waiting for their event to come back from the adapter. */
const MAX_PENDING_OPTIONS = 10_000;

export class Channel {
  readonly name: string;
  readonly #ctx: ChannelContext;
  readonly #subscribers = new Set<Subscriber>();
  readonly #history: History | undefined;
  #seq = 0;
  /** The adapter subscription for this channel, while it has local subscribers. */
  #adapterReady: Promise<void> | undefined;
  readonly #pendingOptions = new Map<string, BroadcastOptions>();
  #tagSeq = 0;

  /** @internal Use `registry.channel(name)`. */
  constructor(name: string, ctx: ChannelContext) {
    this.name = name;
    this.#ctx = ctx;
    this.#history = ctx.adapter === undefined && ctx.historySize > 0 ? new History(ctx.historySize) : undefined;
  }

  /** Local subscribers. */
  get size(): number {
    return this.#subscribers.size;
  }

  /**
   * Adds `em` to the channel; it leaves by itself when it completes. With a Last-Event-ID (and `replay` not
   * false), what it missed is sent first, then live events, with no duplicate and no gap at the seam; an id
   * the history does not hold goes to the registry's `onGap`. A short-polling client is answered at once.
   * Returns a function that unsubscribes.
   */
  subscribe(em: AnyEmitter, options: SubscribeOptions = {}): () => void {
    if (em.state === 'completed') return () => {};
    this.#ctx.track(em);
    const sub: Subscriber = { em, filter: options.filter, held: undefined };
    const unsubscribe = (): void => {
      if (!this.#subscribers.delete(sub)) return;
      em[kOnFinish].delete(unsubscribe);
      if (this.#subscribers.size === 0) this.#releaseAdapter();
    };
    em[kOnFinish].add(unsubscribe);
    const polling = em.mode === 'short-poll';
    const lastEventId = options.replay === false ? undefined : em.lastEventId;
    if (this.#ctx.adapter === undefined) {
      this.#replayFromMemory(sub, lastEventId, polling);
      this.#subscribers.add(sub);
    } else {
      sub.held = [];
      this.#subscribers.add(sub);
      this.#replayFromAdapter(this.#ctx.adapter, sub, lastEventId, polling);
    }
    if (polling) em.complete();
    return unsubscribe;
  }

  /**
   * Sends an event (made with `event()`) or data (anything else) to every subscriber, encoded once.
   * With history on, an event without an id gets a monotonic one. Resolves to the id used; rejects with
   * `SSE_ERR_SERIALIZE` when the data cannot be serialized (nothing is sent) and, with an adapter, with
   * `SSE_ERR_ADAPTER_UNAVAILABLE` when it does not answer.
   */
  broadcast(value: unknown, options?: BroadcastOptions): Promise<string | undefined> {
    const adapter = this.#ctx.adapter;
    if (adapter !== undefined) return this.#publish(adapter, toEvent(value), options);
    const ev = toEvent(value);
    const id = ev.id !== undefined ? String(ev.id) : this.#history !== undefined ? this.#nextId() : undefined;
    const fields = id === ev.id || id === undefined ? ev : { ...ev, id };
    let prepared: PreparedEvent;
    try {
      prepared = prepareEvent(fields, this.#ctx.serialize);
    } catch (err) {
      if (err instanceof SseSerializeError) return Promise.reject(err);
      throw err;
    }
    if (id !== undefined) this.#history?.append({ ...prepared, id });
    this.#deliver(prepared, fields, options);
    return Promise.resolve(id);
  }

  #nextId(): string {
    return `${this.#ctx.idPrefix}-${++this.#seq}`;
  }

  /** Writes one prepared event to every subscriber it is meant for. The hot loop: no allocation per subscriber. */
  #deliver(prepared: PreparedEvent, fields: SseEvent, options: BroadcastOptions | undefined): void {
    for (const sub of this.#subscribers) {
      if (options !== undefined) {
        if (sub.em === options.except) continue;
        if (options.filter !== undefined && !options.filter(sub.em)) continue;
      }
      if (sub.filter !== undefined && !sub.filter(fields)) continue;
      if (sub.held !== undefined) sub.held.push(prepared);
      else sub.em[kDeliver](prepared);
    }
  }

  #replayFromMemory(sub: Subscriber, lastEventId: string | undefined, polling: boolean): void {
    if (this.#history === undefined) return;
    // A short-polling client with no id gets the whole history, so it learns where to continue from.
    const missed =
      lastEventId === undefined ? (polling ? this.#history.after(undefined) : []) : this.#history.after(lastEventId);
    if (missed === undefined) {
      this.#ctx.onGap(this.name, lastEventId!, sub.em);
      return;
    }
    for (const prepared of missed) if (this.#accepts(sub, prepared)) sub.em[kDeliver](prepared);
  }

  #replayFromAdapter(
    adapter: BroadcastAdapter,
    sub: Subscriber,
    lastEventId: string | undefined,
    polling: boolean,
  ): void {
    const wantsHistory = lastEventId !== undefined || polling;
    this.#ensureAdapter(adapter)
      .then(() => (wantsHistory ? adapter.history(this.name, lastEventId) : []))
      .then((missed) => {
        const held = sub.held ?? [];
        sub.held = undefined;
        if (missed === undefined) {
          this.#ctx.onGap(this.name, lastEventId!, sub.em);
          missed = [];
        }
        const replayed = new Set<string>();
        for (const stored of missed) {
          replayed.add(stored.id);
          const prepared = prepareEvent(stored);
          if (this.#accepts(sub, prepared)) sub.em[kDeliver](prepared);
        }
        // Live events that arrived during the replay and are also in it are dropped: no duplicate at the seam.
        for (const prepared of held) if (!replayed.has(prepared.id!)) sub.em[kDeliver](prepared);
        if (polling) sub.em.complete();
      })
      .catch((err: unknown) => sub.em.completeWithError(err));
  }

  #accepts(sub: Subscriber, prepared: PreparedEvent): boolean {
    return sub.filter === undefined || sub.filter(prepared);
  }

  #ensureAdapter(adapter: BroadcastAdapter): Promise<void> {
    this.#adapterReady ??= adapter.subscribe(this.name, (stored) => this.#onAdapterEvent(stored));
    return this.#adapterReady;
  }

  #releaseAdapter(): void {
    const adapter = this.#ctx.adapter;
    if (adapter === undefined || this.#adapterReady === undefined) return;
    this.#adapterReady = undefined;
    adapter.unsubscribe(this.name).catch(() => {});
  }

  #onAdapterEvent(stored: StoredEvent): void {
    const { tag, ...wire } = stored;
    let options: BroadcastOptions | undefined;
    if (tag !== undefined) {
      options = this.#pendingOptions.get(tag);
      this.#pendingOptions.delete(tag);
    }
    const prepared = prepareEvent(wire);
    this.#deliver(prepared, prepared, options);
  }

  #publish(adapter: BroadcastAdapter, ev: Readonly<SseEvent>, options: BroadcastOptions | undefined): Promise<string> {
    let wire: WireEvent;
    try {
      const data = ev.data === undefined ? undefined : serializeData(ev.data, this.#ctx.serialize);
      wire = { event: ev.event, data, retry: ev.retry, comment: ev.comment };
    } catch (err) {
      return Promise.reject(err);
    }
    if (options !== undefined && this.#subscribers.size > 0) {
      // The options are local: they apply when this node delivers the event back from the shared log.
      const tag = `${this.#ctx.idPrefix}:${++this.#tagSeq}`;
      if (this.#pendingOptions.size >= MAX_PENDING_OPTIONS) {
        this.#pendingOptions.delete(this.#pendingOptions.keys().next().value!);
      }
      this.#pendingOptions.set(tag, options);
      wire.tag = tag;
    }
    return adapter.publish(this.name, wire);
  }
}
