/**
 * RedisRuns: `adapter.runs`, core's RunAdapter on Redis. A run is a stream that is never trimmed (its log, whose
 * name is also its live feed's) and a hash (its record), both under the run's own hash tag (keys.ts); creating,
 * appending and ending are one script each (run-scripts.ts), so whichever node sends them, a run is refused an
 * append after its end or past `maxEvents`, and is ended once. Live delivery and filling holes in it are the
 * channels' machinery (channel-feed.ts), keyed by the run's log.
 */
import { randomBytes } from 'node:crypto';
import {
  type RunAdapter,
  type RunEnd,
  SseInvalidRunIdError,
  SseRunEndedError,
  SseRunFullError,
  SseRunNotFoundError,
  type StoredEvent,
  type StoredRun,
  type WireEvent,
} from '@tidings/core';
import type { RawEntry } from './channel-feed.js';
import type { RedisClient } from './command-gate.js';
import { runKeys } from './keys.js';
import type { PublishCommand } from './publish-script.js';
import { APPEND_RUN, CREATE_RUN, END_RUN, FIND_RUN } from './run-scripts.js';
import type { StreamRead } from './shared-reads.js';
import { BEFORE_ALL, decodeEntry, encodeEntry, isStreamId } from './stream-entry.js';

/** What the runs need from the adapter they belong to. */
export interface RunsHost {
  readonly prefix: string;
  readonly publishCommand: PublishCommand;
  /** Sends a command within the adapter's `timeout` (see command-gate.ts). */
  command<T>(what: string, command: (redis: RedisClient, stillWanted: () => boolean) => Promise<T>): Promise<T>;
  /** Delivers every entry of stream `key` after now, in order, exactly once (see `subscribe`). */
  subscribeFeed(key: string, onEvent: (event: StoredEvent) => void): Promise<void>;
  unsubscribeFeed(key: string): Promise<void>;
  /** Hands a read of `key` (every entry after `from`) to its feed, if subscribed; resolves once delivered. */
  continueFeed(key: string, from: string, entries: readonly RawEntry[]): Promise<void>;
  /** Shares `read` between callers reading `key` after `afterId` at the same point of this node's delivery. */
  shareRead(
    key: string,
    afterId: string | undefined,
    read: () => Promise<StreamRead>,
  ): Promise<StoredEvent[] | undefined>;
  /** `XRANGE key <afterId> +` (see the adapter's `#readFrom`); undefined when Redis refuses `afterId`. */
  readFrom(key: string, afterId: string | undefined): Promise<RawEntry[] | undefined>;
}

export class RedisRuns implements RunAdapter {
  readonly #host: RunsHost;
  /** This adapter instance among the writers of a run (see APPEND_RUN: a resent append is answered once). */
  readonly #writer = randomBytes(9).toString('base64url');
  /** The number of this instance's last append, over all runs. */
  #appends = 0;

  constructor(host: RunsHost) {
    this.#host = host;
  }

