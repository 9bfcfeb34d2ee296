// The scenario server every runtime runs (scenarios.test.ts) with sseResponse()/sseChannelResponse() from the
// built @tidings/core, as the runtime resolves it from npm (workerd and the edge runtime: the web entry, bundled
// with their exports conditions). Routes besides scenario-state.mjs's admin ones:
//   /clock?n=            n events `tick` with ids 1..n, then the stream completes
//   /news?token=         channel "news": token `bad` → 401, `no` → 403
//   /channel?name=       any channel, the name taken from the request (a bad one → 400)
//   /poll?name=          channel `name` in long-poll mode (the response ends after the first events)
//   /quiet               a stream that sends nothing (no keep-alive either)
//   /limited             the registry with maxConnections 1
//   /named?event=        one event named from the request (CR/LF → 400 with the error code, nothing streamed)
//   /runs/<id>           run `id` (sseRunResponse), with Content-Location
import { event, sseChannelResponse, sseResponse, sseRunResponse } from '@tidings/core';
import { admin, limited, streamOptions, ticks, verdict } from './scenario-state.mjs';

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const q = (name) => url.searchParams.get(name);
    switch (url.pathname) {
      case '/clock':
        return sseResponse(request, () => ticks(Number(q('n'))), { keepAlive: false });
      case '/news':
        return sseChannelResponse(request, 'news', { ...streamOptions, authorize: () => verdict(q('token')) });
      case '/channel':
        return sseChannelResponse(request, q('name') ?? '', streamOptions);
      case '/poll':
        return sseChannelResponse(request, q('name') ?? '', { ...streamOptions, mode: 'long-poll' });
      case '/quiet':
        return sseResponse(request, () => {}, { keepAlive: false });
      case '/limited':
        return sseResponse(request, () => {}, { registry: limited });
      case '/named':
        try {
          return sseResponse(request, (em) => {
            em.send(event({ event: q('event'), data: 'named' }));
            em.complete();
          });
        } catch (err) {
          return Response.json({ error: err.code }, { status: 400 });
        }
      default:
        if (url.pathname.startsWith('/runs/')) {
          const id = decodeURIComponent(url.pathname.slice('/runs/'.length));
          return sseRunResponse(request, id, { ...streamOptions, location: url.pathname });
        }
        return (await admin(request)) ?? new Response('tidings scenarios');
    }
  },
};
