/**
 * One stream on several channels (`registry.subscribe(em, names)`). The stream is subscribed to each channel through
 * a lane: a {@link StreamHandle} that stands for the stream on that one channel. A lane hands the channel its own
 * position (read from the composite Last-Event-ID, see composite-id.ts), and rewrites each event's `id:` line to
 * the stream's composite id on the way out. The rest of the frame (event, data, comment, retry lines) is the
 * channel's, encoded once per broadcast and shared by every stream; only the id line is per stream. Each channel
 * keeps its own replay, seam and order, so each channel's events reach the stream once, in that channel's order.
 */
import { type Channel, subscribeLane } from './channel.js';
import { channelKey, decodePositions, encodePositions, type Positions } from './composite-id.js';
import type { PreparedEvent, SseEvent } from './frame.js';
import type { AnyEmitter } from './internal.js';
import type { DeliveryCounters, FinishCallback, StreamHandle } from './stream-handle.js';
import { utf8, utf8Length } from './text.js';

/** An event as the filter of a stream on several channels sees it: its fields and the channel it came from. */
export type ChannelEvent = Readonly<SseEvent> & { readonly channel: string };

/** Options of `registry.subscribe(em, names, options)`. */
export interface MultiSubscribeOptions {
  /** Only events for which this returns true reach the stream; `ev.channel` names the channel of each. */
  filter?(ev: ChannelEvent): boolean;
}

/** A frame without its `id:` line, by frame: computed once per broadcast, shared by every stream on several channels. */
const bodies = new WeakMap<Uint8Array, Uint8Array>();

/** The bytes of `prepared`'s frame without its `id:` line (comment lines, if any, come before it). */
function bodyOf(prepared: PreparedEvent): Uint8Array {
  const frame = prepared.frame;
  let body = bodies.get(frame);
  if (body !== undefined) return body;
  let at = 0;
  while (frame[at] === 0x3a /* ':' */) at = frame.indexOf(0x0a, at) + 1; // comment lines
  const idLine = utf8Length(prepared.id === '' ? 'id:\n' : `id: ${prepared.id}\n`);
  if (at === 0) body = frame.subarray(idLine);
  else {
    body = new Uint8Array(frame.length - idLine);
    body.set(frame.subarray(0, at));
    body.set(frame.subarray(at + idLine), at);
  }
  bodies.set(frame, body);
  return body;
}

/** What the lanes of one stream share: the stream, the composite positions and the polling completion count. */
class MultiChannelStream {
  readonly stream: StreamHandle;
  /** Channel key → position, in the order of the channel list. */
  readonly positions: Positions = new Map();
  /** The client's positions, read once the stream is bound; null when its Last-Event-ID could not be read. */
  #sent: Positions | null | undefined;
  /** Lanes that have not yet finished a short-poll or long-poll answer's replay. */
  pendingLanes: number;

  constructor(stream: StreamHandle, lanes: number) {
    this.stream = stream;
    this.pendingLanes = lanes;
  }

  /** The client's positions by channel key (empty without a Last-Event-ID), or null when unreadable. */
  sent(): Positions | null {
    if (this.#sent === undefined) {
      const header = this.stream.lastEventId;
      this.#sent = header === undefined ? new Map() : (decodePositions(header) ?? null);
    }
    return this.#sent;
  }
}

/** The stream, as one of its channels sees it. */
class ChannelLane implements StreamHandle {
  readonly #shared: MultiChannelStream;
  readonly #stream: StreamHandle;
  readonly #name: string;
  readonly #key: string;

  constructor(shared: MultiChannelStream, name: string) {
    this.#shared = shared;
    this.#stream = shared.stream;
    this.#name = name;
    this.#key = channelKey(name);
  }

  /** The client's Last-Event-ID could not be read: resuming is a gap on this channel. */
  get resumesWithGap(): boolean {
    return this.#shared.sent() === null;
  }

