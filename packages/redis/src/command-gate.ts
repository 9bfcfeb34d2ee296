/**
 * CommandGate: every command the adapter sends (publish, history, subscribe, on the shared client or on the
 * live-feed connection) goes through one of these, so none waits on Redis for longer than the adapter's `timeout`. A command is only sent once the
 * connection is ready: one that timed out while Redis was away is never sent later behind the caller's back.
 */
import { SseAdapterUnavailableError } from '@tidings/core';
import type { Cluster, Redis } from 'ioredis';

/** A client a gate can wait for: one Redis or a cluster. */
export type RedisClient = Redis | Cluster;

export class CommandGate {
  readonly #redis: RedisClient;
  readonly #timeout: number;
  /** Resolves when the connection is next ready; shared by every command waiting for it. */
  #ready: Promise<void> | undefined;
  /** Rejects the commands in flight when the adapter closes. */
  readonly #waiting = new Set<(err: Error) => void>();
  #closed = false;

  constructor(redis: RedisClient, timeout: number) {
    this.#redis = redis;
    this.#timeout = timeout;
  }

  /**
   * Runs `command` once the connection is ready. Rejects with `SSE_ERR_ADAPTER_UNAVAILABLE` when that and the
   * reply together take longer than the timeout, when the client was closed for good, or when the adapter closes.
   * `command` gets a check that says whether the caller still waits: a command made of several steps sends no
   * further step once it is false.
   */
  run<T>(what: string, command: (redis: RedisClient, stillWanted: () => boolean) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(this.#unavailable(what, 'the adapter is closed'));
    if (this.#redis.status === 'end') {
      return Promise.reject(this.#unavailable(what, 'the Redis client was closed (quit or disconnect)'));
    }
    // One promise and one timer a command (this is every broadcast's path): settled by the reply, the timeout or
    // close(), whichever comes first; a command still waiting for the connection is not sent once it is settled.
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const stillWanted = (): boolean => !settled;
      const finish = (err: unknown, value?: T): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#waiting.delete(abort);
        if (err === undefined) resolve(value as T);
        else reject(err);
      };
      const abort = (err: Error): void => finish(err);
      const timer = setTimeout(
        () =>
          finish(this.#unavailable(what, `no answer within ${this.#timeout} ms (connection ${this.#redis.status})`)),
        this.#timeout,
      );
      this.#waiting.add(abort);
      const send = (): void => {
        if (settled) return;
        try {
          command(this.#redis, stillWanted).then(
            (value) => finish(undefined, value),
            (err: unknown) => finish(err ?? new Error('Redis command failed')),
          );
        } catch (err) {
          finish(err ?? new Error('Redis command failed'));
        }
      };
      if (this.#redis.status === 'ready') send();
      else void this.#whenReady().then(send);
    });
  }

  /** Refuses new commands and rejects those still waiting. */
  close(): void {
    this.#closed = true;
    for (const abort of this.#waiting) abort(this.#unavailable('command', 'the adapter closed'));
    this.#waiting.clear();
  }

  #whenReady(): Promise<void> {
    if (this.#ready === undefined) {
      this.#ready = new Promise<void>((resolve) =>
        this.#redis.once('ready', () => {
          this.#ready = undefined;
          resolve();
        }),
      );
      // A client created with lazyConnect connects on its first command; this one waits for `ready` instead.
      if (this.#redis.status === 'wait') this.#redis.connect().catch(() => {});
    }
    return this.#ready;
  }

  #unavailable(what: string, reason: string): SseAdapterUnavailableError {
    return new SseAdapterUnavailableError(
      `Redis ${what} failed: ${reason}. Check that Redis is reachable, or raise the adapter's \`timeout\`.`,
    );
  }
}
