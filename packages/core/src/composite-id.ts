/**
 * The id a stream on several channels sends: every channel's position in one `Last-Event-ID`, so the server can
 * replay each channel from its own place after a reconnect.
 *
 * Format: `~<key><position>~<key><position>...`, one entry per channel that has a position, where `<key>` is 8
 * base-36 characters hashed from the channel's name (never its place in the list: a client that comes back with
 * another list still finds its channels) and `<position>` is the id the channel's log gave its last event, with
 * `%` written `%25` and `~` written `%7E`. With generated ids (`<prefix>-<n>`) or Redis stream ids (`<ms>-<seq>`),
 * an entry is about 25 bytes: 16 channels stay well under 1,024 bytes ({@link MAX_LAST_EVENT_ID_BYTES}).
 * Pure string work, no Node API.
 */

/** Characters of a channel key. */
export const CHANNEL_KEY_LENGTH = 8;

const KEY = /^[0-9a-z]{8}$/;
const ESCAPES = /%25|%7E/g;
const SEPARATOR = '~';

/**
 * The 8-character key of a channel name: two 32-bit FNV-1a hashes (different seeds), 41 bits in base 36.
 * Two names of one list share a key with a chance of about 1 in 10^10.
 */
export function channelKey(name: string): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193);
  }
  const high = (a >>> 0) % 0x200; // 9 bits
  const value = high * 0x1_0000_0000 + (b >>> 0); // 41 bits, exact in a double
  return value.toString(36).padStart(CHANNEL_KEY_LENGTH, '0');
}

/** Positions by channel key, in the order they are written. */
export type Positions = Map<string, string>;

/** Encodes `positions` (channel key → position) as one composite id. */
export function encodePositions(positions: Positions): string {
  let id = '';
  for (const [key, position] of positions) id += `${SEPARATOR}${key}${escapePosition(position)}`;
  return id;
}

/**
 * Reads a composite id: the positions by channel key, or undefined when it is not one Tidings could have written
 * (then the client's place on every channel is unknown: a gap, never a guess).
 */
export function decodePositions(id: string): Positions | undefined {
  if (!id.startsWith(SEPARATOR)) return undefined;
  const positions: Positions = new Map();
  for (const entry of id.slice(1).split(SEPARATOR)) {
    const key = entry.slice(0, CHANNEL_KEY_LENGTH);
    const position = unescapePosition(entry.slice(CHANNEL_KEY_LENGTH));
    if (!KEY.test(key) || position === undefined || positions.has(key)) return undefined;
    positions.set(key, position);
  }
  return positions;
}

function escapePosition(position: string): string {
  return position.replaceAll('%', '%25').replaceAll('~', '%7E');
}

/** Undefined for a `%` that is not one of the two escapes written. */
function unescapePosition(text: string): string | undefined {
  if (text.replace(ESCAPES, '').includes('%')) return undefined;
  return text.replace(ESCAPES, (sequence) => (sequence === '%25' ? '%' : '~'));
}
