// Encoder throughput: events/s for `encodeEvent` on the payloads of issue 2, measured on the built ESM output
// of @tidings/core (run `pnpm build` first). Each case is warmed up, then timed for a few seconds of wall clock.
//
//   node bench/encode.mjs               3 s a case (default)
//   node bench/encode.mjs --seconds 5   longer runs, steadier figures
//   node bench/encode.mjs --quick       0.3 s a case: a smoke run that checks the script works
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';

const built = new URL('../packages/core/dist/esm/index.js', import.meta.url);
if (!existsSync(built)) {
  console.error('bench/encode.mjs measures the built package: run `pnpm build` first.');
  process.exit(1);
}
const { encodeEvent, event } = await import(built.href);

const { values } = parseArgs({ options: { seconds: { type: 'string' }, quick: { type: 'boolean' } } });
const seconds = values.quick ? 0.3 : Number(values.seconds ?? 3);
const warmupSeconds = Math.min(1, seconds);

/** A JSON object whose JSON text is exactly 100 bytes. */
function jsonObject100() {
  const obj = { id: 1234567, kind: 'price', symbol: 'ACME', bid: 101.25, ask: 101.5, note: '' };
  obj.note = 'x'.repeat(100 - JSON.stringify(obj).length);
  return obj;
}

/** 1 KiB of text on 16 lines (15 LFs; the last line is one byte longer). */
const multiLine1KiB = Array.from({ length: 16 }, (_, i) => `line ${String(i).padStart(2, '0')} `.padEnd(63, '.'))
  .join('\n')
  .padEnd(1024, '.');

const obj = jsonObject100();
const cases = [
  {
    name: '100 B JSON object',
    payloadBytes: JSON.stringify(obj).length,
    encode: (i) => encodeEvent({ id: i, event: 'price', data: obj }),
  },
  {
    name: '100 B JSON object, event() builder',
    payloadBytes: JSON.stringify(obj).length,
    encode: (i) => encodeEvent(event({ id: i, event: 'price', data: obj })),
  },
  {
    name: '1 KiB multi-line string (16 lines)',
    payloadBytes: Buffer.byteLength(multiLine1KiB),
    encode: (i) => encodeEvent({ id: i, data: multiLine1KiB }),
  },
  {
    name: '1 KiB multi-line string, to UTF-8 bytes',
    payloadBytes: Buffer.byteLength(multiLine1KiB),
    encode: (i) => Buffer.from(encodeEvent({ id: i, data: multiLine1KiB })),
  },
];

/** Runs `encode` in batches until `seconds` have passed; returns events and elapsed ns. */
function time(encode, forSeconds) {
  const budget = BigInt(Math.round(forSeconds * 1e9));
  const start = process.hrtime.bigint();
  let events = 0;
  let bytes = 0;
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let n = 0; n < 10_000; n++) bytes += encode(events++).length;
    elapsed = process.hrtime.bigint() - start;
  }
  return { events, ns: Number(elapsed), bytes };
}

const rows = [];
for (const c of cases) {
  time(c.encode, warmupSeconds);
  const { events, ns, bytes } = time(c.encode, seconds);
  rows.push({
    case: c.name,
    'payload B': String(c.payloadBytes),
    'frame B': String(Math.round(bytes / events)),
    'events/s': Math.round((events / ns) * 1e9).toLocaleString('en-US'),
    'ns/event': ((ns / events) | 0).toString(),
  });
}

const columns = Object.keys(rows[0]);
const widths = columns.map((col) => Math.max(col.length, ...rows.map((r) => r[col].length)));
const line = (cells) =>
  `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join(' | ')} |`;
console.log(`encodeEvent throughput, Node ${process.version}, ${seconds} s a case after ${warmupSeconds} s warm-up\n`);
console.log(line(columns));
console.log(`|${widths.map((w, i) => (i === 0 ? ` ${'-'.repeat(w)} ` : ` ${'-'.repeat(w - 1)}: `)).join('|')}|`);
for (const row of rows) console.log(line(columns.map((col) => row[col])));
