// Browser bundle size: @tidings/client against its peers, measured the way an application's bundler would see them.
// Each package's public entry is bundled for the browser (esbuild: ESM, `browser` and `import` export conditions,
// minified, tree-shaken to the one function or class an app imports), then gzipped (level 9). The built-in
// `EventSource` costs nothing to ship. Measures the built @tidings/client (run `pnpm build` first).
//
//   node bench/client-size.mjs            markdown table
//   node bench/client-size.mjs --json     the same figures as JSON
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, 'package.json'));

/** What each package's users import: the package name and the one export an app needs. */
const PACKAGES = [
  { name: '@tidings/client', entry: 'connect' },
  { name: 'eventsource', entry: 'EventSource' },
  { name: 'eventsource-client', entry: 'createEventSource' },
  { name: '@microsoft/fetch-event-source', entry: 'fetchEventSource' },
];

/** The installed version of `name` and how many runtime dependencies it declares. */
function packageFacts(name) {
  const manifest = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8'));
  return { version: manifest.version, dependencies: Object.keys(manifest.dependencies ?? {}).length };
}

/** Bundles `import { entry } from name` for the browser; resolves to the minified bytes and their gzipped size. */
async function measure({ name, entry }) {
  const result = await build({
    stdin: { contents: `export { ${entry} } from '${name}';`, resolveDir: here, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['browser', 'import'],
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  return { minBytes: code.byteLength, gzipBytes: gzipSync(code, { level: 9 }).byteLength };
}

/** Every package's figures; a package that cannot be bundled (not built yet) carries the reason instead. */
export async function measureAll() {
  const rows = [{ name: 'EventSource (built in)', version: '–', dependencies: 0, minBytes: 0, gzipBytes: 0 }];
  for (const pkg of PACKAGES) {
    try {
      rows.push({ name: pkg.name, ...packageFacts(pkg.name), ...(await measure(pkg)) });
    } catch (err) {
      rows.push({ name: pkg.name, error: (err.errors?.[0]?.text ?? err.message).split('\n')[0] });
    }
  }
  return rows;
}

const kib = (bytes) => `${(bytes / 1024).toFixed(2)} KiB`;

/** The markdown table: min and min+gzip per package, and each as a multiple of @tidings/client's min+gzip. */
export function renderSizes(rows) {
  const ours = rows.find((row) => row.name === '@tidings/client')?.gzipBytes;
  const lines = [
    '| package | version | runtime deps | minified | min+gzip | × @tidings/client |',
    '| --- | --- | ---: | ---: | ---: | ---: |',
  ];
  for (const row of rows) {
    if (row.error !== undefined) {
      lines.push(`| ${row.name} | not measured: ${row.error.replaceAll('|', '\\|')} | | | | |`);
      continue;
    }
    const ratio = ours && row.gzipBytes > 0 ? `${(row.gzipBytes / ours).toFixed(2)}×` : '–';
    lines.push(
      `| ${row.name} | ${row.version} | ${row.dependencies} | ${kib(row.minBytes)} | ${kib(row.gzipBytes)} (${row.gzipBytes} B) | ${ratio} |`,
    );
  }
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { json: { type: 'boolean' } } });
  const rows = await measureAll();
  console.log(values.json ? JSON.stringify(rows, null, 2) : renderSizes(rows));
}
