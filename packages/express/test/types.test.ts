/**
 * Type tests (checked by `tsc -p tsconfig.json`): the declaration merging that types `res.sse()`,
 * `req.lastEventId`, the middleware and `sseHandler()`. The same code also runs under jest.
 */
import { event, type SseEmitter } from '@tidings/core';
import { type SseMiddleware, sse, sseHandler } from '@tidings/express';
import { expectTypeOf } from 'expect-type';
import express, { type Request, type Response } from 'express';

test('res.sse(), req.lastEventId, sse() and sseHandler() are typed', () => {
  const middleware = sse({ keepAlive: 15000 });
  expectTypeOf(middleware).toEqualTypeOf<SseMiddleware>();
  expectTypeOf(middleware.close).toEqualTypeOf<() => Promise<void>>();
  expectTypeOf<Request['lastEventId']>().toEqualTypeOf<string | undefined>();
  expectTypeOf<ReturnType<Response['sse']>>().toEqualTypeOf<SseEmitter<Record<string, unknown>>>();

  const app = express();
  app.use(middleware);
  app.get('/typed', (_req, res) => {
    const em = res.sse<{ tick: number }>({ retry: 1000 });
    void em.send(event({ event: 'tick', data: 1 }));
    // @ts-expect-error: 'tick' carries a number
    void em.send(event({ event: 'tick', data: 'one' }));
    em.complete();
  });
  app.get(
    '/feed',
    sseHandler(async function* () {
      yield 'data';
    }),
  );
  // @ts-expect-error: a handler returns a stream, not a number
  sseHandler(() => 5);
  // @ts-expect-error: unknown emitter options are rejected
  sse({ keepAlive: 1000, nope: true });
  expect(() => sse({ keepAlive: -1 })).toThrow(expect.objectContaining({ code: 'SSE_ERR_INVALID_OPTION' }));
});
