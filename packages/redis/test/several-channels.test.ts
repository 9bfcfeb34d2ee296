/** A stream on several channels across two nodes: each channel is replayed from its own Redis position. */
import { ChannelRegistry, SseEmitter } from '@tidings/core';
import { connect, describeWith, SHARED_REDIS_URL, type SseTestClient, startServer, waitFor } from '@tidings/testkit';
import { deleteKeys, uniquePrefix } from '@tidings/testkit/redis';
import { redisAdapter } from '../src/index';

describeWith(['redis'], 'several channels on one stream, two nodes (Redis on 127.0.0.1:6379)', () => {
  const prefix = uniquePrefix('several');
  afterAll(() => deleteKeys(SHARED_REDIS_URL, prefix));

  test('a client resumes on the other node: each channel replays from its own position, exactly once', async () => {
    const nodes = [0, 1].map(() => new ChannelRegistry({ adapter: redisAdapter({ redis: SHARED_REDIS_URL, prefix }) }));
    const servers = await Promise.all(
      nodes.map((registry) =>
        startServer((req, res) => {
          const names = new URL(req.url ?? '/', 'http://x').searchParams.get('c')!.split(',');
          registry.subscribe(new SseEmitter({ keepAlive: false }).attach(req, res), names);
        }),
      ),
    );
    const clients: SseTestClient[] = [];
    const open = (node: number, lastEventId?: string) => {
      const client = connect(`${servers[node]!.url}/?c=x,y`, { lastEventId });
      clients.push(client);
      return client;
    };
    const on = (node: number) => () => nodes[node]!.channel('x').size === 1 && nodes[node]!.channel('y').size === 1;
    try {
      const first = open(0);
      await waitFor('subscribed on node 0', on(0));
      // Subscribed locally is not yet listening to Redis: broadcast until the live feed delivers on both channels.
      await liveOn(nodes[1]!, first, ['x', 'y']);
      const before = first.events.length;
      for (const n of [1, 2, 3]) {
        await nodes[1]!.broadcast('x', `x${n}`);
        await nodes[1]!.broadcast('y', `y${n}`);
      }
      await waitFor('6 events', () => first.events.length === before + 6);
      first.close();
      await waitFor('left', () => nodes[0]!.channel('x').size === 0);
      await nodes[0]!.broadcast('y', 'y4');
      await nodes[1]!.broadcast('x', 'x4');
      await nodes[0]!.broadcast('y', 'y5');

      expect(Buffer.byteLength(first.lastEventId!)).toBeLessThan(1024);
      const resumed = open(1, first.lastEventId);
      await waitFor('subscribed on node 1', on(1));
      await waitFor('caught up', () => resumed.data.includes('y5'));
      await nodes[0]!.broadcast('x', 'x5');
      await waitFor('4 events', () => resumed.events.length === 4);
      expect(resumed.data.filter((d) => /^x\d$/.test(d))).toEqual(['x4', 'x5']);
      expect(resumed.data.filter((d) => /^y\d$/.test(d))).toEqual(['y4', 'y5']);
    } finally {
      for (const client of clients) client.close();
      for (const registry of nodes) await registry.close();
      for (const server of servers) await server.close();
    }
  });
});

/** Broadcasts a `warm` event on each channel from `node` until `client` has received one from each. */
async function liveOn(node: ChannelRegistry, client: SseTestClient, channels: string[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (const channel of channels) {
    const tag = `warm-${channel}`;
    while (!client.data.includes(tag)) {
      if (Date.now() > deadline) throw new Error(`the live feed never delivered on ${channel}`);
      await node.broadcast(channel, tag);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
