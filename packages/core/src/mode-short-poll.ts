/**
 * `short-poll`: no stream; the events of the turn of the first write (or none, at the timeout) are answered as one
 * JSON body `{ events, lastEventId }`.
 */
import { EMITTER_DEFAULTS, type StreamSettings } from './emitter-options.js';
import type { PreparedEvent } from './frame.js';
import type { DeliveryMode, ModeTarget } from './mode.js';

/** One event as a short-polling client receives it (the fields an EventSource `MessageEvent` carries). */
export interface PolledEvent {
  /** The event's id, when it has one. */
  id?: string;
  /** The event name; `message` for an unnamed event. */
  event: string;
  /** The data as text, as `MessageEvent.data` would hold it. */
  data: string;
  /** The channel it came from, on a stream on several channels. */
  channel?: string;
}

/** Short polling collects events per stream, so each stream gets an instance of its own. */
export class ShortPollMode implements DeliveryMode {
  readonly name = 'short-poll' as const;
  readonly opensStream = false;
  readonly keepsAlive = false;
  #polled: PolledEvent[] = [];

  retryOf(): undefined {
    return undefined;
  }

  timeoutOf(settings: StreamSettings): number {
    return settings.timeout || EMITTER_DEFAULTS.pollTimeout;
  }

  write(target: ModeTarget, prepared: PreparedEvent): boolean {
    if (prepared.data !== undefined) {
      const { id, channel } = prepared;
      const event = prepared.event ?? 'message';
      this.#polled.push(
        channel === undefined ? { id, event, data: prepared.data } : { channel, id, event, data: prepared.data },
      );
    }
    target.scheduleEnd();
    return true;
  }

  /** `lastEventId`: the last id among the events, else the client's own (null after a gap, never echoed then). */
  end(target: ModeTarget): void {
    let lastEventId = target.resumePoint ?? null;
    for (const e of this.#polled) if (e.id !== undefined) lastEventId = e.id;
    target.respondJson(200, { events: this.#polled, lastEventId });
    this.#polled = [];
  }
}
