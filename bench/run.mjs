// `pnpm bench [--quick] [--rounds N] [--only scenario,...] [--variants a,b] [--profile] [--before <checkout>]`: Tidings
// against its peers and the raw baselines, each server variant in its own process and the load client in another,
// pinned to different cores. Writes a markdown table per scenario (bench/RESULTS.md for a full run) and JSON
// (bench/results/). `--before <checkout>` also runs every Tidings variant on the build in another checkout (a
// `git worktree` of an earlier commit, built with `pnpm build`), as `<variant>@before`, in the same run.
// `pnpm bench --scenario client [--quick] [--rounds N]`: the client's figures instead (client-parse.mjs, client-size.mjs).
// `pnpm bench --scenario runs|channels|storm [--quick]`: runs.mjs, channels.mjs, storm.mjs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { nowUs } from './lib/payload.mjs';
import { renderScenario, renderTargets } from './lib/report.mjs';
import { BASELINE, RUNTIME, scenarios } from './lib/scenarios.mjs';
import { fileLimits, placement, startWorker } from './lib/workers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const option = (name) => {
  const i = argv.indexOf(`--${name}`);
  return i === -1 ? undefined : argv[i + 1];
};

// `--scenario client`: the client-side figures (issue 15), which need no server process: parse throughput against
// the peers, then browser bundle sizes. Other flags (`--quick`, `--rounds N`) go to the parse benchmark.
if (option('scenario') === 'client') {
  const rest = argv.filter((arg, i) => arg !== '--scenario' && argv[i - 1] !== '--scenario');
  for (const script of [['client-parse.mjs', ...rest], ['client-size.mjs']]) {
    const { status } = spawnSync(process.execPath, [join(here, script[0]), ...script.slice(1)], { stdio: 'inherit' });
    if (status !== 0) process.exit(status ?? 1);
  }
  process.exit(0);
}

// `--scenario runs` (runs against channel broadcast), `--scenario channels` (memory and CPU of many channels) and
// `--scenario storm` (a reconnect storm): each its own script (bench/<scenario>.mjs) with the remaining options.
if (['runs', 'channels', 'storm'].includes(option('scenario'))) {
  const script = join(here, `${option('scenario')}.mjs`);
  const { status } = spawnSync(process.execPath, [script, ...argv], { stdio: 'inherit' });
  process.exit(status ?? 1);
}
const quick = flag('quick');
const rounds = Number(option('rounds') ?? 1);
const only = option('only')?.split(',');
const onlyVariants = option('variants')?.split(',');
const before = option('before');
const BEFORE = '@before';

function ensureBuilt() {
  const built = ['core', 'express', 'fastify', 'hono'].every((p) =>
    existsSync(join(root, 'packages', p, 'dist', 'esm', 'index.js')),
  );
  if (built) return;
  console.log('> packages not built: pnpm build');
  const { status } = spawnSync('pnpm', ['build'], { cwd: root, stdio: 'inherit' });
  if (status !== 0) process.exit(status ?? 1);
}

/** The binaries of the other runtimes, as their npm packages (root devDependencies) install them. */
const EXECUTABLE = { bun: join(root, 'node_modules', 'bun', 'bin', 'bun.exe') };

/**
 * Variants whose package has not been written yet are skipped (the adapters may still be stubs), and so are
 * those whose runtime is not installed (said once, with the reason).
 */
async function available(variant) {
  if (variant.endsWith(BEFORE)) return before !== undefined;
  const runtime = RUNTIME[variant];
  if (runtime !== undefined && !existsSync(EXECUTABLE[runtime])) {
    console.log(`  ${variant} skipped: ${EXECUTABLE[runtime]} is missing (pnpm install puts it there)`);
    return false;
  }
  if (!variant.startsWith('tidings-') || variant === 'tidings-node' || runtime !== undefined) return true;
  const pkg = await import(`@tidings/${variant.slice('tidings-'.length)}`);
  return Object.keys(pkg).length > 0;
}

