// @tidings/redis as it was at a git commit, built once into bench/node_modules/.tidings-redis-at/<sha>/ (ignored
// by git; packages resolve from bench/node_modules), so one bench run can compare an earlier adapter with this one.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const bench = join(dirname(fileURLToPath(import.meta.url)), '..');
const root = join(bench, '..');

/** The file URL of the ESM entry of packages/redis built from commit `ref` (anything `git rev-parse` takes). */
export function adapterAt(ref) {
  const sha = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: root, encoding: 'utf8' }).trim();
  const dir = join(bench, 'node_modules', '.tidings-redis-at', sha);
  const entry = join(dir, 'dist', 'index.js');
  if (!existsSync(entry)) {
    mkdirSync(dir, { recursive: true });
    const archive = execFileSync('git', ['archive', sha, 'packages/redis/src'], { cwd: root });
    execFileSync('tar', ['-x', '-C', dir, '--strip-components=2'], { input: archive });
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    const tsconfig = {
      extends: join(root, 'tsconfig.base.json'),
      compilerOptions: { rootDir: 'src', outDir: 'dist', declaration: false, sourceMap: false },
      include: ['src'],
    };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
    execFileSync(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')], { stdio: 'inherit' });
  }
  return { sha: sha.slice(0, 7), url: pathToFileURL(entry).href };
}
