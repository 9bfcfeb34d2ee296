/**
 * sseResponse() and its WebStreamTransport in-process (Node's own Request/Response/ReadableStream): the body's
 * pull pace as backpressure, the client leaving (signal or cancel), short polling, refusals, handler results.
 * The same over real sockets and runtimes: test/runtimes/scenarios.test.ts.
 */
import {
  ChannelRegistry,
  event,
  SseEmitter,
  sseChannelResponse,
  sseResponse,
  sseRunResponse,
  WebStreamTransport,
} from '@tidings/core';
import { createParser, type EventSourceMessage } from 'eventsource-parser';

const decoder = new TextDecoder();

/** Reads `body` to its end (or until `limit` chunks), as text. */
async function readAll(body: ReadableStream<Uint8Array> | null, limit = Number.POSITIVE_INFINITY): Promise<string> {
  let text = '';
  let chunks = 0;
  const reader = body!.getReader();
  while (chunks++ < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
  }
  reader.releaseLock();
  return text;
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe('WebStreamTransport', () => {
  const events = () => ({
    drained: 0,
    closed: 0,
    onTransportDrain() {
      this.drained++;
    },
    onTransportClose() {
      this.closed++;
    },
  });

  test('what the reader has not taken counts as behind; its next pull after a false write is a drain', async () => {
    const seen = events();
    const transport = new WebStreamTransport().connect(seen);
    const big = new Uint8Array(20 * 1024);
    expect(transport.write(big)).toBe(false); // past the 16 KiB high-water mark, nobody reading
    expect(transport.writableLength).toBe(big.byteLength);
    expect(seen.drained).toBe(0);
    const reader = transport.body.getReader();
    expect((await reader.read()).value!.byteLength).toBe(big.byteLength);
    await tick();
    expect(transport.writableLength).toBe(0);
    expect(seen.drained).toBe(1);
    expect(transport.write(new Uint8Array(10))).toBe(true);
  });

  test('the request signal aborting and the body being cancelled report one close', async () => {
    const ac = new AbortController();
    const seen = events();
    const transport = new WebStreamTransport(ac.signal).connect(seen);
    ac.abort();
    await transport.body.cancel();
    expect(seen.closed).toBe(1);
    expect(transport.closed).toBe(true);
    expect(transport.write(new Uint8Array(1))).toBe(false);
  });

  test('destroy() errors the body (the runtime drops the connection); end() closes it after what it holds', async () => {
    const destroyed = new WebStreamTransport().connect(events());
    destroyed.write(new Uint8Array(3));
    destroyed.destroy();
    await expect(destroyed.body.getReader().read()).rejects.toThrow(/read too slowly/);
    const ended = new WebStreamTransport().connect(events());
    ended.write(new TextEncoder().encode('data: x\n\n'));
    ended.end();
    expect(await readAll(ended.body)).toBe('data: x\n\n');
  });
});

describe('sseResponse()', () => {
  test('a stream response: headers, then the frames (on Node no opening comment: the head goes out at once)', async () => {
    const response = sseResponse(new Request('http://test/clock'), (em) => {
      void em.send(event({ id: 1, event: 'tick', data: 'a\nb' }));
      em.complete();
    });
    expect(response.status).toBe(200);
    expect(Object.fromEntries(response.headers)).toMatchObject({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    });
    expect(await response.text()).toBe('id: 1\nevent: tick\ndata: a\ndata: b\n\n');
  });

  test('Last-Event-ID from the header, else ?lastEventId=; replay after it on a channel', async () => {
    const registry = new ChannelRegistry();
    const first = await registry.broadcast('news', 'one');
    await registry.broadcast('news', 'two');
    for (const request of [
      new Request('http://test/news', { headers: { 'last-event-id': first! } }),
      new Request(`http://test/news?lastEventId=${encodeURIComponent(first!)}`),
    ]) {
      const ac = new AbortController();
      const response = sseResponse(
        new Request(request, { signal: ac.signal }),
        (em) => registry.channel('news').subscribe(em),
        {
          registry,
        },
      );
      expect(await readAll(response.body, 1)).toMatch(/^id: .+\ndata: two\n\n$/);
      ac.abort();
      await tick();
    }
    expect(registry.stats().connections).toBe(0);
  });

  test('the client leaving (signal) completes the emitter and unsubscribes it', async () => {
    const registry = new ChannelRegistry();
    const ac = new AbortController();
    let em!: SseEmitter;
    let completed = 0;
    sseResponse(
      new Request('http://test/', { signal: ac.signal }),
      (e) => {
        em = e;
        e.onCompletion(() => completed++);
        registry.channel('room').subscribe(e);
      },
      { registry },
    );
    expect(registry.channel('room').size).toBe(1);
    ac.abort();
    await tick();
    expect(em.state).toBe('completed');
    expect(completed).toBe(1);
    expect(registry.channel('room').size).toBe(0);
    expect(registry.stats().connections).toBe(0);
  });

  test('a reader that takes nothing: closed as slow past maxBufferedBytes, holding no more than that', async () => {
    let em!: SseEmitter;
    const response = sseResponse(
      new Request('http://test/'),
      (e) => {
        em = e;
      },
      { maxBufferedBytes: 64 * 1024, keepAlive: false, onStreamError: () => {} },
    );
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 100 && em.state === 'open'; i++) sends.push(em.send('x'.repeat(1024)));
    expect(em.state).toBe('completed');
    expect(sends.length).toBeLessThanOrEqual(65); // 64 KiB of frames held at most
    await expect(sends.at(-1)).rejects.toMatchObject({ code: 'SSE_ERR_SLOW_CLIENT' });
    await expect(response.body!.getReader().read()).rejects.toThrow(/read too slowly/);
  });

  test('short polling: a request that accepts only JSON gets { events, lastEventId }', async () => {
    const response = sseResponse(new Request('http://test/', { headers: { accept: 'application/json' } }), (em) => {
      void em.send(event({ id: 'a1', data: 'hello' }));
    });
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(JSON.parse(await response.text())).toEqual({
      events: [{ id: 'a1', event: 'message', data: 'hello' }],
      lastEventId: 'a1',
    });
  });

  test('handler results: an emitter of its own, an async iterable, a rejection after the response', async () => {
    const own = sseResponse(new Request('http://test/'), () => {
      const mine = new SseEmitter({ keepAlive: false });
      void mine.send('mine');
      mine.complete();
      return mine;
    });
    expect(await own.text()).toBe('data: mine\n\n');
    const iterated = sseResponse(new Request('http://test/'), async function* () {
      yield 'one';
      yield event({ event: 'two', data: 2 });
    });
    expect(await iterated.text()).toBe('data: one\n\nevent: two\ndata: 2\n\n');
    const reported: unknown[] = [];
    const failed = sseResponse(
      new Request('http://test/'),
      async () => {
        throw new Error('secret detail');
      },
      { onStreamError: (err) => reported.push(err) },
    );
    expect(await failed.text()).toBe(''); // nothing of the error reaches the client
    expect(reported).toEqual([new Error('secret detail')]);
  });

  test('throws what the handler throws synchronously, and SSE_ERR_INVALID_OPTION for a bad option', () => {
    expect(() =>
      sseResponse(new Request('http://test/'), (em) => {
        void em.send(event({ event: 'a\nb' }));
      }),
    ).toThrow(expect.objectContaining({ code: 'SSE_ERR_INVALID_FIELD' }));
    expect(() => sseResponse(new Request('http://test/'), () => {}, { keepAlive: -1 })).toThrow(
      expect.objectContaining({ code: 'SSE_ERR_INVALID_OPTION' }),
    );
  });

  test('refusals are plain JSON responses: 503 past maxConnections, 400, 401, 403', async () => {
    const registry = new ChannelRegistry({ maxConnections: 1 });
    const ac = new AbortController();
    sseResponse(new Request('http://test/', { signal: ac.signal }), () => {}, { registry });
    const full = sseResponse(new Request('http://test/'), () => {}, { registry });
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toBe('5');
    expect(await full.json()).toMatchObject({ error: 'SSE_ERR_TOO_MANY_CONNECTIONS' });
    ac.abort();
    await tick();
    const open = new ChannelRegistry();
    const refused = async (name: string, verdict: boolean | 401 | 403) =>
      sseChannelResponse(new Request('http://test/'), name, { registry: open, authorize: () => verdict });
    expect((await refused('bad\nname', true)).status).toBe(400);
    expect((await refused('ok', 401)).status).toBe(401);
    expect((await refused('ok', false)).status).toBe(403);
    expect(open.channel('ok').size).toBe(0);
  });
});

