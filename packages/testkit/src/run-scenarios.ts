/**
 * Run scenarios every framework adapter must pass over real sockets, written once. A framework test only provides
 * a {@link RunAppFactory}: an app whose `GET /runs/:id` route calls the framework's `sseRun(id, { location })`
 * with the emitter options of {@link runRouteOptions}. Each scenario gets a fresh registry: in memory by default, or
 * from `runScenarioTests(factory, { registry })` (e.g. on `redisAdapter()`, from `@tidings/testkit/redis`).
 */
import {
  ChannelRegistry,
  type SseAuthorization,
  type SseAuthorizeInfo,
  type SseEmitter,
  type SseEmitterOptions,
} from '@tidings/core';
import { EventSource } from 'eventsource';
import { type AppScope, withinApp } from './app-scope';
import { rawRequest } from './raw-socket';
import { sequence, waitFor } from './wait';

/** What a run app's adapter is given besides the registry. */
export interface RunAppOptions {
  /** The adapter's `authorize`, without the framework's request. */
  authorize?(channel: string, info?: SseAuthorizeInfo): SseAuthorization;
  maxConnections?: number;
}

/** A running framework app serving `GET /runs/:id`. */
export interface RunApp {
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** The emitters `sseRun` opened, in arrival order. */
  served: SseEmitter[];
  /** The `Last-Event-ID` of every request the run route got, in arrival order (null: none). */
  requests: Array<string | null>;
  /** The framework's own shutdown; idempotent. */
  close(): Promise<void>;
}

/** Starts an app for `registry` (given to the adapter as its `registry` option). */
export type RunAppFactory = (registry: ChannelRegistry, options: RunAppOptions) => Promise<RunApp>;

/** A fresh registry for one scenario (closed after it, and its adapter with it). */
export type RegistryFactory = () => ChannelRegistry;

/** Runs in this process: the default registry of every scenario. */
const inMemory: RegistryFactory = () => new ChannelRegistry();

/** Options of {@link runScenarioTests}. */
export interface RunScenarioOptions {
  /** The registry each scenario gets; default `new ChannelRegistry()` (runs in this process). */
  registry?: RegistryFactory;
  /**
   * Leaves out the maxConnections scenario, for a host whose limit is the registry's own rather than an option
   * of its helper (Hono: tested in its own file).
   */
  withoutMaxConnections?: boolean;
}

/** The emitter options the run route takes from its query: `mode`, `retry` (ms). */
export function runRouteOptions(query: URLSearchParams): SseEmitterOptions {
  const options: SseEmitterOptions = { keepAlive: false };
  const mode = query.get('mode');
  if (mode === 'long-poll' || mode === 'short-poll') options.mode = mode;
  if (query.has('retry')) options.retry = Number(query.get('retry'));
  return options;
}

/** One scenario run: a fresh registry and app, clients closed and the app shut down afterwards. */
async function withApp(
  factory: RunAppFactory,
  makeRegistry: RegistryFactory,
  options: RunAppOptions,
  body: (ctx: AppScope<RunApp>) => Promise<void>,
): Promise<void> {
  const registry = makeRegistry();
  let app: RunApp;
  try {
    app = await factory(registry, options);
  } catch (err) {
    await registry.close(); // its adapter's connections too
    throw err;
  }
  return withinApp(registry, app, body);
}

/** The data of a run's `end` frame for a normal end. */
const ENDED = '{"state":"ended"}';

/** A client joining late gets the run from its start, then live, then the end frame, and its response ends. */
export function lateJoinFromStart(factory: RunAppFactory, makeRegistry = inMemory): Promise<void> {
  return withApp(factory, makeRegistry, {}, async ({ registry, open }) => {
    const run = registry.createRun({ id: 'late-join' });
    for (const n of ['1', '2', '3']) await run.append(n);
    const client = open('/runs/late-join');
    await client.waitForEvents(3);
    expect(client.status).toBe(200);
    expect(client.headers['tidings-run']).toBe('late-join');
    expect(client.headers['content-location']).toBe('/runs/late-join');
    await run.append('4');
    await client.waitForEvents(4);
    await run.end();
    await client.ended;
    expect(client.complete).toBe(true);
    expect(client.data).toEqual(['1', '2', '3', '4', ENDED]);
    expect(client.events[4]!.event).toBe('end');
  });
}

