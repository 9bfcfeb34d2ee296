// Markdown tables: one per scenario, each variant next to its framework's raw baseline (the median over rounds).
import { BASELINE, BETTER_SSE, LABEL } from './scenarios.mjs';
import { median } from './stats.mjs';

const fixed = (digits) => (x) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
const f0 = fixed(0);
const f1 = fixed(1);
const f2 = fixed(2);
const thousands = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const ratio = (x, base) =>
  Number.isFinite(x) && Number.isFinite(base) && base > 0 ? `${(x / base).toFixed(2)}×` : '–';

/** The median of `pick(run)` over a variant's rounds. */
function stat(runs, variant, pick) {
  const values = (runs[variant] ?? []).map(pick).filter(Number.isFinite);
  return values.length === 0 ? Number.NaN : median(values);
}

/**
 * Events/s over a variant's rounds: the best one. Other processes on the machine can only slow a round down,
 * so the best round is the closest to what the variant can do; CPU, latency and memory are medians.
 */
const EVENTS_PER_SEC = (r) => r.eventsPerSec;
function best(runs, variant) {
  const values = (runs[variant] ?? []).map(EVENTS_PER_SEC).filter(Number.isFinite);
  return values.length === 0 ? Number.NaN : Math.max(...values);
}

const sum = (runs, variant, pick) => (runs[variant] ?? []).reduce((n, r) => n + pick(r), 0);

const COLUMNS = {
  fanout: [
    ['events/s delivered', (c) => thousands(c.own('eventsPerSec'))],
    ['× raw', (c) => ratio(c.own('eventsPerSec'), c.raw('eventsPerSec'))],
    ['× better-sse', (c) => ratio(c.own('eventsPerSec'), c.betterSse('eventsPerSec'))],
    ['CPU ms / 1k deliveries', (c) => f2(c.own('cpuMsPer1k'))],
    ['× raw', (c) => ratio(c.own('cpuMsPer1k'), c.raw('cpuMsPer1k'))],
    ['p50 ms', (c) => f1(c.own('p50'))],
    ['p99 ms', (c) => f1(c.own('p99'))],
    ['lost', (c) => String(c.total('lost'))],
    ['out of order', (c) => String(c.total('outOfOrder'))],
    ['wire B / event', (c) => f0(c.own('wireBytesPerEvent'))],
  ],
  paced: [
    ['p50 ms', (c) => f2(c.own('p50'))],
    ['p99 ms', (c) => f2(c.own('p99'))],
    ['p99 × raw', (c) => ratio(c.own('p99'), c.raw('p99'))],
    ['max ms', (c) => f2(c.own('max'))],
    ['CPU ms / 1k deliveries', (c) => f2(c.own('cpuMsPer1k'))],
    ['× raw', (c) => ratio(c.own('cpuMsPer1k'), c.raw('cpuMsPer1k'))],
    ['lost', (c) => String(c.total('lost'))],
  ],
  single: [
    ['events/s', (c) => thousands(c.own('eventsPerSec'))],
    ['× raw', (c) => ratio(c.own('eventsPerSec'), c.raw('eventsPerSec'))],
    ['CPU ms / 1k events', (c) => f2(c.own('cpuMsPer1k'))],
    ['× raw', (c) => ratio(c.own('cpuMsPer1k'), c.raw('cpuMsPer1k'))],
    ['lost', (c) => String(c.total('lost'))],
    ['wire B / event', (c) => f0(c.own('wireBytesPerEvent'))],
  ],
  idle: [
    ['RSS KiB / connection', (c) => f2(c.own('rssPerConnKB'))],
    ['× raw', (c) => ratio(c.own('rssPerConnKB'), c.raw('rssPerConnKB'))],
    ['heap+external KiB / connection', (c) => f2(c.own('heapPerConnKB'))],
    ['× raw', (c) => ratio(c.own('heapPerConnKB'), c.raw('heapPerConnKB'))],
  ],
  slow: [
    ['kept after the run MB (heap+external, after gc)', (c) => f1(c.own('retainedMB'))],
    ['stalled client closed', (c) => c.runs.map((r) => (r.memory.stalledClosed ? 'yes' : 'no')).join('/')],
    ['lost (others)', (c) => String(c.total('lost'))],
    ['p99 ms (others)', (c) => f1(c.own('p99'))],
    ['p99 × raw', (c) => ratio(c.own('p99'), c.raw('p99'))],
    ['peak heap+external growth MB (incl. garbage)', (c) => f1(c.own('growthMB'))],
    ['peak RSS growth MB', (c) => f1(c.own('rssGrowthMB'))],
  ],
};

const PICK = {
  p50: (r) => r.latencyMs?.p50,
  p99: (r) => r.latencyMs?.p99,
  max: (r) => r.latencyMs?.max,
  growthMB: (r) => r.memory?.growthMB,
  rssGrowthMB: (r) => r.memory?.rssGrowthMB,
  retainedMB: (r) => r.memory?.retainedMB,
};

