/**
 * The run route on Node responses (`res.sseRun(id)` / `reply.sseRun(id)`): what to answer is decided by
 * `decideRunRoute()` (400/401/403/404/204, shared with the Fetch `sseRunResponse()`); a refusal is a whole answer
 * written before any byte of stream, anyone else gets a stream subscribed to the run, with `Tidings-Run` (and
 * `Content-Location`).
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { SseAuthorization, SseAuthorizeInfo, SseNoContent, SseRefusal } from './admission.js';
import type { SseEmitter } from './emitter.js';
import type { SseEmitterOptions } from './emitter-options.js';
import type { SseExchange } from './host-contract.js';
import type { ChannelRegistry } from './registry.js';
import { readLastEventId } from './request.js';
import { decideRunRoute } from './run-route.js';

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
  const verdict = await decideRunRoute({
    registry: host.registry,
    id,
    location,
    lastEventId: readLastEventId(exchange.req).lastEventId,
    authorize: (name, info) => host.authorize(exchange, name, info),
  });
  if ('answer' in verdict) {
    host.answer(exchange, verdict.answer);
    return undefined;
  }
  const em = host.open<Events>(withHeaders(exchange, verdict.headers), overrides);
  if (em.state === 'completed') return undefined;
  verdict.run.subscribe(em);
  return em;
}

/** `exchange` with `headers` added to the stream's response. */
function withHeaders(exchange: SseExchange, headers: OutgoingHttpHeaders): SseExchange {
  return { ...exchange, beforeStream: () => ({ ...exchange.beforeStream?.(), ...headers }) };
}
