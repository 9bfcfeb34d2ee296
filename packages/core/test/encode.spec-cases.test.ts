/**
 * The encoder against the HTML standard's event-stream rules, one table row per corner case, and every
 * encoder case of PEERS.md §4 (marked `§4.n`). Each row pins the exact bytes, then reads them back with
 * eventsource-parser to check what a client really dispatches.
 */
import { encodeComment, encodeEvent, event, type SseEvent, SseEventBuilder } from '@tidings/core';
import type { EventSourceMessage } from 'eventsource-parser';
import { parseStream } from './support/parse';

interface FrameCase {
  name: string;
  input: SseEvent;
  frame: string;
  /** What a client dispatches; omitted = one event with the input's data as a string. */
  events?: EventSourceMessage[];
  comments?: string[];
  retries?: number[];
}

const big = 'x'.repeat(64 * 1024);
const bigLines = Array.from({ length: 1024 }, (_, i) => `${i}`.padEnd(63, '.')).join('\n');

const cases: FrameCase[] = [
  { name: 'plain data', input: { data: 'hello' }, frame: 'data: hello\n\n' },
  { name: '§4.2 data with LF: every line prefixed', input: { data: 'a\nb' }, frame: 'data: a\ndata: b\n\n' },
  { name: '§4.1 data with a lone CR is a line break', input: { data: 'a\rb' }, frame: 'data: a\ndata: b\n\n' },
  { name: 'data with CRLF', input: { data: 'a\r\nb' }, frame: 'data: a\ndata: b\n\n' },
  {
    name: 'data with mixed line breaks',
    input: { data: 'a\nb\rc\r\nd' },
    frame: 'data: a\ndata: b\ndata: c\ndata: d\n\n',
  },
  { name: '§4.9 a trailing LF round-trips', input: { data: 'x\n' }, frame: 'data: x\ndata: \n\n' },
  { name: 'only newlines', input: { data: '\n\n' }, frame: 'data: \ndata: \ndata: \n\n' },
  {
    name: 'only CR and CRLF newlines (read back as LF)',
    input: { data: '\r\n\r' },
    frame: 'data: \ndata: \ndata: \n\n',
    events: [{ data: '\n\n' }],
  },
  { name: '§4.8 empty string dispatches ""', input: { data: '' }, frame: 'data: \n\n' },
  { name: '§4.3 a leading space survives', input: { data: ' x' }, frame: 'data:  x\n\n' },
  { name: '§4.3 leading spaces on every line', input: { data: ' a\n  b' }, frame: 'data:  a\ndata:   b\n\n' },
  { name: 'a leading colon is data, not a comment', input: { data: ':x' }, frame: 'data: :x\n\n' },
  {
    name: 'data that looks like fields cannot forge any',
    input: { data: 'id: 9\nevent: evil\n\ndata: x' },
    frame: 'data: id: 9\ndata: event: evil\ndata: \ndata: data: x\n\n',
  },
  { name: 'astral unicode', input: { data: '😀 𝄞 中文 é' }, frame: 'data: 😀 𝄞 中文 é\n\n' },
  { name: '§4.13 a BOM inside data is kept', input: { data: '\uFEFFx' }, frame: 'data: \uFEFFx\n\n' },
  { name: '64 KiB of data on one line', input: { data: big }, frame: `data: ${big}\n\n` },
  {
    name: '64 KiB of data on 1,024 lines',
    input: { data: bigLines },
    frame: `${bigLines
      .split('\n')
      .map((line) => `data: ${line}\n`)
      .join('')}\n`,
  },
  {
    name: '§4.7 id 0 is kept',
    input: { id: 0, data: 'x' },
    frame: 'id: 0\ndata: x\n\n',
    events: [{ id: '0', data: 'x' }],
  },
  {
    name: "§4.7 id '' is a bare id: (resets the client's last id)",
    input: { id: '', data: 'x' },
    frame: 'id:\ndata: x\n\n',
    events: [{ id: '', data: 'x' }],
  },
  {
    name: '§4.3 a leading space in an id survives',
    input: { id: ' 7', data: 'x' },
    frame: 'id:  7\ndata: x\n\n',
    events: [{ id: ' 7', data: 'x' }],
  },
  {
    name: 'a string id with unicode',
    input: { id: 'ü-😀', data: 'x' },
    frame: 'id: ü-😀\ndata: x\n\n',
    events: [{ id: 'ü-😀', data: 'x' }],
  },
  { name: '§4.7 retry 0 is kept', input: { retry: 0 }, frame: 'retry: 0\n\n', events: [], retries: [0] },
  {
    name: 'retry is digits only',
    input: { retry: 3000, data: 'x' },
    frame: 'retry: 3000\ndata: x\n\n',
    retries: [3000],
  },
  { name: '§4.8 no data line: no event fires', input: { id: '5' }, frame: 'id: 5\n\n', events: [] },
  { name: '§4.8 an event name alone fires nothing', input: { event: 'done' }, frame: 'event: done\n\n', events: [] },
  {
    name: '§4.8 a named event with empty data fires',
    input: { event: 'done', data: '' },
    frame: 'event: done\ndata: \n\n',
    events: [{ event: 'done', data: '' }],
  },
  {
    name: 'data: undefined writes no data line',
    input: { event: 'x', data: undefined },
    frame: 'event: x\n\n',
    events: [],
  },
  {
    name: 'an object goes through JSON (its newlines escaped)',
    input: { data: { a: 1, b: 'x\ny' } },
    frame: 'data: {"a":1,"b":"x\\ny"}\n\n',
  },
  { name: 'an array goes through JSON', input: { data: [1, 'two', null] }, frame: 'data: [1,"two",null]\n\n' },
  { name: 'a number goes through JSON', input: { data: 42 }, frame: 'data: 42\n\n' },
  { name: 'the number 0 is kept', input: { data: 0 }, frame: 'data: 0\n\n' },
  { name: 'false is kept', input: { data: false }, frame: 'data: false\n\n' },
  { name: 'null goes through JSON', input: { data: null }, frame: 'data: null\n\n' },
  {
    name: 'all fields, in a fixed order',
    input: { data: 'd', retry: 3000, event: 'add', id: '7', comment: 'c' },
    frame: ': c\nid: 7\nevent: add\nretry: 3000\ndata: d\n\n',
    events: [{ id: '7', event: 'add', data: 'd' }],
    comments: ['c'],
    retries: [3000],
  },
  {
    name: '§4.3 a leading space in an event name survives',
    input: { event: ' x', data: 'd' },
    frame: 'event:  x\ndata: d\n\n',
    events: [{ event: ' x', data: 'd' }],
  },
  {
    name: '§4.10 a multi-line comment gets a colon on every line',
    input: { comment: 'a\nb\r\nc\rd' },
    frame: ': a\n: b\n: c\n: d\n\n',
    events: [],
    comments: ['a', 'b', 'c', 'd'],
  },
  {
    name: '§4.4 a comment cannot inject fields or events',
    input: { comment: 'x\ndata: evil\n\nevent: y' },
    frame: ': x\n: data: evil\n:\n: event: y\n\n',
    events: [],
    comments: ['x', 'data: evil', '', 'event: y'],
  },
];

