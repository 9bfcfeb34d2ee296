/**
 * Backpressure over a real socket. The client is a raw TCP socket that sends its GET and never reads, so
 * the server's writes fill the kernel's buffers and then Node's. Assertions are on bytes and states, not time.
 */
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SseEmitter, type SseEmitterOptions } from '@tidings/core';
import { connectNeverReading, deferred, settle, waitFor } from '@tidings/testkit';
import { type Served, useEmitterServer } from './support/http';

const KiB = 1024;
const MiB = 1024 * KiB;
/** One event's data. */
const chunk = 'x'.repeat(64 * KiB);

/**
 * The most a stalled connection can hold in the kernel: the largest receive buffer plus the largest send
 * buffer (Linux limits; 64 MiB where they cannot be read). Past it, bytes can only wait in Node's buffer.
 */
function kernelBufferCeiling(): number {
  try {
    const max = (file: string) => Number(readFileSync(file, 'utf8').trim().split(/\s+/).at(-1));
    const ceiling = max('/proc/sys/net/ipv4/tcp_rmem') + max('/proc/sys/net/ipv4/tcp_wmem');
    return Number.isSafeInteger(ceiling) ? ceiling : 64 * MiB;
  } catch {
    return 64 * MiB;
  }
}
const stallBytes = kernelBufferCeiling() + 4 * MiB;

/** Bytes held by Buffers (ArrayBuffers) after a full garbage collection. */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
function heldBufferBytes(): number {
  gc();
  return process.memoryUsage().arrayBuffers;
}

const server = useEmitterServer();
const clients: Socket[] = [];
afterEach(() => {
  for (const socket of clients.splice(0)) socket.destroy();
});

/** A stalled client served by a fresh emitter with `options`, plus what was reported to its listeners. */
async function stalled(options: SseEmitterOptions) {
  const errors: unknown[] = [];
  let completions = 0;
  const completed = deferred();
  const served = server.serve(options, (em) => {
    em.onError((err) => errors.push(err));
    em.onCompletion(() => {
      completions++;
      completed.resolve();
    });
  });
  const client = await connectNeverReading(server.url);
  clients.push(client);
  const { em, res } = await served;
  return { em, res, socket: res.socket!, client, errors, completed: completed.promise, completions: () => completions };
}

/**
 * The slow client's connection is gone and nothing holds its frames: the destroyed socket's queued writes
 * are cancelled when it closes, its buffer counts drop to 0, and the Buffers can be collected.
 */
async function expectReleased(s: { socket: Socket; res: Served['res'] }, heldBefore: number): Promise<void> {
  expect(s.socket.destroyed).toBe(true);
  if (!s.socket.closed) await once(s.socket, 'close');
  await settle();
  expect(s.socket.writableLength).toBe(0);
  expect(s.res.writableLength).toBe(0);
  // V8 frees collected ArrayBuffers on a background thread: look again until the memory is accounted back.
  await waitFor('the frames to be garbage-collected', () => heldBufferBytes() - heldBefore < 4 * MiB);
}

/**
 * Sends 64 KiB events, all in one turn of the event loop, until more bytes were sent than the kernel can
 * hold for a client that does not read: the last send cannot be accepted until the client reads.
 */
function sendUntilBackpressured({ em }: Pick<Served, 'em'>): Promise<void> {
  let sent: Promise<void> = Promise.resolve();
  for (let bytes = 0; bytes < stallBytes; bytes += chunk.length) sent = em.send(chunk);
  return sent;
}

