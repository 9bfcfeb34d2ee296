// Bun: serves the handler module given as argv[2] (`export default { fetch }`) with Bun.serve on 127.0.0.1,
// port 0, with Bun's defaults (idleTimeout 10 s), and prints `listening <port>`.
const { default: handler } = await import(process.argv[2]);
const server = Bun.serve({ hostname: '127.0.0.1', port: 0, fetch: (request) => handler.fetch(request) });
console.log(`listening ${server.port}`);
