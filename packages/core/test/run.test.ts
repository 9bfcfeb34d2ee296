/**
 * Runs in core, over real sockets: a plain node:http server whose `GET /<run id>` opens an emitter and subscribes it
 * to the run (no adapter host: the run routes are tested in the Express and Fastify packages).
 */
import { connect, type SseTestClient, startServer, waitFor } from '@tidings/testkit';
import { ChannelRegistry, event, type Run, SseEmitter } from '../src/index';

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  jest.useRealTimers();
});

/** A registry and a server subscribing `GET /<id>` to that run (404 when there is none). */
async function runServer(registry = new ChannelRegistry()) {
  const server = await startServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const run = await registry.findRun(url.pathname.slice(1));
    if (run === undefined) {
      res.writeHead(404).end();
      return;
    }
    const mode = url.searchParams.get('mode');
    run.subscribe(new SseEmitter(mode === null ? {} : { mode: mode as 'short-poll' }).attach(req, res));
  });
  closers.push(() => server.close());
  const open = (id: string, lastEventId?: string): SseTestClient => {
    const client = connect(`${server.url}/${id}`, { lastEventId });
    closers.push(() => client.close());
    return client;
  };
  return { registry, open, url: server.url };
}

/** The `end` frames a client got, parsed. */
function endsOf(client: SseTestClient): unknown[] {
  return client.events.filter((e) => e.event === 'end').map((e) => JSON.parse(e.data));
}

