/**
 * Operators' logs: a slow client closed is normal operation (console.warn, never console.error); a stream that
 * ends with a real error is logged at error level. `onStreamError` replaces both.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sse } from '@tidings/express';
import express from 'express';

let server: Server;
let base: string;
let streamErrors: unknown[] | undefined;

beforeAll(async () => {
  const app = express();
  // maxBufferedBytes 1: the first frame is already more than the client may fall behind by.
  const slow = (_req: express.Request, res: express.Response) => void res.sse({ maxBufferedBytes: 1 }).send('x');
  app.get('/custom/slow', sse({ onStreamError: (err) => streamErrors!.push(err) }), slow);
  app.use(sse());
  app.get('/slow', slow);
  app.get('/fails', (_req, res) => res.sse().completeWithError(new Error('boom')));
  server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function hit(path: string): Promise<void> {
  const res = await fetch(`${base}${path}`).catch(() => undefined);
  await res?.text().catch(() => undefined);
}

async function logsOf(path: string) {
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});
  const error = jest.spyOn(console, 'error').mockImplementation(() => {});
  try {
    await hit(path);
    const deadline = Date.now() + 5_000;
    while (warn.mock.calls.length + error.mock.calls.length === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return { warn: warn.mock.calls.map(String), error: error.mock.calls.map(String) };
  } finally {
    warn.mockRestore();
    error.mockRestore();
  }
}

test('a slow client closed is logged at warn level, never as an error', async () => {
  const logs = await logsOf('/slow');
  expect(logs.error).toEqual([]);
  expect(logs.warn).toEqual([expect.stringContaining('SSE_ERR_SLOW_CLIENT')]);
});

test('a stream ending with an error is logged at error level', async () => {
  const logs = await logsOf('/fails');
  expect(logs.warn).toEqual([]);
  expect(logs.error).toEqual([expect.stringContaining('boom')]);
});

test('onStreamError replaces the console for both', async () => {
  streamErrors = [];
  const logs = await logsOf('/custom/slow');
  const deadline = Date.now() + 5_000;
  while (streamErrors.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(streamErrors).toEqual([expect.objectContaining({ code: 'SSE_ERR_SLOW_CLIENT' })]);
  expect(logs).toEqual({ warn: [], error: [] });
});
