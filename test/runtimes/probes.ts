/**
 * Client side of handlers/probe.mjs: each probe opens a stream on a running server, does one thing a real
 * client does (leaves, stays silent, reads slowly), and returns what the client saw and what the server's
 * stream recorded.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface StreamLog {
  found: boolean;
  events: { what: 'write' | 'write-failed' | 'abort' | 'cancel'; at: number; detail?: string }[];
  written: number;
  produced: number;
}

let counter = 0;
const newId = (): string => `p${process.pid}-${++counter}`;

/** What stream `id` recorded on the server. */
export async function streamLog(origin: string, id: string): Promise<StreamLog> {
  return (await (await fetch(`${origin}/log?id=${id}`)).json()) as StreamLog;
}

interface Opened {
  id: string;
  sentAt: number;
  headersAt: number;
  response: IncomingMessage;
  body: () => string;
  firstByteAt: () => number | undefined;
  /** Resolves to when the response ended or its connection closed. */
  closed: Promise<number>;
  leave: () => void;
}

/** GET `path` (with `id=` added) on a fresh connection; resolves once the response head arrived. */
function open(origin: string, path: string): Promise<Opened> {
  const id = newId();
  const sentAt = Date.now();
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${origin}${path}${path.includes('?') ? '&' : '?'}id=${id}`, { agent: false });
    req.once('error', reject);
    req.once('response', (response) => {
      const headersAt = Date.now();
      let body = '';
      let firstByteAt: number | undefined;
      response.on('data', (chunk: Buffer) => {
        firstByteAt ??= Date.now();
        body += chunk.toString();
      });
      const closed = new Promise<number>((done) => {
        response.once('end', () => done(Date.now()));
        response.once('close', () => done(Date.now()));
        response.once('error', () => done(Date.now()));
      });
      resolve({
        id,
        sentAt,
        headersAt,
        response,
        closed,
        body: () => body,
        firstByteAt: () => firstByteAt,
        leave: () => req.destroy(),
      });
    });
    req.end();
  });
}

async function firstByte(stream: Opened, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (stream.firstByteAt() === undefined) {
    if (Date.now() > deadline) throw new Error('no body byte in time');
    await sleep(10);
  }
}

export interface Leaving {
  /** ms from the client leaving to `request.signal` aborting; undefined: it never did. */
  abortAfterMs?: number;
  /** ms from the client leaving to the body's cancel(); undefined: never. */
  cancelAfterMs?: number;
  /** Writes the stream made after the client left and before cancel() (they went nowhere). */
  writesAfterLeaving: number;
}

/** The client reads the opening comment, then closes its connection; `every` ms between writes (0: none). */
export async function leave(origin: string, every: number, waitMs = 1500): Promise<Leaving> {
  const stream = await open(origin, `/sse?every=${every}&delay=${every}`);
  await firstByte(stream);
  await sleep(50);
  const leftAt = Date.now();
  stream.leave();
  await sleep(waitMs);
  const { events } = await streamLog(origin, stream.id);
  const at = (what: string): number | undefined => events.find((e) => e.what === what)?.at;
  const cancelAt = at('cancel');
  const abortAt = at('abort');
  return {
    abortAfterMs: abortAt === undefined ? undefined : abortAt - leftAt,
    cancelAfterMs: cancelAt === undefined ? undefined : cancelAt - leftAt,
    writesAfterLeaving: events.filter((e) => e.what === 'write' && e.at >= leftAt && e.at <= (cancelAt ?? Infinity))
      .length,
  };
}

export interface Silent {
  /** The stream was cancelled while nothing was written and nothing was pending. */
  cancelled: boolean;
  /** What /push answered after the silence: 'written' or 'gone'. */
  push: string;
  /** The client received the event written by the other request. */
  delivered: boolean;
  /** The response ended (or its connection closed) during the silence. */
  ended: boolean;
}

/**
 * A stream stays silent `silenceMs` (with a timer pending that fires later, or with nothing pending at all),
 * then another request writes to it.
 */
export async function silentThenPush(origin: string, timerPending: boolean, silenceMs = 1500): Promise<Silent> {
  const later = silenceMs * 10;
  const stream = await open(origin, timerPending ? `/sse?every=${later}&delay=${later}` : '/sse?every=0');
  await firstByte(stream);
  const ended = await Promise.race([stream.closed.then(() => true), sleep(silenceMs, false)]);
  const push = await (await fetch(`${origin}/push?id=${stream.id}`)).text();
  const deadline = Date.now() + 2000; // the pushed event, if it reaches the client at all
  while (!stream.body().includes('data: pushed') && Date.now() < deadline) await sleep(20);
  const { events } = await streamLog(origin, stream.id);
  stream.leave();
  return {
    cancelled: events.some((e) => e.what === 'cancel'),
    push,
    delivered: stream.body().includes('data: pushed'),
    ended,
  };
}

/** Opens a stream that writes its opening comment and then nothing; ms until the server ended it, if it did. */
export async function idleCut(origin: string, waitMs: number): Promise<number | undefined> {
  const stream = await open(origin, '/sse?every=0');
  await firstByte(stream);
  const openedAt = Date.now();
  const closedAt = await Promise.race([stream.closed, sleep(waitMs, undefined)]);
  stream.leave();
  return closedAt === undefined ? undefined : closedAt - openedAt;
}

export interface HeadersTiming {
  /** Body writes the stream had made when the response head arrived: 0 when the head comes first. */
  writtenAtHead: number;
  /** ms from sending the request to the first body byte */
  firstByteMs: number;
}

/**
 * A stream that writes nothing until its first event after `delayMs`: did the head arrive before that write (an
 * order, read from the stream's own log, not a time), and when did the event arrive?
 */
export async function headersBeforeBody(origin: string, delayMs = 3000): Promise<HeadersTiming> {
  const stream = await open(origin, `/sse?first=none&every=${delayMs * 10}&delay=${delayMs}`);
  const { written } = await streamLog(origin, stream.id);
  await firstByte(stream, delayMs + 5000);
  stream.leave();
  return { writtenAtHead: written, firstByteMs: stream.firstByteAt()! - stream.sentAt };
}

/**
 * A pull-based stream and a client that reads its head, then stops reading: the bytes the stream produced once
 * the count stood still for 250 ms (or after 10 s), and `stallMs` later. Backpressure honoured: both are the few
 * MiB the socket buffers hold, and equal; ignored: the count never stands still, and the second is larger.
 */
export async function producedWhileStalled(origin: string, stallMs = 1000): Promise<[number, number]> {
  const id = newId();
  const { port, hostname } = new URL(origin);
  const socket = connect(Number(port), hostname);
  socket.write(`GET /bp?id=${id} HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`);
  await new Promise<void>((resolve) => socket.once('data', () => resolve()));
  socket.pause();
  const deadline = Date.now() + 10_000;
  let first = (await streamLog(origin, id)).produced;
  for (let previous = -1; first !== previous && Date.now() < deadline; ) {
    previous = first;
    await sleep(250);
    first = (await streamLog(origin, id)).produced;
  }
  await sleep(stallMs);
  const second = (await streamLog(origin, id)).produced;
  socket.destroy();
  return [first, second];
}
