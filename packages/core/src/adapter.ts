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
}
