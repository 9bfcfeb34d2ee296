/**
 * The event-stream encoder: turns one event into one frame of the HTML standard's
 * `text/event-stream` format, and refuses any field value that could forge another field or event.
 */
import { SseInvalidFieldError, SseSerializeError } from './errors.js';
import { utf8 } from './text.js';

/** One event, as the fields of an event-stream frame. */
export interface SseEvent<T = unknown> {
  /** A string is sent as is (split into `data:` lines on CRLF, CR or LF); anything else is serialized (JSON by default). */
  data?: T;
  /** The event name the client listens for; absent means `message`. May not hold CR or LF. */
  event?: string;
  /** The id the client sends back as `Last-Event-ID`. May not hold CR, LF or NUL; `''` resets the client's last id. */
  id?: string | number;
  /** How long the client waits before reconnecting, in ms: a non-negative integer. */
  retry?: number;
  /** A comment: each line is sent as `: line` and ignored by clients. */
  comment?: string;
}

/** Turns a non-string data value into text. Must return a string; JSON.stringify by default. */
export type Serializer = (value: unknown) => string;

/** Options of {@link encodeEvent}. */
export interface EncodeOptions {
  /** Turns non-string data into text. Default JSON.stringify. */
  serialize?: Serializer;
}

const LINE_BREAK = /\r\n|\r|\n/;
const LINE_BREAKS = /\r\n|\r|\n/g;
const BUILDER = Symbol.for('tidings.event');

/**
 * An event made by {@link event}: the one kind of value that `send` and `broadcast` read as event fields.
 * Every other value is data. `N` is the event name and `T` the data's type, checked against an emitter's event map.
 */
export class SseEventBuilder<N extends string = string, T = unknown> {
  /** Brand that recognises events made by `event()` across duplicate copies of the package (see `isEvent`). */
  readonly [BUILDER] = true;
  #event: SseEvent<T> = {};

  /** Sets the `id:` field. Throws `SSE_ERR_INVALID_FIELD` for CR, LF or NUL. */
  id(id: string | number): this {
    this.#event.id = checkId(id);
    return this;
  }

  /** Sets the event name (`event:` field). Throws `SSE_ERR_INVALID_FIELD` for CR or LF. */
  name<M extends string>(name: M): SseEventBuilder<M, T> {
    this.#event.event = checkName(name);
    return this as unknown as SseEventBuilder<M, T>;
  }

