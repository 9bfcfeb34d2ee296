/**
 * How a wire event is stored as a Redis stream entry, and read back. The entry is a flat list of field/value
 * pairs: `v 1` (format version; also makes an event with no fields a valid entry), then `event`, `data`,
 * `retry`, `comment` and `tag` when present, so entries stay readable with `redis-cli XRANGE`. A run's entries
 * (written by its scripts, run-scripts.ts) also have `a <writer>:<number>` (which append made them), and its `end`
 * entry `final 1`.
 */
import type { StoredEvent, WireEvent } from '@tidings/core';

/** Version of the entry layout, written first in every entry. */
const FORMAT_VERSION = '1';

/** The field/value pairs of `event`, ready for `XADD ... *`. */
export function encodeEntry(event: WireEvent): string[] {
  const fields = ['v', FORMAT_VERSION];
  if (event.event !== undefined) fields.push('event', event.event);
  if (event.data !== undefined) fields.push('data', event.data);
  if (event.retry !== undefined) fields.push('retry', String(event.retry));
  if (event.comment !== undefined) fields.push('comment', event.comment);
  if (event.tag !== undefined) fields.push('tag', event.tag);
  return fields;
}

/** The event stored as entry `id` with `fields` (unknown fields are ignored). */
export function decodeEntry(id: string, fields: readonly string[]): StoredEvent {
  const stored: StoredEvent = { id };
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const value = fields[i + 1]!;
    switch (fields[i]) {
      case 'event':
        stored.event = value;
        break;
      case 'data':
        stored.data = value;
        break;
      case 'retry':
        stored.retry = Number(value);
        break;
      case 'comment':
        stored.comment = value;
        break;
      case 'tag':
        stored.tag = value;
        break;
      case 'final':
        stored.final = true;
        break;
    }
  }
  return stored;
}

/** The position before every entry: where an empty stream's log starts (the previous id of a first entry). */
export const BEFORE_ALL = '0-0';

/** A complete stream entry id as Redis writes it: `<ms>-<seq>`, decimal digits only. */
const STREAM_ID = /^(\d{1,20})-(\d{1,20})$/;

/** True when `id` has the exact shape of a stream entry id (so it can be looked up, never half-parsed). */
export function isStreamId(id: string): boolean {
  return STREAM_ID.test(id);
}

/** Orders two stream entry ids (`<ms>-<seq>`): negative when `a` comes first, 0 when equal, positive after. */
export function compareStreamIds(a: string, b: string): number {
  if (a === b) return 0; // the usual case on the live feed: a message that follows the last one delivered
  const [aMs = '', aSeq = ''] = a.split('-');
  const [bMs = '', bSeq = ''] = b.split('-');
  return compareDecimal(aMs, bMs) || compareDecimal(aSeq, bSeq);
}

/** Orders two unsigned decimal strings without leading zeros, of any size. */
function compareDecimal(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
