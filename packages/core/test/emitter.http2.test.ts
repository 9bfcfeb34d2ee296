/**
 * SseEmitter on node:http2's compatibility API (h2c on loopback) with an http2.connect client: headers
 * without `Connection` sent at once, events delivered, disconnect seen.
 */
import { once } from 'node:events';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { event, keepAliveTimerCount, SseEmitter } from '@tidings/core';
import { deferred, parseStream, settle, waitFor } from '@tidings/testkit';

let server: http2.Http2Server;
let session: http2.ClientHttp2Session;
let next: (em: SseEmitter) => void;
const warnings: Error[] = [];
const onWarning = (w: Error): void => {
  warnings.push(w);
};

beforeAll(async () => {
  process.on('warning', onWarning);
  server = http2.createServer((req, res) => {
    next(new SseEmitter({ keepAlive: false }).attach(req, res));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  session = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  await once(session, 'connect');
});
afterAll(async () => {
  process.off('warning', onWarning);
  session.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Opens a stream; resolves with the emitter serving it, the response headers and the body read so far. */
async function open() {
  const attached = deferred<SseEmitter>();
  next = attached.resolve;
  const stream = session.request({ ':path': '/events', accept: 'text/event-stream' });
  let body = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    body += chunk;
  });
  const [headers] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
  return { em: await attached.promise, stream, headers, body: () => body };
}

test('headers go out at once, without Connection, and events arrive', async () => {
  const { em, stream, headers, body } = await open();
  // The response event fired before anything was sent: writeHead alone put the HEADERS frame on the wire.
  expect(body()).toBe('');
  expect(headers[':status']).toBe(200);
  expect(headers['content-type']).toBe('text/event-stream; charset=utf-8');
  expect(headers['cache-control']).toBe('no-cache, no-transform');
  expect(headers['x-accel-buffering']).toBe('no');
  expect(headers).not.toHaveProperty('connection');

  await em.send(event({ event: 'add', id: '1', data: { n: 1 } }));
  await em.send('two\nlines');
  await waitFor('two events over h2', () => parseStream(body()).events.length === 2, { source: stream });
  em.complete();
  await once(stream, 'end');
  expect(parseStream(body()).events).toEqual([{ event: 'add', id: '1', data: '{"n":1}' }, { data: 'two\nlines' }]);
  expect(warnings.filter((w) => w.name === 'UnsupportedWarning')).toEqual([]);
});

test('a client that resets its stream completes the emitter once', async () => {
  const { em, stream } = await open();
  let completions = 0;
  em.onCompletion(() => completions++);
  stream.close(http2.constants.NGHTTP2_CANCEL);
  await waitFor('the emitter to see the reset', () => em.state === 'completed');
  await expect(em.send('late')).rejects.toMatchObject({ code: 'SSE_ERR_CLOSED' });
  await settle();
  expect(completions).toBe(1);
  expect(keepAliveTimerCount()).toBe(0);
});