/** Every client leaves; the producer goes on; a later client gets the whole run exactly once. */
export function producerOutlivesClients(factory: RunAppFactory, makeRegistry = inMemory): Promise<void> {
  return withApp(factory, makeRegistry, {}, async ({ registry, open }) => {
    const run = registry.createRun();
    const clients = [open(`/runs/${run.id}`), open(`/runs/${run.id}`)];
    await run.append('1');
    for (const client of clients) {
      await client.waitForEvents(1);
      client.close();
    }
    await waitFor('every client gone', () => registry.connections === 0);
    for (const n of sequence(99, 2)) await run.append(n);
    await run.end();
    const later = open(`/runs/${run.id}`);
    await later.ended;
    expect(later.data).toEqual([...sequence(100), ENDED]);
  });
}

/**
 * The `eventsource` client loses its connection mid-run, resumes with Last-Event-ID and gets exactly what it missed;
 * after the end frame its reconnection is answered 204 and it stops: three requests in all.
 */
export function eventSourceResumesThenStops(factory: RunAppFactory, makeRegistry = inMemory): Promise<void> {
  return withApp(factory, makeRegistry, {}, async ({ registry, app }) => {
    const run = registry.createRun();
    const received: string[] = [];
    const ends: string[] = [];
    let errors = 0;
    const es = new EventSource(`${app.base}/runs/${run.id}?retry=50`);
    es.onmessage = (e) => received.push(e.data as string);
    es.addEventListener('end', (e) => ends.push(e.data as string));
    es.onerror = () => errors++;
    try {
      for (const n of sequence(5)) await run.append(n);
      await waitFor('5 events', () => received.length === 5);
      app.served[0]!.complete(); // the connection drops (server side), the run goes on
      for (const n of sequence(5, 6)) await run.append(n);
      await waitFor('the resumed stream', () => app.served.length === 2);
      await waitFor('10 events', () => received.length === 10);
      await run.end();
      await waitFor('the client stopped', () => es.readyState === EventSource.CLOSED);
      // Several retry periods: a client that had not stopped would have come back by now.
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      es.close();
    }
    expect(received).toEqual(sequence(10));
    expect(ends).toEqual([ENDED]);
    expect(app.requests).toHaveLength(3);
    expect(app.requests[0]).toBeNull();
    expect(errors).toBeGreaterThanOrEqual(1);
  });
}

/** 204 for a client with the end frame's id or the last event's id; one that missed events gets them and the end. */
export function comingBackAfterTheEnd(factory: RunAppFactory, makeRegistry = inMemory): Promise<void> {
  return withApp(factory, makeRegistry, {}, async ({ registry, open }) => {
    const run = registry.createRun();
    const ids = [];
    for (const n of sequence(3)) ids.push(await run.append(n));
    await run.end();
    const whole = open(`/runs/${run.id}`);
    await whole.ended;
    const endId = whole.events[3]!.id!;
    for (const id of [endId, ids[2]!]) {
      const back = open(`/runs/${run.id}`, id);
      await back.ended;
      expect([back.status, back.headers['tidings-run'], back.text]).toEqual([204, run.id, '']);
    }
    const missed = open(`/runs/${run.id}`, ids[0]);
    await missed.ended;
    expect([missed.status, missed.data]).toEqual([200, ['2', '3', ENDED]]);
  });
}

/** Cancel reaches every subscriber as a cancelled end frame; an unknown run is 404 with its code. */
export function cancelAndNotFound(factory: RunAppFactory, makeRegistry = inMemory): Promise<void> {
  return withApp(factory, makeRegistry, {}, async ({ registry, app, open }) => {
    const run = registry.createRun();
    const client = open(`/runs/${run.id}`);
    await run.append('t');
    await client.waitForEvents(1);
    await run.cancel('stop pressed');
    await client.ended;
    expect(JSON.parse(client.events[1]!.data)).toEqual({ state: 'cancelled', reason: 'stop pressed' });
    expect(run.signal.aborted).toBe(true);

    const missing = await fetch(`${app.base}/runs/no-such-run`, { headers: { accept: 'text/event-stream' } });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await missing.json()) as { error: string }).error).toBe('SSE_ERR_RUN_NOT_FOUND');
  });
}

/** `authorize` is asked with `run:<id>` and `{ kind: 'run' }`; a refusal is a JSON 403 before any stream byte. */
export function authorizeRuns(factory: RunAppFactory, makeRegistry = inMemory): Promise<void> {
  const asked: Array<[string, SseAuthorizeInfo | undefined]> = [];
  const authorize = (channel: string, info?: SseAuthorizeInfo) => {
    asked.push([channel, info]);
    return channel !== 'run:secret';
  };
  return withApp(factory, makeRegistry, { authorize }, async ({ registry, app, open }) => {
    registry.createRun({ id: 'secret' });
    const open_ = registry.createRun({ id: 'open' });
    const refused = await fetch(`${app.base}/runs/secret`, { headers: { accept: 'text/event-stream' } });
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { error: string }).error).toBe('SSE_ERR_UNAUTHORIZED');
    const client = open('/runs/open');
    await open_.append('hello');
    await client.waitForEvents(1);
    expect(asked).toEqual([
      ['run:secret', { kind: 'run' }],
      ['run:open', { kind: 'run' }],
    ]);
    expect(app.served).toHaveLength(1);
  });
}

