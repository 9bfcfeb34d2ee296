/**
 * Channel: a named group of subscribers. A broadcast is encoded once and the same bytes are written to every
 * subscriber; with history on, a subscriber that comes back with a Last-Event-ID first gets what it missed,
 * then live events, with no duplicate and no gap at the seam.
 */
import type { BroadcastAdapter, StoredEvent, WireEvent } from './adapter.js';
import { EMITTER_DEFAULTS, type SseEmitter } from './emitter.js';
import { SseInvalidOptionError, SseSerializeError, SseSlowClientError } from './errors.js';
import { type PreparedEvent, prepareEvent, type Serializer, type SseEvent, serializeData, toEvent } from './frame.js';
import { History } from './history.js';
import { kCounters, kDeliver, kDrained, kGap, kOffFinish, kOnFinish, kOnOpen } from './symbols.js';

// biome-ignore lint/suspicious/noExplicitAny: a channel holds emitters of any event map
type AnyEmitter = SseEmitter<any>;

/** Options of {@link Channel.subscribe}. */
export interface SubscribeOptions {
  /**
   * Only events for which this returns true reach this subscriber; it runs once per event and subscriber, on
   * live and replayed events alike, and never causes a second encoding. It sees the event's fields: `data` as
   * broadcast (the value itself) without an adapter, as serialized text with one (events come from the log).
   */
  filter?(ev: Readonly<SseEvent>): boolean;
  /** Replay what the client missed after its Last-Event-ID. Default true. */
  replay?: boolean;
}

/** Options of {@link Channel.broadcast}. */
export interface BroadcastOptions {
  /**
   * Only subscribers for which this returns true get the event. It is kept with the event in the history and
   * asked again about a client that gets the event by replay, so a targeted event never reaches anyone else.
   * Not available with an adapter (a function cannot travel to other servers): use a channel per audience.
   */
  filter?(em: AnyEmitter): boolean;
  /**
   * A subscriber that does not get the event (typically the sender). Live delivery only: the same client
   * reconnecting later is a new emitter and gets the event by replay like anyone else.
   */
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

/** One broadcast as a channel keeps it: encoded once, plus what the filters look at. */
interface Entry {
  readonly prepared: PreparedEvent;
  /** The fields subscriber filters see. */
  readonly fields: Readonly<SseEvent>;
  /** The broadcast's `filter`, asked again about a client that gets this entry by replay. */
  readonly audience: ((em: AnyEmitter) => boolean) | undefined;
}

interface Subscriber {
  readonly em: AnyEmitter;
  readonly unsubscribe: () => void;
  readonly filter: ((ev: Readonly<SseEvent>) => boolean) | undefined;
  /**
   * Live entries held back until the subscriber has caught up: while it is pending (its Last-Event-ID is not
   * known yet), or while its replay is fetched from an adapter. Undefined once it receives live events directly.
   */
  held: Entry[] | undefined;
  heldBytes: number;
  /**
   * After a replay, what it sent (by {@link Channel.#replayKey}): a live event among them is dropped. Live events
   * come in log order, so the first one that is not among them ends this check for good.
   */
  replayed: Set<unknown> | undefined;
}

/** Most bytes held for one subscriber that has not caught up; past it the client is closed as slow. */
const MAX_HELD_BYTES = EMITTER_DEFAULTS.maxBufferedBytes;
/** Most `except` options waiting for their event to come back from the adapter. */
const MAX_PENDING_EXCEPTS = 10_000;

/**
 * A named group of streams, made by {@link ChannelRegistry.channel}: each broadcast is encoded once and the same
 * bytes go to every subscriber; with history on, a subscriber that resumes gets what it missed first.
 */
export class Channel {
  /** The name the channel was created with. */
  readonly name: string;
  readonly #ctx: ChannelContext;
  /** Subscribers by emitter: an emitter subscribed twice is still one subscriber. */
  readonly #subscribers = new Map<AnyEmitter, Subscriber>();
  readonly #history: History<Entry> | undefined;
  /** Last generated id number. */
  #seq = 0;
  /** The adapter subscription for this channel, while it has local subscribers. */
  #adapterReady: Promise<void> | undefined;
  /** The last adapter unsubscription: a new subscription is only sent once it is done. */
  #adapterReleased: Promise<void> = Promise.resolve();
  /** `except` options of broadcasts published through the adapter, by tag, until the event comes back. */
  readonly #exceptByTag = new Map<string, AnyEmitter>();
  #tagSeq = 0;

  /** @internal Use `registry.channel(name)`. */
  constructor(name: string, ctx: ChannelContext) {
    this.name = name;
    this.#ctx = ctx;
    this.#history = ctx.adapter === undefined && ctx.historySize > 0 ? new History<Entry>(ctx.historySize) : undefined;
  }

