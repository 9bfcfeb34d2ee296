/**
 * Launches a Fetch handler module (`export default { fetch(request) }`) under a real runtime on 127.0.0.1 with a
 * free port, waits until it answers, and stops it: Node (through @hono/node-server), Bun, Deno, Cloudflare's
 * workerd and Vercel's edge runtime. The runtimes are the binaries the npm packages `bun`, `deno`, `workerd` and
 * `edge-runtime` install (root devDependencies). workerd and the edge runtime get the handler bundled by esbuild
 * with their own package `exports` conditions, as wrangler and Next.js would bundle it.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { build } from 'esbuild';

export type RuntimeName = 'node' | 'bun' | 'deno' | 'workerd' | 'edge';
export const RUNTIMES: readonly RuntimeName[] = ['node', 'bun', 'deno', 'workerd', 'edge'];

const root = path.resolve(__dirname, '../..');
// The binaries themselves, not node_modules/.bin shims: Deno's shim runs it through a Node wrapper, which a
// signal would stop without stopping Deno.
const binary = (file: string): string => path.join(root, 'node_modules', file);
const boot = (name: string): string => path.join(__dirname, 'boot', `${name}.mjs`);

/** The package `exports` conditions each bundling runtime resolves with (wrangler's and Next.js Edge's). */
const CONDITIONS: Partial<Record<RuntimeName, string[]>> = {
  workerd: ['workerd', 'worker', 'browser'],
  edge: ['edge-light', 'worker', 'browser'],
};

/** The executable behind each runtime, and how to ask it its version. */
const EXECUTABLE: Record<RuntimeName, string> = {
  node: process.execPath,
  bun: binary('bun/bin/bun.exe'),
  deno: binary('deno/deno'),
  workerd: binary('workerd/bin/workerd'),
  edge: process.execPath,
};

/** The package a runtime's boot script needs besides its binary. */
const BOOT_PACKAGE: Partial<Record<RuntimeName, string>> = { node: '@hono/node-server', edge: 'edge-runtime' };

/** `undefined` when `runtime` can run here, else why not (its binary or boot package is missing, or it fails). */
export function unavailable(runtime: RuntimeName): string | undefined {
  const needed = BOOT_PACKAGE[runtime];
  if (needed !== undefined) {
    try {
      require.resolve(needed, { paths: [root] });
    } catch {
      return `${runtime}: the package ${needed} is not installed; run pnpm install`;
    }
  }
  const probe = spawnSync(EXECUTABLE[runtime], ['--version'], { encoding: 'utf8', timeout: 20_000 });
  if (probe.error) return `${runtime}: ${EXECUTABLE[runtime]} does not run (${probe.error.message}); run pnpm install`;
  if (probe.status !== 0)
    return `${runtime}: \`${EXECUTABLE[runtime]} --version\` exited ${probe.status}: ${probe.stderr}`;
  return undefined;
}

/**
 * The runtimes a suite runs under: all of them in CI (`CI=true`, where a missing runtime is a failure), else
 * those that run here; each one left out is printed with the reason.
 */
export function runtimesHere(wanted: readonly RuntimeName[] = RUNTIMES): RuntimeName[] {
  if (process.env.CI === 'true') return [...wanted];
  return wanted.filter((runtime) => {
    const reason = unavailable(runtime);
    if (reason) console.warn(`skipped: ${reason}`);
    return reason === undefined;
  });
}

export interface Launched {
  runtime: RuntimeName;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** What the process printed so far (stdout and stderr), for failure messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after 3 s; resolves once the process exited. */
  stop(): Promise<void>;
}

export interface LaunchOptions {
  /** A path the server answers once it is up (any status counts), default `/`. */
  readyPath?: string;
  /** How long starting may take, default 20 s. */
  timeoutMs?: number;
}

