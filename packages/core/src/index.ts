/**
 * @tidings/core, Node entry point: everything, with `SseEmitter.attach()` bound to Node responses. Fetch runtimes
 * without Node APIs (workerd, the edge runtime, browsers) get `web.ts` through the package's `exports` conditions.
 */
import { provideNodeBinding } from './emitter.js';
import { nodeBinding } from './node-binding.js';

provideNodeBinding(nodeBinding);

export { SseHost } from './host.js';
export type {
  OpenChannelStream,
  OpenChannelsStream,
  OpenStream,
  SseExchange,
  SseHostOptions,
  StreamLogLevel,
} from './host-contract.js';
export type { OpenRunStream, RunStreamOptions } from './host-runs.js';
export * from './public.js';
export type { SseRequest, SseResponse } from './transport-node.js';