  get emitter(): AnyEmitter {
    return this.#stream.emitter;
  }
  get phase() {
    return this.#stream.phase;
  }
  get ended(): boolean {
    return this.#stream.ended;
  }
  /** This channel's position as the client sent it; the whole header when it was unreadable; undefined: start live. */
  get lastEventId(): string | undefined {
    const sent = this.#shared.sent();
    if (sent === null) return this.#stream.lastEventId;
    const position = sent.get(this.#key);
    if (position !== undefined && !this.#shared.positions.has(this.#key))
      this.#shared.positions.set(this.#key, position);
    return position;
  }
  get mode() {
    return this.#stream.mode;
  }
  get maxBufferedBytes(): number {
    return this.#stream.maxBufferedBytes;
  }
  get counters(): DeliveryCounters | undefined {
    return this.#stream.counters;
  }
  set counters(counters: DeliveryCounters | undefined) {
    this.#stream.counters = counters;
  }

  startsAt(position: string): void {
    if (!this.#shared.positions.has(this.#key)) this.#shared.positions.set(this.#key, position);
  }

  /** Writes the channel's frame with the stream's composite id line in place of the channel's own. */
  deliver(prepared: PreparedEvent): boolean {
    const id = prepared.id;
    if (id === undefined) {
      let event = labelled.get(prepared);
      if (event === undefined) {
        event = { ...prepared, channel: this.#name };
        labelled.set(prepared, event);
      }
      return this.#stream.deliver(event);
    }
    const positions = this.#shared.positions;
    positions.set(this.#key, id);
    const composite = encodePositions(positions);
    const idLine = utf8(`id: ${composite}\n`);
    const body = bodyOf(prepared);
    const frame = new Uint8Array(idLine.length + body.length);
    frame.set(idLine);
    frame.set(body, idLine.length);
    return this.#stream.deliver({
      frame,
      id: composite,
      event: prepared.event,
      data: prepared.data,
      channel: this.#name,
    });
  }

  drained(): Promise<void> {
    return this.#stream.drained();
  }
  onFinish(cb: FinishCallback): void {
    this.#stream.onFinish(cb);
  }
  offFinish(cb: FinishCallback): void {
    this.#stream.offFinish(cb);
  }
  onOpen(cb: () => void): void {
    this.#stream.onOpen(cb);
  }
  offOpen(cb: () => void): void {
    this.#stream.offOpen(cb);
  }
  markGap(): void {
    this.#stream.markGap();
  }
  closeSlow(message: string): void {
    this.#stream.closeSlow(message);
  }
  ping(): void {
    this.#stream.ping();
  }
  /** A short-poll answer is complete once every channel's replay is in it. */
  complete(): void {
    if (--this.#shared.pendingLanes <= 0) this.#stream.complete();
  }
}

/** An id-less entry with its channel's name, made once per entry: every lane of the channel sends the same. */
const labelled = new WeakMap<PreparedEvent, PreparedEvent>();

/**
 * Subscribes `stream` to every channel of `channels` (distinct) through one lane each; the caller tracks the
 * stream. One channel is a plain subscription: a stream on one channel keeps that channel's own ids. Returns the
 * function that unsubscribes it from all of them.
 */
export function subscribeChannels(
  channels: readonly Channel[],
  options: MultiSubscribeOptions,
  stream: StreamHandle,
): () => void {
  const userFilter = options.filter;
  // The user's filter sees which channel an event came from.
  const filterOf = (channel: Channel) =>
    userFilter === undefined ? undefined : (ev: Readonly<SseEvent>) => userFilter({ ...ev, channel: channel.name });
  if (channels.length === 1) return subscribeLane(channels[0]!, stream, filterOf(channels[0]!));
  const shared = new MultiChannelStream(stream, channels.length);
  const unsubscribes = channels.map((channel) =>
    subscribeLane(channel, new ChannelLane(shared, channel.name), filterOf(channel)),
  );
  return () => {
    for (const unsubscribe of unsubscribes) unsubscribe();
  };
}
