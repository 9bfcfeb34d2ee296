export type { BroadcastAdapter, StoredEvent, WireEvent } from './adapter.js';
export {
  ADMISSION_DEFAULTS,
  type AdmissionError,
  type ConnectionLimitOptions,
  refusalOf,
  type SseAuthorization,
  type SseAuthorize,
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
  SseAdapterUnavailableError,
  SseAlreadyAttachedError,
  SseClosedError,
  SseError,
  type SseErrorCode,
  SseHeadersSentError,
  SseInvalidChannelError,
  SseInvalidFieldError,
  SseInvalidOptionError,
  SseInvalidSourceError,
  SseSerializeError,
  SseSlowClientError,
  SseTooManyConnectionsError,
  SseUnauthorizedError,
} from './errors.js';
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
export { type OpenChannelStream, type OpenStream, type SseExchange, SseHost, type SseHostOptions } from './handler.js';
export { keepAliveTimerCount } from './keepalive.js';
export {
  ChannelRegistry,
  type ChannelRegistryOptions,
  checkChannelName,
  MAX_CHANNEL_NAME_LENGTH,
  REGISTRY_DEFAULTS,
  type RegistryStats,
} from './registry.js';
export { type LastEventIdRejection, MAX_LAST_EVENT_ID_BYTES, readLastEventId, wantsJson } from './request.js';
export { type SseRequest, type SseResponse, STREAM_HEADERS } from './sink.js';
export { isEmitter, isSseSource, type SseIterable, type SseSource } from './source.js';
