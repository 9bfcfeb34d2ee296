// Builds the package in the current directory twice, as ESM (dist/esm) and as CommonJS (dist/cjs),
// each with its .d.ts, and marks each folder with its module type so Node and TypeScript agree.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync('dist', { recursive: true, force: true });
for (const [format, moduleKind, type] of [
  ['esm', 'ES2022', 'module'],
  ['cjs', 'CommonJS', 'commonjs'],
]) {
  execFileSync(
    process.execPath,
    [tsc, '-p', 'tsconfig.build.json', '--module', moduleKind, '--outDir', `dist/${format}`],
    {
      stdio: 'inherit',
    },
  );
  mkdirSync(`dist/${format}`, { recursive: true });
  writeFileSync(`dist/${format}/package.json`, `${JSON.stringify({ type })}\n`);
}
