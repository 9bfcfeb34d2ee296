/**
 * StreamReader: the one loop that reads every subscribed channel stream of this node with a blocking XREAD on
 * a connection of its own, from the last entry it delivered per stream. Reads are idempotent, so a dropped
 * connection or a Redis restart only delays delivery: the next read starts where the last delivery ended.
 */
import { once } from 'node:events';
import type { StoredEvent } from '@tidings/core';
import type { Redis } from 'ioredis';
import { compareStreamIds, decodeEntry } from './stream-entry.js';

/** One channel stream this node reads. */
export interface StreamSubscription {
  readonly key: string;
  readonly onEvent: (event: StoredEvent) => void;
  /** The last entry delivered (or the stream's end when subscribing); undefined until that is known. */
  lastId: string | undefined;
  /** Callers of {@link StreamReader.delivered} waiting for an entry to be handed to `onEvent`. */
  readonly waiters: { id: string; resolve(): void }[];
}

export interface StreamReaderOptions {
  blockMs: number;
  readCount: number;
  /** Ends the reader's current blocking read early (CLIENT UNBLOCK from another connection). */
  unblock(clientId: number): void;
  onError(err: Error): void;
}

/** When a read that was asked to unblock is still blocked this much later, it is asked again. */
const UNBLOCK_AGAIN_MS = 50;

/** Pause after a failed read before the next try (the connection is reconnecting meanwhile). */
const RETRY_DELAY_MS = 100;

export class StreamReader {
  readonly #conn: Redis;
  readonly #options: StreamReaderOptions;
  readonly #subscriptions = new Map<string, StreamSubscription>();
  /** The reading connection's CLIENT ID, needed to unblock it; a new one after every reconnect. */
  #clientId: number | undefined;
  #blocking = false;
  /** Counts the reads issued, so a second unblock only goes to the read the first one may have missed. */
  #reads = 0;
  /** Sends that second unblock (CLIENT UNBLOCK can reach Redis before the read it targets). */
  #unblockAgain: NodeJS.Timeout | undefined;
  /** Ends the loop's current pause (idle or retry delay). */
  #resume: (() => void) | undefined;
  #closed = false;
  readonly #loop: Promise<void>;

  constructor(conn: Redis, options: StreamReaderOptions) {
    this.#conn = conn;
    this.#options = options;
    conn.on('close', () => {
      this.#clientId = undefined;
    });
    this.#loop = this.#run();
  }

  /** Registers a subscription to `key`, replacing any other; it is read once {@link start} gives its position. */
  add(key: string, onEvent: (event: StoredEvent) => void): StreamSubscription {
    const sub: StreamSubscription = { key, onEvent, lastId: undefined, waiters: [] };
    this.#subscriptions.set(key, sub);
    return sub;
  }

  /** Starts reading `sub` after entry `lastId`. */
  start(sub: StreamSubscription, lastId: string): void {
    sub.lastId = lastId;
    if (this.#subscriptions.get(sub.key) === sub) this.wake();
  }

  /** Stops reading `key` (or only `sub`, if given and still the current one). */
  remove(key: string, sub?: StreamSubscription): void {
    const current = this.#subscriptions.get(key);
    if (current === undefined || (sub !== undefined && current !== sub)) return;
    this.#subscriptions.delete(key);
    for (const waiter of current.waiters.splice(0)) waiter.resolve();
    this.wake();
  }

  /**
   * Resolves once entry `id` of stream `key` (or a later one) has been handed to the subscription's `onEvent`;
   * at once when `key` is not read. History uses it so that what it returns has also reached live delivery.
   */
  delivered(key: string, id: string): Promise<void> {
    const sub = this.#subscriptions.get(key);
    if (sub?.lastId === undefined || compareStreamIds(sub.lastId, id) >= 0) return Promise.resolve();
    return new Promise((resolve) => sub.waiters.push({ id, resolve }));
  }

  /** The set of streams to read changed: start a new read now. */
  wake(): void {
    if (this.#resume !== undefined) {
      this.#resume();
    } else if (this.#blocking && this.#clientId !== undefined) {
      this.#options.unblock(this.#clientId);
      const read = this.#reads;
      clearTimeout(this.#unblockAgain);
      this.#unblockAgain = setTimeout(() => {
        if (this.#blocking && this.#reads === read && this.#clientId !== undefined) {
          this.#options.unblock(this.#clientId);
        }
      }, UNBLOCK_AGAIN_MS);
    }
  }

  /** Ends the loop and closes the reading connection. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#unblockAgain);
    for (const key of [...this.#subscriptions.keys()]) this.remove(key);
    this.#resume?.();
    // A live socket ends with an 'end' event; a connection that is away (reconnecting) just stops trying.
    const live = this.#conn.status === 'ready' || this.#conn.status === 'connect';
    const ended = live ? once(this.#conn, 'end') : undefined;
    this.#conn.disconnect();
    await Promise.all([this.#loop, ended]);
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      const reading = [...this.#subscriptions.values()].filter((sub) => sub.lastId !== undefined);
      if (reading.length === 0) {
        await this.#pause(undefined);
        continue;
      }
      let reply: [key: string, items: [id: string, fields: string[]][]][] | null;
      try {
        if (this.#clientId === undefined) {
          this.#clientId = await this.#conn.client('ID');
          continue; // the set of streams may have changed meanwhile
        }
        this.#blocking = true;
        this.#reads++;
        reply = await this.#conn.xread(
          'COUNT',
          this.#options.readCount,
          'BLOCK',
          this.#options.blockMs,
          'STREAMS',
          ...reading.map((sub) => sub.key),
          ...reading.map((sub) => sub.lastId!),
        );
      } catch (err) {
        if (this.#closed) break;
        this.#options.onError(err instanceof Error ? err : new Error(String(err)));
        await this.#pause(RETRY_DELAY_MS);
        continue;
      } finally {
        this.#blocking = false;
      }
      if (reply !== null) this.#deliver(reading, reply);
    }
  }

  #deliver(reading: StreamSubscription[], reply: [key: string, items: [id: string, fields: string[]][]][]): void {
    for (const [key, entries] of reply) {
      const sub = this.#subscriptions.get(key);
      // A stream dropped or re-subscribed during the read: its new position decides, not this read.
      if (sub === undefined || !reading.includes(sub)) continue;
      for (const [id, fields] of entries) {
        if (this.#subscriptions.get(key) !== sub) break;
        if (compareStreamIds(id, sub.lastId!) <= 0) continue;
        sub.lastId = id;
        try {
          sub.onEvent(decodeEntry(id, fields));
        } catch (err) {
          this.#options.onError(err instanceof Error ? err : new Error(String(err)));
        }
      }
      this.#settle(sub);
    }
  }

  /** Resolves the waiters of `sub` whose entry it has delivered. */
  #settle(sub: StreamSubscription): void {
    if (sub.waiters.length === 0) return;
    const pending = sub.waiters.filter((waiter) => compareStreamIds(waiter.id, sub.lastId!) > 0);
    for (const waiter of sub.waiters) if (!pending.includes(waiter)) waiter.resolve();
    sub.waiters.splice(0, sub.waiters.length, ...pending);
  }

  /** Waits `ms` (or until woken, when undefined), ending early on wake() or close(). */
  #pause(ms: number | undefined): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#resume = undefined;
        resolve();
      };
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      this.#resume = done;
    });
  }
}
