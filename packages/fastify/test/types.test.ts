/**
 * Type tests (checked by `tsc -p tsconfig.json`): the declaration merging that types `reply.sse()`,
 * `request.lastEventId`, the `{ sse: true }` route option, `app.sse()` and the plugin options.
 */
import { event, type SseEmitter } from '@tidings/core';
import { type SsePluginOptions, ssePlugin } from '@tidings/fastify';
import { expectTypeOf } from 'expect-type';
import Fastify, { type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify';
import { sseApp } from './support';

test('reply.sse(), request.lastEventId, { sse: true } and app.sse() are typed', async () => {
  expectTypeOf<FastifyRequest['lastEventId']>().toEqualTypeOf<string | undefined>();
  expectTypeOf<ReturnType<FastifyReply['sse']>>().toEqualTypeOf<SseEmitter<Record<string, unknown>>>();
  expectTypeOf<RouteOptions['sse']>().toEqualTypeOf<boolean | undefined>();
  expectTypeOf<SsePluginOptions['keepAlive']>().toEqualTypeOf<number | false | undefined>();

  const app = await sseApp();
  app.get('/typed', (_request, reply) => {
    const em = reply.sse<{ tick: number }>();
    void em.send(event({ event: 'tick', data: 1 }));
    // @ts-expect-error: 'tick' carries a number
    void em.send(event({ event: 'tick', data: 'one' }));
    em.complete();
  });
  app.get('/feed', { sse: true }, async function* () {
    yield 'data';
  });
  app.sse('/news', { logLevel: 'warn' }, async (request) => {
    expectTypeOf(request.lastEventId).toEqualTypeOf<string | undefined>();
    return undefined;
  });
  await app.close();

  const misconfigured = Fastify();
  // @ts-expect-error: plugin options are checked by the compiler, and again at registration
  const registering = misconfigured.register(ssePlugin, { keepAlive: 'often' });
  await expect(registering).rejects.toMatchObject({ code: 'SSE_ERR_INVALID_OPTION' });
  await misconfigured.close();
});