/** The events of an SSE body, parsed by eventsource-parser. */
function parseEvents(text: string): EventSourceMessage[] {
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (message) => events.push(message) });
  parser.feed(text);
  return events;
}

describe('sseRunResponse()', () => {
  test('a late client gets the run from its start, then live, then the end frame, and the response ends', async () => {
    const registry = new ChannelRegistry();
    const run = registry.createRun({ id: 'job-1' });
    await run.append('one');
    await run.append('two');
    const response = await sseRunResponse(new Request('http://test/runs/job-1'), 'job-1', {
      registry,
      location: '/runs/job-1',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('tidings-run')).toBe('job-1');
    expect(response.headers.get('content-location')).toBe('/runs/job-1');
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const body = response.text(); // ends only when the run ends
    await run.append('three');
    await run.end();
    const events = parseEvents(await body);
    expect(events.map((e) => [e.event, e.data])).toEqual([
      [undefined, 'one'],
      [undefined, 'two'],
      [undefined, 'three'],
      ['end', '{"state":"ended"}'],
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(4); // the end frame has an id of its own
    expect(registry.stats().connections).toBe(0);
  });

  test('204 to a client with the end id (or the last event id); the rest, the end frame and the end to one that missed some', async () => {
    const registry = new ChannelRegistry();
    const run = registry.createRun({ id: 'done' });
    const first = await run.append('one');
    const last = await run.append('two');
    await run.end();
    const whole = parseEvents(await (await sseRunResponse(new Request('http://test/'), 'done', { registry })).text());
    const endId = whole.at(-1)!.id!;
    for (const id of [endId, last]) {
      const again = await sseRunResponse(new Request('http://test/', { headers: { 'last-event-id': id } }), 'done', {
        registry,
        location: '/runs/done',
      });
      expect(again.status).toBe(204);
      expect(again.headers.get('tidings-run')).toBe('done');
      expect(again.headers.get('content-location')).toBe('/runs/done');
      expect(await again.text()).toBe('');
    }
    const missed = await sseRunResponse(new Request(`http://test/?lastEventId=${encodeURIComponent(first)}`), 'done', {
      registry,
    });
    expect(parseEvents(await missed.text()).map((e) => e.data)).toEqual(['two', '{"state":"ended"}']);
  });

  test('refusals before any stream: 400 for a hostile id, 404, 401/403 from authorize(request, run:<id>, { kind }), 503', async () => {
    const registry = new ChannelRegistry({ maxConnections: 1 });
    registry.createRun({ id: 'job' });
    const asked: unknown[] = [];
    const refused = async (id: string, verdict: boolean | 401 | 403 = true) => {
      const response = await sseRunResponse(new Request('http://test/'), id, {
        registry,
        authorize: (request, name, info) => {
          asked.push([request.url, name, info]);
          return verdict;
        },
      });
      return { status: response.status, body: await response.json(), run: response.headers.get('tidings-run') };
    };
    for (const hostile of ['a\r\nSet-Cookie: x=1', 'x'.repeat(10 * 1024), '', '../etc', 'a b']) {
      expect(await refused(hostile)).toEqual({
        status: 400,
        body: expect.objectContaining({ error: 'SSE_ERR_INVALID_RUN_ID' }),
        run: null,
      });
    }
    // A location made from a hostile id is that id's 400, not an option error.
    const fromId = await sseRunResponse(new Request('http://test/'), 'a\nb', { registry, location: '/runs/a\nb' });
    expect(fromId.status).toBe(400);
    expect(asked).toEqual([]); // a bad id never reaches authorize (nor the store)
    expect(await refused('missing')).toMatchObject({ status: 404, body: { error: 'SSE_ERR_RUN_NOT_FOUND' } });
    expect(await refused('job', 401)).toMatchObject({ status: 401, body: { error: 'SSE_ERR_UNAUTHORIZED' } });
    expect(await refused('job', false)).toMatchObject({ status: 403 });
    expect(asked.at(-1)).toEqual(['http://test/', 'run:job', { kind: 'run' }]);
    const ac = new AbortController();
    const open = await sseRunResponse(new Request('http://test/', { signal: ac.signal }), 'job', { registry });
    expect(open.status).toBe(200);
    expect(await refused('job')).toMatchObject({ status: 503, body: { error: 'SSE_ERR_TOO_MANY_CONNECTIONS' } });
    ac.abort();
    await tick();
    expect(registry.stats().connections).toBe(0);
    await expect(sseRunResponse(new Request('http://test/'), 'job', { registry, location: 'a\nb' })).rejects.toThrow(
      expect.objectContaining({ code: 'SSE_ERR_INVALID_OPTION' }),
    );
  });
});
