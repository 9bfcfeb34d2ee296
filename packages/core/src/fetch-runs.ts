/**
 * The run route on Fetch-standard runtimes: `sseRunResponse(request, id)` answers as `res.sseRun(id)` does on
 * Node (the decision is `decideRunRoute()`, shared with it), as a `Response`. Free of Node-only imports.
 */
import type { SseEmitter } from './emitter.js';
import { SseInvalidOptionError } from './errors.js';
import { refusalResponse, type SseFetchAuthorize, type SseResponseOptions, sseResponse } from './fetch.js';
import type { ChannelRegistry } from './registry.js';
import { lastEventIdOf } from './request.js';
import { decideRunRoute } from './run-route.js';

type EventMap = Record<string, unknown>;

/** Options of {@link sseRunResponse}: {@link SseResponseOptions} with the registry required, `authorize`, `location`. */
export interface SseRunResponseOptions extends SseResponseOptions {
  /** Where the run lives (`registry.createRun()`, `registry.findRun()`). */
  registry: ChannelRegistry;
  /** Asked as `authorize(request, 'run:<id>', { kind: 'run' })` before any byte of stream (401/403). */
  authorize?: SseFetchAuthorize;
  /** Sent as `Content-Location` (e.g. `/runs/<id>`): where a client whose POST started the run resumes with GET. */
  location?: string;
}

const ADMIT_ALL = (): true => true;

/**
 * Streams run `id` of `options.registry` to `request`: from its start (or after the request's Last-Event-ID),
 * then live, then the `end` frame, and the response ends; the stream carries `Tidings-Run: <id>` (and
 * `Content-Location` with `location`). Answered before any stream, as plain `Response`s: 400
 * `SSE_ERR_INVALID_RUN_ID` for an id that is not 1–256 URL-safe characters, 401/403 from `authorize`, 404
 * `SSE_ERR_RUN_NOT_FOUND` for an unknown or expired run, 204 to a client that has the whole of an ended run (so
 * EventSource stops), 503 past the registry's `maxConnections`.
 *
 * Rejects with what `authorize` threw, and with `SSE_ERR_INVALID_OPTION` without a registry or for a `location`
 * that cannot be a header value.
 */
export async function sseRunResponse<Events extends EventMap = EventMap>(
  request: Request,
  id: string,
  options: SseRunResponseOptions,
): Promise<Response> {
  const { authorize = ADMIT_ALL, location, ...rest } = options;
  const registry = options.registry as ChannelRegistry | undefined;
  if (registry === undefined) {
    throw new SseInvalidOptionError('sseRunResponse() needs the option `registry` (the runs live there).');
  }
  const verdict = await decideRunRoute({
    registry,
    id,
    location,
    lastEventId: lastEventIdOf(request.headers.get('last-event-id'), request.url).lastEventId,
    authorize: (name, info) => authorize(request, name, info),
  });
  if ('answer' in verdict) return refusalResponse(verdict.answer);
  const headers = new Headers(rest.headers);
  for (const [name, value] of Object.entries(verdict.headers)) headers.set(name, value);
  return sseResponse<Events>(request, (em: SseEmitter<Events>) => verdict.run.subscribe(em), { ...rest, headers });
}
