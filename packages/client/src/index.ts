export { SseClientError, type SseClientErrorCode } from './errors.js';
export {
  type AnyEvent,
  CLIENT_DEFAULTS,
  type ConnectOptions,
  type EventData,
  type EventMap,
  type HeadersOption,
  type ReconnectInfo,
  type RetryOptions,
  type SseClientEvent,
} from './options.js';
export { connect, type ReadyState, SseClientStream } from './stream.js';