/** Whether `promise` has settled by the time the event loop has run for `ms`. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setTimeout(resolve, ms));
  return settled;
}

test('await send() waits while the client does not read, and resolves once it reads', async () => {
  const s = await stalled({ maxBufferedBytes: 2 * stallBytes, sendTimeout: 60_000 });
  const waiting = sendUntilBackpressured(s);
  expect(s.res.writableLength).toBeGreaterThan(0);
  expect(await settledWithin(waiting, 100)).toBe(false);
  expect(s.em.state).toBe('open');

  s.client.resume(); // the client starts reading
  await waiting;
  expect(s.em.state).toBe('open');
  expect(s.errors).toEqual([]);
  s.em.complete();
  await s.completed;
});

test('a client past maxBufferedBytes is closed with SSE_ERR_SLOW_CLIENT and its buffer released', async () => {
  const maxBufferedBytes = 256 * KiB;
  const s = await stalled({ maxBufferedBytes, sendTimeout: 60_000 });
  const before = heldBufferBytes();
  const sends: Array<Promise<void>> = [];
  let mostBuffered = 0;
  for (let i = 0; i < 2_000 && s.em.state === 'open'; i++) {
    sends.push(s.em.send(chunk));
    if (s.em.state === 'open') mostBuffered = Math.max(mostBuffered, s.res.writableLength);
  }
  expect(s.em.state).toBe('completed');
  expect(mostBuffered).toBeGreaterThan(0);
  expect(mostBuffered).toBeLessThanOrEqual(maxBufferedBytes);

  await s.completed;
  expect(s.errors).toEqual([expect.objectContaining({ code: 'SSE_ERR_SLOW_CLIENT', name: 'SseSlowClientError' })]);
  await expectReleased(s, before);
  // The send that overflowed (and any still waiting for drain) rejects with the reason; so does any later send.
  await expect(sends.at(-1)).rejects.toMatchObject({ code: 'SSE_ERR_SLOW_CLIENT' });
  await expect(s.em.send('more')).rejects.toMatchObject({ code: 'SSE_ERR_SLOW_CLIENT' });
  await expect(s.em.comment('more')).rejects.toMatchObject({ code: 'SSE_ERR_SLOW_CLIENT' });
  await settle();
  expect(s.completions()).toBe(1);
});

test('a write undrained past sendTimeout closes the client with SSE_ERR_SLOW_CLIENT and frees its buffer', async () => {
  const s = await stalled({ maxBufferedBytes: 2 * stallBytes, sendTimeout: 50 });
  const before = heldBufferBytes();
  const waiting = sendUntilBackpressured(s);
  expect(s.res.writableLength).toBeGreaterThan(stallBytes / 2);
  expect(heldBufferBytes() - before).toBeGreaterThan(stallBytes / 2);
  await expect(waiting).rejects.toMatchObject({ code: 'SSE_ERR_SLOW_CLIENT' });
  await s.completed;
  expect(s.errors).toEqual([expect.objectContaining({ code: 'SSE_ERR_SLOW_CLIENT' })]);
  expect(s.completions()).toBe(1);
  await expectReleased(s, before);
});

test('a client that disconnects while a send waits for drain rejects that send with SSE_ERR_CLOSED', async () => {
  const s = await stalled({ maxBufferedBytes: 2 * stallBytes, sendTimeout: 60_000 });
  const waiting = sendUntilBackpressured(s);
  s.client.destroy();
  await expect(waiting).rejects.toMatchObject({ code: 'SSE_ERR_CLOSED' });
  await s.completed;
  expect(s.errors).toEqual([]);
  expect(s.socket.destroyed).toBe(true);
});

test('complete() on a stalled client resolves waiting sends, then drops the socket after sendTimeout', async () => {
  const s = await stalled({ maxBufferedBytes: 2 * stallBytes, sendTimeout: 50 });
  const waiting = sendUntilBackpressured(s);
  s.em.complete();
  await waiting;
  await s.completed;
  await waitFor('the lingering response to be dropped', () => s.socket.destroyed);
});

test('sends before attach are bounded by maxBufferedBytes', async () => {
  const em = new SseEmitter({ maxBufferedBytes: 1024, keepAlive: false });
  await em.send('a'.repeat(600));
  await expect(em.send('b'.repeat(600))).rejects.toMatchObject({ code: 'SSE_ERR_SLOW_CLIENT' });
  expect(em.state).toBe('pending');
  em.complete();
});
