/**
 * A Redis restart under two servers in two processes (on a private redis-server this test starts, stops with
 * `shutdown nosave` and starts again on the same port; never the shared one): broadcasts during the outage
 * reject with SSE_ERR_ADAPTER_UNAVAILABLE, connected clients miss nothing broadcast before or after.
 */
import { connect, describeWith, type SseTestClient } from '@tidings/testkit';
import { uniquePrefix } from '@tidings/testkit/redis';
import { Redis } from 'ioredis';
import { channelKey } from '../src/index';
import { broadcastOnceBack, type ClusterNode, startNodes } from './support/cluster';
import { freePort, PrivateRedis } from './support/redis-server';

describeWith(['redis'], 'a Redis restart under an Express and a Fastify server', () => {
  const prefix = uniquePrefix('restart');
  let redis: PrivateRedis;
  let nodes: ClusterNode[] = [];
  const clients: SseTestClient[] = [];

  beforeAll(async () => {
    redis = new PrivateRedis(await freePort());
    await redis.start();
    const settings = { redisUrl: redis.url, prefix, timeout: 3000 };
    nodes = await startNodes([
      { ...settings, framework: 'express' },
      { ...settings, framework: 'fastify' },
    ]);
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await Promise.all(nodes.map((node) => node.close()));
    redis?.dispose();
  });

  test('clients connected through the restart get every event broadcast before and after it, once, in order', async () => {
    const [a, b] = nodes as [ClusterNode, ClusterNode];
    const marker = await a.broadcast('news', 'marker');
    for (let i = 0; i < 20; i++)
      clients.push(connect(`http://127.0.0.1:${(i % 2 === 0 ? a : b).port}/events/news`, { lastEventId: marker }));
    const before: string[] = [];
    for (let i = 0; i < 50; i++) before.push(await (i % 2 === 0 ? a : b).broadcast('news', `before-${i}`));
    await Promise.all(clients.map((client) => client.waitForEvents(50)));

    redis.stop();
    // Bounded: the adapter's timeout (3 s here), never a hang; the servers keep running.
    await expect(a.broadcast('news', 'lost')).rejects.toMatchObject({ code: 'SSE_ERR_ADAPTER_UNAVAILABLE' });
    await expect(b.broadcast('news', 'lost')).rejects.toMatchObject({ code: 'SSE_ERR_ADAPTER_UNAVAILABLE' });

    await redis.start();
    await broadcastOnceBack(a, 'news', 'after-0');
    await broadcastOnceBack(b, 'news', 'after-1');
    for (let i = 2; i < 50; i++) await (i % 2 === 0 ? a : b).broadcast('news', `after-${i}`);

    // Without persistence the restarted Redis holds only what came after; its log is what clients must get.
    const check = new Redis(redis.url);
    const after = await check.xrange(channelKey(prefix, 'news'), '-', '+');
    check.disconnect();
    const afterData = after.map(([, fields]) => fields[fields.indexOf('data') + 1]);
    expect([...new Set(afterData)]).toEqual(Array.from({ length: 50 }, (_, i) => `after-${i}`));
    const expectedIds = [...before, ...after.map(([id]) => id)];
    await Promise.all(clients.map((client) => client.waitForEvents(expectedIds.length)));
    for (const client of clients) {
      expect(client.events.map((ev) => ev.id)).toEqual(expectedIds);
      expect(client.messages()).not.toContain('lost');
    }
  }, 60_000);
});