/** The data a client reads for `input`: strings as given with CR and CRLF as LF, anything else as JSON. */
function expectedEvents(input: SseEvent): EventSourceMessage[] {
  const data = typeof input.data === 'string' ? input.data.replace(/\r\n?/g, '\n') : JSON.stringify(input.data);
  return [{ data }];
}

/** Exactly one blank line, at the end, LF only (§4.12), no BOM (§4.13): frames can be concatenated safely. */
function expectOneWholeFrame(frame: string): void {
  expect(frame.endsWith('\n\n')).toBe(true);
  expect(frame.indexOf('\n\n')).toBe(frame.length - 2);
  expect(frame).not.toContain('\r');
  expect(frame.startsWith('\uFEFF')).toBe(false);
}

describe('encodeEvent: spec corner cases', () => {
  test.each(cases)('$name', ({ input, frame, events, comments = [], retries = [] }) => {
    const encoded = encodeEvent(input);
    expect(encoded).toBe(frame);
    expectOneWholeFrame(encoded);
    const parsed = parseStream(encoded);
    expect(parsed.events).toEqual(events ?? expectedEvents(input));
    expect(parsed.comments).toEqual(comments);
    expect(parsed.retries).toEqual(retries);
    expect(parsed.errors).toEqual([]);
  });

  test('§4.14 every frame is whole: all rows concatenated read back as the sum of their events', () => {
    const stream = cases.map((c) => encodeEvent(c.input)).join('');
    const expected = cases.flatMap((c) => c.events ?? expectedEvents(c.input));
    expect(parseStream(stream).events).toEqual(expected);
  });

  test('an event with no field at all encodes to nothing', () => {
    expect(encodeEvent({})).toBe('');
  });

  test('an event() builder encodes like its fields', () => {
    const built = event().comment('c').id('7').name('add').reconnectTime(3000).data({ n: 1 });
    expect(encodeEvent(built)).toBe(': c\nid: 7\nevent: add\nretry: 3000\ndata: {"n":1}\n\n');
    expect(encodeEvent(event({ id: '7', event: 'add', data: { n: 1 } }))).toBe('id: 7\nevent: add\ndata: {"n":1}\n\n');
    expect(built).toBeInstanceOf(SseEventBuilder);
  });

  test('§4.2 a multi-line serializer output is split into data lines too', () => {
    const serialize = (value: unknown): string => JSON.stringify(value, null, 2);
    const frame = encodeEvent({ data: { a: [1, 2] } }, { serialize });
    expect(frame).toBe('data: {\ndata:   "a": [\ndata:     1,\ndata:     2\ndata:   ]\ndata: }\n\n');
    expect(JSON.parse(parseStream(frame).events[0]!.data)).toEqual({ a: [1, 2] });
  });

  test('a string is never serialized, whatever the serializer', () => {
    expect(encodeEvent({ data: 'raw' }, { serialize: () => 'never' })).toBe('data: raw\n\n');
  });
});

