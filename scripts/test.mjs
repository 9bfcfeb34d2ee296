// `pnpm test`: lint, type-check (sources, tests and type tests), build, every jest project, then `pnpm bench --quick`.
// Ends with the plain `N passed, N failed` line CI reads, and exits non-zero when anything failed.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

const resultsFile = '.jest-results.json';
const jestArgs = process.argv.slice(2);
const steps = [
  ['lint', 'pnpm', ['exec', 'biome', 'check', '.']],
  ['typecheck', 'pnpm', ['exec', 'tsc', '-p', 'tsconfig.json', '--noEmit']],
  ['build', 'pnpm', ['run', 'build']],
  ['jest', 'pnpm', ['exec', 'jest', '--json', `--outputFile=${resultsFile}`, ...jestArgs]],
  // Keeps the benchmark harness working: small sizes, fails only when an event is lost or out of order (never on times).
  ['bench', 'node', ['bench/run.mjs', '--quick']],
];

let failedStep;
rmSync(resultsFile, { force: true });
for (const [name, cmd, args] of steps) {
  console.log(`\n> ${name}: ${cmd} ${args.join(' ')}`);
  const { status } = spawnSync(cmd, args, { stdio: 'inherit' });
  if (status !== 0) {
    failedStep = name;
    if (name !== 'jest') break; // jest still reports its counts below
  }
}

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(resultsFile)) {
  const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  passed = results.numPassedTests;
  failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
  skipped = results.numPendingTests + results.numTodoTests;
}
if (failedStep && failed === 0) failed = 1; // a failed lint, type-check or build counts as one failure
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
if (failedStep) console.log(`failed step: ${failedStep}`);
process.exit(failedStep ? 1 : 0);
