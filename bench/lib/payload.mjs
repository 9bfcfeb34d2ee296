// The event payload every variant sends: `<seq> <send time in µs> <padding>`, exactly `size` bytes of ASCII.
// The send time is CLOCK_MONOTONIC (process.hrtime), which all processes on one machine share, so the load
// client can subtract it from its own receive time.

/** Microseconds on the machine-wide monotonic clock. */
export function nowUs() {
  return Number(process.hrtime.bigint() / 1000n);
}

const PADDING = 'x'.repeat(64 * 1024);

/** The data of event number `seq`, `size` bytes long (longer only when `size` cannot hold the two numbers). */
export function makePayload(seq, size) {
  const head = `${seq} ${nowUs()} `;
  return head.length >= size ? head : head + PADDING.slice(0, size - head.length);
}

/** Reads `?n=` and `?size=` from a `/single` request URL. */
export function singleParams(url) {
  const query = new URL(url, 'http://bench').searchParams;
  return { events: Number(query.get('n') ?? 1000), size: Number(query.get('size') ?? 100) };
}
