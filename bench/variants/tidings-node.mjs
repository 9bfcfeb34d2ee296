// Tidings on plain node:http: SseEmitter.attach + a ChannelRegistry channel; broadcast encodes once.
import { createServer } from 'node:http';
import { ChannelRegistry, SseEmitter } from '@tidings/core';
import { listen, streamSingle, tidingsVariant } from './common.mjs';

export async function create() {
  const registry = new ChannelRegistry();
  const channel = registry.channel('bench');
  const server = createServer((req, res) => {
    const em = new SseEmitter().attach(req, res);
    if (req.url.startsWith('/single'))
      streamSingle(
        req.url,
        (text) => em.send(text),
        () => em.complete(),
      );
    else channel.subscribe(em);
  });
  const port = await listen(server);
  return tidingsVariant(port, registry, channel, server);
}