describe('encodeComment', () => {
  test.each([
    [undefined, ':\n\n', []],
    ['', ':\n\n', []],
    ['hi', ': hi\n\n', ['hi']],
    ['a\nb', ': a\n: b\n\n', ['a', 'b']],
    ['a\r\n\rb', ': a\n:\n: b\n\n', ['a', '', 'b']],
  ])('%j', (text, frame, comments) => {
    const encoded = encodeComment(text);
    expect(encoded).toBe(frame);
    expectOneWholeFrame(encoded);
    const parsed = parseStream(encoded);
    expect(parsed.events).toEqual([]);
    // The parser reports the bare `:` ping as an empty comment.
    expect(parsed.comments.filter((c) => c !== '')).toEqual(comments.filter((c) => c !== ''));
  });
});

/** Each way of setting a field: the plain encoder, event({...}) and the builder method. */
type FieldSetter = [name: string, field: 'event' | 'id' | 'retry' | 'comment', set: () => unknown];

function invalid(field: 'event' | 'id' | 'retry' | 'comment', value: unknown, label: string): FieldSetter[] {
  const ev = { [field]: value } as SseEvent;
  const method = { event: 'name', id: 'id', retry: 'reconnectTime', comment: 'comment' } as const;
  const builder = event() as unknown as Record<string, (v: unknown) => unknown>;
  return [
    [`encodeEvent ${field} ${label}`, field, () => encodeEvent(ev)],
    [`event({ ${field} }) ${label}`, field, () => event(ev)],
    [`event().${method[field]}(${label})`, field, () => builder[method[field]]!.call(builder, value)],
  ];
}

const invalidFields: FieldSetter[] = [
  ...invalid('event', 'a\nb', 'with LF'),
  ...invalid('event', 'a\rb', 'with CR'),
  ...invalid('event', 'a\r\nb', 'with CRLF'),
  ...invalid('event', 'x\ndata: evil', '§4.4 forging a data line'),
  ...invalid('event', 42, 'that is not a string'),
  ...invalid('id', 'a\nb', 'with LF'),
  ...invalid('id', 'a\rb', 'with CR'),
  ...invalid('id', '1\n\ndata: evil', '§4.4 forging an event'),
  ...invalid('id', 'a\0b', '§4.5 with NUL'),
  ...invalid('id', Number.NaN, 'NaN'),
  ...invalid('id', Number.POSITIVE_INFINITY, 'Infinity'),
  ...invalid('id', { toString: () => '1' }, 'that is an object'),
  ...invalid('retry', -1, '§4.6 -1'),
  ...invalid('retry', 1.5, '§4.6 1.5'),
  ...invalid('retry', Number.NaN, '§4.6 NaN'),
  ...invalid('retry', Number.POSITIVE_INFINITY, 'Infinity'),
  ...invalid('retry', 2 ** 53, 'past the safe integers'),
  ...invalid('retry', '3000', 'as a string'),
  ...invalid('comment', 7, 'that is not a string'),
];

describe('invalid fields throw a TypeError with code SSE_ERR_INVALID_FIELD, synchronously', () => {
  test.each(invalidFields)('%s', (_name, field, set) => {
    let thrown: unknown;
    try {
      set();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect(thrown).toMatchObject({ code: 'SSE_ERR_INVALID_FIELD', field });
    // The message says what to fix and never echoes the bad value's control characters.
    expect((thrown as Error).message).toMatch(/must|may not/);
    expect((thrown as Error).message).not.toMatch(/[\r\n\0]/);
  });
});

describe('serializer failures', () => {
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  test.each([
    ['circular JSON', { data: circular }, undefined],
    ['a BigInt', { data: 10n }, undefined],
    ['a serializer that returns a number', { data: {} }, () => 1 as unknown as string],
    [
      'a serializer that throws',
      { data: {} },
      () => {
        throw new Error('boom');
      },
    ],
  ])('%s rejects with SSE_ERR_SERIALIZE and returns nothing partial', (_name, ev, serialize) => {
    expect(() => encodeEvent(ev as SseEvent, serialize ? { serialize } : undefined)).toThrow(
      expect.objectContaining({ code: 'SSE_ERR_SERIALIZE' }),
    );
  });
});
