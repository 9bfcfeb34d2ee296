// The load client of channels.mjs and storm.mjs: a process (started with lib/workers.mjs' startWorker) holding
// numbered raw HTTP/1.1 connections. Connection i keeps its state across a drop and a reopen: the last event id
// it read (sent back as `Last-Event-ID` on a resume) and the events it still expects. Over IPC:
//   { cmd: 'open', port, paths, count, wave, resume, ids, events } → { connected, failed }: connection i requests
//       paths[i % paths.length], `wave` at a time (0: all at once); with `resume` each sends the last id it read.
//       Each must then read the `ids` in order, or `events` events when the stream has no ids.
//   { cmd: 'expect', quietMs } → once every connection read what it must since its open, or nothing came for
//       `quietMs`: received, lost, duplicated, out of order, and ms from the open's start until every head arrived
//       and until every connection was complete (null when one never was).
//   { cmd: 'drop' } → destroys every socket (the client going away), keeps the connections' state.
//   { cmd: 'close' } → exits.
import { connect } from 'node:net';
import { StreamReader } from './lib/stream-reader.mjs';
import { answerCalls } from './lib/workers.mjs';

/** Every socket reads into this one buffer (`onread`); the reader copies what it keeps. */
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

class Connection {
  /** The last `id:` the connection read, over all its opens. */
  lastId = undefined;
  /** Ids read since the last open (to find duplicates and loss against the expected list). */
  ids = [];
  /** Events read since the last open. */
  received = 0;
  /** When the head of the last open arrived, and when the last expected event did (ms, performance.now()). */
  headAt = 0;
  doneAt = 0;
  socket = undefined;
}

const connections = [];
const clock = { openedAt: 0 };
/** What each connection must read after its open: ids in order, or a number of events. */
const target = { ids: undefined, events: 0 };
let onProgress = () => {};

function open(conn, port, path, resume) {
  return new Promise((resolve) => {
    conn.ids = [];
    conn.received = 0;
    conn.doneAt = 0;
    conn.headAt = 0;
    const reader = new StreamReader(
      (status) => {
        conn.headAt = performance.now();
        if (isDone(conn)) conn.doneAt = conn.headAt;
        resolve(status === 200);
      },
      (_seq, _sentUs, id) => {
        conn.received++;
        if (id !== undefined) {
          conn.ids.push(id);
          conn.lastId = id;
        }
        if (conn.doneAt === 0 && isDone(conn)) conn.doneAt = performance.now();
        onProgress();
      },
      true,
    );
    const socket = connect({
      host: '127.0.0.1',
      port,
      onread: { buffer: READ_BUFFER, callback: (length, buf) => reader.feed(buf.subarray(0, length)) },
    });
    conn.socket = socket;
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(false));
    const lastId = resume && conn.lastId !== undefined ? `Last-Event-ID: ${conn.lastId}\r\n` : '';
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n${lastId}\r\n`);
  });
}

function isDone(conn) {
  const wanted = target.ids === undefined ? target.events : target.ids.length;
  return conn.received >= wanted;
}

/** Compares what connection `conn` read since its open with the expected ids (or count). */
function check(conn) {
  if (target.ids === undefined) {
    const lost = Math.max(0, target.events - conn.received);
    return { lost, duplicated: Math.max(0, conn.received - target.events), outOfOrder: 0 };
  }
  const seen = new Set(conn.ids);
  let outOfOrder = 0;
  for (let i = 0; i < conn.ids.length; i++) if (conn.ids[i] !== target.ids[i]) outOfOrder++;
  let lost = 0;
  for (const id of target.ids) if (!seen.has(id)) lost++;
  const wanted = new Set(target.ids);
  const extra = conn.ids.filter((id) => !wanted.has(id)).length;
  return { lost, duplicated: conn.ids.length - seen.size + extra, outOfOrder };
}

answerCalls({
  async open({ port, paths, count, wave = 0, resume = false, ids, events = 0 }) {
    target.ids = ids;
    target.events = events;
    clock.openedAt = performance.now();
    while (connections.length < count) connections.push(new Connection());
    let failed = 0;
    const step = wave > 0 ? wave : count;
    for (let i = 0; i < count; i += step) {
      const opened = [];
      for (let j = i; j < Math.min(count, i + step); j++)
        opened.push(open(connections[j], port, paths[j % paths.length], resume));
      for (const ok of await Promise.all(opened)) if (!ok) failed++;
    }
    return { connected: count - failed, failed };
  },
  async expect({ quietMs = 3000 }) {
    const cpu = process.cpuUsage();
    await new Promise((resolve) => {
      let progressAt = Date.now();
      onProgress = () => {
        progressAt = Date.now();
      };
      const poll = setInterval(() => {
        if (connections.every((c) => c.doneAt > 0) || Date.now() - progressAt > quietMs) {
          clearInterval(poll);
          resolve();
        }
      }, 5);
    });
    onProgress = () => {};
    const totals = { received: 0, lost: 0, duplicated: 0, outOfOrder: 0 };
    let lastHead = 0;
    let lastDone = 0;
    for (const conn of connections) {
      const { lost, duplicated, outOfOrder } = check(conn);
      totals.received += conn.received;
      totals.lost += lost;
      totals.duplicated += duplicated;
      totals.outOfOrder += outOfOrder;
      lastHead = Math.max(lastHead, conn.headAt);
      lastDone = conn.doneAt === 0 ? Number.POSITIVE_INFINITY : Math.max(lastDone, conn.doneAt);
    }
    const used = process.cpuUsage(cpu);
    return {
      ...totals,
      allHeadsMs: lastHead - clock.openedAt,
      allCaughtUpMs: lastDone - clock.openedAt,
      clientCpuMs: (used.user + used.system) / 1000,
    };
  },
  async drop() {
    await Promise.all(
      connections.map((conn) => {
        if (conn.socket.destroyed) return undefined;
        const closed = new Promise((resolve) => conn.socket.once('close', resolve));
        conn.socket.destroy();
        return closed;
      }),
    );
  },
  close() {
    setImmediate(() => process.exit(0));
  },
});
