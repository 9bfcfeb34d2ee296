// Lets a child process run the TypeScript sources directly, as the jest projects do: @tidings/<name> maps to
// packages/<name>/src, and the sources' `./x.js` imports to `./x.ts`. Transpile only (tsc checks types).
const Module = require('node:module');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '../../../..');
require('ts-node').register({
  transpileOnly: true,
  skipProject: true,
  compilerOptions: {
    module: 'CommonJS',
    moduleResolution: 'Bundler',
    target: 'ES2022',
    esModuleInterop: true,
    rootDir: root,
  },
});

const resolve = Module._resolveFilename;
Module._resolveFilename = function resolveSource(request, parent, ...rest) {
  const workspace = /^@tidings\/(core|express|fastify|redis)$/.exec(request);
  if (workspace) return path.join(root, 'packages', workspace[1], 'src/index.ts');
  if (request.startsWith('.') && request.endsWith('.js') && parent?.filename) {
    const source = path.resolve(path.dirname(parent.filename), `${request.slice(0, -3)}.ts`);
    if (fs.existsSync(source)) return source;
  }
  return resolve.call(this, request, parent, ...rest);
};
