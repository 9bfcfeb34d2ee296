/**
 * The parser on its own, against the HTML standard's event-stream interpretation, case by case, each case fed
 * whole, byte by byte, in pairs and at random cut points: every way must give the same dispatches.
 */
import { createParser } from '../src/parser';
import { chunkings } from './support/chunks';

/** One dispatch: `data` undefined when no event fires (the id still counts). */
type Dispatch = [event: string, data: string | undefined, id: string];

function parse(chunks: Uint8Array[], lastId?: string): { dispatches: Dispatch[]; retries: number[] } {
  const dispatches: Dispatch[] = [];
  const retries: number[] = [];
  const feed = createParser(
    (...d) => dispatches.push(d),
    (ms) => retries.push(ms),
    lastId,
  );
  for (const chunk of chunks) feed(chunk);
  return { dispatches, retries };
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

interface Case {
  name: string;
  input: string | Uint8Array;
  dispatches: Dispatch[];
  retries?: number[];
}

const cases: Case[] = [
  { name: 'one event', input: 'data: hi\n\n', dispatches: [['message', 'hi', '']] },
  {
    name: 'LF, CR and CRLF all end lines',
    input: 'data: a\rdata: b\r\ndata: c\n\r\n',
    dispatches: [['message', 'a\nb\nc', '']],
  },
  { name: 'CRLF blank line dispatches', input: 'data: x\r\n\r\n', dispatches: [['message', 'x', '']] },
  {
    name: 'CR blank line dispatches',
    input: 'data: x\r\rdata: y\r\r',
    dispatches: [
      ['message', 'x', ''],
      ['message', 'y', ''],
    ],
  },
  { name: 'CR CR LF is two line ends', input: 'data: x\r\r\n', dispatches: [['message', 'x', '']] },
  { name: 'a leading BOM is stripped', input: '\uFEFFdata: x\n\n', dispatches: [['message', 'x', '']] },
  {
    // The second BOM is part of the field name "\uFEFFdata", which is no field: ignored.
    name: 'only one BOM is stripped',
    input: '\uFEFF\uFEFFdata: x\n\ndata: y\n\n',
    dispatches: [
      ['message', undefined, ''],
      ['message', 'y', ''],
    ],
  },
  { name: 'a BOM inside data is kept', input: 'data: \uFEFFx\n\n', dispatches: [['message', '\uFEFFx', '']] },
  { name: 'multi-byte characters', input: 'data: é 中 😀 𝄞\n\n', dispatches: [['message', 'é 中 😀 𝄞', '']] },
  {
    name: 'invalid UTF-8 becomes U+FFFD',
    input: new Uint8Array([0x64, 0x61, 0x74, 0x61, 0x3a, 0xff, 0x0a, 0x0a]),
    dispatches: [['message', '\uFFFD', '']],
  },
  {
    name: 'one leading space is stripped, not two',
    input: 'data:  x\ndata:y\n\n',
    dispatches: [['message', ' x\ny', '']],
  },
  { name: 'a field without a colon has an empty value', input: 'data\n\n', dispatches: [['message', '', '']] },
  { name: 'empty data dispatches ""', input: 'data:\n\n', dispatches: [['message', '', '']] },
  {
    name: 'a trailing empty data line keeps its LF',
    input: 'data: x\ndata:\n\n',
    dispatches: [['message', 'x\n', '']],
  },
  { name: 'no data line: nothing fires', input: 'event: x\n\n', dispatches: [['x', undefined, '']] },
  { name: 'a comment is ignored', input: ': hi\ndata: x\n:\n\n', dispatches: [['message', 'x', '']] },
  { name: 'a comment alone dispatches nothing', input: ': ping\n\n', dispatches: [['message', undefined, '']] },
  { name: 'unknown fields are ignored', input: 'foo: bar\ndata: x\nDATA: y\n\n', dispatches: [['message', 'x', '']] },
  {
    name: 'the event name is reset after each dispatch',
    input: 'event: a\ndata: 1\n\ndata: 2\n\n',
    dispatches: [
      ['a', '1', ''],
      ['message', '2', ''],
    ],
  },
  { name: 'an empty event name means message', input: 'event:\ndata: x\n\n', dispatches: [['message', 'x', '']] },
  { name: 'a field value may hold colons', input: 'data: a: b\n\n', dispatches: [['message', 'a: b', '']] },
  {
    name: 'the id persists across events',
    input: 'id: 7\ndata: a\n\ndata: b\n\n',
    dispatches: [
      ['message', 'a', '7'],
      ['message', 'b', '7'],
    ],
  },
  {
    name: 'id: alone resets the last id',
    input: 'id: 7\ndata: a\n\nid:\ndata: b\n\n',
    dispatches: [
      ['message', 'a', '7'],
      ['message', 'b', ''],
    ],
  },
  {
    name: 'an id with NUL is ignored',
    input: 'id: 1\n\nid: a\0b\ndata: x\n\n',
    dispatches: [
      ['message', undefined, '1'],
      ['message', 'x', '1'],
    ],
  },
  { name: 'an id counts without data', input: 'id: 5\n\n', dispatches: [['message', undefined, '5']] },
  { name: 'an id takes effect only at dispatch', input: 'data: a\nid: 9\n\n', dispatches: [['message', 'a', '9']] },
  {
    name: 'an unterminated last event is dropped',
    input: 'data: a\n\nid: 3\ndata: b\n',
    dispatches: [['message', 'a', '']],
  },
  { name: 'an unterminated last line is dropped', input: 'data: a\n\ndata: b', dispatches: [['message', 'a', '']] },
  {
    name: 'retry: digits only',
    input: 'retry: 100\nretry:7\nretry: 1.5\nretry: -1\nretry:  5\nretry: 1e3\nretry:\nretry: x\n\n',
    dispatches: [['message', undefined, '']],
    retries: [100, 7],
  },
  { name: 'retry 0 is kept', input: 'retry: 0\n\n', dispatches: [['message', undefined, '']], retries: [0] },
  {
    name: 'many lines of data',
    input: `${'data: l\n'.repeat(1000)}\n`,
    dispatches: [['message', Array(1000).fill('l').join('\n'), '']],
  },
  { name: 'a 64 KiB line', input: `data: ${'x'.repeat(65536)}\n\n`, dispatches: [['message', 'x'.repeat(65536), '']] },
];

describe('parser: the standard, case by case, in every chunking', () => {
  describe.each(cases)('$name', ({ input, dispatches, retries = [] }) => {
    test.each(chunkings(typeof input === 'string' ? bytes(input) : input))('%s', (_how, chunks) => {
      const parsed = parse(chunks);
      expect(parsed.dispatches).toEqual(dispatches);
      expect(parsed.retries).toEqual(retries);
    });
  });
});

describe('parser: chunk boundaries', () => {
  test('a CR ending one chunk and an LF opening the next are one line end', () => {
    expect(parse([bytes('data: a\r'), bytes('\ndata: b\r'), bytes('\n\r'), bytes('\n')]).dispatches).toEqual([
      ['message', 'a\nb', ''],
    ]);
  });

  test('a CR ending one chunk followed by a CR is two line ends (the second is a blank line)', () => {
    expect(parse([bytes('data: a\r'), bytes('\r')]).dispatches).toEqual([['message', 'a', '']]);
  });

  test('an empty chunk between the CR and the LF of a CRLF keeps them one line end', () => {
    const chunks = [bytes('data: a\r'), new Uint8Array(0), bytes('\ndata: b\n\n')];
    expect(parse(chunks).dispatches).toEqual([['message', 'a\nb', '']]);
  });

  test('a BOM split over two chunks is still stripped once', () => {
    const input = bytes('\uFEFFdata: x\n\n');
    expect(parse([input.subarray(0, 1), input.subarray(1, 2), input.subarray(2)]).dispatches).toEqual([
      ['message', 'x', ''],
    ]);
  });

  test('the starting id seeds the last event id buffer', () => {
    expect(parse([bytes('data: a\n\n')], '41').dispatches).toEqual([['message', 'a', '41']]);
    expect(parse([bytes('id:\ndata: a\n\n')], '41').dispatches).toEqual([['message', 'a', '']]);
  });
});
