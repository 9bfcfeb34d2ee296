/**
 * Channel: a named group of subscribers. A broadcast is recorded by the channel's log (encoded once) and the same
 * bytes are written to every subscriber; a subscriber that comes back with a Last-Event-ID first gets what it
 * missed from the log, then live events, with no duplicate and no gap at the seam. The channel holds, replays and
 * delivers; its {@link ChannelLog} records, numbers and reads.
 *
 * Over 350 lines on purpose: holding, replaying and delivering all act on one subscriber state (held entries, what
 * the replay sent, the seam); split apart, they would share it through a second internal interface.
 */
import { type EventData, type EventName, type SseEmitter, streamOf } from './emitter.js';
import { type SseEvent, type SseEventBuilder, toEvent } from './frame.js';
import { type AnyEmitter, warn } from './internal.js';
import type { ChannelLog, DeliverEntry, LogEntry } from './log.js';
import type { StreamHandle } from './stream-handle.js';

type EventMap = Record<string, unknown>;

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
  /** Makes the channel's log; `deliver` hands its entries to the channel's subscribers. */
  makeLog(name: string, deliver: DeliverEntry): ChannelLog;
  /**
   * A dropped channel is used again: the registry's channel of that name now. That is `channel` itself, back in the
   * registry, unless another object was made for the name meanwhile (then it serves both).
   */
  revive(channel: Channel): Channel;
  /** The channel has no subscriber now (or was broadcast to without one): its ttl starts again. */
  idle(channel: Channel): void;
  /** The channel has a subscriber now: it stays in memory. */
  busy(channel: Channel): void;
  /** Counts the stream among the registry's open streams (completes it after `registry.close()`). */
  track(stream: StreamHandle): void;
  onGap(channel: string, lastEventId: string, em: AnyEmitter): void;
}

interface Subscriber {
  readonly stream: StreamHandle;
  readonly em: AnyEmitter;
  readonly unsubscribe: () => void;
  readonly filter: ((ev: Readonly<SseEvent>) => boolean) | undefined;
  /** `unsubscribe()` ran: a replay finishing later does not add it back. */
  left: boolean;
  /**
   * Live entries held back until the subscriber has caught up: while it is pending (its Last-Event-ID is not
   * known yet), or while its replay is read or paced by the client. Undefined once it receives live events directly.
   */
  held: LogEntry[] | undefined;
  heldBytes: number;
  /**
   * After a replay, what it sent (by the log's `keyOf`): a live event among them is dropped. Live events come in
   * log order, so the first one that is not among them ends this check for good.
   */
  replayed: Set<unknown> | undefined;
}

/** Set by `Channel`'s static block: the one way to reach a channel's log from outside it (see `dropChannel`). */
let dropLog: (channel: Channel) => ChannelLog | undefined;
/** Set by `Channel`'s static block (see `subscribeStream`). */
let subscribeStream: (channel: Channel, stream: StreamHandle, filter: Subscriber['filter']) => () => void;

/**
 * A named group of streams, made by {@link ChannelRegistry.channel}: each broadcast is encoded once and the same
 * bytes go to every subscriber; a subscriber that resumes gets what it missed from the channel's log first.
 * `Events` maps event names to data types, as on `SseEmitter<Events>` (a type only: the same channel object serves
 * whatever map it is looked up with), so `broadcast(event({ event: 'tick', data }))` is checked like `send`.
 */
export class Channel<Events extends EventMap = EventMap> {
  /** The channel's name. */
  readonly name: string;
  readonly #ctx: ChannelContext;
  /** Undefined while the channel is dropped from memory (see `historyTtl`): using it again makes a new log. */
  #log: ChannelLog | undefined;
  /** Made by the first subscriber, let go with the last: an idle channel holds no map. */
  #subscribers: Map<StreamHandle, Subscriber> | undefined;

  /** @internal Use `registry.channel(name)`. */
  constructor(name: string, ctx: ChannelContext) {
    this.name = name;
    this.#ctx = ctx;
    this.#log = this.#makeLog();
  }

