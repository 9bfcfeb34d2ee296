import * as path from 'node:path';
import type { Config } from 'jest';

// One project a package; workspace packages resolve to their sources, so tests need no build first.
const moduleNameMapper = {
  // Every workspace package by name, from its sources; the private test kit's suites by file too
  // ('@tidings/testkit/channel-scenarios').
  '^@tidings/([a-z-]+)$': path.join(__dirname, 'packages/$1/src/index.ts'),
  '^@tidings/testkit/(.+)$': path.join(__dirname, 'packages/testkit/src/$1.ts'),
  '^(\\.{1,2}/.*)\\.js$': '$1',
};

const transform: Config['transform'] = {
  '^.+\\.ts$': ['ts-jest', { tsconfig: path.join(__dirname, 'tsconfig.jest.json') }],
};

function project(displayName: string, roots: string[], extra: Partial<Config> = {}): Config {
  return {
    displayName,
    rootDir: __dirname,
    roots: roots.map((r) => `<rootDir>/${r}`),
    testMatch: ['**/*.test.ts'],
    testEnvironment: 'node',
    moduleNameMapper,
    transform,
    ...extra,
  };
}

const config: Config = {
  testTimeout: 30_000,
  projects: [
    project('core', ['packages/core/test']),
    // Heap bounds per channel (bytes, never times): `pnpm test:memory` runs it under node --expose-gc.
    project('core-memory', ['packages/core/test-memory']),
    project('express', ['packages/express/test']),
    project('fastify', ['packages/fastify/test']),
    project('hono', ['packages/hono/test']),
    project('redis', ['packages/redis/test']),
    project('client', ['packages/client/test'], { testPathIgnorePatterns: ['/browser\\.[^/]*\\.test\\.ts$'] }),
    project('examples', ['examples/dashboard/test']),
    // @tidings/client in real browsers (Chromium, Firefox ESR): a project of its own, so it can be run or left out alone.
    project('client-browser', ['packages/client/test'], { testMatch: ['**/browser.*.test.ts'] }),
    // Imports the built packages (run `pnpm build` first; `pnpm test` does).
    project('dist', ['test'], {
      moduleNameMapper: {},
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/runtimes/'],
    }),
    // The same handlers served by real runtimes (Node, Bun, Deno, workerd, edge runtime) in child processes.
    project('runtimes', ['test/runtimes'], { moduleNameMapper: {} }),
  ],
};

export default config;