async function withProcesses(variant, fn) {
  const profile = flag('profile') ? ['--cpu-prof', `--cpu-prof-dir=${join(here, 'results', 'profiles')}`] : [];
  const runtime = RUNTIME[variant];
  const earlier = variant.endsWith(BEFORE) ? ['--import', join(here, 'lib', 'before-loader.mjs')] : [];
  const server = await startWorker(join(here, 'server.mjs'), [variant.replace(BEFORE, '')], {
    core: 0,
    nodeArgs: ['--expose-gc', ...earlier, ...profile],
    env: before === undefined ? undefined : { ...process.env, TIDINGS_BEFORE: before },
    executable: runtime && EXECUTABLE[runtime],
  });
  // Another runtime's clock starts elsewhere: send it samples of ours, so the send times it puts in payloads
  // are on the clock the load client reads.
  if (runtime !== undefined) for (let i = 0; i < 20; i++) await server.call('clock', { us: nowUs() });
  const client = await startWorker(join(here, 'client.mjs'), [], { core: 1 });
  try {
    return await fn(server, client);
  } finally {
    await Promise.all([client.stop('close'), server.stop('exit')]);
  }
}

async function waitForCount(server, count, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { open } = await server.call('count');
    if (open >= count || Date.now() > deadline) return open;
    await sleep(20);
  }
}

const cpuMs = (a, b) => (b.cpu.user + b.cpu.system - a.cpu.user - a.cpu.system) / 1000;

/** Broadcast scenarios (fan-out, paced) and the slow reader share this: connect, broadcast, collect. */
async function broadcastRun(variant, s) {
  const slow = s.kind === 'slow' ? 1 : 0;
  const count = s.kind === 'slow' ? s.readers + 1 : s.clients;
  return withProcesses(variant, async (server, client) => {
    const conn = await client.call(
      'connect',
      { port: server.port, path: '/sse', count, slow, events: s.events },
      60_000,
    );
    const open = await waitForCount(server, count);
    const before = await server.call('mem', { gc: true });
    const cpu0 = await server.call('cpu');
    const collecting = client.call('collect', { stallMs: s.kind === 'slow' ? 5000 : 3000 });
    const sent = await server.call('broadcast', {
      events: s.events,
      size: s.size,
      rate: s.rate ?? 0,
      sampleMs: s.kind === 'slow' ? 10 : 0,
      settleMs: s.kind === 'slow' ? 500 : 0,
    });
    const got = await collecting;
    const cpu1 = await server.call('cpu');
    const openAfter = (await server.call('count')).open;
    const after = await server.call('mem', { gc: true });
    const seconds = (got.lastRecvUs - got.firstSentUs) / 1e6;
    return {
      connected: conn.connected,
      failed: conn.failed,
      open,
      openAfter,
      delivered: got.received,
      expected: got.expected,
      lost: got.lost,
      outOfOrder: got.outOfOrder,
      closedReaders: got.closedReaders,
      eventsPerSec: got.received / seconds,
      cpuMsPer1k: cpuMs(cpu0, cpu1) / (got.received / 1000),
      // How busy each process was over the run: a figure near 1 says which one set the pace.
      serverBusy: cpuMs(cpu0, cpu1) / (seconds * 1000),
      clientBusy: got.clientCpuMs / (seconds * 1000),
      wireBytesPerEvent: got.wireBytes / Math.max(1, got.received),
      latencyMs: got.latencyMs,
      sendMs: sent.sendMs,
      memory:
        s.kind === 'slow'
          ? {
              growthMB: (sent.peak.heapPlusExternal - before.heapUsed - before.external) / 2 ** 20,
              rssGrowthMB: (sent.peak.rss - before.rss) / 2 ** 20,
              retainedMB: (after.heapUsed + after.external - before.heapUsed - before.external) / 2 ** 20,
              stalledClosed: openAfter <= count - 1 - got.closedReaders,
            }
          : undefined,
    };
  });
}

async function singleRun(variant, s) {
  return withProcesses(variant, async (server, client) => {
    const cpu0 = await server.call('cpu');
    await client.call('connect', {
      port: server.port,
      path: `/single?n=${s.events}&size=${s.size}`,
      count: 1,
      slow: 0,
      events: s.events,
    });
    const got = await client.call('collect', { stallMs: 3000 });
    const cpu1 = await server.call('cpu');
    return {
      delivered: got.received,
      expected: got.expected,
      lost: got.lost,
      outOfOrder: got.outOfOrder,
      eventsPerSec: got.received / ((got.lastRecvUs - got.firstSentUs) / 1e6),
      cpuMsPer1k: cpuMs(cpu0, cpu1) / (got.received / 1000),
      wireBytesPerEvent: got.wireBytes / Math.max(1, got.received),
      latencyMs: got.latencyMs,
    };
  });
}

