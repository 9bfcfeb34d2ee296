/**
 * The browser build's size: the package bundled for browsers by esbuild (ESM, minified, every export kept),
 * then gzipped. Printed in the test output; the test fails past the 4 KiB budget of issue 15.
 */
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const BUDGET = 4 * 1024;

test('the browser bundle is at most 4 KiB min+gzip', async () => {
  const result = await build({
    entryPoints: [path.join(__dirname, '../src/index.ts')],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  const gzipped = gzipSync(code, { level: 9 }).length;
  console.log(`@tidings/client browser bundle: ${code.length} B minified, ${gzipped} B min+gzip (budget ${BUDGET} B)`);
  expect(new TextDecoder().decode(code)).not.toMatch(/\brequire\(|from ?"node:/); // nothing Node-only
  expect(gzipped).toBeLessThanOrEqual(BUDGET);
});
