/**
 * Property tests: for arbitrary unicode data and any valid name and id, a spec parser (eventsource-parser)
 * reads back exactly the event that was encoded, with CR and CRLF in data read as LF. The bytes go through
 * UTF-8 and are fed in arbitrary chunks, as a client reading a socket sees them.
 */
import { encodeComment, encodeEvent, type SseEvent } from '@tidings/core';
import { parseStream } from '@tidings/testkit';
import fc from 'fast-check';

const RUNS = 2_500;

/** Text biased towards the characters that matter to the format: line breaks, colons, spaces, NUL, BOM. */
function text(exclude = /(?!)/): fc.Arbitrary<string> {
  const special = fc.constantFrom('\n', '\r', '\r\n', ':', ' ', '\0', '\uFEFF', 'data: ', 'id: ');
  const unit = fc
    .oneof(
      { arbitrary: special, weight: 1 },
      { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), weight: 4 },
    )
    .filter((s) => !exclude.test(s));
  return fc.string({ unit, maxLength: 40 });
}

const eventArb: fc.Arbitrary<SseEvent<string>> = fc.record(
  {
    data: text(),
    event: text(/[\r\n]/),
    id: fc.oneof(text(/[\r\n\0]/), fc.integer()),
    retry: fc.nat(),
  },
  { requiredKeys: ['data'] },
);

/** UTF-8 bytes cut at arbitrary offsets (even inside a character), decoded as a streaming client does. */
function feedInChunks(frames: string, cuts: number[]): string[] {
  const bytes = Buffer.from(frames);
  const offsets = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const decoder = new TextDecoder();
  const chunks: string[] = [];
  let start = 0;
  for (const end of [...offsets, bytes.length]) {
    chunks.push(decoder.decode(bytes.subarray(start, end), { stream: true }));
    start = end;
  }
  chunks.push(decoder.decode());
  return chunks;
}

describe('encodeEvent round-trips through a spec parser', () => {
  test(`arbitrary events, ${RUNS} runs`, () => {
    fc.assert(
      fc.property(fc.array(eventArb, { minLength: 1, maxLength: 4 }), fc.array(fc.nat()), (events, cuts) => {
        const parsed = parseStream(...feedInChunks(events.map((ev) => encodeEvent(ev)).join(''), cuts));
        expect(parsed.errors).toEqual([]);
        expect(parsed.events).toEqual(
          events.map((ev) => ({
            data: ev.data!.replace(/\r\n?/g, '\n'),
            // An empty event name means `message`: the parser reports it as absent.
            event: ev.event === '' ? undefined : ev.event,
            id: ev.id === undefined ? undefined : String(ev.id),
          })),
        );
        expect(parsed.retries).toEqual(events.flatMap((ev) => (ev.retry === undefined ? [] : [ev.retry])));
      }),
      { numRuns: RUNS },
    );
  });

  test(`arbitrary comments never dispatch an event, ${RUNS} runs`, () => {
    fc.assert(
      fc.property(text(), (comment) => {
        const parsed = parseStream(encodeComment(comment), encodeEvent({ comment, data: 'after' }));
        expect(parsed.events).toEqual([{ data: 'after' }]);
        const lines = comment.split(/\r\n|\r|\n/);
        expect(parsed.comments).toEqual([...lines, ...lines]);
      }),
      { numRuns: RUNS },
    );
  });
});