describe('Run', () => {
  it('a late client gets the whole run from its start, then live; at the end an end frame with its own id, then the response ends', async () => {
    const { registry, open } = await runServer();
    const run = registry.createRun();
    expect(run.id).toMatch(/^[A-Za-z0-9._~-]{1,256}$/);
    expect(run.state).toBe('running');
    const ids = [await run.append('a'), await run.append(event({ event: 'token', data: 'b' }))];
    const client = open(run.id);
    await client.waitForEvents(2);
    ids.push(await run.append({ n: 3 }));
    await client.waitForEvents(3);
    await run.end();
    expect(run.state).toBe('ended');
    await client.ended;
    expect(client.complete).toBe(true);
    expect(client.data.slice(0, 3)).toEqual(['a', 'b', '{"n":3}']);
    expect(client.events.map((e) => e.id).slice(0, 3)).toEqual(ids);
    expect(new Set(ids).size).toBe(3);
    const end = client.events[3]!;
    expect(end.event).toBe('end');
    expect(JSON.parse(end.data)).toEqual({ state: 'ended' });
    expect(end.id).toBeDefined();
    expect(ids).not.toContain(end.id);
    expect(client.events).toHaveLength(4);
  });

  it('the producer goes on when every client has left; the next one gets everything exactly once', async () => {
    const { registry, open } = await runServer();
    const run = registry.createRun({ id: 'job-1' });
    const first = open('job-1');
    await run.append('1');
    await first.waitForEvents(1);
    first.close();
    await waitFor('the first client is gone', () => registry.connections === 0);
    for (const n of ['2', '3', '4']) await run.append(n);
    await run.end('5');
    const later = open('job-1');
    await later.ended;
    expect(later.data).toEqual(['1', '2', '3', '4', '5', '{"state":"ended"}']);
  });

  it('a client resuming mid-run gets what follows its Last-Event-ID, then live, then the end', async () => {
    const { registry, open } = await runServer();
    const run = registry.createRun();
    const ids: string[] = [];
    for (const n of ['1', '2', '3']) ids.push(await run.append(n));
    const resumed = open(run.id, ids[0]);
    await resumed.waitForEvents(2);
    await run.append('4');
    await run.end();
    await resumed.ended;
    expect(resumed.data).toEqual(['2', '3', '4', '{"state":"ended"}']);
  });

  it('a client that has everything gets the end frame again and its stream ends; one with an unknown id gets the whole run', async () => {
    const { registry, open } = await runServer();
    const run = registry.createRun();
    const last = await run.append('x');
    await run.end();
    const first = open(run.id);
    await first.ended;
    const endId = first.events[1]!.id!;
    for (const id of [endId, last]) {
      const again = open(run.id, id);
      await again.ended;
      expect(again.events.map((e) => [e.id, e.event])).toEqual([[endId, 'end']]);
    }
    const stranger = open(run.id, 'not-an-id-of-this-run');
    await stranger.ended;
    expect(stranger.data).toEqual(['x', '{"state":"ended"}']);
  });

  it("the ids of another run of the registry are not this run's: a client sending them gets this run whole", async () => {
    const { registry, open } = await runServer();
    const [a, b] = [registry.createRun(), registry.createRun()];
    const aIds = [await a.append('a1'), await a.append('a2')];
    const bIds = [await b.append('b1'), await b.append('b2')];
    expect(bIds.filter((id) => aIds.includes(id))).toEqual([]);
    await a.end();
    await b.end();
    const fromA = open(b.id, aIds[1]); // a's last event id: not b's, so no 204-worthy "has everything"
    await fromA.ended;
    expect(fromA.data).toEqual(['b1', 'b2', '{"state":"ended"}']);
  });

  it('cancel aborts the signal with the reason and ends every subscriber with a cancelled end frame', async () => {
    const { registry, open } = await runServer();
    const run = registry.createRun();
    const client = open(run.id);
    await run.append('t');
    await client.waitForEvents(1);
    await run.cancel('user pressed stop');
    expect(run.state).toBe('cancelled');
    expect(run.signal.aborted).toBe(true);
    expect(run.signal.reason).toBe('user pressed stop');
    await client.ended;
    expect(endsOf(client)).toEqual([{ state: 'cancelled', reason: 'user pressed stop' }]);
    await expect(run.append('late')).rejects.toMatchObject({ code: 'SSE_ERR_RUN_ENDED' });
    await run.end(); // over already: nothing changes
    expect(run.state).toBe('cancelled');
  });

  it('append rejects SSE_ERR_RUN_ENDED after end and SSE_ERR_RUN_FULL past maxEvents; end still works when full', async () => {
    const { registry, open } = await runServer();
    const run = registry.createRun({ maxEvents: 2 });
    await run.append('1');
    await run.append('2');
    await expect(run.append('3')).rejects.toMatchObject({ code: 'SSE_ERR_RUN_FULL' });
    await run.end('last words');
    await expect(run.append('4')).rejects.toMatchObject({ code: 'SSE_ERR_RUN_ENDED' });
    const client = open(run.id);
    await client.ended;
    expect(client.data).toEqual(['1', '2', 'last words', '{"state":"ended"}']);
  });

  it('a short-polling client gets the whole run as JSON, the end included', async () => {
    const { registry, url } = await runServer();
    const run = registry.createRun();
    await run.append('a');
    await run.end();
    const answer = await fetch(`${url}/${run.id}?mode=short-poll`, { headers: { accept: 'application/json' } });
    const body = (await answer.json()) as { events: Array<{ event?: string; data: string }>; lastEventId: string };
    expect(body.events.map((e) => e.data)).toEqual(['a', '{"state":"ended"}']);
    expect(body.events[1]!.event).toBe('end');
  });

  it('is forgotten ttl after it ended; an idle run is cancelled as "stalled"', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    const registry = new ChannelRegistry();
    const kept = registry.createRun({ id: 'kept', ttl: 1000, idleTimeout: 60_000 });
    await kept.append('x');
    await kept.end();
    jest.advanceTimersByTime(999);
    expect(await registry.findRun('kept')).toBe(kept);
    jest.advanceTimersByTime(1);
    expect(await registry.findRun('kept')).toBeUndefined();
    expect(registry.createRun({ id: 'kept' }).state).toBe('running'); // the id is free again

    const idle: Run = registry.createRun({ idleTimeout: 5000 });
    jest.advanceTimersByTime(3000);
    await idle.append('still here');
    jest.advanceTimersByTime(4999);
    expect(idle.state).toBe('running');
    jest.advanceTimersByTime(1);
    expect(idle.state).toBe('cancelled');
    expect(idle.signal.reason).toBe('stalled');
  });

  it('refuses ids that are not 1–256 URL-safe characters, and a taken id', () => {
    const registry = new ChannelRegistry();
    for (const id of ['', 'a b', 'a/b', 'line\nbreak', 'nul\0', 'x'.repeat(257), 'x'.repeat(10 * 1024), 'é']) {
      expect(() => registry.createRun({ id })).toThrow(expect.objectContaining({ code: 'SSE_ERR_INVALID_RUN_ID' }));
    }
    registry.createRun({ id: 'x'.repeat(256) });
    registry.createRun({ id: 'A-z_0.9~' });
    expect(() => registry.createRun({ id: 'A-z_0.9~' })).toThrow(
      expect.objectContaining({ code: 'SSE_ERR_INVALID_RUN_ID' }),
    );
    for (const options of [{ maxEvents: 0 }, { ttl: -1 }, { idleTimeout: 2 ** 31 }]) {
      expect(() => registry.createRun(options)).toThrow(expect.objectContaining({ code: 'SSE_ERR_INVALID_OPTION' }));
    }
  });

  it('findRun answers undefined for an unknown run', async () => {
    expect(await new ChannelRegistry().findRun('nope')).toBeUndefined();
  });
});
