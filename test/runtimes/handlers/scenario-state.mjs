// What both scenario servers (tidings.mjs: sseResponse; hono.mjs: @tidings/hono) share: the registries, the
// stream options, the authorization rule, and the admin routes the tests drive them with:
//   /publish?channel=&data=        broadcasts data and answers the id
//   /flood?channel=&count=&size=   broadcasts `count` events of `size` bytes, one per turn
//   /stats?channel=                registry.stats() and the channel's size, as JSON
//   /run?id=&do=create|append|end&data=   makes run `id`, appends `data` to it (answers the id) or ends it
import { ChannelRegistry } from '@tidings/core';

export const registry = new ChannelRegistry({ history: 50 });
/** A registry of its own with maxConnections 1 (the second client → 503). */
export const limited = new ChannelRegistry({ maxConnections: 1 });
/** Short keep-alive and a small buffer cap, so the tests see pings and slow clients quickly. */
export const streamOptions = { registry, keepAlive: 300, maxBufferedBytes: 64 * 1024, sendTimeout: 2000 };

/** `?token=bad` → 401, `no` → 403, anything else admitted. */
export const verdict = (token) => (token === 'bad' ? 401 : token === 'no' ? 403 : true);

async function flood(channel, count, size) {
  const data = 'x'.repeat(size);
  for (let i = 0; i < count; i++) {
    await registry.broadcast(channel, data);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

/** Answers an admin route, or resolves to undefined for any other path. */
export async function admin(request) {
  const url = new URL(request.url);
  const q = (name) => url.searchParams.get(name);
  switch (url.pathname) {
    case '/publish':
      return Response.json({ id: await registry.broadcast(q('channel'), q('data')) });
    case '/flood':
      await flood(q('channel'), Number(q('count')), Number(q('size')));
      return Response.json({ done: true });
    case '/run':
      return Response.json(await runAction(q('id'), q('do'), q('data')));
    case '/stats':
      return Response.json({ ...registry.stats(), size: registry.channel(q('channel')).size });
    default:
      return undefined;
  }
}

/** What `/run` does to run `id` of the registry. */
async function runAction(id, action, data) {
  if (action === 'create') return { id: registry.createRun({ id }).id };
  const run = await registry.findRun(id);
  if (action === 'append') return { id: await run.append(data) };
  await run.end();
  return { state: run.state };
}

/** The clock every scenario server streams: `n` events `tick` with ids 1..n. */
export async function* ticks(n) {
  const { event } = await import('@tidings/core');
  for (let i = 1; i <= n; i++) yield event({ id: i, event: 'tick', data: { i } });
}
