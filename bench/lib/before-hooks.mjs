// Module resolve hook for before-loader.mjs: `@tidings/<name>` → the earlier checkout's ESM build.
import { pathToFileURL } from 'node:url';

let checkout;

export function initialize(data) {
  checkout = data.checkout;
}

export function resolve(specifier, context, next) {
  const match = /^@tidings\/([a-z-]+)$/.exec(specifier);
  if (checkout === undefined || match === null) return next(specifier, context);
  return next(pathToFileURL(`${checkout}/packages/${match[1]}/dist/esm/index.js`).href, context);
}
