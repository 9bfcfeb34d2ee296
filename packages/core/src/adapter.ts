/**
 * The seam for multi-node fan-out (e.g. `@tidings/redis`): the adapter is the shared log and the id source.
 * With an adapter, a broadcast is published, and every node (the publishing one included) delivers the event
 * to its own subscribers when the adapter hands it back, so all nodes deliver in the same order.
 *
 * How a channel uses it (what an implementation can rely on, and must provide):
 * - per channel, at most one subscription at a time: `subscribe` when the first local subscriber arrives,
 *   `unsubscribe` when the last leaves, and a new `subscribe` only after that `unsubscribe` has settled;
 * - a streaming client that resumes is caught up by calling `history` after `subscribe` has resolved: every
 *   event is then in the history read, among the live events, or both. The channel holds live events during the
 *   read and drops those the read also returned, matching them by the id the log gave them, so an event must
 *   carry the same id in both. An adapter whose `history` resolves only once this node has handed `onEvent`
 *   every event it returns (and `afterId`) lets the channel also drop the held events up to `afterId`, which a
 *   client resuming on a node that is behind it would otherwise get twice (`@tidings/redis` does);
 * - a short-polling client is answered from `history` alone (no subscription);
 * - the registry's `history` size and generated ids do not apply: the log keeps what it keeps (its own maximum
 *   length) and gives every id; an id set on a broadcast event is not used;
 * - a broadcast `filter` cannot travel between nodes, so `Channel.broadcast` refuses it when an adapter is set;
 *   `except` travels as the event's `tag` and applies on the publishing node only.
 */
import type { RunEnd } from './run-log.js';

/** An event as it travels between nodes: its data already serialized to text. */
export interface WireEvent {
  /** The event name; absent for an unnamed (`message`) event. */
  event?: string;
  /** The data, already serialized to text. */
  data?: string;
  /** The `retry:` field, in ms. */
  retry?: number;
  /** A comment sent with the event. */
  comment?: string;
  /**
   * Set by the publishing node (only for a broadcast with `except`) to find that option when the event comes
   * back; carry it as is. Other nodes ignore tags they did not set.
   */
  tag?: string;
}

/** A wire event with the id the shared log gave it. */
export interface StoredEvent extends WireEvent {
  /** The id the shared log gave the event: what clients send back as `Last-Event-ID`. */
  id: string;
  /** The `end` entry of a run's log (see {@link RunAdapter.endRun}); absent on every other entry. */
  final?: true;
}

/** A shared log that channels publish to and read from; see the module notes for how it is used. */
export interface BroadcastAdapter {
  /** Appends `event` to the channel's shared log; resolves to the id it was given. */
  publish(channel: string, event: WireEvent): Promise<string>;
  /**
   * Starts handing this node every event appended to `channel` after the moment this resolves, in log order.
   * Called once per channel, when its first local subscriber arrives.
   */
  subscribe(channel: string, onEvent: (event: StoredEvent) => void): Promise<void>;
  /** Stops delivery for `channel` (its last local subscriber left). */
  unsubscribe(channel: string): Promise<void>;
  /**
   * The events after `afterId`, oldest first (the whole log when `afterId` is undefined); undefined when the
   * log does not hold that id (a gap).
   */
  history(channel: string, afterId: string | undefined): Promise<StoredEvent[] | undefined>;
  /** Ends the adapter's loops and closes the connections it opened. */
  close(): Promise<void>;
  /**
   * Runs kept in the shared store, so any node serves any run and a cancel reaches the producer's node. Without
   * it, runs stay in the process that created them (channels still go through the adapter).
   */
  readonly runs?: RunAdapter;
}

/** A run as the shared store holds it. */
export interface StoredRun {
  state: 'running' | 'ended' | 'cancelled';
  /** The reason given to `cancel()`, once cancelled. */
  reason?: string;
  /** The run's settings, as it was created with them. */
  maxEvents: number;
  idleTimeout: number;
  ttl: number;
  /** Events appended (the `end` entry not counted). */
  events: number;
  /** Id of the last event appended before the end; undefined before the first. */
  lastEventId?: string;
  /** Id of the `end` entry, once the run is over. */
  endId?: string;
  /** Milliseconds since the last append (or the creation), by the store's clock, as of the answer. */
  idleMs: number;
}

/**
 * The shared store of runs (`adapter.runs`). Each run is a log of events that is never trimmed (at most
 * `maxEvents`, plus a final event and the `end` entry) and a record of its state; every key it writes expires:
 * `idleTimeout + ttl` after the last append while running, `ttl` after the end. Appends and the end are atomic
 * in the store, so two nodes can never both end a run or append after its end. How `Run` uses it:
 * - `createRun` once, by the producer's node; then `appendRun` and `endRun` from any node;
 * - `subscribeRun` while a node has subscribers for the run, or is the producer's (to see a cancel from another
 *   node): every entry after the moment it resolves, in log order, exactly once, the `end` entry last;
 * - `runHistory` to replay a client; `findRun` to answer `registry.findRun()` and the run routes.
 */
export interface RunAdapter {
  /**
   * Records a new run. Rejects `SSE_ERR_INVALID_RUN_ID` when a run with that id exists (running, or kept for
   * `ttl` after it ended), on any node.
   */
  createRun(id: string, settings: { maxEvents: number; idleTimeout: number; ttl: number }): Promise<void>;
  /**
   * Appends an event to a running run; resolves to its id. Rejects `SSE_ERR_RUN_ENDED` once the run is over,
   * `SSE_ERR_RUN_FULL` when it holds `maxEvents`, `SSE_ERR_RUN_NOT_FOUND` when it is unknown or expired.
   */
  appendRun(id: string, event: WireEvent): Promise<string>;
  /**
   * Ends a running run: appends `final` when given (even past `maxEvents`), then the `end` entry (event `end`,
   * data: `ending` as JSON, `final: true`), and sets every key to expire `ttl` from now. With `ifIdleFor`, only
   * when no append came for that many ms (by the store's clock). Does nothing to a run that is over. Resolves to
   * the run as it is afterwards; undefined when unknown or expired.
   */
  endRun(
    id: string,
    ending: RunEnd,
    options?: { final?: WireEvent; ifIdleFor?: number },
  ): Promise<StoredRun | undefined>;
  /** The run's record; undefined when unknown or expired. */
  findRun(id: string): Promise<StoredRun | undefined>;
  /** Starts handing this node every entry of the run appended after the moment this resolves, in order. */
  subscribeRun(id: string, onEvent: (event: StoredEvent) => void): Promise<void>;
  /** Stops that delivery. */
  unsubscribeRun(id: string): Promise<void>;
  /**
   * The entries after `afterId`, oldest first: the whole run when `afterId` is undefined or not one of its ids,
   * the `end` entry alone when `afterId` is that entry. Like `history`, resolves once this node's live delivery
   * (when subscribed) has passed what it returns.
   */
  runHistory(id: string, afterId: string | undefined): Promise<StoredEvent[]>;
}
