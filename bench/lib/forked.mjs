// What the separate multi-process benchmarks (redis-fanout.mjs, runs.mjs) share: a forked role of the same script
// talked to over IPC, the raw-socket event stream their load clients open, and the "until every event arrived, or
// nothing came for a while" wait of those clients.
import { fork } from 'node:child_process';
import { connect } from 'node:net';
import { nowUs } from './payload.mjs';
import { StreamReader } from './stream-reader.mjs';

/**
 * Forks `script` (a file URL) with `env` added; returns `{ child, next, ask }`: `next()` resolves to its next
 * message, `ask(msg)` sends `msg` and resolves to the reply.
 */
export function forkRole(script, env, execArgv = []) {
  const child = fork(script, [], { env: { ...process.env, ...env }, execArgv });
  const replies = [];
  const waiting = [];
  child.on('message', (msg) => (waiting.length > 0 ? waiting.shift()(msg) : replies.push(msg)));
  const next = () => (replies.length > 0 ? Promise.resolve(replies.shift()) : new Promise((r) => waiting.push(r)));
  const ask = (msg) => {
    child.send(msg);
    return next();
  };
  return { child, next, ask };
}

/** Resolves once `received()` reaches `target`, or once it has not moved for `quietMs` (the rest is lost). */
export async function untilAllOrQuiet(received, target, quietMs = 3000) {
  let seen = received();
  let progressAt = Date.now();
  while (received() < target && Date.now() - progressAt < quietMs) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (received() !== seen) [seen, progressAt] = [received(), Date.now()];
  }
}

/**
 * Opens `GET path` on 127.0.0.1:`port` as a raw socket; `onEvent(seq, sentUs, readUs)` gets each event with the time
 * its chunk was read. Resolves to the socket once the response head arrived.
 */
export function openEventStream(port, path, onEvent) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let now = 0;
    const reader = new StreamReader(
      () => resolve(socket),
      (seq, sentUs) => onEvent(seq, sentUs, now),
    );
    socket.on('data', (buf) => {
      now = nowUs();
      reader.feed(buf);
    });
    socket.on('error', () => {});
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`);
  });
}
