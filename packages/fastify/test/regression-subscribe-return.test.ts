/**
 * Regression: DESIGN.md's own route, `app.sse('/news', (req, reply) => registry.channel('news').subscribe(reply.sse()))`,
 * returns the channel's unsubscribe function. The stream was already opened by `reply.sse()`, so that value must not
 * end it with SSE_ERR_INVALID_SOURCE; a handler that answered nothing and returned a non-stream still gets that error.
 */
import { ChannelRegistry, event } from '@tidings/core';
import { openStream } from '@tidings/testkit';
import type { FastifyInstance } from 'fastify';
import { listen, sseApp } from './support';

describe('a { sse: true } handler that opened the stream itself and returned something else', () => {
  const registry = new ChannelRegistry();
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    app = await sseApp({ registry });
    app.sse('/news', (_req, reply) => registry.channel('news').subscribe(reply.sse()));
    app.sse('/not-a-stream', () => 42);
    url = await listen(app);
  });

  afterAll(() => app.close());

  test('keeps the stream open and delivers broadcasts', async () => {
    const client = await openStream(`${url}/news`);
    expect(client.status).toBe(200);
    await registry.broadcast('news', event({ event: 'headline', data: 'still open' }));
    const [received] = await client.waitForEvents(1);
    expect(received).toMatchObject({ event: 'headline', data: 'still open' });
    expect(client.complete).toBe(false);
    client.close();
  });

  test('still answers SSE_ERR_INVALID_SOURCE (500, no stream) when nothing was sent', async () => {
    const res = await fetch(`${url}/not-a-stream`);
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).not.toContain('text/event-stream');
    await res.body?.cancel();
  });
});
