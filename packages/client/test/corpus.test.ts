/**
 * Encoder → wire → client: every row of the encoder's spec-case table (@tidings/testkit) is encoded by
 * @tidings/core, written as exact bytes by a raw node:http server, and read by the client, which must
 * dispatch the same events (and honour the same retry: values). Then the whole table as one response,
 * delivered to the client one byte per chunk.
 */
import { connect } from '@tidings/client';
import { encodeEvent } from '@tidings/core';
import { type FrameCase, specCases } from '@tidings/testkit';
import { bySize } from './support/chunks';
import { outcome, type RawServer, rawServer, stream } from './support/raw-server';

/** What a client reads for a row without `events`: the data as a string, CR and CRLF read as LF, anything else as JSON. */
function expectedEvents(c: FrameCase): { event: string; data: string; id?: string }[] {
  const events = c.events ?? [
    { data: typeof c.input.data === 'string' ? c.input.data.replace(/\r\n?/g, '\n') : JSON.stringify(c.input.data) },
  ];
  return events.map((e) => ({ event: e.event ?? 'message', data: e.data, ...(e.id !== undefined && { id: e.id }) }));
}

const names = (cases: readonly FrameCase[]): string[] => [
  ...new Set(cases.flatMap((c) => expectedEvents(c).map((e) => e.event))),
];
const asIs = (data: string): string => data;

let server: RawServer;
const whole = specCases.map((c) => encodeEvent(c.input)).join('');

beforeAll(async () => {
  server = await rawServer((req, res) => {
    const row = /^\/case\/(\d+)$/.exec(req.url ?? '');
    if (row) return stream(res, encodeEvent(specCases[Number(row[1])]!.input));
    if (req.url === '/all') return stream(res, whole);
    res.writeHead(204).end();
  });
});
afterAll(() => server.close());

describe('each spec case round-trips encoder → client', () => {
  test.each(specCases.map((c, i) => ({ ...c, i })))('$name', async (c) => {
    // The first response ends: the client reports the wait it will make (the server's retry: when it sent one), then is closed.
    const s = connect(`${server.url}/case/${c.i}`, { parse: asIs, retry: { initial: 12_345 } });
    s.onReconnect(() => s.close());
    const seen = await outcome(s, names([c]));
    const expected = expectedEvents(c).map((e) => ({ ...e, id: e.id ?? '' }));
    expect(seen.events).toEqual(expected);
    expect(seen.reconnects.map((r) => r.delay)).toEqual([c.retries?.at(-1) ?? 12_345]);
    expect(seen.errors).toEqual([]);
    expect(s.lastEventId).toBe(c.input.id === undefined ? '' : String(c.input.id));
  });
});

test('the whole table as one response, one byte per chunk, reads back as the sum of its rows', async () => {
  // A fetch that hands the client the real response body one byte at a time.
  const byteByByte: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    const chunks = bySize(new Uint8Array(await response.arrayBuffer()), 1);
    let next = 0;
    // Pulled one chunk at a time: Node's web streams are slow with a queue of 200,000 chunks.
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (next < chunks.length) controller.enqueue(chunks[next++]!);
          else controller.close();
        },
      },
      { highWaterMark: 0 },
    );
    return new Response(body, { status: response.status, headers: response.headers });
  };
  const s = connect(`${server.url}/all`, { parse: asIs, fetch: byteByByte, retry: false });
  const seen = await outcome(s, names(specCases));
  let id = '';
  const expected = specCases.flatMap((c) => {
    if (c.input.id !== undefined) id = String(c.input.id); // an id counts even on a row that fires nothing
    return expectedEvents(c).map((e) => ({ ...e, id }));
  });
  expect(seen.events).toEqual(expected);
  expect(seen.events.length).toBeGreaterThan(30);
  expect(seen.closeError).toBeUndefined();
  expect(server.requests.at(-1)!.path).toBe('/all');
});
