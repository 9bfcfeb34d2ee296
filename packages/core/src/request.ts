/**
 * What Tidings reads from a request: the client's last event id and whether it wants a stream or JSON.
 * Client input is untrusted: an id that is too long or holds control characters is ignored, never echoed.
 * The readers take header values and the URL, so Node requests and Fetch `Request`s share them.
 */
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import { hasControlCharacter, utf8Length } from './text.js';

/**
 * Longest `Last-Event-ID` (header or query), in bytes, that is taken: room for the composite id of a stream on
 * 16 channels with ids of up to 54 bytes each (generated and Redis stream ids take about 15).
 */
export const MAX_LAST_EVENT_ID_BYTES = 1024;

/** Why a client's last event id was ignored. */
export type LastEventIdRejection = 'too-long' | 'control-characters';

/** What {@link readLastEventId} found. */
export interface LastEventIdReading {
  /** The id to resume after, or undefined when absent or ignored. */
  lastEventId: string | undefined;
  /** Set when the client sent an id that was ignored. */
  rejected?: LastEventIdRejection;
}

type NodeRequest = IncomingMessage | Http2ServerRequest;

/** Reads `Last-Event-ID`, else the URL-decoded `?lastEventId=` query value (for EventSource polyfills). */
export function readLastEventId(req: NodeRequest): LastEventIdReading {
  const header = req.headers['last-event-id'];
  return lastEventIdOf(typeof header === 'string' ? header : undefined, req.url);
}

/** {@link readLastEventId} from the header's value and the request URL (absolute or a path with its query). */
export function lastEventIdOf(header: string | undefined | null, url: string | undefined): LastEventIdReading {
  const raw = typeof header === 'string' ? header : queryValue(url, 'lastEventId');
  if (raw === undefined) return { lastEventId: undefined };
  // Length is checked in bytes, before the pattern, so a huge value costs nothing more.
  if (raw.length > MAX_LAST_EVENT_ID_BYTES || utf8Length(raw) > MAX_LAST_EVENT_ID_BYTES) {
    return { lastEventId: undefined, rejected: 'too-long' };
  }
  // Control characters are never part of an id Tidings sends.
  if (hasControlCharacter(raw)) return { lastEventId: undefined, rejected: 'control-characters' };
  return { lastEventId: raw };
}

/**
 * True when the client accepts JSON but not an event stream (short polling): `Accept` names `application/json`
 * and no range that covers `text/event-stream` (the type itself, the `text` wildcard or the any-type wildcard).
 * A range with `q=0` is a refusal.
 */
export function wantsJson(req: NodeRequest): boolean {
  const accept = req.headers.accept;
  return acceptsOnlyJson(typeof accept === 'string' ? accept : undefined);
}

/** {@link wantsJson} from the `Accept` header's value. */
export function acceptsOnlyJson(accept: string | undefined | null): boolean {
  if (typeof accept !== 'string') return false;
  const accepted = new Set<string>();
  for (const part of accept.toLowerCase().split(',')) {
    const [type, ...params] = part.split(';').map((piece) => piece.trim());
    if (!params.some((param) => /^q=0(\.0*)?$/.test(param))) accepted.add(type!);
  }
  const streamAccepted = accepted.has('text/event-stream') || accepted.has('text/*') || accepted.has('*/*');
  return accepted.has('application/json') && !streamAccepted;
}

function queryValue(url: string | undefined, name: string): string | undefined {
  const start = url?.indexOf('?') ?? -1;
  if (url === undefined || start === -1) return undefined;
  try {
    return new URLSearchParams(url.slice(start + 1)).get(name) ?? undefined;
  } catch {
    return undefined;
  }
}
