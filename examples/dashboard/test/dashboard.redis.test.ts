/**
 * Two dashboard servers, one Fastify and one Express, sharing the chat through Redis (REDIS_URL, as
 * `pnpm start` with REDIS_URL set): a page on one server sees what is posted on the other, and a page whose
 * connection is dropped catches up from the Redis log. Needs Redis on 127.0.0.1:6379 (CI starts one).
 */

import { describeWith } from '@tidings/testkit';
import { Redis } from 'ioredis';
import type { Browser, BrowserContext } from 'playwright-core';
import {
  chatLines,
  dropAndMiss,
  launchChromium,
  openDashboard,
  postChat,
  replayedAfterDrop,
  type Server,
  startServer,
  stopServer,
  waitForChatText,
} from './support';

describeWith(['chromium', 'redis'], 'two dashboard servers sharing Redis, in Chromium', () => {
  const REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  /** A key prefix of its own, so this run sees no chat history from earlier runs or a running demo. */
  const REDIS_PREFIX = `tidings-dashboard-test-${process.pid}-${Date.now()}`;

  let browser: Browser;
  let context: BrowserContext;
  let fastifyNode: Server | undefined;
  let expressNode: Server | undefined;

  beforeAll(async () => {
    const env = { REDIS_URL, REDIS_PREFIX };
    // Each result is kept as soon as it exists, so afterAll stops whatever started even when another part failed.
    const started = await Promise.allSettled([
      launchChromium().then((launched) => {
        browser = launched;
      }),
      startServer('fastify', env).then((server) => {
        fastifyNode = server;
      }),
      startServer('express', env).then((server) => {
        expressNode = server;
      }),
    ]);
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    context = await browser.newContext();
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await Promise.all([stopServer(fastifyNode), stopServer(expressNode)]);
    const redis = new Redis(REDIS_URL);
    await redis.del(`${REDIS_PREFIX}:chat`);
    await redis.quit();
  });

  test('a message posted on the Fastify server appears live on a page served by Express', async () => {
    const page = await openDashboard(context, expressNode!.url);
    expect(await page.textContent('#node')).toContain('express · redis registry');
    await postChat(context, fastifyNode!, 'from the other node');
    await waitForChatText(page, 'from the other node');
    expect((await chatLines(page)).filter((line) => line.text === 'from the other node')).toEqual([
      { id: expect.stringMatching(/^\d+-\d+$/), text: 'from the other node', tag: 'live' },
    ]);
    await page.close();
  });

  test('a page dropped by one server catches up from the Redis log, each missed message once', async () => {
    const page = await openDashboard(context, expressNode!.url);
    const before = await postChat(context, fastifyNode!, 'before the drop');
    await waitForChatText(page, 'before the drop');

    const missed = ['missed on node one', 'missed on node two'];
    const post = (text: string) => postChat(context, fastifyNode!, text);
    expect(await dropAndMiss(page, post, missed, before)).toEqual(replayedAfterDrop(missed));
    expect(await page.textContent('#conn-log')).toContain(`hello: the server resumes after ${before}`);
    await page.close();
  });
});
