/**
 * The seam for multi-node fan-out (e.g. `@tidings/redis`): the adapter is the shared log and the id source.
 * With an adapter, a broadcast is published, and every node (the publishing one included) delivers the event
 * to its own subscribers when the adapter hands it back, so all nodes deliver in the same order.
 */

/** An event as it travels between nodes: its data already serialized to text. */
export interface WireEvent {
  event?: string;
  data?: string;
  retry?: number;
  comment?: string;
  /** Set by the publishing node to find its per-broadcast options when the event comes back; carry it as is. */
  tag?: string;
}

/** A wire event with the id the shared log gave it. */
export interface StoredEvent extends WireEvent {
  id: string;
}

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
