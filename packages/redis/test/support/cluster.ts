/** Starts cluster-node.ts servers in child processes and talks to them over IPC. */
import { type ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';
import type { AbortState, NodeCommand, NodeReply } from './cluster-node';

/** What a test needs to know about one server of the cluster. */
export interface ClusterNode {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  /** Broadcasts `data` on `channel` from this server; resolves to the id, rejects with the child's error code. */
  broadcast(channel: string, data: string): Promise<string>;
  /** Creates a run on this server (its producer's); resolves to its id once Redis holds it. */
  createRun(options?: { idleTimeout?: number }): Promise<string>;
  /** Appends `data` to a run this server made; resolves to the event id, rejects with the child's error code. */
  append(run: string, data: string): Promise<string>;
  /** Ends a run this server made. */
  end(run: string): Promise<void>;
  /** `(await registry.findRun(run)).cancel(reason)` on this server; resolves to when the cancel began (`now()`). */
  cancel(run: string, reason: string): Promise<number>;
  /** The signal of a run this server made, once it aborted or `waitMs` passed. */
  abortOf(run: string, waitMs: number): Promise<AbortState>;
  /** Ends the streams this server serves of `run` (as a lost connection would). */
  drop(run: string): Promise<void>;
  /** Closes the server and its registry (and the adapter's connections), then the process exits. */
  close(): Promise<void>;
  /** SIGKILL: the process dies at once, as a crashed server does. */
  kill(): Promise<void>;
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

/** How long a server process may take to listen. */
const START_MS = 20_000;

/**
 * Starts server processes side by side; resolves once all listen. If one fails to start, those that started are
 * killed before the error is thrown (no process is left behind to keep Jest from exiting).
 */
export async function startNodes(all: readonly NodeSettings[]): Promise<ClusterNode[]> {
  const started = await Promise.allSettled(all.map(startNode));
  const failed = started.find((outcome) => outcome.status === 'rejected');
  if (failed === undefined) return started.map((outcome) => (outcome as PromiseFulfilledResult<ClusterNode>).value);
  await Promise.all(started.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value.kill() : undefined)));
  throw failed.reason;
}

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
  /** Sends `command`; resolves to what the child answered, rejects with its error (and its `code`). */
  const ask = async <T>(command: Command): Promise<T> => {
    const reply = await new Promise<NodeReply>((resolve) => {
      pending.set(++seq, resolve);
      child.send({ ...command, seq });
    });
    if (reply.error !== undefined) throw Object.assign(new Error(reply.error.message), reply.error);
    return reply.value as T;
  };
  const exited = (): Promise<unknown> =>
    child.exitCode !== null || child.signalCode !== null
      ? Promise.resolve()
      : new Promise((done) => child.once('exit', done));
  return new Promise((resolve, reject) => {
    // A child that never listens is killed, so a failed start cannot keep Jest from exiting.
    const deadline = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`cluster node (${settings.framework}) did not listen within ${START_MS} ms`));
    }, START_MS);
    child.once('exit', (code) => {
      clearTimeout(deadline);
      reject(new Error(`cluster node exited early with code ${code}`));
    });
    child.on('message', (message: NodeReply | { port: number }) => {
      if ('port' in message) {
        clearTimeout(deadline);
        resolve({
          port: message.port,
          base: `http://127.0.0.1:${message.port}`,
          broadcast: (channel, data) => ask({ cmd: 'broadcast', channel, data }),
          createRun: (options = {}) => ask({ cmd: 'createRun', ...options }),
          append: (run, data) => ask({ cmd: 'append', run, data }),
          end: (run) => ask({ cmd: 'end', run }),
          cancel: (run, reason) => ask({ cmd: 'cancel', run, reason }),
          abortOf: (run, waitMs) => ask({ cmd: 'abort', run, waitMs }),
          drop: (run) => ask({ cmd: 'drop', run }),
          close: async () => {
            if (child.exitCode !== null || child.signalCode !== null) return;
            const gone = exited();
            await ask({ cmd: 'close' });
            await gone;
          },
          kill: async () => {
            const gone = exited();
            child.kill('SIGKILL');
            await gone;
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
