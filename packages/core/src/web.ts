/**
 * @tidings/core for Fetch runtimes without Node APIs (workerd, Vercel's edge runtime, browsers), chosen by the
 * package's `exports` conditions: everything but what needs Node; `sseResponse()` serves streams. No module it
 * reaches imports a `node:` module (test/runtimes/import-graph.test.ts checks it).
 */
export * from './public.js';
