/**
 * @tidings/core, Node entry point: everything, with `SseEmitter.attach()` bound to Node responses.
 */
import { provideNodeBinding } from './emitter.js';
import { nodeBinding } from './node-binding.js';

provideNodeBinding(nodeBinding);

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
  SseInvalidSourceError,
  SseSerializeError,
  SseSlowClientError,
  SseTooManyConnectionsError,
  SseTypeError,
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
export {
  type OpenChannelStream,
  type OpenChannelsStream,
  type OpenStream,
  type SseExchange,
  SseHost,
  type SseHostOptions,
  type StreamLogLevel,
} from './host.js';
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
export { isEmitter, isSseSource, type SseIterable, type SseSource } from './source.js';
export { STREAM_HEADERS } from './transport.js';
export type { SseRequest, SseResponse } from './transport-node.js';
