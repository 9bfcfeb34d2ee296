/**
 * LiveFeed: the connection on which this node receives the live messages of the channels it serves, and only
 * those (SUBSCRIBE per channel; on a cluster SSUBSCRIBE, one channel, hence one slot, per call, sent by ioredis
 * to that slot's master). Messages sent while it is away are gone, so after every reconnect it subscribes
 * again and asks the adapter to catch every channel up from its stream (`onResubscribed`).
 */
import { once } from 'node:events';
import { CommandGate, type RedisClient } from './command-gate.js';
import { isCluster } from './connect.js';

export interface LiveFeedOptions {
  /** ms a subscribe may wait for the connection. */
  timeout: number;
  /** ms between PINGs that check the connection is alive (one Redis only; ioredis watches a cluster's). */
  pingMs: number;
  /** The channels subscribed now, to subscribe again after a reconnect. */
  channels(): Iterable<string>;
  onMessage(channel: string, message: string): void;
  /** The feed is subscribed again after a reconnect: messages may have been missed. */
  onResubscribed(): void;
  onError(err: Error): void;
}

/** Channels per SUBSCRIBE when subscribing again after a reconnect. */
const RESUBSCRIBE_BATCH = 1_000;

/**
 * ioredis subscribes a cluster's channels again on its own, then says `subscribersReady` without waiting for
 * the replies; the catch-up waits this long so that it reads after those subscriptions took effect (a message
 * missed in between would still be found at the channel's next message).
 */
const CLUSTER_RESUBSCRIBE_SETTLE_MS = 100;

export class LiveFeed {
  readonly #conn: RedisClient;
  readonly #gate: CommandGate;
  readonly #options: LiveFeedOptions;
  #wasReady = false;
  #ping: NodeJS.Timeout | undefined;
  #pinging = false;
  /** The catch-up waiting for a cluster's resubscriptions to take effect. */
  #settle: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(conn: RedisClient, options: LiveFeedOptions) {
    this.#conn = conn;
    this.#options = options;
    this.#gate = new CommandGate(conn, options.timeout);
    if (isCluster(conn)) {
      conn.on('smessage', (channel: string, message: string) => options.onMessage(channel, message));
      conn.on('subscribersReady', () => {
        clearTimeout(this.#settle);
        this.#settle = setTimeout(() => this.#resubscribed(), CLUSTER_RESUBSCRIBE_SETTLE_MS);
      });
    } else {
      conn.on('message', (channel: string, message: string) => options.onMessage(channel, message));
      conn.on('ready', () => void this.#subscribeAgain());
      this.#ping = setInterval(() => void this.#checkAlive(), options.pingMs);
      this.#ping.unref();
    }
  }

  /** Subscribes to `channel`; rejects with `SSE_ERR_ADAPTER_UNAVAILABLE` when the connection is not back in time. */
  async subscribe(channel: string): Promise<void> {
    await this.#gate.run('subscribe', (conn) => (isCluster(conn) ? conn.ssubscribe(channel) : conn.subscribe(channel)));
  }

  /** Unsubscribes from `channel` (best effort: after a reconnect it is not subscribed again anyway). */
  async unsubscribe(channel: string): Promise<void> {
    await this.#gate
      .run('unsubscribe', (conn) => (isCluster(conn) ? conn.sunsubscribe(channel) : conn.unsubscribe(channel)))
      .catch(() => {});
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#ping);
    clearTimeout(this.#settle);
    this.#gate.close();
    if (isCluster(this.#conn)) {
      this.#conn.disconnect();
      return;
    }
    // A live socket ends with an 'end' event; a connection that is away (reconnecting) just stops trying.
    const live = this.#conn.status === 'ready' || this.#conn.status === 'connect';
    const ended = live ? once(this.#conn, 'end') : undefined;
    this.#conn.disconnect();
    await ended;
  }

  /** On every `ready` but the first: the channels again, then the catch-up. */
  async #subscribeAgain(): Promise<void> {
    if (!this.#wasReady) {
      this.#wasReady = true;
      return;
    }
    const channels = [...this.#options.channels()];
    try {
      for (let i = 0; i < channels.length; i += RESUBSCRIBE_BATCH) {
        await this.#conn.subscribe(...channels.slice(i, i + RESUBSCRIBE_BATCH));
      }
    } catch (err) {
      // The connection dropped again: its next `ready` starts over.
      this.#options.onError(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    this.#resubscribed();
  }

  #resubscribed(): void {
    if (!this.#closed) this.#options.onResubscribed();
  }

  /** A PING that gets no answer within `pingMs` means a dead connection: reconnect (and so catch up). */
  async #checkAlive(): Promise<void> {
    if (this.#pinging || this.#conn.status !== 'ready') return;
    this.#pinging = true;
    let timer: NodeJS.Timeout | undefined;
    const silent = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), this.#options.pingMs);
    });
    try {
      const dead = await Promise.race([this.#conn.ping().then(() => false), silent]);
      if (dead && !this.#closed) this.#conn.disconnect(true);
    } catch {
      // A failed PING is a connection already reconnecting.
    } finally {
      clearTimeout(timer);
      this.#pinging = false;
    }
  }
}
