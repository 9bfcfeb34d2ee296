/**
 * Reads an event stream held in memory back with eventsource-parser, a spec-exact parser independent of Tidings:
 * what a browser's EventSource would dispatch, plus the comments and retry values it saw.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** Everything a client read from one stream. */
export interface ParsedStream {
  events: EventSourceMessage[];
  comments: string[];
  retries: number[];
  /** Parser complaints (unknown fields, invalid retry): an exact encoder never causes any. */
  errors: string[];
}

/** Parses `chunks` in order, as a client reading them off the network would. */
export function parseStream(...chunks: string[]): ParsedStream {
  const parsed: ParsedStream = { events: [], comments: [], retries: [], errors: [] };
  const parser = createParser({
    onEvent: (ev) => parsed.events.push({ ...ev }),
    onComment: (text) => parsed.comments.push(text),
    onRetry: (ms) => parsed.retries.push(ms),
    onError: (err) => parsed.errors.push(err.message),
  });
  for (const chunk of chunks) parser.feed(chunk);
  return parsed;
}
