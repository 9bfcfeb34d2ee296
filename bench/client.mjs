// The load client: a separate process (pinned to its own core by run.mjs) that opens raw HTTP/1.1 connections
// with `net` (no HTTP library), parses the chunked event stream, and measures per-event latency (the send
// time is in the payload), loss, order and bytes. Driven by run.mjs over IPC:
//   { cmd: 'connect', port, path, count, slow, events } → { connected, failed }
//   { cmd: 'collect', stallMs } → the figures, once every reading connection has `events` events (or stalls)
//   { cmd: 'close' } → closes every socket and exits
import { connect } from 'node:net';
import { nowUs } from './lib/payload.mjs';
import { latencySummary } from './lib/stats.mjs';
import { StreamReader } from './lib/stream-reader.mjs';

const CONNECT_WAVE = 250;
/** Every socket reads into this one buffer (`onread`): no allocation per read, the readers copy what they keep. */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

class Connection {
  received = 0;
  next = 0;
  outOfOrder = 0;
  closed = false;
  reader;
  socket;
  constructor(reader, socket) {
    this.reader = reader;
    this.socket = socket;
  }
}

const run = {
  connections: [],
  /** Connections that read (the others are stalled on purpose). */
  readers: 0,
  target: 0,
  complete: 0,
  latencies: new Float64Array(0),
  count: 0,
  received: 0,
  now: 0,
  firstRecvUs: 0,
  lastRecvUs: 0,
  /** The earliest send time seen: the start of the run, on the server's clock (which is the client's). */
  firstSentUs: Number.MAX_SAFE_INTEGER,
  lastProgress: Date.now(),
  onComplete: undefined,
};

function openConnection(port, path, stalled) {
  return new Promise((resolve) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      onread: {
        buffer: READ_BUFFER,
        callback(length, buf) {
          run.now = nowUs();
          reader.feed(buf.subarray(0, length));
        },
      },
    });
    socket.setNoDelay(true);
    let settled = false;
    const settle = (ok) => {
      if (settled) return;
      settled = true;
      resolve(ok ? conn : undefined);
    };
    const reader = new StreamReader(
      (status) => {
        if (stalled) socket.pause(); // never reads again: the kernel buffers fill, then the server's
        settle(status === 200);
      },
      (seq, sentUs) => onEvent(conn, seq, sentUs),
    );
    const conn = new Connection(reader, socket);
    socket.on('close', () => {
      conn.closed = true;
      settle(false);
    });
    socket.on('error', () => {});
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
  });
}

function onEvent(conn, seq, sentUs) {
  const now = run.now;
  if (run.count < run.latencies.length) run.latencies[run.count++] = (now - sentUs) / 1000;
  if (seq !== conn.next) conn.outOfOrder++;
  conn.next = seq + 1;
  if (sentUs < run.firstSentUs) run.firstSentUs = sentUs;
  if (run.firstRecvUs === 0) run.firstRecvUs = now;
  run.lastRecvUs = now;
  run.received++;
  if (++conn.received === run.target && ++run.complete === run.readers) run.onComplete?.();
}

async function connectAll({ port, path, count, slow, events }) {
  run.target = events;
  run.readers = count - slow;
  run.latencies = new Float64Array(run.readers * events);
  let failed = 0;
  for (let i = 0; i < count; i += CONNECT_WAVE) {
    const wave = [];
    for (let j = i; j < Math.min(count, i + CONNECT_WAVE); j++) wave.push(openConnection(port, path, j < slow));
    for (const conn of await Promise.all(wave)) {
      if (conn === undefined) failed++;
      else run.connections.push(conn);
    }
  }
  return { connected: run.connections.length, failed };
}

function collect({ stallMs }) {
  const cpu = process.cpuUsage();
  return new Promise((resolve) => {
    const finish = () => {
      clearInterval(watch);
      run.onComplete = undefined;
      const used = process.cpuUsage(cpu);
      resolve({ ...summary(), clientCpuMs: (used.user + used.system) / 1000 });
    };
    let seen = run.received;
    const watch = setInterval(() => {
      if (run.received !== seen) {
        seen = run.received;
        run.lastProgress = Date.now();
      } else if (Date.now() - run.lastProgress > stallMs) finish();
    }, 50);
    run.lastProgress = Date.now();
    run.onComplete = finish;
    if (run.readers > 0 && run.complete === run.readers) finish();
  });
}

function summary() {
  const readers = run.connections.slice(run.connections.length - run.readers);
  const stalled = run.connections.slice(0, run.connections.length - run.readers);
  let outOfOrder = 0;
  let wireBytes = 0;
  let bodyBytes = 0;
  for (const c of readers) {
    outOfOrder += c.outOfOrder;
    wireBytes += c.reader.wireBytes;
    bodyBytes += c.reader.bodyBytes;
  }
  const expected = readers.length * run.target;
  return {
    readers: readers.length,
    expected,
    received: run.received,
    lost: Math.max(0, expected - run.received),
    outOfOrder,
    closedReaders: readers.filter((c) => c.closed).length,
    stalledClosed: stalled.filter((c) => c.closed).length,
    wireBytes,
    bodyBytes,
    firstSentUs: run.firstSentUs,
    firstRecvUs: run.firstRecvUs,
    lastRecvUs: run.lastRecvUs,
    latencyMs: latencySummary(run.latencies, run.count),
  };
}

process.on('message', async (msg) => {
  let result;
  if (msg.cmd === 'connect') result = await connectAll(msg);
  else if (msg.cmd === 'collect') result = await collect(msg);
  else if (msg.cmd === 'close') {
    for (const c of run.connections) c.socket.destroy();
    process.send({ id: msg.id }, () => process.exit(0));
    return;
  }
  process.send({ id: msg.id, ...result });
});
process.send({ ready: true });
