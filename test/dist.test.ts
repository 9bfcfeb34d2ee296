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

describe('an emitter made by the other build of @tidings/core (ESM beside CommonJS)', () => {
  // One process loads both builds, as an app does when it `import`s core and `require`s an adapter. The emitter of
  // one copy is given to the other copy's channel, registry and adapter host: refused with a clear error before any
  // byte, or (when it is the same copy) fully usable.
  const script = `
    import { createRequire } from 'node:module';
    import * as http from 'node:http';
    const esm = await import('@tidings/core');
    const cjs = createRequire(process.cwd() + '/')('@tidings/core');
    const out = {};
    const codeOf = (fn) => { try { fn(); return 'accepted'; } catch (err) { return err.code; } };
    out.distinct = esm.SseEmitter !== cjs.SseEmitter;
    out.recognised = esm.isEmitter(new cjs.SseEmitter());
    out.errorRecognised = esm.isSseError(new cjs.SseClosedError()) && new cjs.SseClosedError() instanceof esm.SseError;
    out.subscribe = codeOf(() => new esm.ChannelRegistry().channel('c').subscribe(new cjs.SseEmitter()));
    out.track = codeOf(() => new esm.ChannelRegistry().track(new cjs.SseEmitter()));
    out.sameCopy = codeOf(() => new cjs.ChannelRegistry().channel('c').subscribe(new cjs.SseEmitter()));
    // A handler that returns the foreign emitter: the host rejects before writing anything.
    const host = new esm.SseHost();
    const server = http.createServer((req, res) => {
      host.serve({ req, res, logError() {} }, () => new cjs.SseEmitter()).catch((err) => {
        out.served = { code: err.code, headersSent: res.headersSent };
        res.statusCode = 500;
        res.end();
      });
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const answer = await fetch('http://127.0.0.1:' + server.address().port + '/');
    out.status = answer.status;
    out.body = await answer.text();
    server.close();
    console.log(JSON.stringify(out));`;

  test('is recognised, and refused with SSE_ERR_FOREIGN_EMITTER before any byte', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: path.join(root, 'packages/core'),
    });
    expect(JSON.parse(stdout)).toEqual({
      distinct: true,
      recognised: true,
      errorRecognised: true,
      subscribe: 'SSE_ERR_FOREIGN_EMITTER',
      track: 'SSE_ERR_FOREIGN_EMITTER',
      sameCopy: 'accepted',
      served: { code: 'SSE_ERR_FOREIGN_EMITTER', headersSent: false },
      status: 500,
      body: '',
    });
  });
});
