/**
 * A private redis-server the restart test may stop and start again (never the shared one), and a free port for
 * it. Whether the shared Redis answers is @tidings/testkit's `describeWith(['redis'], ...)`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

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
