/**
 * Short polling (a JSON client gets `{ events, lastEventId }`) and long polling (the response ends after the
 * first flushed frames, with `retry: 0` by default) at the emitter level, over a real node:http server.
 */
import { event } from '@tidings/core';
import { connect } from '@tidings/testkit';
import { useEmitterServer } from './support/http';

const server = useEmitterServer();

const json = { accept: 'application/json' };

describe('short polling', () => {
  test('a client that accepts only JSON gets the events sent in this turn as { events, lastEventId }', async () => {
    const served = server.serve({ keepAlive: 1000 });
    const client = connect(server.url, { headers: json });
    const { em } = await served;
    expect(em.mode).toBe('short-poll');
    void em.send(event({ id: '1', event: 'add', data: { n: 1 } }));
    void em.send('plain\ntext');
    void em.comment('comments are not events');
    const res = await client.response;
    await client.ended;
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(client.text)).toEqual({
      events: [
        { id: '1', event: 'add', data: '{"n":1}' },
        { event: 'message', data: 'plain\ntext' },
      ],
      lastEventId: '1',
    });
    expect(em.state).toBe('completed');
  });

  test('sends made before attach are answered at once; with none, complete() answers the client id back', async () => {
    const early = server.serve({}, (em) => void em.send(event({ id: '8', data: 'early' })));
    const first = connect(server.url, { headers: json });
    await early;
    await first.ended;
    expect(JSON.parse(first.text)).toEqual({
      events: [{ id: '8', event: 'message', data: 'early' }],
      lastEventId: '8',
    });

    const idle = server.serve();
    const second = connect(server.url, { headers: { ...json, 'last-event-id': '5' } });
    const { em } = await idle;
    expect(em.lastEventId).toBe('5');
    em.complete();
    await second.ended;
    expect(JSON.parse(second.text)).toEqual({ events: [], lastEventId: '5' });
  });

  test('a client that also accepts text/event-stream gets a stream', async () => {
    const served = server.serve();
    const client = connect(server.url, { headers: { accept: 'text/event-stream, application/json' } });
    const { em } = await served;
    expect(em.mode).toBe('stream');
    em.complete();
    await client.ended;
  });
});

describe('long polling', () => {
  test('the response ends after the first flushed frames, which open with retry: 0', async () => {
    const served = server.serve({ mode: 'long-poll', keepAlive: 1000 });
    const client = connect(server.url);
    const { em } = await served;
    const first = em.send(event({ id: '1', data: 'a' }));
    const second = em.send(event({ id: '2', data: 'b' }));
    await Promise.all([first, second]);
    await client.ended;
    expect((await client.response).headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(client.text.startsWith('retry: 0\n\n')).toBe(true);
    expect(client.events).toEqual([
      { id: '1', data: 'a' },
      { id: '2', data: 'b' },
    ]);
    expect(em.state).toBe('completed');
    await expect(em.send('next turn')).rejects.toMatchObject({ code: 'SSE_ERR_CLOSED' });
  });

  test('a retry option replaces the default 0; with no event, the timeout ends the response', async () => {
    const timedOut = jest.fn();
    const served = server.serve({ mode: 'long-poll', retry: 1500, timeout: 30 }, (em) => em.onTimeout(timedOut));
    const client = connect(server.url);
    await served;
    await client.ended;
    expect(client.text).toBe('retry: 1500\n\n');
    expect(client.retries).toEqual([1500]);
    expect(timedOut).toHaveBeenCalledTimes(1);
  });
});
