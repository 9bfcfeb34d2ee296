/**
 * The encoder against the HTML standard's event-stream rules as data: one row per corner case, and every
 * encoder case of PEERS.md §4 (marked `§4.n`). Each row pins the exact bytes an event encodes to and what a
 * client dispatches for them; core's `encode.spec-cases.test.ts` checks every row, and other runtimes'
 * tests may replay the same table.
 */
import type { SseEvent } from '@tidings/core';
import type { EventSourceMessage } from 'eventsource-parser';

/** One row: an event, the exact frame it encodes to, and what a spec-exact client reads back from it. */
export interface FrameCase {
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

/** The encoder's spec corner cases, one row each. */
export const specCases: readonly FrameCase[] = [
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
