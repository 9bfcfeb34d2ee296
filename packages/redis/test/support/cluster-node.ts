/**
 * One server of a test cluster, run in its own process (see cluster.ts): an HTTP server whose
 * `/events/<channel>` streams a channel of a ChannelRegistry shared through redisAdapter(). The parent drives
 * it over IPC: `broadcast` (answers with the id) and `close`. onGap sends an event named `gap` with the
 * rejected id as data, so clients can see it.
 */
import { createServer } from 'node:http';
import { ChannelRegistry, event, isSseError, SseEmitter } from '@tidings/core';
import { redisAdapter } from '@tidings/redis';

export type NodeCommand =
  | { seq: number; cmd: 'broadcast'; channel: string; data: string }
  | { seq: number; cmd: 'close' };

export type NodeReply = { seq: number; id?: string; error?: { code: string; message: string } };

const registry = new ChannelRegistry({
  adapter: redisAdapter({
    redis: process.env.REDIS_URL!,
    prefix: process.env.REDIS_PREFIX!,
    timeout: Number(process.env.ADAPTER_TIMEOUT ?? 5000),
    blockMs: 1000,
  }),
  onGap: (_channel, lastEventId, em) => void em.send(event({ event: 'gap', data: lastEventId })),
});

const server = createServer((req, res) => {
  const match = /^\/events\/([\w-]+)/.exec(req.url ?? '');
  if (match === null) {
    res.writeHead(404).end();
    return;
  }
  const em = new SseEmitter({ keepAlive: false }).attach(req, res);
  registry.channel(match[1]!).subscribe(em);
});

function reply(message: NodeReply): void {
  process.send!(message);
}

process.on('message', (message: NodeCommand) => {
  if (message.cmd === 'broadcast') {
    registry.broadcast(message.channel, message.data).then(
      (id) => reply({ seq: message.seq, id }),
      (err: unknown) =>
        reply({
          seq: message.seq,
          error: { code: isSseError(err) ? err.code : 'UNKNOWN', message: String(err) },
        }),
    );
  } else {
    server.closeAllConnections();
    server.close();
    registry.close().then(() => {
      reply({ seq: message.seq });
      process.disconnect();
    });
  }
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send!({ port: typeof address === 'object' && address !== null ? address.port : 0 });
});
