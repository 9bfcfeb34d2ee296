/**
 * The private Redis Cluster of the tests (scripts/redis-cluster.sh; .ci/run exports its seed URLs as
 * TIDINGS_REDIS_CLUSTER): its topology read from CLUSTER NODES, channels whose keys land on every master, and
 * a master failing with writes its replica never got.
 */
import { spawnSync } from 'node:child_process';
import { clusterSeeds } from '@tidings/testkit';
import { Redis } from 'ioredis';

/** One node as CLUSTER NODES shows it. */
export interface ClusterNodeInfo {
  id: string;
  port: number;
  role: 'master' | 'replica';
  /** A replica's master. */
  masterId: string | undefined;
  /** Slot ranges a master serves, inclusive. */
  slots: [number, number][];
  /** Marked failed (or suspected) by the node asked. */
  failing: boolean;
}

/** Admin connections to each node of the test cluster, by port (never through the cluster client). */
export class TestCluster {
  readonly #connections = new Map<number, Redis>();

  /** A plain connection to the node on `port`, made once. */
  node(port: number): Redis {
    let redis = this.#connections.get(port);
    if (redis === undefined) {
      redis = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1, retryStrategy: () => 200 });
      redis.on('error', () => {});
      this.#connections.set(port, redis);
    }
    return redis;
  }

  /** Every node, as the first live seed sees them. */
  async nodes(): Promise<ClusterNodeInfo[]> {
    for (const url of clusterSeeds()) {
      const port = Number(new URL(url).port);
      const text = (await this.node(port)
        .cluster('NODES')
        .catch(() => undefined)) as string | undefined;
      if (text !== undefined) return parseClusterNodes(text);
    }
    throw new Error('no node of the test cluster answers CLUSTER NODES');
  }

  async masters(): Promise<ClusterNodeInfo[]> {
    return (await this.nodes()).filter((node) => node.role === 'master' && !node.failing && node.slots.length > 0);
  }

  /** The master serving `key` now. */
  async ownerOf(key: string): Promise<ClusterNodeInfo> {
    const [master] = await this.masters();
    const slot = Number(await this.node(master!.port).cluster('KEYSLOT', key));
    const owner = (await this.masters()).find((node) => node.slots.some(([lo, hi]) => lo <= slot && slot <= hi));
    if (owner === undefined) throw new Error(`no master serves slot ${slot} (${key})`);
    return owner;
  }

  /**
   * `perMaster` channel names for each master, chosen so that `keyOf(channel)` lands on it (CLUSTER KEYSLOT,
   * checked against CLUSTER NODES): a test using all of them has keys on every master.
   */
  async channelsOnEveryMaster(keyOf: (channel: string) => string, perMaster: number): Promise<Map<string, string[]>> {
    const masters = await this.masters();
    const byMaster = new Map(masters.map((master) => [master.id, [] as string[]]));
    for (let i = 0; [...byMaster.values()].some((names) => names.length < perMaster); i++) {
      if (i > 10_000) throw new Error('no spread of channel names over the masters found');
      const channel = `ch${i}`;
      const names = byMaster.get((await this.ownerOf(keyOf(channel))).id)!;
      if (names.length < perMaster) names.push(channel);
    }
    return byMaster;
  }

  /** INFO `section` of the node on `port` as name → value. */
  async info(port: number, section: string): Promise<Map<string, string>> {
    const text = await this.node(port).info(section);
    return new Map(
      text
        .split('\r\n')
        .filter((line) => line.includes(':') && !line.startsWith('#'))
        .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1)]),
    );
  }

  /** Sum over every live node of INFO commandstats `calls` of `command` (e.g. `xrange`). */
  async calls(command: string): Promise<number> {
    let total = 0;
    for (const node of (await this.nodes()).filter((n) => !n.failing)) {
      const stat = (await this.info(node.port, 'commandstats')).get(`cmdstat_${command}`);
      total += Number(/calls=(\d+)/.exec(stat ?? '')?.[1] ?? 0);
    }
    return total;
  }

  /**
   * Makes `master` fail with writes its replica never got: freezes the replica (SIGSTOP), fills the replication
   * link past what the kernel buffers (`junkKey`, a key in the master's slots, gets a 16 MiB value, several times what the loopback socket buffers hold while the replica does not read), runs
   * `write` (its writes wait in the master's own output buffer), kills the master (SIGKILL: that buffer is
   * gone), continues the replica and waits until it has taken over. Resolves to what `write` resolved to;
   * {@link restart} brings the killed node back.
   */
  async failWithLostWrites<T>(master: ClusterNodeInfo, junkKey: string, write: () => Promise<T>): Promise<T> {
    const replica = (await this.nodes()).find((node) => node.masterId === master.id && !node.failing);
    if (replica === undefined) throw new Error(`master ${master.port} has no live replica`);
    const replicaPid = Number((await this.info(replica.port, 'server')).get('process_id'));
    const masterServer = await this.info(master.port, 'server');
    this.#configOf.set(master.port, masterServer.get('config_file')!);
    process.kill(replicaPid, 'SIGSTOP');
    try {
      await this.node(master.port).set(junkKey, 'x'.repeat(16 * 1024 * 1024));
      const written = await write();
      process.kill(Number(masterServer.get('process_id')), 'SIGKILL');
      return written;
    } finally {
      process.kill(replicaPid, 'SIGCONT');
      this.#connections.get(master.port)?.disconnect();
      this.#connections.delete(master.port);
      await this.#until(`replica ${replica.port} to take over`, async () => {
        const role = (await this.node(replica.port).role()) as [string];
        return role[0] === 'master' && (await this.#clusterOk([replica.port]));
      });
    }
  }

  /** Restarts every node {@link failWithLostWrites} killed and {@link restart} has not brought back yet. */
  async restartKilled(): Promise<void> {
    for (const port of [...this.#configOf.keys()]) await this.restart(port);
  }

  /** Starts a node killed by {@link failWithLostWrites} again; resolves once it is an in-sync replica. */
  async restart(port: number): Promise<void> {
    const config = this.#configOf.get(port);
    if (config === undefined) throw new Error(`node ${port} was not killed by failWithLostWrites`);
    this.#configOf.delete(port);
    const started = spawnSync('redis-server', [config], { encoding: 'utf8', timeout: 10_000 });
    if (started.status !== 0) throw new Error(`redis-server ${config} failed: ${started.stderr}`);
    await this.#until(`node ${port} to rejoin as an in-sync replica`, async () => {
      const replication = await this.info(port, 'replication').catch(() => undefined);
      return replication?.get('master_link_status') === 'up' && (await this.#clusterOk([port]));
    });
  }

  /** The keys matching `pattern` on the node on `port` (SCAN). */
  async keysOn(port: number, pattern: string): Promise<string[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await this.node(port).scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      keys.push(...found);
    } while (cursor !== '0');
    return keys;
  }

  /** Deletes every key under `prefix` on every master, one key a command (keys of many slots). */
  async deleteKeys(prefix: string): Promise<void> {
    for (const master of await this.masters()) {
      for (const key of await this.keysOn(master.port, `${prefix}:*`)) await this.node(master.port).del(key);
    }
  }

  /** Closes the admin connections. */
  close(): void {
    for (const redis of this.#connections.values()) redis.disconnect();
    this.#connections.clear();
  }

  /** Config files of the nodes killed and not yet restarted, by port. */
  readonly #configOf = new Map<number, string>();

  async #clusterOk(ports: number[]): Promise<boolean> {
    const live = (await this.nodes()).filter((node) => !node.failing).map((node) => node.port);
    for (const port of new Set([...ports, ...live])) {
      const info = (await this.node(port)
        .cluster('INFO')
        .catch(() => '')) as string;
      if (!info.includes('cluster_state:ok')) return false;
    }
    return true;
  }

  async #until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check().catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** CLUSTER NODES text → one record a node. */
export function parseClusterNodes(text: string): ClusterNodeInfo[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, master, , , , , ...slots] = line.trim().split(' ');
      const flagSet = new Set(flags!.split(','));
      return {
        id: id!,
        port: Number(/:(\d+)@/.exec(address!)![1]),
        role: flagSet.has('master') ? 'master' : 'replica',
        masterId: master === '-' ? undefined : master,
        slots: slots
          .filter((range) => !range.startsWith('['))
          .map((range) => {
            const [lo, hi = lo] = range.split('-').map(Number);
            return [lo!, hi!] as [number, number];
          }),
        failing: flagSet.has('fail') || flagSet.has('fail?') || flagSet.has('noaddr'),
      };
    });
}
