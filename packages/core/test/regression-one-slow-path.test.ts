/**
 * One slow-client path (issue 11): live events held for a subscriber that has not caught up count against the
 * stream's own `maxBufferedBytes` (not a channel-wide constant), and going past it closes the client the way a
 * slow socket does: the connection is destroyed, `onError` and later sends get `SSE_ERR_SLOW_CLIENT`, and it is
 * counted once in `stats().slowClosed`.
 */
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as net from 'node:net';
import { ChannelRegistry, SseEmitter } from '@tidings/core';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

const KIB = 1024;
const payload = (kib: number) => 'x'.repeat(kib * KIB);

describe('held live events and maxBufferedBytes', () => {
  test('a pending subscriber may hold up to its own limit, past the old 1 MiB channel-wide cap', async () => {
    const registry = new ChannelRegistry({ history: 0 });
    const em = new SseEmitter({ maxBufferedBytes: 4 * 1024 * KIB, keepAlive: false });
    const errors: unknown[] = [];
    em.onError((err) => errors.push(err));
    registry.channel('big').subscribe(em);
    for (let i = 0; i < 24; i++) await registry.broadcast('big', payload(64)); // 1.5 MiB held while pending
    expect(em.state).toBe('pending');
    expect(errors).toEqual([]);
    expect(registry.stats().slowClosed).toBe(0);
  });

  test('past its own limit a pending subscriber is closed as slow: onError, sends and stats agree', async () => {
    const registry = new ChannelRegistry({ history: 0 });
    const em = new SseEmitter({ maxBufferedBytes: 64 * KIB, keepAlive: false });
    const errors: unknown[] = [];
    em.onError((err) => errors.push(err));
    registry.channel('big').subscribe(em);
    for (let i = 0; i < 5; i++) await registry.broadcast('big', payload(16));
    expect(em.state).toBe('completed');
    expect(errors).toEqual([expect.objectContaining({ code: 'SSE_ERR_SLOW_CLIENT' })]);
    await expect(em.send('late')).rejects.toMatchObject({ code: 'SSE_ERR_SLOW_CLIENT' });
    expect(registry.stats().slowClosed).toBe(1);
    expect(registry.channel('big').size).toBe(0);
  });

  test('a resuming client whose replay waits on a stalled socket is destroyed once held events pass its limit', async () => {
    // 32 MiB of replay (64 KiB events): more than loopback socket buffers take, so the replay must wait for a drain that never comes.
    const registry = new ChannelRegistry({ history: 512 });
    const channel = registry.channel('replay');
    let first: string | undefined;
    for (let i = 0; i < 512; i++) {
      const id = await channel.broadcast(payload(64));
      first ??= id;
    }
    let served: SseEmitter | undefined;
    const errors: unknown[] = [];
    const server = http.createServer((req, res) => {
      served = new SseEmitter({ maxBufferedBytes: 256 * KIB, sendTimeout: 60_000, keepAlive: false });
      served.onError((err) => errors.push(err));
      channel.subscribe(served.attach(req, res));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanups.push(() => {
      server.closeAllConnections();
      server.close();
    });
    // A client that asks for the replay and never reads: the replay waits for drain, live events are held.
    const socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
    cleanups.push(() => socket.destroy());
    socket.pause();
    socket.write(`GET /replay HTTP/1.1\r\nHost: 127.0.0.1\r\nLast-Event-ID: ${first}\r\n\r\n`);
    await waitFor(() => channel.size === 1, 'the subscriber');
    const closed = once(socket, 'close');
    for (let i = 0; i < 40 && served!.state === 'open'; i++) {
      await channel.broadcast(payload(16));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(served!.state).toBe('completed');
    expect(errors).toEqual([
      expect.objectContaining({
        code: 'SSE_ERR_SLOW_CLIENT',
        message: expect.stringContaining('before the client had caught up'),
      }),
    ]);
    expect(registry.stats().slowClosed).toBe(1);
    socket.resume(); // let the client see the end: the server destroyed the connection
    await closed;
  });
});

async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
