/**
 * Type tests, checked by `tsc -p tsconfig.json` in `pnpm test`: a broken type makes the type-check fail
 * (an `expectTypeOf` mismatch, or a `@ts-expect-error` line that no longer errors). The client is typed from
 * the same event map the server's SseEmitter uses. The calls also run under jest (on a stream that never
 * connects), so the file's runtime claims are checked too.
 */
import { type AnyEvent, connect, type ReadyState, type SseClientError, type SseClientEvent } from '@tidings/client';
import { event, SseEmitter } from '@tidings/core';
import { expectTypeOf } from 'expect-type';

interface Item {
  id: string;
  title: string;
}
/** One map for both ends. */
type Events = { tick: number; add: Item };

test('the server and the client share one event map', () => {
  const em = new SseEmitter<Events>({ keepAlive: false });
  void em.send(event({ event: 'tick', data: 1 }));
  // @ts-expect-error the server cannot send a string as a tick...
  void em.send(event({ event: 'tick', data: 'one' }));
  em.complete();

  const s = connect<Events>('http://127.0.0.1:9/', { signal: AbortSignal.abort() });
  const removers = [
    s.on('tick', (data, ev) => {
      expectTypeOf(data).toEqualTypeOf<number>();
      expectTypeOf(ev).toEqualTypeOf<SseClientEvent<'tick', number>>();
    }),
    s.on('add', (data) => expectTypeOf(data).toEqualTypeOf<Item>()),
    // @ts-expect-error ...and the client cannot read one as a string
    s.on('tick', (data: string) => data.length),
    // @ts-expect-error an Item is not a number
    s.on('add', (data: number) => data),
    // Names outside the map (a run's `end`, a server-sent `error`) are allowed, their data unknown.
    s.on('end', (data) => expectTypeOf(data).toEqualTypeOf<unknown>()),
  ];
  expect(removers.every((remove) => typeof remove === 'function')).toBe(true);

  expectTypeOf<AnyEvent<Events>>().toEqualTypeOf<
    SseClientEvent<'tick', number> | SseClientEvent<'add', Item> | SseClientEvent<'message'>
  >();
  expectTypeOf(s.readyState).toEqualTypeOf<ReadyState>();
  expectTypeOf(s.lastEventId).toEqualTypeOf<string>();
  s.onClose((err) => expectTypeOf(err).toEqualTypeOf<SseClientError | undefined>());
  s.onError((err) => expectTypeOf(err.code).toEqualTypeOf<SseClientError['code']>());
  expect(s.readyState).toBe('closed'); // the signal was aborted before it started
});

test('for await narrows each event by its name', async () => {
  const s = connect<Events>('http://127.0.0.1:9/', { signal: AbortSignal.abort() });
  for await (const ev of s) {
    if (ev.event === 'add') expectTypeOf(ev.data).toEqualTypeOf<Item>();
    else if (ev.event === 'tick') expectTypeOf(ev.data).toEqualTypeOf<number>();
    else expectTypeOf(ev.data).toEqualTypeOf<unknown>();
    // @ts-expect-error data of a tick is a number, never a string
    const wrong: string = ev.event === 'tick' ? ev.data : '';
    void wrong;
  }
  expect(s.readyState).toBe('closed');
});

test('without a map, every event is a string name with unknown data', () => {
  const s = connect('http://127.0.0.1:9/', { signal: AbortSignal.abort() });
  s.on('anything', (data, ev) => {
    expectTypeOf(data).toEqualTypeOf<unknown>();
    expectTypeOf(ev.event).toEqualTypeOf<'anything'>();
  });
  expectTypeOf<AnyEvent<Record<string, unknown>>>().toEqualTypeOf<SseClientEvent<string, unknown>>();
  expect(s.lastEventId).toBe('');
});
