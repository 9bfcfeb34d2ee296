/**
 * HTTP/2 (`fastify({ http2: true })`) with a node:http2 client: the stream opens without connection-specific
 * headers (Node would warn and drop them), events arrive, a reset stream stops the iterable, close() ends streams.
 */
import * as http2 from 'node:http2';
import { event } from '@tidings/core';
import { ssePlugin } from '@tidings/fastify';
import { deferred, waitFor } from '@tidings/testkit';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import Fastify from 'fastify';

interface H2Stream {
  headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader;
  events: EventSourceMessage[];
  ended: Promise<void>;
  request: http2.ClientHttp2Stream;
}

function openH2(session: http2.ClientHttp2Session, path: string): Promise<H2Stream> {
  const request = session.request({ ':path': path, accept: 'text/event-stream' });
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (ev) => events.push({ ...ev }) });
  request.setEncoding('utf8');
  request.on('data', (text: string) => parser.feed(text));
  request.on('error', () => {});
  const ended = new Promise<void>((resolve) => request.once('close', () => resolve()));
  return new Promise((resolve) => request.once('response', (headers) => resolve({ headers, events, ended, request })));
}

describe('@tidings/fastify over HTTP/2', () => {
  const app = Fastify({ http2: true, forceCloseConnections: true });
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  const finallyRan = deferred();
  let session: http2.ClientHttp2Session;

  beforeAll(async () => {
    process.on('warning', onWarning);
    await app.register(ssePlugin, { keepAlive: false });
    app.get('/feed', { sse: true }, async function* () {
      yield event({ event: 'tick', id: '1', data: 'one' });
      yield 'two';
    });
    app.get('/open', (_request, reply) => {
      reply.header('x-custom', 'kept');
      void reply.sse().send(event({ event: 'hello', data: 'h2' }));
    });
    app.sse('/endless', async function* () {
      try {
        for (let n = 1; ; n++) {
          yield n;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      } finally {
        finallyRan.resolve();
      }
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    session = http2.connect(url);
  });
  afterAll(async () => {
    process.off('warning', onWarning);
    session.close();
    await app.close();
  });

  test('an iterable route streams with the stream headers and no connection-specific header', async () => {
    const stream = await openH2(session, '/feed');
    await stream.ended;
    expect(stream.headers[':status']).toBe(200);
    expect(stream.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.headers.connection).toBeUndefined();
    expect(stream.events.map((e) => [e.event, e.id, e.data])).toEqual([
      ['tick', '1', 'one'],
      [undefined, undefined, 'two'],
    ]);
    expect(warnings.filter((w) => w.name === 'UnsupportedWarning')).toEqual([]);
  });

  test('a client resetting its stream stops the iterable (finally runs)', async () => {
    const stream = await openH2(session, '/endless');
    await waitFor('two events over HTTP/2', () => stream.events.length >= 2);
    stream.request.close(http2.constants.NGHTTP2_CANCEL);
    await finallyRan.promise;
  });

  test('reply.sse() keeps headers, and app.close() ends the open stream', async () => {
    const stream = await openH2(session, '/open');
    expect(stream.headers['x-custom']).toBe('kept');
    await waitFor('the hello event', () => stream.events.length === 1);
    expect(stream.events[0]).toMatchObject({ event: 'hello', data: 'h2' });
    const closing = app.close();
    await stream.ended;
    await closing;
    expect(stream.request.rstCode).toBe(http2.constants.NGHTTP2_NO_ERROR);
    expect(stream.request.readableEnded).toBe(true);
  });
});
