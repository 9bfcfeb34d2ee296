/**
 * The SSE test client: one streaming GET over a real socket (http.get, a fresh socket, no agent pooling), read
 * as it arrives and parsed with eventsource-parser, a spec-exact parser independent of Tidings.
 *
 * Two views of what arrived: `events` is what the parser dispatches, frame by frame (an `id` or `event` only
 * where that frame set one); `dispatched` is what a browser's EventSource hands its listeners (`event` defaults
 * to `message`, `id` is the last event id so far). An `id:` on a frame without data is not reported by the
 * parser, so it does not move `lastEventId` here (the suites send ids with data only).
 */
import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { waitFor } from './wait';

/** What a client sends when it connects. */
export interface StreamOptions {
  /** Request headers, over `Accept: text/event-stream` (what an EventSource sends). */
  headers?: http.OutgoingHttpHeaders;
  /** Sent as the `Last-Event-ID` header. */
  lastEventId?: string;
  /** Keep the body bytes as received, for `bytes` (off by default: many clients, long streams). */
  keepBytes?: boolean;
}

/** One event as an EventSource dispatches it: its type, the last event id so far, its data. */
export interface DispatchedEvent {
  event: string;
  id: string | undefined;
  data: string;
}

/** One open event stream, read as it arrives. Make it with {@link connect} or {@link openStream}. */
export class SseTestClient {
  /** Where this client connected. */
  readonly url: string;
  /** Resolves with the response once its head arrived; rejects when the request failed before that. */
  readonly response: Promise<http.IncomingMessage>;
  /** Resolves when the server ended the response or the connection closed (never rejects). */
  readonly ended: Promise<void>;
  /** The response status (0 until the head arrived). */
  status = 0;
  /** The response headers (empty until the head arrived). */
  headers: http.IncomingHttpHeaders = {};
  /** Events as the parser dispatched them, frame by frame. */
  readonly events: EventSourceMessage[] = [];
  /** Comment lines read (keep-alives read as `''`). */
  readonly comments: string[] = [];
  /** `retry:` values read. */
  readonly retries: number[] = [];
  /** Parser complaints (unknown fields, invalid retry): an exact server never causes any. */
  readonly parseErrors: string[] = [];
  readonly #options: StreamOptions;
  readonly #req: http.ClientRequest;
  readonly #arrivals = new EventEmitter();
  #text = '';
  /** The body bytes as received, when `keepBytes` was asked for. */
  readonly #raw: Buffer[] | undefined;
  #res: http.IncomingMessage | undefined;
  #closed = false;
  #end: () => void = () => {};