  /** Sets the data: a string is sent as is, anything else is serialized. */
  data<U>(data: U): SseEventBuilder<N, U> {
    (this.#event as SseEvent<unknown>).data = data;
    return this as unknown as SseEventBuilder<N, U>;
  }

  /** Sets the `retry:` field (ms). Throws `SSE_ERR_INVALID_FIELD` unless a non-negative integer. */
  reconnectTime(ms: number): this {
    this.#event.retry = checkRetry(ms);
    return this;
  }

  /** Adds a comment; several lines become several `:` lines. */
  comment(text: string): this {
    this.#event.comment = checkComment(text);
    return this;
  }

  /** The fields set so far. */
  toEvent(): Readonly<SseEvent<T>> & {
    /** The event name set with `name()`. */
    event?: N;
  } {
    return this.#event as SseEvent<T> & { event?: N };
  }
}

/**
 * Makes an event, Spring style: `event().id('7').name('add').data(item)`, or in one call
 * `event({ id: '7', event: 'add', data: item })`. Invalid fields throw `SSE_ERR_INVALID_FIELD` at once.
 */
export function event<N extends string = 'message', T = undefined>(
  init?: SseEvent<T> & { event?: N },
): SseEventBuilder<N, T> {
  const builder = new SseEventBuilder<N, T>();
  if (init === undefined) return builder;
  if (init.id !== undefined) builder.id(init.id);
  if (init.event !== undefined) builder.name(init.event);
  if ('data' in init) builder.data(init.data);
  if (init.retry !== undefined) builder.reconnectTime(init.retry);
  if (init.comment !== undefined) builder.comment(init.comment);
  return builder;
}

/** True for values made by {@link event} (works across duplicate copies of the package). */
export function isEvent(value: unknown): value is SseEventBuilder<string, unknown> {
  return typeof value === 'object' && value !== null && (value as { [BUILDER]?: unknown })[BUILDER] === true;
}

/** The one rule: a value made by `event()` is an event; any other value is the data of an unnamed event. */
export function toEvent(value: unknown): Readonly<SseEvent> {
  return isEvent(value) ? value.toEvent() : { data: value };
}

/**
 * An event encoded once, ready to be written to any number of clients: the frame bytes plus the fields a
 * short-polling (JSON) client gets. `data` is the text as an EventSource would see it.
 */
export interface PreparedEvent {
  readonly frame: Uint8Array;
  readonly id?: string;
  readonly event?: string;
  readonly data?: string;
  /** The channel it came from, on a stream on several channels (a short-polling client gets it with each event). */
  readonly channel?: string;
}

/** Encodes `ev` once into a {@link PreparedEvent}. Throws like {@link encodeEvent}. */
export function prepareEvent(ev: Readonly<SseEvent>, serialize?: Serializer): PreparedEvent {
  const data = ev.data === undefined ? undefined : serializeData(ev.data, serialize);
  const frame = utf8(encodeEvent(data === undefined ? ev : { ...ev, data }));
  return { frame, id: ev.id === undefined ? undefined : String(ev.id), event: ev.event, data };
}

/**
 * Encodes one event as a complete frame ending in one blank line. Throws `SSE_ERR_INVALID_FIELD` for a field
 * that could inject lines, and `SSE_ERR_SERIALIZE` when the serializer fails; nothing partial is ever returned.
 * An event with no field at all encodes to `''`.
 */
export function encodeEvent(ev: SseEvent | SseEventBuilder<string, unknown>, opts?: EncodeOptions): string {
  const fields = isEvent(ev) ? ev.toEvent() : ev;
  let frame = '';
  if (fields.comment !== undefined) frame += commentLines(checkComment(fields.comment));
  // An empty id is a bare `id:` (the standard's reset of the client's last event id).
  if (fields.id !== undefined) frame += fields.id === '' ? 'id:\n' : `id: ${checkId(fields.id)}\n`;
  if (fields.event !== undefined) frame += `event: ${checkName(fields.event)}\n`;
  if (fields.retry !== undefined) frame += `retry: ${checkRetry(fields.retry)}\n`;
  if (fields.data !== undefined) frame += dataLines(serializeData(fields.data, opts?.serialize));
  return frame === '' ? '' : `${frame}\n`;
}

/** Encodes a comment frame (`: text`, one `:` line per line of text); no text gives the bare `:` ping. */
export function encodeComment(text?: string): string {
  return text === undefined ? ':\n\n' : `${commentLines(checkComment(text))}\n`;
}

/** The data as text: strings as they are, anything else through the serializer (`SSE_ERR_SERIALIZE` if it fails). */
export function serializeData(data: unknown, serialize: Serializer = JSON.stringify): string {
  if (typeof data === 'string') return data;
  let text: unknown;
  try {
    text = serialize(data);
  } catch (err) {
    throw new SseSerializeError(err);
  }
  if (typeof text !== 'string') {
    throw new SseSerializeError(new TypeError(`the serializer returned ${typeof text}, not a string`));
  }
  return text;
}

function dataLines(text: string): string {
  if (text.indexOf('\r') === -1) {
    // JSON and most payloads are one line; LF-only text needs no regular expression either.
    return text.indexOf('\n') === -1 ? `data: ${text}\n` : `data: ${text.replaceAll('\n', '\ndata: ')}\n`;
  }
  return `data: ${text.replace(LINE_BREAKS, '\ndata: ')}\n`;
}

function commentLines(text: string): string {
  let lines = '';
  for (const line of text.split(LINE_BREAK)) lines += line === '' ? ':\n' : `: ${line}\n`;
  return lines;
}

function checkId(id: string | number): string {
  if (typeof id === 'number') {
    if (!Number.isFinite(id))
      throw new SseInvalidFieldError('id', `Event id must be a finite number or a string, got ${id}.`);
    return String(id);
  }
  if (typeof id !== 'string')
    throw new SseInvalidFieldError('id', `Event id must be a string or a number, got ${typeof id}.`);
  if (/[\r\n\0]/.test(id)) {
    throw new SseInvalidFieldError(
      'id',
      'Event id may not contain CR, LF or NUL: remove them (they would forge fields).',
    );
  }
  return id;
}

function checkName(name: string): string {
  if (typeof name !== 'string')
    throw new SseInvalidFieldError('event', `Event name must be a string, got ${typeof name}.`);
  if (/[\r\n]/.test(name)) {
    throw new SseInvalidFieldError(
      'event',
      'Event name may not contain CR or LF: remove them (they would forge fields).',
    );
  }
  return name;
}

function checkRetry(ms: number): number {
  if (!Number.isSafeInteger(ms) || ms < 0) {
    throw new SseInvalidFieldError(
      'retry',
      `retry must be a non-negative integer number of milliseconds, got ${String(ms)}.`,
    );
  }
  return ms;
}

function checkComment(text: string): string {
  if (typeof text !== 'string')
    throw new SseInvalidFieldError('comment', `A comment must be a string, got ${typeof text}.`);
  return text;
}
