import fc from 'fast-check';
import { History } from '../src/history';

function filled(capacity: number, ids: string[]): History<string> {
  const history = new History<string>(capacity);
  for (const id of ids) history.append(id, `event ${id}`);
  return history;
}

describe('History (replay log)', () => {
  it('returns every entry after an id, oldest first, and all of them for no id', () => {
    const history = filled(10, ['a', 'b', 'c', 'd']);
    expect(history.after('b')).toEqual(['event c', 'event d']);
    expect(history.after('d')).toEqual([]);
    expect(history.after(undefined)).toEqual(['event a', 'event b', 'event c', 'event d']);
    expect(history.size).toBe(4);
  });

  it('finds ids by position, never by comparing them ("12" comes after "9")', () => {
    const ids = Array.from({ length: 12 }, (_, i) => String(i + 1));
    const history = filled(20, ids);
    expect(history.after('9')).toEqual(['event 10', 'event 11', 'event 12']);
    // Ids in no order at all (UUID-like, numbers mixed with words) still resume at their position.
    const mixed = filled(5, ['zeta', '3', 'alpha', '10', 'beta']);
    expect(mixed.after('alpha')).toEqual(['event 10', 'event beta']);
  });

  it('reports an id it never held, or no longer holds, as unknown (undefined), never a wrong range', () => {
    const history = filled(3, ['1', '2', '3', '4', '5']);
    expect(history.size).toBe(3);
    expect(history.after('2')).toBeUndefined(); // evicted
    expect(history.after('nope')).toBeUndefined(); // never held
    expect(history.after('3')).toEqual(['event 4', 'event 5']);
    expect(history.after(undefined)).toEqual(['event 3', 'event 4', 'event 5']);
  });

  it('resumes after the latest use of an id that was used twice, and forgets it only when that use is evicted', () => {
    const history = filled(3, ['x', 'y', 'x']);
    expect(history.after('x')).toEqual([]);
    history.append('z', 'event z');
    expect(history.after('x')).toEqual(['event z']); // the first 'x' was evicted, the second is kept
    history.append('w', 'event w');
    history.append('v', 'event v');
    expect(history.after('x')).toBeUndefined();
  });

  it('refuses a capacity that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new History(bad)).toThrow(RangeError);
  });

  it('matches a plain array model for any sequence of appends (ids may repeat)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.constantFrom('1', '2', '3', '10', 'a', 'b', ''), { maxLength: 40 }),
        fc.option(fc.constantFrom('1', '2', '3', '10', 'a', 'b', '', 'missing'), { nil: undefined }),
        (capacity, ids, probe) => {
          const history = new History<number>(capacity);
          for (const [i, id] of ids.entries()) history.append(id, i);
          const keptFrom = Math.max(0, ids.length - capacity);
          const kept = ids.map((id, i) => ({ id, i })).slice(keptFrom);
          let expected: number[] | undefined;
          if (probe === undefined) expected = kept.map((e) => e.i);
          else {
            const at = kept.map((e): string => e.id).lastIndexOf(probe);
            expected = at === -1 ? undefined : kept.slice(at + 1).map((e) => e.i);
          }
          expect(history.after(probe)).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
