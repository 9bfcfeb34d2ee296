// The event payload every variant sends: `<seq> <send time in µs> <padding>`, exactly `size` bytes of ASCII.
// The send time is CLOCK_MONOTONIC (process.hrtime), which all processes on one machine share, so the load
// client can subtract it from its own receive time.

/**
 * Added to this process's clock: 0 under Node; under Bun (whose `process.hrtime` counts from its own start, not
 * from boot) what syncClock() measured.
 */
let offsetUs = Number.NEGATIVE_INFINITY;

/** Microseconds on the machine-wide monotonic clock. */
export function nowUs() {
  return Number(process.hrtime.bigint() / 1000n) + (offsetUs === Number.NEGATIVE_INFINITY ? 0 : offsetUs);
}

/**
 * One sample for a process whose hrtime is not the machine-wide one: `parentUs` is the parent's nowUs() when it
 * sent it. Each sample's estimate is early by the one-way IPC delay; the largest over several is the closest.
 */
export function syncClock(parentUs) {
  offsetUs = Math.max(offsetUs, parentUs - Number(process.hrtime.bigint() / 1000n));
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
