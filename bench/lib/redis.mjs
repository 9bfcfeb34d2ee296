// The Redis a benchmark runs against (redis-fanout.mjs, runs.mjs): REDIS_URL, or a private redis-server started on a
// free port (no persistence; stopped by `close()`), so that INFO cpu and INFO memory are the benchmark's alone.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** User + system CPU (ms) from an INFO cpu reply. */
export function cpuFromInfo(info) {
  const field = (name) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)[1]);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1000;
}

/** Deletes every key under `prefix` on `redis`, one a command. */
export async function deleteMatching(redis, prefix) {
  const keys = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  for (const key of keys) await redis.del(key);
}

/** A free TCP port on 127.0.0.1. */
async function freePort() {
  const probe = createTcpServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** The Redis of the run: REDIS_URL, or a private redis-server (stopped by `close`). */
export async function openRedis() {
  const { Redis } = await import('ioredis');
  let server;
  let dir;
  let url = process.env.REDIS_URL;
  if (url === undefined) {
    const port = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'tidings-bench-redis-'));
    server = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'ignore' },
    );
    url = `redis://127.0.0.1:${port}`;
  }
  const redis = new Redis(url, { retryStrategy: (n) => (n > 50 ? null : 100) });
  redis.on('error', () => {}); // refused while a private redis-server starts; ping() below fails if it never does
  await redis.ping();
  return {
    url,
    private: server !== undefined,
    /** Redis's user + system CPU so far (INFO cpu), ms. */
    async cpuMs() {
      return cpuFromInfo(await redis.info('cpu'));
    },
    deleteKeys: (prefix) => deleteMatching(redis, prefix),
    async close() {
      redis.disconnect();
      if (server !== undefined) {
        server.kill();
        await once(server, 'exit');
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
