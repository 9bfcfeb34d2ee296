/** A Fastify app with the plugin for a test: forceCloseConnections so close() never waits on a spare keep-alive socket. */
import { type SsePluginOptions, ssePlugin } from '@tidings/fastify';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';

export async function sseApp(
  options: SsePluginOptions = {},
  server: FastifyServerOptions = { forceCloseConnections: true },
): Promise<FastifyInstance> {
  const app = Fastify(server);
  await app.register(ssePlugin, { keepAlive: false, ...options });
  return app;
}

/** Starts `app` on 127.0.0.1 and returns its base URL. */
export function listen(app: FastifyInstance): Promise<string> {
  return app.listen({ port: 0, host: '127.0.0.1' });
}