  static {
    subscribeStream = (channel, stream, filter) => channel.#live().#subscribe(stream, filter, true);
    dropLog = (channel) => {
      const log = channel.#log;
      channel.#log = undefined;
      return log;
    };
  }

  /** Local subscribers. */
  get size(): number {
    return this.#subscribers?.size ?? 0;
  }

  #makeLog(): ChannelLog {
    return this.#ctx.makeLog(this.name, (entry, except) => this.#deliver(entry, except));
  }

  /** The channel object that serves this name now: this one (brought back into memory if it was dropped), or another. */
  #live(): Channel {
    if (this.#log !== undefined) return this;
    const live = this.#ctx.revive(this);
    if (live === this) this.#log = this.#makeLog();
    return live;
  }

  /**
   * Adds `em` to the channel; it leaves by itself when it completes. With a Last-Event-ID (and `replay` not
   * false), what it missed is sent first, then live events, with no duplicate and no gap at the seam; an id
   * the history does not hold goes to the registry's `onGap` and nothing is replayed. A short-polling client
   * is answered at once (`{ events, lastEventId }`); a long-polling one when its first events are out.
   * An emitter not yet attached is caught up when it opens (live events meanwhile are held, bounded by its
   * `maxBufferedBytes`). After `registry.close()`, `em` is completed at once. Returns a function that
   * unsubscribes; subscribing an emitter that is already subscribed changes nothing and returns the same function.
   * Throws `SSE_ERR_FOREIGN_EMITTER` for an emitter made by another copy of the package.
   */
  subscribe(em: SseEmitter<never> | AnyEmitter, options: SubscribeOptions = {}): () => void {
    const live = this.#live();
    if (live !== this) return live.subscribe(em, options);
    const stream = streamOf(em);
    this.#ctx.track(stream);
    return this.#subscribe(stream, options.filter, options.replay !== false);
  }

  #subscribe(stream: StreamHandle, filter: Subscriber['filter'], replay: boolean): () => void {
    const existing = this.#subscribers?.get(stream);
    if (existing !== undefined) return existing.unsubscribe;
    if (stream.ended) return () => {};
    // Made only for a stream still pending: an open stream holds no closure it will never run.
    let start: (() => void) | undefined;
    const unsubscribe = (): void => {
      stream.offFinish(unsubscribe);
      if (start !== undefined) stream.offOpen(start);
      const subscribers = this.#subscribers;
      if (subscribers?.get(stream) !== sub) return;
      sub.left = true;
      subscribers.delete(stream);
      if (subscribers.size > 0) return;
      this.#subscribers = undefined;
      this.#log?.release();
      this.#ctx.idle(this);
    };
    const sub: Subscriber = {
      stream,
      em: stream.emitter,
      unsubscribe,
      filter,
      left: false,
      held: undefined,
      heldBytes: 0,
      replayed: undefined,
    };
    stream.onFinish(unsubscribe);
    if (stream.phase === 'pending') {
      this.#hold(sub);
      start = () => this.#start(sub, replay);
      stream.onOpen(start);
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
  broadcast<N extends EventName<Events>>(
    ev: SseEventBuilder<N, EventData<Events, N>>,
    options?: BroadcastOptions,
  ): Promise<string | undefined>;
  broadcast<D>(
    data: D extends SseEventBuilder<string, unknown> ? never : D,
    options?: BroadcastOptions,
  ): Promise<string | undefined>;
  broadcast(value: unknown, options: BroadcastOptions = {}): Promise<string | undefined> {
    const live = this.#live();
    if (live !== this) return (live as Channel).broadcast(value, options);
    if (this.#subscribers === undefined) this.#ctx.idle(this);
    return this.#log!.append(toEvent(value), options);
  }

  /** Adds (or keeps) `sub` among the subscribers live entries go to; the first one keeps the channel in memory. */
  #add(sub: Subscriber): void {
    if (this.#subscribers === undefined) {
      this.#subscribers = new Map();
      this.#ctx.busy(this);
    }
    this.#subscribers.set(sub.stream, sub);
  }

  /** Writes one entry to every subscriber it is meant for. The hot loop: no encoding, no allocation per subscriber. */
  #deliver(entry: LogEntry, except: AnyEmitter | undefined): void {
    const subscribers = this.#subscribers;
    if (subscribers === undefined) return;
    for (const sub of subscribers.values()) {
      if (sub.em === except || !accepts(sub, entry)) continue;
      if (sub.held !== undefined) this.#holdEntry(sub, entry);
      else if (sub.replayed === undefined || this.#isNew(sub, entry)) send(sub.stream, entry);
    }
  }

  /** Starts holding live entries for `sub` (and listening to the log's live feed). */
  #hold(sub: Subscriber): void {
    sub.held ??= [];
    this.#add(sub);
    // A failure here reaches the subscriber when it starts (listening is retried then).
    this.#log!.listen().catch(() => {});
  }

  /** Holds `entry` for a subscriber that has not caught up, within its own `maxBufferedBytes`. */
  #holdEntry(sub: Subscriber, entry: LogEntry): void {
    sub.heldBytes += entry.prepared.frame.length;
    const limit = sub.stream.maxBufferedBytes;
    if (sub.heldBytes <= limit) {
      sub.held!.push(entry);
      return;
    }
    sub.stream.closeSlow(
      `More than ${limit} bytes (maxBufferedBytes) of live events arrived on channel "${this.name}" before the ` +
        'client had caught up (its replay was still being sent, or the emitter was not attached yet: attach it ' +
        'right after subscribing it); it can resume with Last-Event-ID.',
    );
  }

  /** The stream is open: its Last-Event-ID and mode are known. Replays, then sends live events. */
  #start(sub: Subscriber, replay: boolean): void {
    const stream = sub.stream;
    if (stream.phase !== 'open') return;
    const lastEventId = replay ? stream.lastEventId : undefined;
    // A position the stream could not read (a lane of a stream on several channels) is a gap, never a read.
    const gap = lastEventId !== undefined && stream.resumesWithGap === true;
    const polling = stream.mode === 'short-poll';
    // A new streaming client starts live (a run's from its start); a short-polling one with no id gets the whole log,
    // so it learns where to continue from.
    const log = this.#log!;
    const wantsReplay = lastEventId !== undefined || polling || log.fromStart === true;
    if (!log.remote) {
      if (!wantsReplay) {
        const position = log.lastId();
        if (position !== undefined) stream.startsAt?.(position);
      }
      this.#begin(sub, lastEventId, gap ? undefined : wantsReplay ? log.read(lastEventId) : [], polling);
      return;
    }
    // A streaming client listens first, then reads the log, so that every event is in the read, among the held
    // live events, or both (dropped once: same log id). A short-polling one needs the log only.
    if (!polling) this.#hold(sub);
    (polling ? Promise.resolve() : log.listen())
      .then(() => (gap ? undefined : wantsReplay ? log.read(lastEventId) : []))
      .then((missed) => {
        if (stream.phase !== 'open') return;
        // This node's live feed may be behind the client (it resumes here after reading ahead elsewhere): the held
        // events up to its Last-Event-ID are ones it has. `read` resolves once they are held.
        const seen = missed === undefined ? -1 : (sub.held?.findIndex((e) => e.prepared.id === lastEventId) ?? -1);
        if (seen !== -1) sub.held!.splice(0, seen + 1);
        this.#begin(sub, lastEventId, missed, polling);
      })
      .catch((err: unknown) => sub.em.completeWithError(err));
  }

  /** Replays `missed` (undefined: a gap), then delivers live; a short-polling client is answered and completed. */
  #begin(sub: Subscriber, lastEventId: string | undefined, missed: readonly LogEntry[] | undefined, polling: boolean) {
    if (missed === undefined) {
      sub.stream.markGap();
      this.#ctx.onGap(this.name, lastEventId!, sub.em);
    }
    const entries = missed ?? [];
    if (polling) {
      this.#catchUp(sub, entries, () => sub.stream.complete()); // a JSON answer takes it all at once
      return;
    }
    // Live events arriving while the replay is paced by the client's reading are held, then sent.
    if (entries.length > 0) this.#hold(sub);
    this.#catchUp(sub, entries, () => {
      if (sub.stream.phase === 'open' && !sub.left) this.#add(sub);
    });
  }

  /**
   * Sends `missed` as fast as the client reads it (waiting for drain whenever it falls behind, so a long replay
   * never piles up past `maxBufferedBytes`), then the live entries held meanwhile that were not among them, then
   * calls `done`: no duplicate, no gap. A log read can also run ahead of the live feed (an event read from the
   * log whose live copy is still on its way): live events the replay sent keep being dropped until the first
   * one it did not send.
   */
  #catchUp(sub: Subscriber, missed: readonly LogEntry[], done: () => void): void {
    const stream = sub.stream;
    let next = 0;
    const resume = (): void => {
      while (next < missed.length) {
        if (stream.phase !== 'open') return;
        const entry = missed[next++]!;
        if (accepts(sub, entry) && !send(stream, entry) && next < missed.length) {
          void stream.drained().then(resume);
          return;
        }
      }
      this.#release(sub, missed);
      done();
    };
    resume();
  }

  /** The replay is out: the live entries held meanwhile follow, except those it already sent. */
  #release(sub: Subscriber, missed: readonly LogEntry[]): void {
    const held = sub.held ?? [];
    sub.held = undefined;
    sub.heldBytes = 0;
    const stream = sub.stream;
    if (stream.phase !== 'open') return;
    sub.replayed = missed.length === 0 ? undefined : new Set(missed.map((entry) => this.#log!.keyOf(entry)));
    for (const entry of held) {
      if (stream.phase !== 'open') return;
      if (sub.replayed === undefined || this.#isNew(sub, entry)) send(stream, entry);
    }
  }

  /** False for a live entry the replay already sent; the first one it did not send ends the check. */
  #isNew(sub: Subscriber, entry: LogEntry): boolean {
    if (sub.replayed!.has(this.#log!.keyOf(entry))) return false;
    sub.replayed = undefined;
    return true;
  }
}

/** Writes `entry` to `stream` (see {@link StreamHandle.deliver}); after the final entry of a log, the stream completes. */
function send(stream: StreamHandle, entry: LogEntry): boolean {
  const taken = stream.deliver(entry.prepared);
  if (entry.final === true) stream.complete();
  return taken;
}

/**
 * Takes `channel` out of memory (the registry's ttl sweep; it has no subscriber): its log is let go and returned
 * (to retire it). Using the channel afterwards brings it back with a new, empty log. Not exported from the package.
 */
export function dropChannel(channel: Channel): ChannelLog | undefined {
  return dropLog(channel);
}

/**
 * Subscribes a stream handle (one channel's lane of a stream on several channels) to `channel`, bringing it back if
 * it was dropped; the caller tracks the stream. Not exported from the package.
 */
export function subscribeLane(
  channel: Channel,
  lane: StreamHandle,
  filter: ((ev: Readonly<SseEvent>) => boolean) | undefined,
): () => void {
  return subscribeStream(channel, lane, filter);
}

/** Whether `entry` is for `sub`; a filter that throws counts as "no" (and becomes a process warning). */
function accepts(sub: Subscriber, entry: LogEntry): boolean {
  try {
    return (
      (entry.audience === undefined || entry.audience(sub.em)) && (sub.filter === undefined || sub.filter(entry.fields))
    );
  } catch (err) {
    warn('A channel filter threw; the event was not sent to that subscriber', err, 'SSE_LISTENER_THREW');
    return false;
  }
}
