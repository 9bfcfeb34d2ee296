/**
 * Type tests of runs, checked by `tsc -p tsconfig.json`: `Run<Events>` types `append` and `end` like
 * `SseEmitter<Events>` types `send`. The calls also run under jest.
 */
import { ChannelRegistry, event, type Run, type RunState } from '@tidings/core';
import { expectTypeOf } from 'expect-type';

type Events = { token: string; usage: { tokens: number } };

test('a run with an event map accepts the right data per event name and nothing else', async () => {
  const run: Run<Events> = new ChannelRegistry().createRun<Events>();
  expectTypeOf(run.state).toEqualTypeOf<RunState>();
  expectTypeOf(run.append(event({ event: 'token', data: 'hi' }))).toEqualTypeOf<Promise<string>>();
  const ids = [
    await run.append(event({ event: 'token', data: 'hi' })),
    await run.append(event({ event: 'usage', data: { tokens: 3 } })),
    await run.append('plain data'),
  ];
  // @ts-expect-error data of the wrong type for 'token'
  ids.push(await run.append(event({ event: 'token', data: 42 })));
  // @ts-expect-error an event name the map does not have
  ids.push(await run.append(event({ event: 'other', data: 'x' })));
  expect(ids).toHaveLength(5);
  // @ts-expect-error a final event of the wrong type
  await run.end(event({ event: 'usage', data: 'many' }));
  expect(run.state).toBe('ended');
});