/** Past `maxConnections` a run client is answered 503 with Retry-After, before any stream byte. */
export function maxConnectionsForRuns(factory: RunAppFactory, makeRegistry = inMemory): Promise<void> {
  return withApp(factory, makeRegistry, { maxConnections: 1 }, async ({ registry, app, open }) => {
    const run = registry.createRun();
    const first = open(`/runs/${run.id}`);
    await run.append('x');
    await first.waitForEvents(1);
    const second = await fetch(`${app.base}/runs/${run.id}`, { headers: { accept: 'text/event-stream' } });
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).not.toBeNull();
    // A whole JSON answer, and no second stream opened.
    expect(second.headers.get('content-type')).toMatch(/^application\/json/);
    expect(((await second.json()) as { error: string }).error).toBe('SSE_ERR_TOO_MANY_CONNECTIONS');
    expect(app.served).toHaveLength(1);
  });
}

/** Ids with control characters or 10 KiB long are answered 400 `SSE_ERR_INVALID_RUN_ID` (JSON) before any stream byte. */
export function hostileIdsAreRefused(factory: RunAppFactory, makeRegistry = inMemory): Promise<void> {
  return withApp(factory, makeRegistry, {}, async ({ app }) => {
    for (const path of ['/runs/a%0Ab', '/runs/%00', '/runs/a%0D%0Aevent:%20x', `/runs/${'x'.repeat(10 * 1024)}`]) {
      const answer = await rawRequest(
        app.base,
        `GET ${path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n`,
      );
      expect(answer.status).toBe(400);
      expect(answer.text).toMatch(/content-type: application\/json/i);
      expect(answer.text).toContain('SSE_ERR_INVALID_RUN_ID');
      expect(answer.text).not.toMatch(/text\/event-stream/);
    }
    expect(app.served).toHaveLength(0);
  });
}

/** Long-poll (one response per batch, the end included) and short-poll (JSON) work on runs as on channels. */
export function pollingRuns(factory: RunAppFactory, makeRegistry = inMemory): Promise<void> {
  return withApp(factory, makeRegistry, {}, async ({ registry, app, open }) => {
    const run = registry.createRun();
    for (const n of sequence(3)) await run.append(n);
    const longPoll = open(`/runs/${run.id}?mode=long-poll`);
    await longPoll.ended;
    expect(longPoll.data).toEqual(sequence(3));
    const next = open(`/runs/${run.id}?mode=long-poll`, longPoll.lastEventId);
    await waitFor('the second long-poll', () => app.served.length === 2);
    await run.end();
    await next.ended;
    expect(next.data).toEqual([ENDED]);

    const short = await fetch(`${app.base}/runs/${run.id}?mode=short-poll`, {
      headers: { accept: 'application/json' },
    });
    const body = (await short.json()) as { events: Array<{ data: string; event?: string }> };
    expect(short.headers.get('tidings-run')).toBe(run.id);
    expect(body.events.map((e) => e.data)).toEqual([...sequence(3), ENDED]);
  });
}

/** Every run scenario, as `it` blocks, for one framework. */
export function runScenarioTests(factory: RunAppFactory, options: RunScenarioOptions = {}): void {
  const makeRegistry = options.registry ?? inMemory;
  it('a late client gets the run from its start, then live, then the end', () =>
    lateJoinFromStart(factory, makeRegistry));
  it('the producer goes on when every client left', () => producerOutlivesClients(factory, makeRegistry));
  it('the eventsource client resumes mid-run, then gets 204 and stops', () =>
    eventSourceResumesThenStops(factory, makeRegistry));
  it('204 for a client that has it all; one that missed events gets them and the end', () =>
    comingBackAfterTheEnd(factory, makeRegistry));
  it('cancel ends subscribers with a cancelled end frame; unknown run is 404', () =>
    cancelAndNotFound(factory, makeRegistry));
  it("authorize(req, 'run:<id>', { kind: 'run' })", () => authorizeRuns(factory, makeRegistry));
  if (options.withoutMaxConnections !== true) {
    it('maxConnections applies to runs', () => maxConnectionsForRuns(factory, makeRegistry));
  }
  it('hostile ids are answered 400 before any stream byte', () => hostileIdsAreRefused(factory, makeRegistry));
  it('long-poll and short-poll work on runs', () => pollingRuns(factory, makeRegistry));
}
