// `node --import ./bench/lib/before-loader.mjs`: resolves `@tidings/<name>` to the build in the checkout named by
// TIDINGS_BEFORE (`<checkout>/packages/<name>/dist/esm/index.js`), so `pnpm bench --before <checkout>` runs an
// earlier build of Tidings beside the current one, in the same run.
import { register } from 'node:module';

register('./before-hooks.mjs', import.meta.url, { data: { checkout: process.env.TIDINGS_BEFORE } });
