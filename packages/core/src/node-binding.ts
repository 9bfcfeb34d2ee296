/** Binds a stream to a Node request/response: what `SseEmitter.attach()` does on Node. */
import type { OutgoingHttpHeaders } from 'node:http';
import { readLastEventId, wantsJson } from './request.js';
import type { StreamBinding } from './stream-handle.js';
import { nodeTransport, type SseRequest, type SseResponse } from './transport-node.js';

/** The binding of `req`/`res`; `headers` are added to whatever the response answers. */
export function nodeBinding(
  req: SseRequest,
  res: SseResponse,
  headers: OutgoingHttpHeaders | undefined,
): StreamBinding {
  return {
    lastEventId: readLastEventId(req),
    wantsJson: wantsJson(req),
    transport: (events) => nodeTransport(req, res, events, headers),
  };
}
