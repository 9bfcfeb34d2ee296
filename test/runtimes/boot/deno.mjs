// Deno: serves the handler module given as the first argument (`export default { fetch }`) with Deno.serve on
// 127.0.0.1, port 0, and prints `listening <port>`.
const { default: handler } = await import(Deno.args[0]);
Deno.serve({ hostname: '127.0.0.1', port: 0, onListen: ({ port }) => console.log(`listening ${port}`) }, (request) =>
  handler.fetch(request),
);