async function idleRun(variant, s) {
  return withProcesses(variant, async (server, client) => {
    const before = await server.call('mem', { gc: true });
    const conn = await client.call('connect', {
      port: server.port,
      path: '/sse',
      count: s.clients,
      slow: 0,
      events: 0,
    });
    const open = await waitForCount(server, s.clients);
    await sleep(300);
    const after = await server.call('mem', { gc: true });
    return {
      connected: conn.connected,
      open,
      rssPerConnKB: (after.rss - before.rss) / open / 1024,
      heapPerConnKB: (after.heapUsed + after.external - before.heapUsed - before.external) / open / 1024,
    };
  });
}

/** Runs `fn`, once more after a failure to start (a shared checkout's dist/ may be rebuilt under us). */
async function attempt(fn, label) {
  try {
    return await fn();
  } catch (err) {
    console.error(`  ${label}: ${err.message}; retrying once`);
    await sleep(3000);
    ensureBuilt();
    return fn();
  }
}

const PROCEDURE = { fanout: broadcastRun, slow: broadcastRun, single: singleRun, idle: idleRun };

async function main() {
  ensureBuilt();
  const started = new Date();
  const machine = {
    date: started.toISOString(),
    nproc: availableParallelism(),
    cpu: cpus()[0]?.model ?? 'unknown',
    node: process.version,
    placement,
    openFiles: fileLimits(),
  };
  console.log(
    `# pnpm bench${quick ? ' --quick' : ''}: ${machine.date}, ${machine.nproc} cores (${machine.cpu}), Node ${machine.node}, ${placement}, open files ${machine.openFiles}`,
  );
  const results = [];
  const problems = [];
  for (const s of scenarios(quick).filter((x) => !only || only.includes(x.name))) {
    const variants = [];
    const wanted = onlyVariants
      ? onlyVariants.filter((v) => (s.eligible ?? Object.keys(BASELINE)).includes(v))
      : s.variants;
    const withBefore =
      before === undefined ? wanted : wanted.flatMap((v) => (v.startsWith('tidings-') ? [v, v + BEFORE] : [v]));
    for (const v of withBefore) if (await available(v)) variants.push(v);
    const runs = Object.fromEntries(variants.map((v) => [v, []]));
    for (let round = 0; round < Math.max(rounds, quick ? 1 : (s.rounds ?? 1)); round++) {
      // Alternate: every variant once per round, starting one further along each round.
      for (let k = 0; k < variants.length; k++) {
        const v = variants[(k + round) % variants.length];
        const t0 = Date.now();
        try {
          runs[v].push(await attempt(() => PROCEDURE[s.kind](v, s), `${s.name}/${v}`));
        } catch (err) {
          problems.push(`${s.name}/${v}: ${err.message}`);
        }
        process.stdout.write(`  ${s.name} ${v} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
      }
    }
    const entry = { scenario: s, runs };
    results.push(entry);
    console.log(`\n${renderScenario(entry)}\n`);
    for (const [v, list] of Object.entries(runs)) {
      for (const r of list) {
        if (r.lost > 0 || r.outOfOrder > 0)
          problems.push(`${s.name}/${v}: lost ${r.lost}, out of order ${r.outOfOrder}`);
      }
    }
  }
  const seconds = (Date.now() - started.getTime()) / 1000;
  if (!quick) console.log(`### Targets\n\n${renderTargets(results)}\n`);
  console.log(`done in ${seconds.toFixed(0)} s`);
  const resultsDir = join(here, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const json = JSON.stringify({ machine, quick, rounds, seconds, results }, null, 2);
  const stamp = machine.date.replace(/[:.]/g, '-');
  writeFileSync(join(resultsDir, `${quick ? 'quick' : 'full'}-${stamp}.json`), json);
  writeFileSync(join(resultsDir, `latest${quick ? '-quick' : ''}.json`), json);
  if (!quick && !only && !onlyVariants)
    writeFileSync(join(resultsDir, 'latest.md'), renderAll(machine, seconds, results));
  if (problems.length > 0) {
    console.error(`\n${problems.length} problem(s):\n${problems.join('\n')}`);
    process.exit(1);
  }
}

function renderAll(machine, seconds, results) {
  const lines = [
    `Run ${machine.date} (${seconds.toFixed(0)} s): ${machine.nproc} cores, ${machine.cpu}, Node ${machine.node}, ${machine.placement}.`,
    '',
  ];
  lines.push('### Targets', '', renderTargets(results), '');
  for (const entry of results) lines.push(renderScenario(entry), '');
  return lines.join('\n');
}

await main();