/** Bundles `handler` for `runtime` (workerd: an ES module; edge: a script that sets `globalThis.__handler`). */
async function bundle(runtime: 'workerd' | 'edge', handler: string, dir: string): Promise<string> {
  const outfile = path.join(dir, runtime === 'workerd' ? 'worker.mjs' : 'worker.js');
  await build({
    entryPoints: [handler],
    outfile,
    bundle: true,
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions: CONDITIONS[runtime],
    format: runtime === 'workerd' ? 'esm' : 'iife',
    globalName: runtime === 'edge' ? '__handler' : undefined,
    tsconfigRaw: '{}', // the repository's tsconfig maps @tidings/* to the sources: resolve the built packages
    logLevel: 'error',
  });
  return outfile;
}

/** A workerd config serving `worker.mjs` (ES module, no Node compatibility flags) on 127.0.0.1, port 0. */
function workerdConfig(dir: string): string {
  const file = path.join(dir, 'config.capnp');
  writeFileSync(
    file,
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = (
    modules = [(name = "worker.mjs", esModule = embed "worker.mjs")],
    compatibilityDate = "2026-11-01",
  ))],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
);
`,
  );
  return file;
}

/** The command that serves `handler` under `runtime`, and where it reports its port. */
async function command(
  runtime: RuntimeName,
  handler: string,
  dir: string,
): Promise<{ args: string[]; portFrom: 'stdout' | 'control-fd' }> {
  switch (runtime) {
    case 'node':
      return { args: [boot('node'), handler], portFrom: 'stdout' };
    case 'bun':
      return { args: [boot('bun'), handler], portFrom: 'stdout' };
    case 'deno':
      return { args: ['run', '--allow-net', '--allow-read', '--allow-env', boot('deno'), handler], portFrom: 'stdout' };
    case 'workerd':
      await bundle('workerd', handler, dir);
      return { args: ['serve', workerdConfig(dir), '--control-fd=3'], portFrom: 'control-fd' };
    case 'edge':
      return { args: [boot('edge'), await bundle('edge', handler, dir)], portFrom: 'stdout' };
  }
}

/** Resolves to the first port reported on `stream`: `listening <port>` lines, or workerd's control-fd JSON. */
function portReported(stream: Readable, child: ChildProcess, output: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      const match = /listening (\d+)/.exec(seen) ?? /"event":"listen".*?"port":(\d+)/.exec(seen);
      if (match) {
        stream.off('data', onData);
        child.off('exit', onExit);
        resolve(Number(match[1]));
      }
    };
    const onExit = (code: number | null): void => reject(new Error(`exited (${code}) before listening:\n${output()}`));
    stream.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Polls `url` until it answers (any status) or `deadline` passes. */
async function answering(url: string, deadline: number, output: () => string): Promise<void> {
  for (;;) {
    const ac = new AbortController();
    try {
      const response = await fetch(url, { signal: ac.signal });
      ac.abort(); // the body may be an endless stream: answering is enough
      return void response;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${url} did not answer: ${String(err)}\n${output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** Starts `handler` (a path to an ES module exporting `default { fetch }`) under `runtime`; see the file comment. */
export async function launch(runtime: RuntimeName, handler: string, options: LaunchOptions = {}): Promise<Launched> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  const dir = mkdtempSync(path.join(tmpdir(), `tidings-${runtime}-`));
  const { args, portFrom } = await command(runtime, path.resolve(handler), dir);
  const child = spawn(EXECUTABLE[runtime], args, {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe', ...(portFrom === 'control-fd' ? (['pipe'] as const) : [])],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let printed = '';
  child.stdout!.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  const output = (): string => `[${runtime} output]\n${printed}`;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const source = portFrom === 'control-fd' ? (child.stdio[3] as Readable) : child.stdout!;
    const timer = new Promise<never>((_, reject) =>
      setTimeout(
        () => reject(new Error(`no port within the start timeout\n${output()}`)),
        deadline - Date.now(),
      ).unref(),
    );
    const port = await Promise.race([portReported(source, child, output), timer]);
    const origin = `http://127.0.0.1:${port}`;
    await answering(origin + (options.readyPath ?? '/'), deadline, output);
    return { runtime, origin, output, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
