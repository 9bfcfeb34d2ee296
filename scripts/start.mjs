// `pnpm start` (Fastify) / `pnpm start:express`: builds the packages when their sources are newer than their
// build, then serves the demo (examples/dashboard) on http://127.0.0.1:3000 (PORT, HOST, REDIS_URL apply).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const flavour = process.argv[2] === 'express' ? 'express' : 'fastify';
// The published packages only: packages/testkit holds test helpers and is never built.
const packages = readdirSync('packages')
  .filter((name) => name !== 'testkit')
  .map((name) => join('packages', name));

/** Newest modification time of the files under `dir` (0 when it does not exist). */
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) latest = Math.max(latest, statSync(join(entry.parentPath ?? entry.path, entry.name)).mtimeMs);
  }
  return latest;
}

function built(pkg) {
  try {
    return statSync(join(pkg, 'dist/esm/index.js')).mtimeMs >= newest(join(pkg, 'src'));
  } catch {
    return false; // no build yet
  }
}

if (!packages.every(built)) {
  console.log('Building the packages (first start, or sources changed)...');
  const build = spawnSync('pnpm', ['run', 'build'], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
const server = spawnSync(process.execPath, [`examples/dashboard/server-${flavour}.mjs`], { stdio: 'inherit' });
process.exit(server.status ?? 0);