/** One scenario's table. */
export function renderScenario({ scenario, runs }) {
  const columns = COLUMNS[scenario.kind === 'fanout' && scenario.rate ? 'paced' : scenario.kind];
  const lines = [
    `### ${scenario.title}`,
    '',
    `| variant | ${columns.map(([h]) => h).join(' | ')} |`,
    `|---|${columns.map(() => '---:').join('|')}|`,
  ];
  for (const variant of Object.keys(runs)) {
    if (runs[variant].length === 0) continue;
    const getter = (v) => (key) =>
      key === 'eventsPerSec' ? best(runs, v) : stat(runs, v, PICK[key] ?? ((r) => r[key]));
    const context = {
      own: getter(variant),
      raw: getter(BASELINE[variant]),
      betterSse: getter(BETTER_SSE[variant] ?? 'better-sse'),
      total: (key) => sum(runs, variant, (r) => r[key] ?? 0),
      runs: runs[variant],
    };
    const cells = columns.map(([, cell]) => cell(context));
    lines.push(`| ${LABEL[variant]} | ${cells.join(' | ')} |`);
  }
  const rounds = Math.max(...Object.values(runs).map((r) => r.length));
  if (rounds > 1) {
    lines.push(
      '',
      `${rounds} rounds: events/s is the best round, other figures medians; lost and out-of-order are totals.`,
    );
  }
  return lines.join('\n');
}

const TIDINGS = ['tidings-node', 'tidings-express', 'tidings-fastify'];

/**
 * Issue 7's targets, checked against a run: one row per target, one cell per Tidings variant, each the measured
 * ratio and ✓ or ✗. `results` is run.mjs's list of `{ scenario, runs }`.
 */
export function renderTargets(results) {
  const byName = Object.fromEntries(results.map((r) => [r.scenario.name, r.runs]));
  const value = (scenario, variant, pick) =>
    pick === EVENTS_PER_SEC ? best(byName[scenario] ?? {}, variant) : stat(byName[scenario] ?? {}, variant, pick);
  const versus = (scenario, variant, other, pick) => value(scenario, variant, pick) / value(scenario, other, pick);
  const toRaw = (scenario, pick) => (v) => versus(scenario, v, BASELINE[v], pick);
  const rows = [
    ['fan-out 1,000: events/s ≥ 1.0× raw', toRaw('fanout-1000', EVENTS_PER_SEC), (x) => x >= 1],
    ['fan-out 1,000: CPU per delivery ≤ 1.05× raw', toRaw('fanout-1000', (r) => r.cpuMsPer1k), (x) => x <= 1.05],
    ['fan-out 5,000: events/s ≥ 1.0× raw', toRaw('fanout-5000', EVENTS_PER_SEC), (x) => x >= 1],
    [
      'fan-out 5,000: events/s ≥ 1.5× better-sse',
      (v) => versus('fanout-5000', v, 'better-sse', EVENTS_PER_SEC),
      (x) => x >= 1.5,
    ],
    ['fan-out 5,000: CPU per delivery ≤ 1.05× raw', toRaw('fanout-5000', (r) => r.cpuMsPer1k), (x) => x <= 1.05],
    ['single stream: events/s ≥ 0.9× raw', toRaw('single', EVENTS_PER_SEC), (x) => x >= 0.9],
    ['paced: p99 ≤ 1.2× raw', toRaw('paced', (r) => r.latencyMs?.p99), (x) => x <= 1.2],
    ['idle: RSS per connection ≤ 1.15× raw', toRaw('idle', (r) => r.rssPerConnKB), (x) => x <= 1.15],
    ['idle: heap+external per connection ≤ 1.15× raw', toRaw('idle', (r) => r.heapPerConnKB), (x) => x <= 1.15],
  ];
  const lines = [
    `| target | ${TIDINGS.map((v) => LABEL[v]).join(' | ')} |`,
    `|---|${TIDINGS.map(() => '---:').join('|')}|`,
  ];
  for (const [label, measure, ok] of rows) {
    const cells = TIDINGS.map((v) => {
      const x = measure(v);
      return Number.isFinite(x) ? `${x.toFixed(2)}× ${ok(x) ? '✓' : '✗'}` : '–';
    });
    lines.push(`| ${label} | ${cells.join(' | ')} |`);
  }
  const slow = byName.slow ?? {};
  const slowCell = (v) => {
    const runs = slow[v] ?? [];
    if (runs.length === 0) return '–';
    const kept = stat(slow, v, (r) => r.memory?.retainedMB);
    const closed = runs.every((r) => r.memory?.stalledClosed);
    const lost = sum(slow, v, (r) => r.lost ?? 0);
    const p99 = versus('slow', v, BASELINE[v], (r) => r.latencyMs?.p99);
    const ok = kept <= 8 && closed && lost === 0 && p99 <= 1.2;
    return `${kept.toFixed(1)} MB, ${closed ? 'closed' : 'kept'}, lost ${lost}, p99 ${p99.toFixed(2)}× ${ok ? '✓' : '✗'}`;
  };
  lines.push(
    `| slow reader: ≤ 8 MB kept, stalled client closed, no loss, p99 ≤ 1.2× raw | ${TIDINGS.map(slowCell).join(' | ')} |`,
  );
  return lines.join('\n');
}
