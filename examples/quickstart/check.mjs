// The `--check` run of the quickstarts: reads a few streams the way a browser would, prints them, and fails
// loudly (exit code 1) when something is missing.
import { createParser } from 'eventsource-parser';

/** Reads `url` as an event stream until `enough(events)` holds or the server ends it; resolves to the events. */
async function read(url, headers = {}, enough = () => false) {
  const ac = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: ac.signal });
  const events = [];
  const parser = createParser({ onEvent: (ev) => events.push(ev) });
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body) {
      parser.feed(decoder.decode(chunk, { stream: true }));
      if (enough(events)) break;
    }
  } finally {
    ac.abort();
  }
  return events;
}

/** Checks the quickstart at `base`; `news` is its /news channel (broadcast to it, count its subscribers). */
export async function checkQuickstart(base, news) {
  const count = await read(`${base}/count`, { 'last-event-id': '10' });
  console.log('/count after Last-Event-ID 10:', count.map((e) => `${e.event}#${e.id}=${e.data}`).join(' '));
  const job = await read(`${base}/job`);
  console.log('/job:', job.map((e) => e.data).join(' '));
  const reading = read(`${base}/news`, {}, (events) => events.length === 1);
  while (news.size === 0) await new Promise((resolve) => setImmediate(resolve));
  await news.broadcast({ headline: 'Tidings works' });
  const [headline] = await reading;
  console.log('/news:', headline?.data);
  const ok = count.map((e) => e.data).join() === '11,12,13' && job.length === 3 && headline !== undefined;
  console.log(ok ? 'quickstart check passed' : 'quickstart check FAILED');
  if (!ok) process.exitCode = 1;
}
