// The scenario server every runtime runs (scenarios.test.ts): the built @tidings/core as the runtime resolves it
// from npm (workerd and the edge runtime: the web entry, bundled with their exports conditions).
//   /clock?n=            n events `tick` with ids 1..n, then the stream completes
//   /news?token=         channel "news" of the registry: token `bad` → 401, `no` → 403
//   /channel?name=       any channel, the name taken from the request (a bad one → 400)
//   /limited             a registry of its own with maxConnections 1 (the second client → 503)
//   /named?event=        one event named from the request (CR/LF → 400 with the error code, nothing streamed)
//   /publish?channel=&data=&size=  broadcasts data (or `size` bytes of it) and answers the id
//   /flood?channel=&count=&size=   broadcasts `count` events of `size` bytes, one per turn
//   /stats?channel=      registry.stats() and the channel's size, as JSON
import { ChannelRegistry, event, sseChannelResponse, sseResponse } from '@tidings/core';

const registry = new ChannelRegistry({ history: 50 });
const limited = new ChannelRegistry({ maxConnections: 1 });
const json = (body, status = 200) => Response.json(body, { status });
const streamOptions = { registry, keepAlive: 300, maxBufferedBytes: 64 * 1024, sendTimeout: 2000 };

const authorize = (request) => {
  const token = new URL(request.url).searchParams.get('token');
  return token === 'bad' ? 401 : token === 'no' ? 403 : true;
};

async function flood(channel, count, size) {
  const data = 'x'.repeat(size);
  for (let i = 0; i < count; i++) {
    await registry.broadcast(channel, data);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const q = (name) => url.searchParams.get(name);
    switch (url.pathname) {
      case '/clock':
        return sseResponse(
          request,
          async function* () {
            for (let i = 1; i <= Number(q('n')); i++) yield event({ id: i, event: 'tick', data: { i } });
          },
          { keepAlive: false },
        );
      case '/news':
        return sseChannelResponse(request, 'news', { ...streamOptions, authorize });
      case '/channel':
        return sseChannelResponse(request, q('name') ?? '', streamOptions);
      case '/limited':
        return sseResponse(request, () => {}, { registry: limited });
      case '/named':
        try {
          return sseResponse(request, (em) => {
            em.send(event({ event: q('event'), data: 'named' }));
            em.complete();
          });
        } catch (err) {
          return json({ error: err.code }, 400);
        }
      case '/publish':
        return json({
          id: await registry.broadcast(q('channel'), q('size') ? 'y'.repeat(Number(q('size'))) : q('data')),
        });
      case '/flood':
        await flood(q('channel'), Number(q('count')), Number(q('size')));
        return json({ done: true });
      case '/stats':
        return json({ ...registry.stats(), size: registry.channel(q('channel')).size });
      default:
        return new Response('tidings scenarios');
    }
  },
};