  /** Local subscribers. */
  get size(): number {
    return this.#subscribers.size;
  }

  /**
   * Adds `em` to the channel; it leaves by itself when it completes. With a Last-Event-ID (and `replay` not
   * false), what it missed is sent first, then live events, with no duplicate and no gap at the seam; an id
   * the history does not hold goes to the registry's `onGap` and nothing is replayed. A short-polling client
   * is answered at once (`{ events, lastEventId }`); a long-polling one when its first events are out.
   * An emitter not yet attached is caught up when it opens (live events meanwhile are held, bounded).
   * After `registry.close()`, `em` is completed at once. Returns a function that unsubscribes; subscribing an
   * emitter that is already subscribed changes nothing and returns the same function.
   */
  subscribe(em: AnyEmitter, options: SubscribeOptions = {}): () => void {
    this.#ctx.track(em);
    const existing = this.#subscribers.get(em);
    if (existing !== undefined) return existing.unsubscribe;
    if (em.state === 'completed') return () => {};
    const replay = options.replay !== false;
    // Made only for an emitter still pending: an open stream holds no closure it will never run.
    let start: (() => void) | undefined;
    const unsubscribe = (): void => {
      em[kOffFinish](unsubscribe);
      if (start !== undefined) em[kOnOpen].delete(start);
      if (this.#subscribers.get(em) !== sub) return;
      this.#subscribers.delete(em);
      if (this.#subscribers.size === 0) this.#releaseAdapter();
    };
    const sub: Subscriber = {
      em,
      unsubscribe,
      filter: options.filter,
      held: undefined,
      heldBytes: 0,
      replayed: undefined,
    };
    em[kOnFinish](unsubscribe);
    if (em.state === 'pending') {
      this.#hold(sub);
      start = () => this.#start(sub, replay);
      em[kOnOpen].add(start);
    } else {
      this.#start(sub, replay);
    }
    return unsubscribe;
  }

  /**
   * Sends an event (made with `event()`) or data (anything else) to every subscriber, encoded once.
   * With history on, an event without an id gets a monotonic one; with an adapter, the adapter's log gives the
   * id (an id you set is not used). Resolves to the id used (undefined without history or id). Rejects with
   * `SSE_ERR_SERIALIZE` when the data cannot be serialized (nothing is sent) and, with an adapter, with
   * `SSE_ERR_ADAPTER_UNAVAILABLE` when it does not answer; rejections are pre-handled, so an un-awaited
   * broadcast never crashes the process. Throws `SSE_ERR_INVALID_OPTION` for a `filter` with an adapter.
   */
  broadcast(value: unknown, options: BroadcastOptions = {}): Promise<string | undefined> {
    const ev = toEvent(value);
    const adapter = this.#ctx.adapter;
    if (adapter !== undefined) return this.#publish(adapter, ev, options);
    const generated = ev.id === undefined && this.#history !== undefined;
    const id = generated ? `${this.#ctx.idPrefix}-${this.#seq + 1}` : ev.id === undefined ? undefined : String(ev.id);
    // A copy: the history keeps it for replay filters, and a builder may be changed and broadcast again.
    const fields: SseEvent = id === undefined ? { ...ev } : { ...ev, id };
    let prepared: PreparedEvent;
    try {
      prepared = prepareEvent(fields, this.#ctx.serialize);
    } catch (err) {
      if (err instanceof SseSerializeError) return handled(Promise.reject(err));
      throw err;
    }
    if (generated) this.#seq++;
    const entry: Entry = { prepared, fields, audience: options.filter };
    if (id !== undefined) this.#history?.append(id, entry);
    this.#deliver(entry, options.except);
    return Promise.resolve(id);
  }

  /** Writes one entry to every subscriber it is meant for. The hot loop: no encoding, no allocation per subscriber. */
  #deliver(entry: Entry, except: AnyEmitter | undefined): void {
    for (const sub of this.#subscribers.values()) {
      if (sub.em === except || !accepts(sub, entry)) continue;
      if (sub.held !== undefined) this.#holdEntry(sub, entry);
      else if (sub.replayed === undefined || this.#isNew(sub, entry)) sub.em[kDeliver](entry.prepared);
    }
  }

  /** Starts holding live entries for `sub` (and, with an adapter, listening to the channel's log). */
  #hold(sub: Subscriber): void {
    sub.held ??= [];
    this.#subscribers.set(sub.em, sub);
    const adapter = this.#ctx.adapter;
    // A failure here reaches the subscriber when it starts (the subscription is retried then).
    if (adapter !== undefined) this.#ensureAdapter(adapter).catch(() => {});
  }

  #holdEntry(sub: Subscriber, entry: Entry): void {
    sub.heldBytes += entry.prepared.frame.length;
    if (sub.heldBytes <= MAX_HELD_BYTES) {
      sub.held!.push(entry);
      return;
    }
    const counters = sub.em[kCounters];
    if (counters !== undefined) counters.slowClosed++;
    sub.em.completeWithError(
      new SseSlowClientError(
        `More than ${MAX_HELD_BYTES} bytes of live events arrived on channel "${this.name}" before the client had ` +
          'caught up (its replay was still being sent, or the emitter was not attached yet: attach it right after ' +
          'subscribing it); it can resume with Last-Event-ID.',
      ),
    );
  }

  /** The emitter is open: its Last-Event-ID and mode are known. Replays, then sends live events. */
  #start(sub: Subscriber, replay: boolean): void {
    const em = sub.em;
    if (em.state !== 'open') return;
    const lastEventId = replay ? em.lastEventId : undefined;
    const polling = em.mode === 'short-poll';
    const adapter = this.#ctx.adapter;
    if (adapter === undefined) this.#startLocal(sub, lastEventId, polling);
    else this.#startRemote(adapter, sub, lastEventId, polling);
  }

