/**
 * What both entry points export: everything but what needs Node (`SseHost`, the adapters' base, and the binding of
 * `SseEmitter.attach()` to Node responses). The Fetch-runtime entry (`web.ts`) is this alone.
 */
export type { BroadcastAdapter, RunAdapter, StoredEvent, StoredRun, WireEvent } from './adapter.js';
export {
  ADMISSION_DEFAULTS,
  type AdmissionError,
  type ConnectionLimitOptions,
  refusalOf,
  type SseAuthorization,
  type SseAuthorize,
  type SseAuthorizeInfo,
  type SseNoContent,
  type SseRefusal,
  writeRefusal,
} from './admission.js';
export { type BroadcastOptions, Channel, type SubscribeOptions } from './channel.js';
export {
  type AttachOptions,
  EMITTER_DEFAULTS,
  type EventData,
  type EventName,
  type PolledEvent,
  SseEmitter,
  type SseEmitterOptions,
  type SseEmitterState,
  type SseMode,
} from './emitter.js';
export {
  isSseError,
  SSE_ERROR_CODES,
  SseAdapterUnavailableError,
  SseAlreadyAttachedError,
  SseClosedError,
  SseError,
  type SseErrorCode,
  SseForeignEmitterError,
  SseHeadersSentError,
  SseInvalidChannelError,
  SseInvalidFieldError,
  SseInvalidOptionError,
  SseInvalidRunIdError,
  SseInvalidSourceError,
  SseRunEndedError,
  SseRunFullError,
  SseRunNotFoundError,
  SseSerializeError,
  SseSlowClientError,
  SseTooManyConnectionsError,
  SseTypeError,
  SseUnauthorizedError,
} from './errors.js';
export {
  refusalResponse,
  type SseChannelResponseOptions,
  type SseFetchAuthorize,
  type SseFetchHandler,
  type SseResponseOptions,
  sseChannelResponse,
  sseResponse,
} from './fetch.js';
export { type SseRunResponseOptions, sseRunResponse } from './fetch-runs.js';
export {
  type EncodeOptions,
  encodeComment,
  encodeEvent,
  event,
  isEvent,
  type Serializer,
  type SseEvent,
  SseEventBuilder,
} from './frame.js';
export { keepAliveTimerCount } from './keepalive.js';
export type { ChannelEvent, MultiSubscribeOptions } from './multi-channel.js';
export {
  ChannelRegistry,
  type ChannelRegistryOptions,
  checkChannelName,
  checkChannelNames,
  MAX_CHANNEL_NAME_LENGTH,
  REGISTRY_DEFAULTS,
  type RegistryStats,
} from './registry.js';
export { type LastEventIdRejection, MAX_LAST_EVENT_ID_BYTES, readLastEventId, wantsJson } from './request.js';
export { RUN_DEFAULTS, Run, type RunEnd, type RunOptions, type RunState } from './run.js';
export { checkRunId, MAX_RUN_ID_LENGTH } from './run-id.js';
export { isEmitter, isSseSource, type SseIterable, type SseSource } from './source.js';
export { STREAM_HEADERS } from './transport.js';
export { WebStreamTransport, type WebStreamTransportOptions } from './transport-web.js';
