/** Channels over Express and real sockets: the shared channel scenarios, wired to `sse({ registry })` and `res.sse()`. */
import type { Socket } from 'node:net';
import type { SseEmitter } from '@tidings/core';
import { sse } from '@tidings/express';
import { startServer } from '@tidings/testkit';
import * as scenarios from '@tidings/testkit/channel-scenarios';
import express from 'express';

const expressApp: scenarios.ChannelAppFactory = async (registry) => {
  const events = sse({ registry, onStreamError: () => {} }); // the stalled-client scenario checks its error itself
  const served: SseEmitter[] = [];
  const severalSockets: Socket[] = [];
  const app = express();
  app.use(events);
  app.get('/-/several', (req, res) => {
    severalSockets.push(req.socket);
    return res.sseChannels(String(req.query.c).split(','), { keepAlive: false });
  });
  app.get('/:channel', (req, res) => {
    const { emitter, subscribe } = scenarios.routeOptions(new URL(req.url, 'http://localhost').searchParams);
    const em = res.sse(emitter);
    served.push(em);
    registry.channel(req.params.channel).subscribe(em, subscribe);
  });
  const running = await startServer(app);
  let closing: Promise<void> | undefined;
  return {
    base: running.url,
    served,
    severalSockets,
    close: () => (closing ??= events.close().then(() => running.close())),
  };
};

describe('channels over Express', () => scenarios.channelScenarioTests(expressApp));
