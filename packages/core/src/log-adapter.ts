/**
 * AdapterLog: a channel's log behind a `BroadcastAdapter` (see adapter.ts for the contract). A broadcast is
 * published; every node, this one included, delivers it when the adapter hands it back, so all nodes deliver in
 * one order with the ids the shared log gave.
 */
import type { BroadcastAdapter, StoredEvent, WireEvent } from './adapter.js';
import { SseInvalidOptionError } from './errors.js';
import { FeedSubscription } from './feed-subscription.js';
import { prepareEvent, type Serializer, type SseEvent, serializeData } from './frame.js';
import { type AnyEmitter, rejected, warn } from './internal.js';
import type { AppendOptions, DeliverEntry, LogEntry, RemoteChannelLog } from './log.js';

/** Most `except` options waiting for their event to come back from the adapter. */
const MAX_PENDING_EXCEPTS = 10_000;

export class AdapterLog implements RemoteChannelLog {
  readonly remote = true;
  readonly #adapter: BroadcastAdapter;
  readonly #channel: string;
  readonly #serialize: Serializer | undefined;
  /** Prefix of `except` tags: unique per registry, so other nodes ignore them. */
  readonly #tagPrefix: string;
  readonly #deliver: DeliverEntry;
  /** The adapter subscription for this channel, while it has local subscribers. */
  readonly #feed: FeedSubscription;
  /** `except` options of broadcasts published through the adapter, by tag, until the event comes back. */
  readonly #exceptByTag = new Map<string, AnyEmitter>();
  /**
   * `adapter.history` reads in flight, by position: clients resuming from one position at once (a reconnect storm)
   * share one read. Removed when it settles, so at most one per position asked about right now.
   */
  #reads: Map<string | undefined, Promise<readonly LogEntry[] | undefined>> | undefined;
  #tagSeq = 0;

  constructor(
    adapter: BroadcastAdapter,
    channel: string,
    serialize: Serializer | undefined,
    tagPrefix: string,
    deliver: DeliverEntry,
    after: Promise<void> | undefined,
  ) {
    this.#adapter = adapter;
    this.#channel = channel;
    this.#serialize = serialize;
    this.#tagPrefix = tagPrefix;
    this.#deliver = deliver;
    // The previous log of this channel name (dropped, then brought back) may still be unsubscribing.
    this.#feed = new FeedSubscription(
      () => adapter.subscribe(channel, (stored) => this.#onAdapterEvent(stored)),
      () => adapter.unsubscribe(channel),
      after,
    );
  }

  /** Throws `SSE_ERR_INVALID_OPTION` for a `filter`: a function cannot travel to other servers. */
  append(ev: Readonly<SseEvent>, options: AppendOptions): Promise<string> {
    if (options.filter !== undefined) {
      throw new SseInvalidOptionError(
        'A broadcast filter cannot travel to other servers through the adapter: broadcast to a channel per ' +
          'audience instead (e.g. one channel per user), or filter on the subscriber side with subscribe({ filter }).',
      );
    }
    let wire: WireEvent;
    try {
      wire = toWire(ev, this.#serialize);
    } catch (err) {
      return rejected(err);
    }
    let tag: string | undefined;
    if (options.except !== undefined) {
      // `except` is local: it applies when this node delivers the event back from the shared log.
      tag = `${this.#tagPrefix}:${++this.#tagSeq}`;
      if (this.#exceptByTag.size >= MAX_PENDING_EXCEPTS) {
        this.#exceptByTag.delete(this.#exceptByTag.keys().next().value!);
      }
      this.#exceptByTag.set(tag, options.except);
      wire.tag = tag;
    }
    const published = this.#adapter.publish(this.#channel, wire);
    published.catch(() => {
      if (tag !== undefined) this.#exceptByTag.delete(tag);
    });
    return published;
  }

  listen(): Promise<void> {
    return this.#feed.listen();
  }

  release(): void {
    void this.#feed.release();
  }

  retire(): Promise<void> {
    return this.#feed.release();
  }

  read(afterId: string | undefined): Promise<readonly LogEntry[] | undefined> {
    this.#reads ??= new Map();
    let read = this.#reads.get(afterId);
    if (read === undefined) {
      read = this.#adapter.history(this.#channel, afterId).then((stored) => stored?.map(fromLog));
      const reads = this.#reads;
      const done = read;
      const forget = () => {
        if (reads.get(afterId) === done) reads.delete(afterId);
      };
      read.then(forget, forget);
      reads.set(afterId, read);
    }
    return read;
  }

  /** The log's id: a live copy and a history copy of one event are decoded separately. */
  keyOf(entry: LogEntry): unknown {
    return entry.prepared.id;
  }

  #onAdapterEvent(stored: StoredEvent): void {
    let entry: LogEntry;
    try {
      entry = fromLog(stored);
    } catch (err) {
      // An entry no Tidings node could have written (bad fields): skipped, never forwarded.
      warn(`Skipped an entry of channel "${this.#channel}" from the adapter's log`, err, 'SSE_BAD_LOG_ENTRY');
      return;
    }
    let except: AnyEmitter | undefined;
    if (stored.tag !== undefined) {
      except = this.#exceptByTag.get(stored.tag);
      this.#exceptByTag.delete(stored.tag);
    }
    this.#deliver(entry, except);
  }
}

/** `ev` as it travels to the adapter: its data serialized. Throws `SSE_ERR_SERIALIZE` when it cannot be. */
export function toWire(ev: Readonly<SseEvent>, serialize: Serializer | undefined): WireEvent {
  const data = ev.data === undefined ? undefined : serializeData(ev.data, serialize);
  return { event: ev.event, data, retry: ev.retry, comment: ev.comment };
}

/** An entry of the adapter's log, encoded once for this node; its data is already text. */
export function fromLog(stored: StoredEvent): LogEntry {
  const { tag: _tag, final, ...fields } = stored;
  return { prepared: prepareEvent(fields), fields, audience: undefined, final: final === true };
}
