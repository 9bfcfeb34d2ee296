/**
 * Suites that need a service (Redis, Chromium) run for real under CI=true, where a missing service is a failure;
 * elsewhere they are skipped with the reason printed, so `pnpm test` passes on a fresh laptop.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

/** A service a suite can need. */
export type Service = 'redis' | 'redis-cluster' | 'chromium';

/** The shared Redis the tests use (CI starts it). */
export const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';

/** Debian's Chromium (CI installs it; never a downloaded browser); `CHROMIUM_PATH` points elsewhere. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why Redis on 127.0.0.1:`port` cannot be used, or undefined when it answers PING. Synchronous, for describe(). */
export function redisProblem(port = 6379): string | undefined {
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

/** Where scripts/redis-cluster.sh's seed URLs are found (comma-separated); .ci/run exports them. */
export const CLUSTER_ENV = 'TIDINGS_REDIS_CLUSTER';

/** The seed URLs of the test Redis Cluster, or [] when none is given. */
export function clusterSeeds(): string[] {
  return (process.env[CLUSTER_ENV] ?? '').split(',').filter((url) => url !== '');
}

/** Why the test cluster cannot be used, or undefined when its first seed says `cluster_state:ok`. Synchronous. */
export function clusterProblem(): string | undefined {
  const [seed] = clusterSeeds();
  if (seed === undefined) return `${CLUSTER_ENV} is not set`;
  const probe = spawnSync('redis-cli', ['-u', seed, 'cluster', 'info'], { encoding: 'utf8', timeout: 5000 });
  if (probe.error !== undefined) return `redis-cli failed: ${probe.error.message}`;
  if (!probe.stdout.includes('cluster_state:ok')) {
    return `${seed} does not say cluster_state:ok (${(probe.stdout || probe.stderr).trim().split('\n')[0]})`;
  }
  return undefined;
}

/** Why Chromium cannot be launched from {@link CHROMIUM_PATH}, or undefined when an executable is there. */
export function chromiumProblem(): string | undefined {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return undefined;
  } catch {
    return `no Chromium executable at ${CHROMIUM_PATH}`;
  }
}

const PROBES: Record<Service, { problem(): string | undefined; fix: string }> = {
  redis: { problem: () => redisProblem(), fix: 'start redis-server on 127.0.0.1:6379' },
  'redis-cluster': {
    problem: clusterProblem,
    fix: `start one with scripts/redis-cluster.sh start <dir>, then export ${CLUSTER_ENV}=<the seed URLs it prints>`,
  },
  chromium: { problem: chromiumProblem, fix: 'run `apt-get install -y chromium` or set CHROMIUM_PATH' },
};

/**
 * `describe(name, body)` when every service in `needs` is there. When one is missing: under CI=true, one failing
 * test that names it (CI must provide it); elsewhere `describe.skip`, with the reason and the fix printed.
 */
export function describeWith(needs: readonly Service[], name: string, body: () => void): void {
  const missing = needs.flatMap((service) => {
    const problem = PROBES[service].problem();
    return problem === undefined ? [] : [{ problem, fix: PROBES[service].fix }];
  });
  if (missing.length === 0) {
    describe(name, body);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      test(`needs ${needs.join(' and ')} (CI provides them)`, () => {
        throw new Error(`${missing.map((m) => m.problem).join('; ')}: CI must provide it.`);
      });
    });
  } else {
    const why = missing.map((m) => `${m.problem}; to run it, ${m.fix}`).join('; ');
    // Straight to stderr: Jest shows no console output of a file whose tests were all skipped.
    process.stderr.write(`Skipping "${name}": ${why}.\n`);
    describe.skip(name, body);
  }
}
