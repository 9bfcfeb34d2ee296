/**
 * One attempt: send the request, check the response, read and parse its body until it ends, fails, stalls,
 * or the stream is closed; report how it ended. Never throws: every failure becomes an AttemptResult.
 */
import { SseClientError } from './errors.js';
import { createParser, type OnDispatch } from './parser.js';
import type { AttemptResult } from './reconnect.js';
import type { RequestPlan } from './request.js';

/** What an attempt needs from its stream. */
export interface AttemptContext {
  fetch: typeof fetch;
  stallTimeout: number;
  /** Aborted by close(), by the stall timer, or by a run's end. */
  controller: AbortController;
  /** The last event id: sent as Last-Event-ID, and the parser's starting id. */
  lastEventId: string;
  /** The response is an event stream: the stream is open. */
  open(response: Response): void;
  dispatch: OnDispatch;
  retry(ms: number): void;
}

/** The longest delay setTimeout takes as given (2^31 - 1 ms, about 24.8 days). */
export const MAX_TIMER = 2 ** 31 - 1;

const isEventStream = (response: Response): boolean =>
  (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase() === 'text/event-stream';

/** Runs one attempt of `plan` to its end. A Content-Location of an opened non-GET stream moves the plan to GET there. */
export async function attempt(plan: RequestPlan, ctx: AttemptContext): Promise<AttemptResult> {
  const { controller, stallTimeout } = ctx;
  const result: AttemptResult = {};
  let stalled = false;
  let lastByte = Date.now();
  // One timer per stall period (not one per chunk): it re-arms itself for the time left since the last byte.
  const checkStall = (): void => {
    const left = lastByte + stallTimeout - Date.now();
    if (left > 0) timer = setTimeout(checkStall, left);
    else {
      stalled = true;
      controller.abort();
    }
  };
  // 0 or Infinity turns stall detection off (a timer past 2^31 - 1 ms would fire at once).
  let timer = stallTimeout > 0 && stallTimeout < MAX_TIMER ? setTimeout(checkStall, stallTimeout) : undefined;
  let openedAt = 0;
  try {
    const init = await plan.init(ctx.lastEventId, controller.signal);
    result.sent = true;
    const { fetch } = ctx; // called unbound: a browser's window.fetch refuses another `this` (Illegal invocation)
    const response = await fetch(plan.url, init);
    lastByte = Date.now();
    result.status = response.status;
    if (!response.ok || response.status === 204) {
      result.retryAfter = response.headers.get('retry-after');
      if (response.status !== 204) {
        result.error = new SseClientError(
          'SSE_CLIENT_ERR_HTTP',
          `HTTP ${response.status} from ${plan.url}: 4xx other than 408/429 stop the stream (check the URL, method and credentials); 5xx, 408 and 429 are retried.`,
          response.status,
        );
      }
      return result;
    }
    if (!isEventStream(response) || !response.body) {
      result.fatal = true;
      result.error = new SseClientError(
        'SSE_CLIENT_ERR_CONTENT_TYPE',
        `${plan.url} answered Content-Type "${response.headers.get('content-type')}", not text/event-stream: point the client at an SSE endpoint.`,
        response.status,
      );
      return result;
    }
    result.opened = true;
    openedAt = Date.now();
    const location = response.headers.get('content-location');
    if (location && plan.method !== 'GET') plan.resumeAt(location, response.url || plan.url);
    const run = response.headers.has('tidings-run');
    const feed = createParser(
      (event, data, id) => {
        if (result.finished) return; // nothing after a run's end counts, even in the same chunk
        ctx.dispatch(event, data, id);
        // A run's `end` event ends it: no further request (DESIGN.md, runs).
        if (run && event === 'end' && data !== undefined) {
          result.finished = true;
          controller.abort();
        }
      },
      ctx.retry,
      ctx.lastEventId,
    );
    ctx.open(response);
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      lastByte = Date.now();
      result.received = true;
      feed(value);
    }
  } catch (err) {
    if (!controller.signal.aborted || stalled) {
      result.error = stalled
        ? new SseClientError(
            'SSE_CLIENT_ERR_STALLED',
            `No byte from ${plan.url} for ${stallTimeout} ms, so the connection was dropped: have the server send keep-alive comments more often than stallTimeout, or raise it.`,
            result.status,
          )
        : err instanceof SseClientError
          ? err
          : new SseClientError(
              'SSE_CLIENT_ERR_NETWORK',
              `Request to ${plan.url} failed: ${err} (see cause). Check that the server is up and reachable.`,
              result.status,
              err,
            );
      result.fatal = result.error.code === 'SSE_CLIENT_ERR_REQUEST';
    }
  } finally {
    clearTimeout(timer);
    if (openedAt) result.openFor = Date.now() - openedAt;
    controller.abort(); // releases the connection of a response not read to its end
  }
  return result;
}
