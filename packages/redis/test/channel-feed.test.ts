/**
 * ChannelFeed's ordering on its own (no Redis: the stream is an array, its reads resolve when the test says):
 * runs that continue delivery, holes filled by a read, runs waiting for the start or a fill, a catch-up asked
 * for during a fill, history waiters, failed reads retried.
 */
import type { StoredEvent } from '@tidings/core';
import { waitFor } from '@tidings/testkit';
import { ChannelFeed, type RawEntry, type Run } from '../src/channel-feed';
import { compareStreamIds } from '../src/stream-entry';

/** A stream in memory and a feed over it; reads wait until `answer()` unless `auto`. */
function setup(options: { auto?: boolean; readCount?: number } = {}) {
  const stream: RawEntry[] = [];
  const delivered: string[] = [];
  const errors: Error[] = [];
  const reads: { afterId: string; answer(fail?: boolean): void }[] = [];
  const entry = (n: number): RawEntry => [`${n}-0`, ['v', '1', 'data', `e${n}`]];
  const readCount = options.readCount ?? 100;
  const feed = new ChannelFeed((ev: StoredEvent) => delivered.push(ev.id), {
    readAfter: (afterId) =>
      new Promise<Run>((resolve, reject) => {
        const answer = (fail = false): void => {
          if (fail) reject(new Error('read failed'));
          else
            resolve({
              from: afterId,
              entries: stream.filter(([id]) => compareStreamIds(id, afterId) > 0).slice(0, readCount),
            });
        };
        if (options.auto) answer();
        else reads.push({ afterId, answer });
      }),
    readCount,
    retryMs: 10,
    onError: (err) => errors.push(err),
  });
  /** Appends entry n to the stream; returns it with the id of the entry before it. */
  const append = (n: number): { previous: string; entry: RawEntry } => {
    const previous = stream.at(-1)?.[0] ?? '0-0';
    stream.push(entry(n));
    return { previous, entry: entry(n) };
  };
  /** Appends entry n and offers it as its live message. */
  const live = (n: number): void => {
    const { previous, entry: appended } = append(n);
    feed.offer(previous, [appended]);
  };
  const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  return {
    stream,
    delivered,
    errors,
    reads,
    feed,
    append,
    live,
    tick,
    ids: (...ns: number[]) => ns.map((n) => `${n}-0`),
  };
}

test('live runs that continue delivery are delivered at once, in order; an id already delivered is dropped', () => {
  const { feed, live, delivered, ids, stream } = setup();
  feed.start('0-0');
  live(1);
  live(2);
  feed.offer('1-0', [stream[1]!]); // the same entry again (e.g. a history read that overlaps)
  live(3);
  expect(delivered).toEqual(ids(1, 2, 3));
});

test('a hole (previous id after the last delivered) is filled by a read first; runs arriving meanwhile follow', async () => {
  const { feed, live, append, delivered, ids, reads, tick } = setup();
  feed.start('0-0');
  live(1);
  append(2); // its live message is lost
  live(3); // shows the hole
  expect(delivered).toEqual(ids(1));
  expect(reads.map((read) => read.afterId)).toEqual(['1-0']);
  live(4); // arrives during the fill: waits
  reads[0]!.answer(); // the read sees 2, 3 and 4
  await tick();
  live(5);
  expect(delivered).toEqual(ids(1, 2, 3, 4, 5));
  expect(reads).toHaveLength(1);
});

test('runs before the start position wait; the start drops what it already covers', () => {
  const { feed, live, delivered, ids } = setup();
  live(1);
  live(2);
  live(3);
  feed.start('2-0'); // the stream's end when the channel was subscribed
  live(4);
  expect(delivered).toEqual(ids(3, 4));
});

test('a catch-up asked for during a fill reads once more after it (its first read may have come too early)', async () => {
  const { feed, live, append, delivered, ids, reads, tick } = setup();
  feed.start('0-0');
  live(1);
  feed.catchUp();
  expect(reads).toHaveLength(1);
  reads[0]!.answer(); // sees nothing new
  append(2); // published after that read, while the live connection was away
  feed.catchUp(); // the connection is back
  await tick();
  expect(reads).toHaveLength(2);
  reads[1]!.answer();
  await tick();
  expect(delivered).toEqual(ids(1, 2));
});

test('a long hole is read in several reads of readCount', async () => {
  const { feed, live, append, delivered, tick } = setup({ auto: true, readCount: 3 });
  feed.start('0-0');
  for (let n = 1; n <= 10; n++) append(n);
  live(11);
  for (let i = 0; i < 10; i++) await tick();
  expect(delivered).toEqual(Array.from({ length: 11 }, (_, i) => `${i + 1}-0`));
});

test('reached() resolves once the entry is delivered (or the feed closes); a failed read is reported and tried again', async () => {
  const { feed, live, append, delivered, reads, errors, tick } = setup();
  feed.start('0-0');
  live(1);
  await expect(feed.reached('1-0')).resolves.toBeUndefined();
  append(2);
  let reached = false;
  void feed.reached('2-0').then(() => {
    reached = true;
  });
  feed.offer('0-0', [
    ['1-0', []],
    ['2-0', ['v', '1', 'data', 'e2']],
  ]); // a history read that continues delivery
  await tick();
  expect(reached).toBe(true);
  append(3);
  live(4);
  expect(reads).toHaveLength(1);
  reads[0]!.answer(true);
  await tick();
  expect(errors.map((err) => err.message)).toEqual(['read failed']);
  await waitFor('the failed read to be tried again (retryMs 10)', () => reads.length === 2);
  reads[1]!.answer();
  await tick();
  expect(delivered).toEqual(['1-0', '2-0', '3-0', '4-0']);
  let released = false;
  void feed.reached('9-0').then(() => {
    released = true;
  });
  feed.close();
  await tick();
  expect(released).toBe(true);
});
