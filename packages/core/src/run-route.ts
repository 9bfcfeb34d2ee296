/**
 * The run route's decision, shared by every host (Node's `res.sseRun()` / `reply.sseRun()` and the Fetch
 * `sseRunResponse()`): an id taken from the request is checked (400), the client authorized as `run:<id>`
 * (401/403), the run found (404), and a client that has the whole of an ended run answered 204 so EventSource
 * stops; anyone else may stream the run, with `Tidings-Run` (and `Content-Location`). Free of Node-only imports.
 */
import {
  refusalOf,
  type SseAuthorization,
  type SseAuthorizeInfo,
  type SseNoContent,
  type SseRefusal,
} from './admission.js';
import {
  SseInvalidOptionError,
  type SseInvalidRunIdError,
  SseRunNotFoundError,
  SseUnauthorizedError,
} from './errors.js';
import type { ChannelRegistry } from './registry.js';
import { hasWholeRun, type Run } from './run.js';
import { checkRunId } from './run-id.js';

/** What the run route asks of one request, whatever the runtime. */
export interface RunRouteRequest {
  readonly registry: ChannelRegistry;
  /** The run's id, as taken from the request (checked here). */
  readonly id: string;
  /** Sent as `Content-Location`; checked here. */
  readonly location: string | undefined;
  /** The request's Last-Event-ID, already read (undefined when absent or rejected). */
  readonly lastEventId: string | undefined;
  authorize(name: string, info: SseAuthorizeInfo): SseAuthorization | Promise<SseAuthorization>;
}

/** The decision: an answer to write instead of a stream, or the run to stream with the route's headers. */
export type RunRouteVerdict =
  | { readonly answer: SseRefusal | SseNoContent }
  | { readonly run: Run; readonly headers: Readonly<Record<string, string>> };

const RUN: SseAuthorizeInfo = Object.freeze({ kind: 'run' });

/** What `location` may hold: visible ASCII and spaces (anything else cannot be a header value). */
const HEADER_TEXT = /^[\x20-\x7e]+$/;

/**
 * Decides what the run route answers `request` (see the file comment). Rejects with what `authorize` threw, and
 * with `SSE_ERR_INVALID_OPTION` for a `location` that cannot be a header value.
 */
export async function decideRunRoute(request: RunRouteRequest): Promise<RunRouteVerdict> {
  const { registry, id, location } = request;
  try {
    checkRunId(id);
  } catch (err) {
    return { answer: refusalOf(err as SseInvalidRunIdError) };
  }
  // After the id: a location made from a hostile id (`/runs/${id}`) is that id's 400, not a server error.
  if (location !== undefined && (typeof location !== 'string' || !HEADER_TEXT.test(location))) {
    throw new SseInvalidOptionError('location must be a non-empty URL of visible ASCII characters, e.g. `/runs/<id>`.');
  }
  const verdict = await request.authorize(`run:${id}`, RUN);
  if (verdict !== true) return { answer: refusalOf(new SseUnauthorizedError(verdict === 401 ? 401 : 403)) };
  const run = await registry.findRun(id);
  if (run === undefined) return { answer: refusalOf(new SseRunNotFoundError()) };
  const headers: Record<string, string> = { 'tidings-run': id };
  if (location !== undefined) headers['content-location'] = location;
  if (hasWholeRun(run, request.lastEventId)) {
    // Nothing more will ever come: 204 is what makes an EventSource stop reconnecting.
    return { answer: { status: 204, headers: { ...headers, 'cache-control': 'no-store' } } };
  }
  return { run, headers };
}
