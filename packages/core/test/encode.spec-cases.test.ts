/**
 * The encoder against the HTML standard's event-stream rules: every row of @tidings/testkit's `specCases` (one
 * per corner case, and every encoder case of PEERS.md §4, marked `§4.n`). Each row pins the exact bytes, then
 * reads them back with eventsource-parser to check what a client really dispatches.
 */
import { encodeComment, encodeEvent, event, type SseEvent, SseEventBuilder } from '@tidings/core';
import { parseStream, specCases } from '@tidings/testkit';
import type { EventSourceMessage } from 'eventsource-parser';

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
  test.each(specCases)('$name', ({ input, frame, events, comments = [], retries = [] }) => {
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
    const stream = specCases.map((c) => encodeEvent(c.input)).join('');
    const expected = specCases.flatMap((c) => c.events ?? expectedEvents(c.input));
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
