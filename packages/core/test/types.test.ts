/**
 * Type tests, checked by `tsc -p tsconfig.json` in `pnpm test`: a broken type makes the type-check fail
 * (an `expectTypeOf` mismatch, or a `@ts-expect-error` line that no longer errors). The same calls also run
 * under jest, so the file counts as a test and its runtime claims are checked too.
 */
import { type EventData, type EventName, event, SseEmitter, type SseEvent, type SseEventBuilder } from '@tidings/core';
import { expectTypeOf } from 'expect-type';

interface Item {
  id: string;
  title: string;
}
type Events = { add: Item; remove: number };

const item: Item = { id: 'i1', title: 'first' };

test('an emitter with an event map accepts the right data per event name and nothing else', () => {
  const em = new SseEmitter<Events>({ keepAlive: false });

  expectTypeOf(event({ event: 'add', data: item })).toEqualTypeOf<SseEventBuilder<'add', Item>>();
  expectTypeOf(event().name('remove').data(3)).toEqualTypeOf<SseEventBuilder<'remove', number>>();
  expectTypeOf<EventName<Events>>().toEqualTypeOf<'add' | 'remove' | 'message'>();
  expectTypeOf<EventData<Events, 'add'>>().toEqualTypeOf<Item>();
  expectTypeOf(em.send(event({ event: 'add', data: item }))).toEqualTypeOf<Promise<void>>();

  const accepted = [
    em.send(event({ event: 'add', data: item })),
    em.send(event().name('add').data(item).id('7')),
    em.send(event({ event: 'remove', data: 3 })),
    em.send(event({ data: 'an unnamed event carries anything' })),
    em.send({ id: 5 }), // not made by event(): plain data
    em.send('text'),
  ];
  // @ts-expect-error data of the wrong type for 'add'
  accepted.push(em.send(event({ event: 'add', data: 42 })));
  // @ts-expect-error data of the wrong type for 'remove', through the builder
  accepted.push(em.send(event().name('remove').data('three')));
  // @ts-expect-error an event name the map does not have
  accepted.push(em.send(event({ event: 'rename', data: item })));

  // At run time types are gone: every send above was queued (the emitter is not attached yet).
  expect(accepted).toHaveLength(9);
  expect(em.state).toBe('pending');
  em.complete();
});

test('event() keeps the fields it was given; an emitter without a map takes any event', () => {
  const built = event().id('7').name('add').data(item).reconnectTime(3000).comment('note');
  expectTypeOf(built.toEvent()).toMatchTypeOf<Readonly<SseEvent<Item>>>();
  expect(built.toEvent()).toEqual({ id: '7', event: 'add', data: item, retry: 3000, comment: 'note' });
  expect(event({ id: '7', event: 'add', data: item, retry: 3000, comment: 'note' }).toEvent()).toEqual(built.toEvent());

  const untyped = new SseEmitter({ keepAlive: false });
  expectTypeOf(untyped.send(event({ event: 'anything', data: 1 }))).toEqualTypeOf<Promise<void>>();
  // @ts-expect-error an event name must be a string (and at run time it throws)
  expect(() => event({ event: 5 })).toThrow(expect.objectContaining({ code: 'SSE_ERR_INVALID_FIELD' }));
  untyped.complete();
});

test('a channel looked up with an event map types its broadcasts like an emitter of that map', async () => {
  const { ChannelRegistry } = await import('@tidings/core');
  const registry = new ChannelRegistry();
  const channel = registry.channel<Events>('typed');
  const ids = [
    await channel.broadcast(event({ event: 'add', data: item })),
    await channel.broadcast(event({ event: 'remove', data: 3 })),
    await channel.broadcast('plain data is an unnamed event'),
  ];
  // @ts-expect-error: 'add' carries an Item, not a number
  void channel.broadcast(event({ event: 'add', data: 3 }));
  // @ts-expect-error: an event name the map does not have
  void channel.broadcast(event({ event: 'rename', data: item }));
  expect(ids.every((id) => typeof id === 'string')).toBe(true);
  // The map is a type only: the same channel object serves every lookup of that name.
  expect(registry.channel('typed')).toBe(channel);
  await registry.close();
});