  constructor(url: string, options: StreamOptions = {}) {
    this.url = url;
    this.#options = options;
    this.#raw = options.keepBytes ? [] : undefined;
    const headers: http.OutgoingHttpHeaders = { accept: 'text/event-stream' };
    if (options.lastEventId !== undefined) headers['last-event-id'] = options.lastEventId;
    this.#req = http.get(url, { agent: false, headers: { ...headers, ...options.headers } });
    this.response = new Promise((resolve, reject) => {
      this.#req.once('response', resolve);
      this.#req.once('error', reject);
    });
    this.response.catch(() => {}); // a test that never awaits it still sees the failure through `ended`
    this.ended = new Promise<void>((resolve) => {
      this.#end = () => {
        this.#closed = true;
        this.#arrivals.emit('data');
        resolve();
      };
      this.#req.on('error', this.#end);
      this.#req.once('close', () => {
        if (this.#res === undefined) this.#end(); // no response ever came
      });
      this.#req.once('response', (res) => this.#read(res));
    });
  }

  /** Everything received, as text (gunzipped when the response was). */
  get text(): string {
    return this.#text;
  }

  /** The body bytes as received, before any decompression (chunked framing removed). Needs `keepBytes`. */
  get bytes(): Buffer {
    if (this.#raw === undefined) throw new Error('Open the stream with { keepBytes: true } to read its bytes.');
    return Buffer.concat(this.#raw);
  }

  /** True once the whole response arrived (the server ended it, rather than the connection breaking). */
  get complete(): boolean {
    return this.#res?.complete ?? false;
  }

  /** The data of every event received, in order. */
  get data(): string[] {
    return this.events.map((e) => e.data);
  }

  /** The last event id this stream set (undefined until one did, whatever `Last-Event-ID` was sent). */
  get lastEventId(): string | undefined {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const { id } = this.events[i]!;
      if (id !== undefined) return id;
    }
    return undefined;
  }

  /** Events as a browser's EventSource dispatches them (see the file comment); built on each call. */
  get dispatched(): DispatchedEvent[] {
    let lastEventId: string | undefined;
    return this.events.map((e) => {
      lastEventId = e.id ?? lastEventId;
      return { event: e.event ?? 'message', id: lastEventId, data: e.data };
    });
  }

  /** The data of the unnamed events (those an EventSource hands to `onmessage`), in order. */
  messages(): string[] {
    return this.events.filter((e) => e.event === undefined).map((e) => e.data);
  }

  /** The last event id at each event received, in order (as EventSource's `lastEventId`; undefined before any). */
  get ids(): Array<string | undefined> {
    return this.dispatched.map((e) => e.id);
  }

  /** Resolves once `check` holds for what arrived; rejects after the patience period with `label`. */
  waitFor(label: string, check: (client: this) => boolean): Promise<void> {
    return waitFor(label, () => check(this), { source: this.#arrivals });
  }

  /**
   * Resolves with the events once `count` have arrived; rejects when the stream ends with fewer, or after the
   * patience period.
   */
  async waitForEvents(count: number): Promise<EventSourceMessage[]> {
    await this.waitFor(`${count} events`, () => this.events.length >= count || this.#closed);
    if (this.events.length < count) {
      throw new Error(`The stream ended after ${this.events.length} of ${count} events`);
    }
    return this.events;
  }

  /** Drops the connection, as a closed browser tab does (the server sees a disconnect). */
  close(): void {
    this.#closed = true;
    this.#req.destroy();
  }

  /**
   * Drops this connection and opens a new one to the same URL, sending the last event id this stream set (else the
   * one it was opened with) as `Last-Event-ID`, as an EventSource does.
   */
  reconnect(): SseTestClient {
    this.close();
    return new SseTestClient(this.url, {
      ...this.#options,
      lastEventId: this.lastEventId ?? this.#options.lastEventId,
    });
  }

  #read(res: http.IncomingMessage): void {
    this.#res = res;
    this.status = res.statusCode ?? 0;
    this.headers = res.headers;
    const parser = createParser({
      onEvent: (ev) => this.events.push(ev), // a fresh object per event
      onComment: (text) => this.comments.push(text),
      onRetry: (ms) => this.retries.push(ms),
      onError: (err) => this.parseErrors.push(err.message),
    });
    res.on('error', () => {}); // an aborted or reset connection is how streams end here
    const raw = this.#raw;
    if (raw !== undefined) res.on('data', (chunk: Buffer) => raw.push(chunk));
    const gzip = res.headers['content-encoding'] === 'gzip';
    const body = gzip ? res.pipe(createGunzip()) : res;
    if (gzip) {
      body.once('end', this.#end); // after the last decompressed bytes
      body.once('error', this.#end);
      res.once('close', () => {
        if (!res.complete) this.#end(); // broken off: gunzip never ends
      });
    } else {
      res.once('end', this.#end);
      res.once('close', this.#end);
    }
    const decoder = new StringDecoder('utf8');
    body.on('data', (chunk: Buffer) => {
      const text = decoder.write(chunk);
      this.#text += text;
      parser.feed(text);
      this.#arrivals.emit('data');
    });
  }
}

/** Opens a streaming GET to `url` (the request is in flight when this returns). */
export function connect(url: string, options?: StreamOptions): SseTestClient {
  return new SseTestClient(url, options);
}

/** Opens a streaming GET to `url` and resolves once the response head arrived; rejects when the request failed. */
export async function openStream(url: string, options?: StreamOptions): Promise<SseTestClient> {
  const client = new SseTestClient(url, options);
  await client.response;
  return client;
}
