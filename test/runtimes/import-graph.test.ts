/**
 * The built @tidings/core as Fetch runtimes without Node APIs resolve it (through its package `exports`
 * conditions, as wrangler and Next.js Edge bundle it): the web entry, and no module it reaches imports a `node:`
 * module or a Node builtin. Needs `pnpm build` first.
 */
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import { build, type Plugin } from 'esbuild';

const root = path.resolve(__dirname, '../..');
const NODE_BUILTINS = new Set(builtinModules);

/** Bundles `import '@tidings/core'` with `conditions`; resolves to the files reached and the Node modules asked for. */
async function graph(conditions: string[]): Promise<{ files: string[]; nodeImports: string[] }> {
  const nodeImports: string[] = [];
  const flagNode: Plugin = {
    name: 'flag-node-imports',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        const bare = args.path.replace(/^node:/, '').split('/')[0]!;
        if (args.path.startsWith('node:') || NODE_BUILTINS.has(bare)) {
          nodeImports.push(`${args.path} (from ${path.relative(root, args.importer)})`);
          return { path: args.path, external: true };
        }
        return undefined;
      });
    },
  };
  const result = await build({
    stdin: { contents: "export * from '@tidings/core';", resolveDir: root, loader: 'js' },
    bundle: true,
    write: false,
    metafile: true,
    platform: 'neutral',
    mainFields: ['module', 'main'],
    conditions,
    plugins: [flagNode],
    tsconfigRaw: '{}', // the repository's tsconfig maps @tidings/* to the sources: resolve as a user's bundler would
    logLevel: 'silent',
  });
  return { files: Object.keys(result.metafile.inputs), nodeImports };
}

describe.each([
  ['workerd (wrangler)', ['workerd', 'worker', 'browser']],
  ['edge-light (Next.js Edge)', ['edge-light', 'worker', 'browser']],
  ['worker', ['worker']],
  ['browser', ['browser']],
])('@tidings/core for %s', (_name, conditions) => {
  test('resolves to the web entry, whose imports reach no node: module', async () => {
    const { files, nodeImports } = await graph(conditions);
    expect(files).toContainEqual(expect.stringMatching(/packages\/core\/dist\/esm\/web\.js$/));
    expect(files).not.toContainEqual(expect.stringMatching(/packages\/core\/dist\/esm\/index\.js$/));
    expect(files).toContainEqual(expect.stringMatching(/transport-web\.js$/));
    expect(nodeImports).toEqual([]);
  });
});

test('the Node entry (import condition) does reach node: modules, so the check above can fail', async () => {
  const { files, nodeImports } = await graph(['import']);
  expect(files).toContainEqual(expect.stringMatching(/packages\/core\/dist\/esm\/index\.js$/));
  expect(nodeImports).toContainEqual(expect.stringMatching(/^node:http /));
});
