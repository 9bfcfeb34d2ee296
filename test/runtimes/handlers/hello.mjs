// The smallest handler: answers every request with the runtime it runs in.
function runtimeName() {
  if (typeof Bun !== 'undefined') return 'bun';
  if (typeof Deno !== 'undefined') return 'deno';
  if (typeof EdgeRuntime !== 'undefined') return 'edge';
  if (globalThis.navigator?.userAgent === 'Cloudflare-Workers') return 'workerd';
  if (typeof process !== 'undefined' && process.release?.name === 'node') return 'node';
  return 'unknown';
}

export default {
  fetch: () => new Response(`hello from ${runtimeName()}`),
};
