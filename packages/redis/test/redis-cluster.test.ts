/**
 * On the private Redis Cluster of the tests (3 masters + 3 replicas, started by .ci/run with
 * scripts/redis-cluster.sh): first the harness itself (topology, and a failover that loses writes on purpose),
 * then the adapter on it. One file, so no other suite runs while a master is down.
 */
import { uniquePrefix } from './support/keys';
import { describeWithCluster, TestCluster } from './support/redis-cluster';

describeWithCluster('the test Redis Cluster (TIDINGS_REDIS_CLUSTER)', () => {
  const prefix = uniquePrefix('harness');
  const cluster = new TestCluster();

  afterAll(() => cluster.close());

  test('three masters serve every slot, each with an in-sync replica; picked channels land on every master', async () => {
    const nodes = await cluster.nodes();
    const masters = nodes.filter((node) => node.role === 'master');
    expect(masters).toHaveLength(3);
    const served = masters.flatMap((master) => master.slots).reduce((sum, [lo, hi]) => sum + hi - lo + 1, 0);
    expect(served).toBe(16384);
    for (const master of masters) {
      const replica = nodes.find((node) => node.masterId === master.id);
      expect(replica).toBeDefined();
      expect((await cluster.info(replica!.port, 'replication')).get('master_link_status')).toBe('up');
    }
    const keyOf = (channel: string): string => `${prefix}:{${channel}}`;
    const spread = await cluster.channelsOnEveryMaster(keyOf, 2);
    expect([...spread.keys()].sort()).toEqual(masters.map((master) => master.id).sort());
    for (const [masterId, channels] of spread) {
      expect(channels).toHaveLength(2);
      for (const channel of channels) expect((await cluster.ownerOf(keyOf(channel))).id).toBe(masterId);
    }
  });

  test('a master failing with writes its replica never got: they are lost, the replica takes over, the node rejoins as its replica', async () => {
    const key = `${prefix}:{failover}`;
    const master = await cluster.ownerOf(key);
    const direct = cluster.node(master.port);
    const kept = await direct.xadd(key, '*', 'data', 'kept');
    // The replica has the first entry before the failover starts.
    await direct.wait(1, 5000);
    const lost = await cluster.failWithLostWrites(master, `${prefix}:junk:{failover}`, async () => [
      await direct.xadd(key, '*', 'data', 'lost-1'),
      await direct.xadd(key, '*', 'data', 'lost-2'),
    ]);
    const owner = await cluster.ownerOf(key);
    expect(owner.port).not.toBe(master.port);
    const entries = await cluster.node(owner.port).xrange(key, '-', '+');
    expect(entries.map(([id]) => id)).toEqual([kept]);
    expect(lost).toHaveLength(2);
    await cluster.restart(master.port);
    const rejoined = (await cluster.nodes()).find((node) => node.port === master.port)!;
    expect(rejoined).toMatchObject({ role: 'replica', masterId: owner.id, failing: false });
    await cluster.node(owner.port).del(key);
  }, 40_000);
});