  #startLocal(sub: Subscriber, lastEventId: string | undefined, polling: boolean): void {
    // A new streaming client starts live; a short-polling one with no id gets the whole history, so it learns
    // where to continue from.
    let missed: readonly Entry[] = [];
    if (lastEventId !== undefined || polling) {
      const found =
        this.#history === undefined ? (lastEventId === undefined ? [] : undefined) : this.#history.after(lastEventId);
      if (found === undefined) this.#gap(sub.em, lastEventId!);
      else missed = found;
    }
    if (polling) {
      this.#catchUp(sub, missed, () => sub.em.complete()); // a JSON answer takes it all at once
      return;
    }
    // Live events arriving while the replay is paced by the client's reading are held, then sent.
    if (missed.length > 0) this.#hold(sub);
    this.#catchUp(sub, missed, () => {
      if (sub.em.state === 'open') this.#subscribers.set(sub.em, sub);
    });
  }

  #startRemote(adapter: BroadcastAdapter, sub: Subscriber, lastEventId: string | undefined, polling: boolean): void {
    // A short-polling client needs the log only; a streaming one listens first, then reads the log, so that
    // every event is in the log read, among the held live events, or both (dropped once: same log id).
    if (!polling) this.#hold(sub);
    const listening = polling ? Promise.resolve() : this.#ensureAdapter(adapter);
    listening
      .then(() => (lastEventId !== undefined || polling ? adapter.history(this.name, lastEventId) : []))
      .then((stored) => {
        if (sub.em.state !== 'open') return;
        if (stored === undefined) this.#gap(sub.em, lastEventId!);
        // This node's live feed may be behind the client (it resumes here after reading ahead elsewhere): the
        // held events up to its Last-Event-ID are ones it has. `history` resolves once they are held.
        const seen = stored === undefined ? -1 : (sub.held?.findIndex((e) => e.prepared.id === lastEventId) ?? -1);
        if (seen !== -1) sub.held!.splice(0, seen + 1);
        this.#catchUp(sub, (stored ?? []).map(fromLog), () => {
          if (polling) sub.em.complete();
        });
      })
      .catch((err: unknown) => sub.em.completeWithError(err));
  }

  /**
   * Sends `missed` as fast as the client reads it (waiting for drain whenever it falls behind, so a long replay
   * never piles up past `maxBufferedBytes`), then the live entries held meanwhile that were not among them, then
   * calls `done`: no duplicate, no gap. A log read can also run ahead of the live feed (an event read from the
   * log whose live copy is still on its way): live events the replay sent keep being dropped until the first
   * one it did not send.
   */
  #catchUp(sub: Subscriber, missed: readonly Entry[], done: () => void): void {
    const em = sub.em;
    let next = 0;
    const resume = (): void => {
      while (next < missed.length) {
        if (em.state !== 'open') return;
        const entry = missed[next++]!;
        if (accepts(sub, entry) && !em[kDeliver](entry.prepared) && next < missed.length) {
          void em[kDrained]().then(resume);
          return;
        }
      }
      this.#release(sub, missed);
      done();
    };
    resume();
  }

  /** The replay is out: the live entries held meanwhile follow, except those it already sent. */
  #release(sub: Subscriber, missed: readonly Entry[]): void {
    const held = sub.held ?? [];
    sub.held = undefined;
    sub.heldBytes = 0;
    const em = sub.em;
    if (em.state !== 'open') return;
    sub.replayed = missed.length === 0 ? undefined : new Set(missed.map((entry) => this.#replayKey(entry)));
    for (const entry of held) {
      if (em.state !== 'open') return;
      if (sub.replayed === undefined || this.#isNew(sub, entry)) em[kDeliver](entry.prepared);
    }
  }

  /** False for a live entry the replay already sent; the first one it did not send ends the check. */
  #isNew(sub: Subscriber, entry: Entry): boolean {
    if (sub.replayed!.has(this.#replayKey(entry))) return false;
    sub.replayed = undefined;
    return true;
  }

  /**
   * What identifies an entry across replay and live delivery: without an adapter both hand over the same entry
   * object; with one, the log's id (its live copy and its history copy are decoded separately).
   */
  #replayKey(entry: Entry): unknown {
    return this.#ctx.adapter === undefined ? entry : entry.prepared.id;
  }

  #gap(em: AnyEmitter, lastEventId: string): void {
    em[kGap]();
    this.#ctx.onGap(this.name, lastEventId, em);
  }

  #ensureAdapter(adapter: BroadcastAdapter): Promise<void> {
    if (this.#adapterReady === undefined) {
      const ready = this.#adapterReleased.then(() =>
        adapter.subscribe(this.name, (stored) => this.#onAdapterEvent(stored)),
      );
      // A failed subscription is not kept: the next subscriber tries again.
      ready.catch(() => {
        if (this.#adapterReady === ready) this.#adapterReady = undefined;
      });
      this.#adapterReady = ready;
    }
    return this.#adapterReady;
  }

  #releaseAdapter(): void {
    const adapter = this.#ctx.adapter;
    const ready = this.#adapterReady;
    if (adapter === undefined || ready === undefined) return;
    this.#adapterReady = undefined;
    this.#adapterReleased = ready.then(() => adapter.unsubscribe(this.name)).catch(() => {});
  }

  #onAdapterEvent(stored: StoredEvent): void {
    let entry: Entry;
    try {
      entry = fromLog(stored);
    } catch (err) {
      // An entry no Tidings node could have written (bad fields): skipped, never forwarded.
      warn(`Skipped an entry of channel "${this.name}" from the adapter's log`, err, 'SSE_BAD_LOG_ENTRY');
      return;
    }
    let except: AnyEmitter | undefined;
    if (stored.tag !== undefined) {
      except = this.#exceptByTag.get(stored.tag);
      this.#exceptByTag.delete(stored.tag);
    }
    this.#deliver(entry, except);
  }

  #publish(adapter: BroadcastAdapter, ev: Readonly<SseEvent>, options: BroadcastOptions): Promise<string> {
    if (options.filter !== undefined) {
      throw new SseInvalidOptionError(
        'A broadcast filter cannot travel to other servers through the adapter: broadcast to a channel per ' +
          'audience instead (e.g. one channel per user), or filter on the subscriber side with subscribe({ filter }).',
      );
    }
    let wire: WireEvent;
    try {
      const data = ev.data === undefined ? undefined : serializeData(ev.data, this.#ctx.serialize);
      wire = { event: ev.event, data, retry: ev.retry, comment: ev.comment };
    } catch (err) {
      return handled(Promise.reject(err));
    }
    let tag: string | undefined;
    if (options.except !== undefined) {
      // `except` is local: it applies when this node delivers the event back from the shared log.
      tag = `${this.#ctx.idPrefix}:${++this.#tagSeq}`;
      if (this.#exceptByTag.size >= MAX_PENDING_EXCEPTS) {
        this.#exceptByTag.delete(this.#exceptByTag.keys().next().value!);
      }
      this.#exceptByTag.set(tag, options.except);
      wire.tag = tag;
    }
    const published = adapter.publish(this.name, wire);
    published.catch(() => {
      if (tag !== undefined) this.#exceptByTag.delete(tag);
    });
    return published;
  }
}

/** Whether `entry` is for `sub`; a filter that throws counts as "no" (and becomes a process warning). */
function accepts(sub: Subscriber, entry: Entry): boolean {
  try {
    return (
      (entry.audience === undefined || entry.audience(sub.em)) && (sub.filter === undefined || sub.filter(entry.fields))
    );
  } catch (err) {
    warn('A channel filter threw; the event was not sent to that subscriber', err, 'SSE_LISTENER_THREW');
    return false;
  }
}

/** An entry of the adapter's log, encoded once for this node; its data is already text. */
function fromLog(stored: StoredEvent): Entry {
  const { tag: _tag, ...fields } = stored;
  return { prepared: prepareEvent(fields), fields, audience: undefined };
}

/** Reports an error that must not stop delivery (a hook that threw, a bad log entry) as a process warning. */
export function warn(what: string, err: unknown, code: string): void {
  const reason = err instanceof Error ? err.message : String(err);
  process.emitWarning(`${what}: ${reason}`, { code, detail: err instanceof Error ? err.stack : undefined });
}

function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}
