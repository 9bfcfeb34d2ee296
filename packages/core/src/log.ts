/**
 * A channel's log: where its broadcasts are recorded, given ids, and read back for replay. One interface, two
 * implementations: {@link MemoryLog} (a ring buffer in this process) and {@link AdapterLog} (a shared log behind a
 * `BroadcastAdapter`, e.g. Redis). The channel itself only holds, replays and delivers.
 */
import type { PreparedEvent, SseEvent } from './frame.js';
import type { AnyEmitter } from './internal.js';

/** One broadcast as a channel keeps it: encoded once, plus what the filters look at. */
export interface LogEntry {
  readonly prepared: PreparedEvent;
  /** The fields subscriber filters see. */
  readonly fields: Readonly<SseEvent>;
  /** The broadcast's `filter`, asked again about a client that gets this entry by replay. */
  readonly audience: ((em: AnyEmitter) => boolean) | undefined;
  /** The last entry of a log that ends (a run's `end` frame): a subscriber's response ends once it is written. */
  readonly final?: boolean;
}

/** How a log hands a recorded entry to its channel for delivery to local subscribers. */
export type DeliverEntry = (entry: LogEntry, except: AnyEmitter | undefined) => void;

/** What {@link ChannelLog.append} takes besides the event. */
export interface AppendOptions {
  /** Only subscribers for which this returns true get the event (kept with it for replay). */
  filter?(em: AnyEmitter): boolean;
  /** A subscriber that does not get the event live. */
  except?: AnyEmitter;
  /** The entry closes the log (a run's `end` frame): see {@link LogEntry.final}. */
  final?: boolean;
}

interface LogCommon {
  /** A new client gets the whole log, not only what comes next (a run's log). */
  readonly fromStart?: boolean;
  /**
   * Records a broadcast and has it delivered to the channel's subscribers: at once in memory, when the shared log
   * hands it back otherwise. Resolves to the id it was given (undefined: no id). Rejects `SSE_ERR_SERIALIZE` when
   * the data cannot be serialized (nothing recorded); throws `SSE_ERR_INVALID_FIELD` for a bad field.
   */
  append(ev: Readonly<SseEvent>, options: AppendOptions): Promise<string | undefined>;
  /** Starts the live feed for the channel (the first local subscriber arrived); resolves once it is live. */
  listen(): Promise<void>;
  /** Ends the live feed (the last local subscriber left). */
  release(): void;
  /**
   * The channel is dropped from memory (it has no subscriber): resolves once nothing of this log listens any more
   * (with an adapter, once its last unsubscription settled), so a log made later for the same name subscribes after it.
   */
  retire(): Promise<void>;
  /** What identifies an entry across replay and live delivery (to drop a live copy the replay already sent). */
  keyOf(entry: LogEntry): unknown;
}

/** A log in this process: reads are synchronous, and live delivery can never lag behind them. */
export interface LocalChannelLog extends LogCommon {
  readonly remote: false;
  /** The entries after `afterId` (all when undefined); undefined when the log does not hold `afterId` (a gap). */
  read(afterId: string | undefined): readonly LogEntry[] | undefined;
  /** The id of the newest entry held, if any: where a client starting live now stands. */
  lastId(): string | undefined;
}

/**
 * A shared log: reads are asynchronous, and this node's live feed may be behind or ahead of a read (the channel
 * holds live entries during the read and matches them by id).
 */
export interface RemoteChannelLog extends LogCommon {
  readonly remote: true;
  /** The entries after `afterId` (all when undefined); undefined when the log does not hold `afterId` (a gap). */
  read(afterId: string | undefined): Promise<readonly LogEntry[] | undefined>;
}

export type ChannelLog = LocalChannelLog | RemoteChannelLog;
