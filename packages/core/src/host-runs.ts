/**
 * The run route (`res.sseRun(id)` / `reply.sseRun(id)`): an id taken from the request is checked (400), the client
 * authorized as `run:<id>` (401/403), the run found (404), a client that has the whole of an ended run answered
 * 204 so EventSource stops, and anyone else given a stream subscribed to the run, with `Tidings-Run` (and
 * `Content-Location`). Every refusal is a whole answer written before any byte of stream.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import {
  refusalOf,
  type SseAuthorization,
  type SseAuthorizeInfo,
  type SseNoContent,
  type SseRefusal,
} from './admission.js';
import type { SseEmitter } from './emitter.js';
import type { SseEmitterOptions } from './emitter-options.js';
import {
  SseInvalidOptionError,
  type SseInvalidRunIdError,
  SseRunNotFoundError,
  SseUnauthorizedError,
} from './errors.js';
import type { SseExchange } from './host.js';
import type { ChannelRegistry } from './registry.js';
import { readLastEventId } from './request.js';
import { hasWholeRun } from './run.js';
import { checkRunId } from './run-id.js';

type EventMap = Record<string, unknown>;

/** Options of `res.sseRun(id, options)` / `reply.sseRun(id, options)`: the stream's options, plus `location`. */
export interface RunStreamOptions extends SseEmitterOptions {
  /** Sent as `Content-Location` (e.g. `/runs/<id>`): where a client whose POST started the run resumes with GET. */
  location?: string;
}

/**
 * The signature adapters give `res.sseRun()` / `reply.sseRun()`: this request subscribed to run `id`; `undefined`
 * when no stream opened (refused or answered 204: the answer was written).
 */
export type OpenRunStream = <Events extends EventMap = EventMap>(
  id: string,
  options?: RunStreamOptions,
) => Promise<SseEmitter<Events> | undefined>;

/** What the run route needs from its host. */
export interface RunRouteHost {
  readonly registry: ChannelRegistry;
  authorize(exchange: SseExchange, name: string, info: SseAuthorizeInfo): SseAuthorization | Promise<SseAuthorization>;
  answer(exchange: SseExchange, refusal: SseRefusal | SseNoContent): void;
  open<Events extends EventMap>(exchange: SseExchange, overrides: SseEmitterOptions): SseEmitter<Events>;
}

const RUN: SseAuthorizeInfo = Object.freeze({ kind: 'run' });

/** What `location` may hold: visible ASCII and spaces (anything else cannot be a header value). */
const HEADER_TEXT = /^[\x20-\x7e]+$/;

/**
 * Serves run `id` to this request (see the file comment). Resolves to the emitter, or `undefined` when no stream
 * opened. Rejects with what `authorize` threw; throws `SSE_ERR_INVALID_OPTION` for a `location` that cannot be a
 * header value.
 */
export async function openRunStream<Events extends EventMap = EventMap>(
  host: RunRouteHost,
  exchange: SseExchange,
  id: string,
  options: RunStreamOptions = {},
): Promise<SseEmitter<Events> | undefined> {
  const { location, ...overrides } = options;
  if (location !== undefined && (typeof location !== 'string' || !HEADER_TEXT.test(location))) {
    throw new SseInvalidOptionError('location must be a non-empty URL of visible ASCII characters, e.g. `/runs/<id>`.');
  }
  try {
    checkRunId(id);
  } catch (err) {
    host.answer(exchange, refusalOf(err as SseInvalidRunIdError));
    return undefined;
  }
  const verdict = await host.authorize(exchange, `run:${id}`, RUN);
  if (verdict !== true) {
    host.answer(exchange, refusalOf(new SseUnauthorizedError(verdict === 401 ? 401 : 403)));
    return undefined;
  }
  const run = await host.registry.findRun(id);
  if (run === undefined) {
    host.answer(exchange, refusalOf(new SseRunNotFoundError()));
    return undefined;
  }
  const headers: Record<string, string> = { 'tidings-run': id };
  if (location !== undefined) headers['content-location'] = location;
  if (hasWholeRun(run, readLastEventId(exchange.req).lastEventId)) {
    // Nothing more will ever come: 204 is what makes an EventSource stop reconnecting.
    host.answer(exchange, { status: 204, headers: { ...headers, 'cache-control': 'no-store' } });
    return undefined;
  }
  const em = host.open<Events>(withHeaders(exchange, headers), overrides);
  if (em.state === 'completed') return undefined;
  run.subscribe(em);
  return em;
}

/** `exchange` with `headers` added to the stream's response. */
function withHeaders(exchange: SseExchange, headers: OutgoingHttpHeaders): SseExchange {
  return { ...exchange, beforeStream: () => ({ ...exchange.beforeStream?.(), ...headers }) };
}
