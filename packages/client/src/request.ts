/**
 * What each attempt sends: the method, URL and body (a non-GET turns into a GET at its response's
 * Content-Location once that stream drops), headers asked again every time, and Last-Event-ID.
 */
import { SseClientError } from './errors.js';
import { CLIENT_DEFAULTS, type ConnectOptions, type HeadersOption } from './options.js';

type HeadersInit = Exclude<HeadersOption, () => unknown>;

/** The request of the next attempt. */
export class RequestPlan {
  url: string;
  method: string;
  readonly #options: ConnectOptions;
  #resumed = false;

  constructor(url: string | URL, options: ConnectOptions) {
    this.url = String(url);
    this.method = (options.method ?? CLIENT_DEFAULTS.method).toUpperCase();
    this.#options = options;
  }

  /** True when the request can be repeated as is: a GET, or another method with `retryNonIdempotent`. */
  get resendable(): boolean {
    return this.method === 'GET' || !!this.#options.retryNonIdempotent;
  }

  /** From now on, GET `location` (resolved against the URL) instead of re-sending the original request. */
  resumeAt(location: string, base: string): void {
    this.url = new URL(location, base).href;
    this.method = 'GET';
    this.#resumed = true;
  }

  /**
   * The fetch init of the next attempt; asks `headers()` again. Throws SSE_CLIENT_ERR_HEADERS when `headers()`
   * throws, and SSE_CLIENT_ERR_REQUEST when the request cannot be made (a GET with a body, a malformed header,
   * a bad URL): no retry would mend that.
   */
  async init(lastEventId: string, signal: AbortSignal): Promise<RequestInit> {
    const { headers, credentials, body } = this.#options;
    let given: HeadersInit | undefined;
    try {
      given = typeof headers === 'function' ? await headers() : headers;
    } catch (err) {
      throw new SseClientError('SSE_CLIENT_ERR_HEADERS', 'headers() threw (see cause); retrying.', undefined, err);
    }
    const init: RequestInit = { method: this.method, signal };
    if (credentials) init.credentials = credentials;
    if (!this.#resumed && body != null) init.body = body;
    try {
      const sent = new Headers(given);
      if (!sent.has('accept')) sent.set('accept', 'text/event-stream');
      if (lastEventId) sent.set('last-event-id', lastEventId);
      init.headers = sent;
      new Request(this.url, { ...init, body: init.body == null ? null : '' }); // validates, sends nothing
    } catch (err) {
      throw new SseClientError(
        'SSE_CLIENT_ERR_REQUEST',
        `Cannot request ${this.url}: ${err}. Fix the options.`,
        undefined,
        err,
      );
    }
    return init;
  }
}
