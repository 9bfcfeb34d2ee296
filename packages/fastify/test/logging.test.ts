/**
 * Operators' logs: a slow client closed is normal operation (Fastify's logger at warn level, never error); a stream
 * that ends with a real error is logged at error level.
 */
import { ssePlugin } from '@tidings/fastify';
import Fastify, { type FastifyInstance } from 'fastify';

const WARN = 40;
const ERROR = 50;
const logged: Array<{ level: number; msg?: string; err?: { message?: string; code?: string } }> = [];
let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  app = Fastify({
    forceCloseConnections: true,
    logger: { level: 'info', stream: { write: (line: string) => void logged.push(JSON.parse(line)) } },
  });
  await app.register(ssePlugin);
  // maxBufferedBytes 1: the first frame is already more than the client may fall behind by.
  app.get('/slow', (_request, reply) => void reply.sse({ maxBufferedBytes: 1 }).send('x'));
  app.get('/fails', (_request, reply) => reply.sse().completeWithError(new Error('boom')));
  url = await app.listen({ port: 0, host: '127.0.0.1' });
});

afterAll(() => app.close());

async function streamLogs(path: string) {
  logged.length = 0;
  const res = await fetch(`${url}${path}`).catch(() => undefined);
  await res?.text().catch(() => undefined);
  const deadline = Date.now() + 5_000;
  const about = () => logged.filter((line) => line.level >= WARN);
  while (about().length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  return about();
}

test('a slow client closed is logged at warn level, never as an error', async () => {
  const lines = await streamLogs('/slow');
  expect(lines).toEqual([
    expect.objectContaining({ level: WARN, err: expect.objectContaining({ code: 'SSE_ERR_SLOW_CLIENT' }) }),
  ]);
});

test('a stream ending with an error is logged at error level', async () => {
  const lines = await streamLogs('/fails');
  expect(lines).toEqual([expect.objectContaining({ level: ERROR, err: expect.objectContaining({ message: 'boom' }) })]);
});
