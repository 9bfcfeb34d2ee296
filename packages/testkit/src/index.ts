/**
 * @tidings/testkit: what Tidings' own tests share across packages. Private to this repository: never built,
 * never published. The tools (client, servers, waits, parser, spec cases) come from `@tidings/testkit`; the
 * scenario suites by file, e.g. `@tidings/testkit/channel-scenarios` (jest and tsconfig map both to src/).
 */

export { heapAfterGc } from './heap';
export { type ParsedStream, parseStream } from './parse';
export { connectNeverReading, type RawResponse, rawRequest } from './raw-socket';
export { ResumingClient } from './resuming-client';
export { startServer, type TestServer } from './server';
export {
  CHROMIUM_ARGS,
  CHROMIUM_PATH,
  CLUSTER_ENV,
  chromiumProblem,
  clusterProblem,
  clusterSeeds,
  describeWith,
  FIREFOX_PATH,
  redisProblem,
  type Service,
  SHARED_REDIS_URL,
} from './services';
export { type FrameCase, specCases } from './spec-cases';
export { connect, type DispatchedEvent, openStream, SseTestClient, type StreamOptions } from './sse-client';
export { type Deferred, deferred, PATIENCE_MS, sequence, settle, type WaitOptions, waitFor } from './wait';
