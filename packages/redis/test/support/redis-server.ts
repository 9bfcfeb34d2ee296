/**
 * Redis for the tests: whether the shared one on 127.0.0.1:6379 answers (and why not), and a private
 * redis-server the restart test may stop and start again (never the shared one).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';

/** Why Redis on 127.0.0.1:`port` cannot be used, or undefined when it answers PING. Synchronous, for describe(). */
export function sharedRedisProblem(port = 6379): string | undefined {
  const probe = `
    const socket = require('node:net').connect(${port}, '127.0.0.1');
    socket.setTimeout(2000, () => { console.log('no answer to PING within 2 s'); process.exit(1); });
    socket.on('error', (err) => { console.log(err.message); process.exit(1); });
    socket.on('connect', () => socket.write('PING\\r\\n'));
    socket.on('data', (d) => { console.log(String(d).trim()); process.exit(String(d).startsWith('+PONG') ? 0 : 1); });`;
  const result = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8', timeout: 5000 });
  if (result.status === 0) return undefined;
  return `Redis on 127.0.0.1:${port} is not answering (${(result.stdout || result.error?.message || 'no reply').trim()})`;
}

/**
 * `describe` when Redis answers; otherwise skipped with the reason printed, except under CI=true, where a
 * missing Redis is a failure (the CI starts one).
 */
export function describeWithRedis(name: string, body: () => void): void {
  describeWithService(name, sharedRedisProblem(), 'Start redis-server on 127.0.0.1:6379 to run it', body);
}

/**
 * `describe` when `problem` is undefined (the service answers); otherwise skipped with the problem and `remedy`
 * printed, except under CI=true, where a missing service is a failure (the CI starts it).
 */
export function describeWithService(name: string, problem: string | undefined, remedy: string, body: () => void): void {
  if (problem === undefined) {
    describe(name, body);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      test('needs its service (CI starts it)', () => {
        throw new Error(`${problem}: CI must provide it.`);
      });
    });
  } else {
    console.warn(`Skipping "${name}": ${problem}. ${remedy}.`);
    describe.skip(name, body);
  }
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

/** A throwaway redis-server on its own port: no persistence, so a restart starts empty. */
export class PrivateRedis {
  readonly port: number;
  readonly #dir = mkdtempSync(path.join(tmpdir(), 'tidings-redis-'));

  constructor(port: number) {
    this.port = port;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it and waits until it answers. */
  async start(): Promise<void> {
    const pidfile = path.join(this.#dir, 'redis.pid');
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
    args.push('--pidfile', pidfile, '--dir', this.#dir, '--daemonize', 'yes', '--logfile', '');
    await new Promise<void>((resolve, reject) => {
      const server = spawn('redis-server', args, { stdio: 'ignore' });
      server.once('error', reject);
      server.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`redis-server exited with ${code}`))));
    });
    for (let i = 0; i < 100 && !this.#answers(); i++) await new Promise((r) => setTimeout(r, 50));
    readFileSync(pidfile); // it is up: its pidfile exists
  }

  /** `redis-cli -p <port> shutdown nosave`: gone, with its data. */
  stop(): void {
    spawnSync('redis-cli', ['-p', String(this.port), 'shutdown', 'nosave'], { timeout: 5000 });
  }

  /** Stops it and removes its directory. */
  dispose(): void {
    this.stop();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #answers(): boolean {
    return spawnSync('redis-cli', ['-p', String(this.port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG';
  }
}
