/**
 * The built packages, as users get them: each `packages/<name>` is loaded through its package.json `exports`
 * with require() and with import() in a fresh Node process, then checked by publint and by
 * @arethetypeswrong/cli on the packed tarball. Needs `pnpm build` first (`pnpm test` runs it).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(__dirname, '..');
const bin = (name: string): string => path.join(root, 'node_modules', '.bin', name);

interface Manifest {
  name: string;
  /** A workspace-only package (@tidings/testkit): never built, packed or published. */
  private?: boolean;
  main: string;
  types: string;
  exports: Record<string, unknown>;
}

const packages = readdirSync(path.join(root, 'packages'))
  .map((name) => path.join(root, 'packages', name))
  .filter((dir) => existsSync(path.join(dir, 'package.json')))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as Manifest }))
  .filter(({ manifest }) => !manifest.private);

/** What a fresh Node process sees when it loads the package by name (self-reference resolves through `exports`). */
interface Loaded {
  resolved: string;
  exports: string[];
  /** core only: what the built encoder makes of a two-line string. */
  frame?: string;
}

const report = `
  const frame = typeof m.encodeEvent === 'function' ? m.encodeEvent({ data: 'a\\nb' }) : undefined;
  console.log(JSON.stringify({ resolved, exports: Object.keys(m).filter((k) => k !== 'default').sort(), frame }));`;
const requireScript = `const name = process.argv[1]; const resolved = require.resolve(name); const m = require(name);${report}`;
const importScript = `const name = process.argv[1]; const resolved = new URL(import.meta.resolve(name)).pathname;
  const m = await import(name);${report}`;

async function load(dir: string, name: string, format: 'cjs' | 'esm'): Promise<Loaded> {
  const args = format === 'cjs' ? ['-e', requireScript, name] : ['--input-type=module', '-e', importScript, name];
  const { stdout } = await run(process.execPath, args, { cwd: dir });
  return JSON.parse(stdout) as Loaded;
}

describe.each(packages)('$manifest.name', ({ dir, manifest }) => {
  test('is built', () => {
    const files = ['dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/esm/index.js', 'dist/esm/index.d.ts'];
    const missing = files.filter((file) => !existsSync(path.join(dir, file)));
    expect(missing).toEqual([]); // when not: run `pnpm build` first (`pnpm test` does)
    expect(path.normalize(manifest.main)).toBe(path.normalize('dist/cjs/index.js'));
    expect(path.normalize(manifest.types)).toBe(path.normalize('dist/cjs/index.d.ts'));
  });

  test('require() and import() load the CommonJS and ESM builds, with the same exports', async () => {
    const [cjs, esm] = await Promise.all([load(dir, manifest.name, 'cjs'), load(dir, manifest.name, 'esm')]);
    expect(cjs.resolved).toBe(path.join(dir, 'dist/cjs/index.js'));
    expect(esm.resolved).toBe(path.join(dir, 'dist/esm/index.js'));
    expect(esm.exports).toEqual(cjs.exports);
    if (manifest.name === '@tidings/core') {
      expect(cjs.exports).toEqual(expect.arrayContaining(['SseEmitter', 'encodeEvent', 'event', 'ChannelRegistry']));
      expect(cjs.frame).toBe('data: a\ndata: b\n\n');
      expect(esm.frame).toBe(cjs.frame);
    }
    if (manifest.name === '@tidings/client') {
      expect(cjs.exports).toEqual(expect.arrayContaining(['connect', 'SseClientError', 'SseClientStream']));
    }
  });

  test('publint finds nothing, warnings included', async () => {
    const { stdout } = await run(bin('publint'), ['--strict'], { cwd: dir });
    expect(stdout).toContain('All good!');
  });

  test('@arethetypeswrong/cli finds no problem in the packed package', async () => {
    // --pack runs `npm pack` into a temporary tarball: no network needed. On problems attw exits 1 and
    // still prints its JSON report, which the assertion then shows.
    const stdout = await run(bin('attw'), ['--pack', '.', '--format', 'json'], { cwd: dir }).then(
      (done) => done.stdout,
      (err: { stdout?: string }) => err.stdout || Promise.reject(err),
    );
    const result = JSON.parse(stdout) as { analysis: { problems: unknown[] } };
    expect(result.analysis.problems).toEqual([]);
  });
});