  async createRun(id: string, settings: { maxEvents: number; idleTimeout: number; ttl: number }): Promise<void> {
    const { log, meta } = this.#keys(id);
    const args = [settings.maxEvents, settings.idleTimeout, settings.ttl];
    const created = await this.#host.command('run create', (redis, stillWanted) =>
      CREATE_RUN.run(redis, [log, meta], args, stillWanted),
    );
    if (created !== 1) {
      throw new SseInvalidRunIdError(
        `A run "${id}" exists already (on this server or another: running, or kept for ttl after it ended).`,
      );
    }
  }

  async appendRun(id: string, event: WireEvent): Promise<string> {
    const { log, meta } = this.#keys(id);
    const args = [this.#host.publishCommand, this.#writer, ++this.#appends, ...encodeEntry(event)];
    try {
      return (await this.#host.command('run append', (redis, stillWanted) =>
        APPEND_RUN.run(redis, [log, meta], args, stillWanted),
      )) as string;
    } catch (err) {
      throw refusal(id, err) ?? err;
    }
  }

  async endRun(
    id: string,
    ending: RunEnd,
    options: { final?: WireEvent; ifIdleFor?: number } = {},
  ): Promise<StoredRun | undefined> {
    const { log, meta } = this.#keys(id);
    const reason = ending.state === 'cancelled' ? ending.reason : undefined;
    const args = [
      this.#host.publishCommand,
      ending.state,
      reason ?? '',
      reason === undefined ? '0' : '1',
      JSON.stringify(ending),
      options.ifIdleFor === undefined ? '' : options.ifIdleFor,
      ...(options.final === undefined ? [] : encodeEntry(options.final)),
    ];
    const reply = await this.#host.command('run end', (redis, stillWanted) =>
      END_RUN.run(redis, [log, meta], args, stillWanted),
    );
    return parseRecord(reply);
  }

  async findRun(id: string): Promise<StoredRun | undefined> {
    const { log, meta } = this.#keys(id);
    const reply = await this.#host.command('run lookup', (redis, stillWanted) =>
      FIND_RUN.run(redis, [log, meta], [], stillWanted),
    );
    return parseRecord(reply);
  }

  subscribeRun(id: string, onEvent: (event: StoredEvent) => void): Promise<void> {
    return this.#host.subscribeFeed(this.#keys(id).log, onEvent);
  }

  unsubscribeRun(id: string): Promise<void> {
    return this.#host.unsubscribeFeed(this.#keys(id).log);
  }

  /**
   * `XRANGE log afterId +` proves `afterId` is the run's (it comes back first) and gives what follows; for any
   * other id, the whole run. A run's log is never trimmed, so this is never a gap.
   */
  async runHistory(id: string, afterId: string | undefined): Promise<StoredEvent[]> {
    const { log } = this.#keys(id);
    // A client resuming from an id of no run reads the whole run: those share one read.
    const position = afterId !== undefined && isStreamId(afterId) ? afterId : undefined;
    return (await this.#host.shareRead(log, position, () => this.#readRun(log, position))) ?? [];
  }

  async #readRun(log: string, afterId: string | undefined): Promise<StreamRead> {
    const read = afterId === undefined ? undefined : await this.#host.readFrom(log, afterId);
    // `afterId` is the run's when it comes back first; any other id reads the whole run.
    const held = read !== undefined && read[0]?.[0] === afterId;
    const entries = held ? read : ((await this.#host.readFrom(log, undefined)) ?? []);
    // Resolves once this node's feed has delivered the read, `afterId` included (so the channel can drop its copy).
    if (entries.length > 0) await this.#host.continueFeed(log, held ? afterId! : BEFORE_ALL, entries);
    const events = entries.map(([entryId, fields]) => decodeEntry(entryId, fields));
    const end = entries.at(-1)?.[0] ?? BEFORE_ALL;
    if (!held) return { events, end };
    // A client that has the end gets the end again (its stream then ends).
    return { events: events.length === 1 && events[0]!.final === true ? events : events.slice(1), end };
  }

  #keys(id: string): { log: string; meta: string } {
    return runKeys(this.#host.prefix, id);
  }
}

/** Core's error for a script's refusal (`RUN_ENDED <state>`, `RUN_FULL <max>`, `RUN_NOT_FOUND`); undefined for anything else. */
function refusal(id: string, err: unknown): Error | undefined {
  if (!(err instanceof Error) || err.name !== 'ReplyError') return undefined;
  const [word, detail = ''] = err.message.split(' ');
  if (word === 'RUN_ENDED') return new SseRunEndedError(id, detail);
  if (word === 'RUN_FULL') return new SseRunFullError(id, Number(detail));
  if (word === 'RUN_NOT_FOUND') return new SseRunNotFoundError();
  return undefined;
}

/** The record a script returned (field/value pairs, `idleMs` last); undefined for nil. */
function parseRecord(reply: unknown): StoredRun | undefined {
  if (!Array.isArray(reply)) return undefined;
  const fields = new Map<string, string>();
  for (let i = 0; i + 1 < reply.length; i += 2) fields.set(String(reply[i]), String(reply[i + 1]));
  const state = fields.get('state');
  const run: StoredRun = {
    state: state === 'ended' || state === 'cancelled' ? state : 'running',
    maxEvents: Number(fields.get('maxEvents')),
    idleTimeout: Number(fields.get('idleTimeout')),
    ttl: Number(fields.get('ttl')),
    events: Number(fields.get('events')),
    idleMs: Math.max(0, Number(fields.get('idleMs'))),
  };
  const optional = ['reason', 'lastEventId', 'endId'] as const;
  for (const name of optional) {
    const value = fields.get(name);
    if (value !== undefined) run[name] = value;
  }
  return run;
}
