/** Starts cluster-node.ts servers in child processes and talks to them over IPC. */
import { type ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';
import type { NodeCommand, NodeReply } from './cluster-node';

/** What a test needs to know about one server of the cluster. */
export interface ClusterNode {
  readonly port: number;
  /** Broadcasts `data` on `channel` from this server; resolves to the id, rejects with the child's error code. */
  broadcast(channel: string, data: string): Promise<string>;
  /** Closes the server and its registry (and the adapter's connections), then the process exits. */
  close(): Promise<void>;
}

export interface NodeSettings {
  /** One Redis, or the seed URLs of a Redis Cluster. */
  redisUrl: string | readonly string[];
  prefix: string;
  /** The adapter's `timeout`, ms. */
  timeout?: number;
  framework: 'express' | 'fastify';
}

type Command = NodeCommand extends infer C ? (C extends NodeCommand ? Omit<C, 'seq'> : never) : never;

/** Starts one server process; resolves once it listens. */
export function startNode(settings: NodeSettings): Promise<ClusterNode> {
  const child: ChildProcess = fork(path.join(__dirname, 'cluster-node.ts'), [], {
    execArgv: ['-r', path.join(__dirname, 'ts-register.cjs')],
    env: {
      ...process.env,
      // A cluster's seeds, comma-separated (redis:// URLs hold no commas).
      ...(typeof settings.redisUrl === 'string'
        ? { REDIS_URL: settings.redisUrl }
        : { REDIS_CLUSTER_SEEDS: settings.redisUrl.join(',') }),
      REDIS_PREFIX: settings.prefix,
      ADAPTER_TIMEOUT: String(settings.timeout ?? 5000),
      NODE_FRAMEWORK: settings.framework,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, (reply: NodeReply) => void>();
  let seq = 0;
  const send = (command: Command): Promise<NodeReply> =>
    new Promise((resolve) => {
      pending.set(++seq, resolve);
      child.send({ ...command, seq });
    });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`cluster node exited early with code ${code}`)));
    child.on('message', (message: NodeReply | { port: number }) => {
      if ('port' in message) {
        resolve({
          port: message.port,
          broadcast: async (channel, data) => {
            const reply = await send({ cmd: 'broadcast', channel, data });
            if (reply.error !== undefined) throw Object.assign(new Error(reply.error.message), reply.error);
            return reply.id!;
          },
          close: async () => {
            if (child.exitCode !== null) return;
            const exited = new Promise((done) => child.once('exit', done));
            await send({ cmd: 'close' });
            await exited;
          },
        });
        return;
      }
      pending.get(message.seq)?.(message);
      pending.delete(message.seq);
    });
  });
}

/**
 * Broadcasts until one is accepted (Redis may still be coming back, or a cluster failing over); resolves to its
 * id. Any rejection other than SSE_ERR_ADAPTER_UNAVAILABLE is thrown.
 */
export async function broadcastOnceBack(node: ClusterNode, channel: string, data: string): Promise<string> {
  for (;;) {
    try {
      return await node.broadcast(channel, data);
    } catch (err) {
      if ((err as { code?: string }).code !== 'SSE_ERR_ADAPTER_UNAVAILABLE') throw err;
    }
  }
}
