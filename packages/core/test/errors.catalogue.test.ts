/**
 * The error catalogue: every Tidings error is recognised by one check, codes are one table, and the docs'
 * tables list exactly the codes the code has (a new code without docs, or docs for a code that is gone, fails).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as core from '@tidings/core';
import {
  isSseError,
  SSE_ERROR_CODES,
  SseAdapterUnavailableError,
  SseAlreadyAttachedError,
  SseClosedError,
  SseError,
  SseForeignEmitterError,
  SseHeadersSentError,
  SseInvalidChannelError,
  SseInvalidFieldError,
  SseInvalidOptionError,
  SseInvalidRunIdError,
  SseInvalidSourceError,
  SseRunEndedError,
  SseRunFullError,
  SseRunNotFoundError,
  SseSerializeError,
  SseSlowClientError,
  SseTooManyConnectionsError,
  SseUnauthorizedError,
} from '@tidings/core';

const ROOT = path.join(__dirname, '../../..');

/** One instance of every error class, and whether it is an invalid-input (TypeError) one. */
const samples: Array<[Error & { code: string }, boolean]> = [
  [new SseInvalidFieldError('id', 'bad'), true],
  [new SseInvalidChannelError('bad'), true],
  [new SseInvalidOptionError('bad'), true],
  [new SseInvalidSourceError(42), true],
  [new SseForeignEmitterError(), true],
  [new SseClosedError(), false],
  [new SseSlowClientError('slow'), false],
  [new SseSerializeError(new Error('cycle')), false],
  [new SseHeadersSentError(), false],
  [new SseAlreadyAttachedError(), false],
  [new SseAdapterUnavailableError('down'), false],
  [new SseTooManyConnectionsError(10, 5), false],
  [new SseUnauthorizedError(401), false],
  [new SseRunEndedError('r1', 'ended'), false],
  [new SseRunFullError('r1', 10), false],
  [new SseRunNotFoundError(), false],
  [new SseInvalidRunIdError('bad'), true],
];

/** The `SSE_ERR_*` codes in the first column of the markdown table under `heading` in `file`. */
function tableCodes(file: string, heading: string): string[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const start = text.indexOf(heading);
  expect(start).toBeGreaterThan(-1);
  const section = text.slice(start + heading.length).split(/\n#{1,3} /)[0]!;
  return [...section.matchAll(/^\| `(SSE_ERR_[A-Z_]+)`/gm)].map((m) => m[1]!).sort();
}

describe('error catalogue', () => {
  test('every error passes isSseError and instanceof SseError; invalid-input ones stay TypeErrors', () => {
    for (const [err, typeError] of samples) {
      expect(isSseError(err)).toBe(true);
      expect(err instanceof SseError).toBe(true);
      expect(err instanceof Error).toBe(true);
      expect(err instanceof TypeError).toBe(typeError);
      expect(err.name).toBe(err.constructor.name);
    }
  });

  test('instanceof a subclass keeps its ordinary meaning', () => {
    const slow = new SseSlowClientError('slow');
    expect(slow instanceof SseSlowClientError).toBe(true);
    expect(slow instanceof SseClosedError).toBe(false);
    expect(new SseInvalidFieldError('id', 'x') instanceof SseInvalidChannelError).toBe(false);
    expect(new SseClosedError() instanceof SseInvalidFieldError).toBe(false);
  });

  test('errors that are not Tidings errors are not recognised', () => {
    const lookalike = Object.assign(new Error('x'), { code: 'SSE_ERR_CLOSED' });
    for (const value of [new Error('x'), new TypeError('x'), lookalike, null, undefined, 'SSE_ERR_CLOSED', {}]) {
      expect(isSseError(value)).toBe(false);
      expect(value instanceof SseError).toBe(false);
    }
  });

  test('one class per code, and every code of the table has its class', () => {
    const codes = samples.map(([err]) => err.code).sort();
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes).toEqual(Object.keys(SSE_ERROR_CODES).sort());
    // Every exported class is sampled above.
    const exported = Object.entries(core).filter(
      ([name, value]) =>
        typeof value === 'function' && /^Sse.*Error$/.test(name) && name !== 'SseError' && name !== 'SseTypeError',
    );
    expect(exported.map(([name]) => name).sort()).toEqual(samples.map(([err]) => err.name).sort());
  });

  test.each([
    ['docs/operations.md', '## Error codes'],
    ['packages/core/README.md', '## Errors'],
  ])('%s lists exactly the codes of SSE_ERROR_CODES', (file, heading) => {
    expect(tableCodes(file, heading)).toEqual(Object.keys(SSE_ERROR_CODES).sort());
  });
});
