/**
 * The one rule of DESIGN.md, over a real socket: a value made by `event()` is an event; any other value is
 * data, never read as event fields, whatever keys it has.
 */
import { event, isEvent, SseEmitter } from '@tidings/core';
import { connect } from '@tidings/testkit';
import { useEmitterServer } from './support/http';

const server = useEmitterServer();

test('send({ id: 5 }) sends {"id":5} as data; only event() values set fields', async () => {
  const served = server.serve();
  const client = connect(server.url);
  const { em } = await served;
  await em.send({ id: 5 });
  await em.send({ event: 'add', data: 'x', retry: 10, comment: 'c' });
  await em.send(event({ id: 5, data: { id: 5 } }));
  await em.send(event({ event: 'add', data: 'x' }));
  em.complete();
  await client.ended;
  expect(client.events).toEqual([
    { data: '{"id":5}' },
    { data: '{"event":"add","data":"x","retry":10,"comment":"c"}' },
    { id: '5', data: '{"id":5}' },
    { event: 'add', data: 'x' },
  ]);
  expect(client.retries).toEqual([]);
  expect(client.comments).toEqual([]);
});

test('isEvent is true only for values made by event()', () => {
  expect(isEvent(event({ data: 1 }))).toBe(true);
  expect(isEvent(event().name('x'))).toBe(true);
  for (const value of [{ id: 5 }, { event: 'x', data: 1 }, null, 'text', 5, [event()], new SseEmitter()]) {
    expect(isEvent(value)).toBe(false);
  }
});
