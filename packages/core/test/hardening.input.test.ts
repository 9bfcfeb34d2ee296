/**
 * Hardening of core against bad values and untrusted input (issue 8), over real sockets: a serializer that throws
 * rejects that send or broadcast with SSE_ERR_SERIALIZE and leaves every stream healthy with nothing partial
 * written; Last-Event-ID is compared by position, never parsed as a number; admission refusals are whole responses.
 */
import type * as http from 'node:http';
import {
  ChannelRegistry,
  event,
  refusalOf,
  SseEmitter,
  SseHost,
  SseInvalidChannelError,
  SseTooManyConnectionsError,
  SseUnauthorizedError,
  writeRefusal,
} from '@tidings/core';
import { connect, type SseTestClient, startServer, type TestServer } from '@tidings/testkit';

/** Streams opened by the test server, in arrival order; each subscribed to channel `ch`. */
let served: SseEmitter[];
let server: TestServer;
let registry: ChannelRegistry;
let gaps: string[];
let clients: SseTestClient[];

beforeEach(async () => {
  served = [];
  clients = [];
  gaps = [];
  registry = new ChannelRegistry({ history: 10, onGap: (_channel, lastEventId) => gaps.push(lastEventId) });
  server = await startServer((req, res) => {
    const em = new SseEmitter({ keepAlive: false }).attach(req, res);
    served.push(em);
    registry.channel('ch').subscribe(em);
  });
});

afterEach(async () => {
  for (const c of clients) c.close();
  await server.close();
});

function open(headers: http.OutgoingHttpHeaders = {}): SseTestClient {
  const client = connect(server.url, { headers });
  clients.push(client);
  return client;
}

function unserializable(): Array<[string, unknown]> {
  const circular: Record<string, unknown> = { name: 'loop' };
  circular.self = circular;
  return [
    ['circular JSON', circular],
    ['a BigInt', { n: 10n }],
  ];
}

test('a serializer that throws rejects that send with SSE_ERR_SERIALIZE; nothing partial, the stream stays usable', async () => {
  const client = open();
  await client.response;
  const em = served[0]!;
  await em.send(event({ id: 'a', data: 'before' }));
  for (const [, value] of unserializable()) {
    await expect(em.send(event({ id: 'x', event: 'bad', data: value }))).rejects.toMatchObject({
      code: 'SSE_ERR_SERIALIZE',
    });
    await expect(em.send(value)).rejects.toMatchObject({ code: 'SSE_ERR_SERIALIZE' });
  }
  expect(em.state).toBe('open');
  await em.send(event({ id: 'b', data: 'after' }));
  await client.waitFor('the event after the failures', (c) => c.text.includes('after'));
  // Byte for byte: the two good frames and nothing of the failed ones (no `id: x`, no `event: bad`).
  expect(client.text).toBe('id: a\ndata: before\n\nid: b\ndata: after\n\n');
});

test('a broadcast that cannot be serialized rejects, writes nothing to anyone, and every stream stays healthy', async () => {
  const streams = [open(), open(), open()];
  await Promise.all(streams.map((c) => c.response));
  expect(registry.channel('ch').size).toBe(3);
  const first = await registry.broadcast('ch', 'one');
  for (const [, value] of unserializable()) {
    await expect(registry.broadcast('ch', value)).rejects.toMatchObject({ code: 'SSE_ERR_SERIALIZE' });
    await expect(registry.broadcast('ch', event({ event: 'bad', data: value }))).rejects.toMatchObject({
      code: 'SSE_ERR_SERIALIZE',
    });
  }
  const second = await registry.broadcast('ch', 'two');
  const expected = `id: ${first}\ndata: one\n\nid: ${second}\ndata: two\n\n`;
  for (const c of streams) {
    await c.waitFor('both good broadcasts', (s) => s.text.length >= expected.length);
    expect(c.text).toBe(expected);
  }
  expect(served.every((em) => em.state === 'open')).toBe(true);
  // The failed broadcasts left no trace in the history either: a client resuming after `one` gets only `two`.
  const resumed = open({ 'last-event-id': first });
  await resumed.waitFor('the replay', (s) => s.text.includes('two'));
  expect(resumed.events.map((e) => e.data)).toEqual(['two']);
});

test('Last-Event-ID is matched by position in the log, never parsed as a number', async () => {
  for (const id of [1, 2, 3]) await registry.broadcast('ch', event({ id, data: `e${id}` }));
  const exact = open({ 'last-event-id': '1' });
  await exact.waitFor('the replay after id 1', (s) => s.events.length === 2);
  expect(exact.events.map((e) => e.data)).toEqual(['e2', 'e3']);

  // Numerically equal spellings are other ids: a gap (reported), nothing replayed. (A leading space is not one
  // of them: HTTP trims it from header values, so ' 1' arrives as '1'.)
  const lookalikes = ['01', '1.0', '1e0', '+1', '0x1'];
  const others = lookalikes.map((id) => open({ 'last-event-id': id }));
  await Promise.all(others.map((c) => c.response));
  await registry.broadcast('ch', event({ id: 4, data: 'e4' }));
  for (const c of others) {
    await c.waitFor('the live event', (s) => s.events.length >= 1);
    expect(c.events.map((e) => e.data)).toEqual(['e4']);
  }
  expect(gaps.sort()).toEqual([...lookalikes].sort());
});

test('refusals: 503 with Retry-After, 401/403, 400, each a whole JSON response; limits are validated', async () => {
  expect(refusalOf(new SseTooManyConnectionsError(10, 3))).toEqual({
    status: 503,
    headers: { 'retry-after': '3', 'cache-control': 'no-store' },
    body: { error: 'SSE_ERR_TOO_MANY_CONNECTIONS', message: expect.stringContaining('10') },
  });
  expect(refusalOf(new SseUnauthorizedError(401)).status).toBe(401);
  expect(refusalOf(new SseUnauthorizedError(403)).body.error).toBe('SSE_ERR_UNAUTHORIZED');
  expect(refusalOf(new SseInvalidChannelError('bad')).status).toBe(400);

  for (const bad of [0, -1, 1.5, Number.NaN]) {
    expect(() => new ChannelRegistry({ maxConnections: bad })).toThrow(
      expect.objectContaining({ code: 'SSE_ERR_INVALID_OPTION' }),
    );
    expect(() => new SseHost({ maxConnections: bad })).toThrow(
      expect.objectContaining({ code: 'SSE_ERR_INVALID_OPTION' }),
    );
  }
  expect(() => new SseHost({ retryAfter: -1 })).toThrow(expect.objectContaining({ code: 'SSE_ERR_INVALID_OPTION' }));

  // With plain node:http: registry.admit() before attach, writeRefusal() to answer.
  const limited = new ChannelRegistry({ maxConnections: 1, retryAfter: 2 });
  const plain = await startServer((req, res) => {
    try {
      limited.admit();
    } catch (err) {
      writeRefusal(res, refusalOf(err as SseTooManyConnectionsError));
      return;
    }
    limited.channel('only').subscribe(new SseEmitter({ keepAlive: false }).attach(req, res));
  });
  try {
    const admitted = connect(`${plain.url}/`);
    expect((await admitted.response).statusCode).toBe(200);
    const refused = await fetch(plain.url);
    expect([refused.status, refused.headers.get('retry-after')]).toEqual([503, '2']);
    expect(await refused.json()).toMatchObject({ error: 'SSE_ERR_TOO_MANY_CONNECTIONS' });
    admitted.close();
  } finally {
    await plain.close();
  }
});
