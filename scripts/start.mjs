// `pnpm start`: builds the packages, then serves the demo (examples/dashboard).
import { spawnSync } from 'node:child_process';

const flavour = process.argv[2] === 'express' ? 'express' : 'fastify';
const build = spawnSync('pnpm', ['run', 'build'], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const server = spawnSync(process.execPath, [`examples/dashboard/server-${flavour}.mjs`], { stdio: 'inherit' });
process.exit(server.status ?? 0);
