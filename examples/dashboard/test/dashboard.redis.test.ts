/**
 * Two dashboard servers, one Fastify and one Express, sharing the chat through Redis (REDIS_URL, as
 * `pnpm start` with REDIS_URL set): a page on one server sees what is posted on the other, a page whose
 * connection is dropped catches up from the Redis log, and a Generation run started on one server is followed and
 * stopped from the other. Needs Redis on 127.0.0.1:6379 (CI starts one).
 */

import { describeWith } from '@tidings/testkit';
import { deleteKeys, uniquePrefix } from '@tidings/testkit/redis';
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
  const REDIS_PREFIX = uniquePrefix('dashboard');

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
    await deleteKeys(REDIS_URL, REDIS_PREFIX);
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

  test('Generation: a run started on Fastify goes on in a page of the Express server, and Stop there cancels the producer', async () => {
    const first = await openDashboard(context, fastifyNode!.url);
    await first.fill('#gen-prompt', 'tell me about two servers');
    await first.click('#gen-start');
    await first.waitForFunction(
      () => Number.parseInt(document.getElementById('gen-status')?.textContent ?? '', 10) >= 10,
    );
    const id = new URL(first.url()).searchParams.get('run')!;
    await first.close();
    // The same link on the other server: the run from its start, then live, from Redis.
    const second = await openDashboard(context, `${expressNode!.url}/?run=${encodeURIComponent(id)}`);
    await second.waitForFunction(
      () => Number.parseInt(document.getElementById('gen-status')?.textContent ?? '', 10) >= 40,
    );
    await second.click('#gen-stop');
    await second.waitForSelector('#gen-state[data-state="cancelled"]', { timeout: 15_000 });
    // Read back from the producer's server: the tokens it wrote, then the end frame of the cancel made on Express.
    const whole = await fetch(`${fastifyNode!.url}/runs/${id}`).then((res) => res.text());
    const tokens = [...whole.matchAll(/^event: token\ndata: (.*)$/gm)].map((m) => m[1]!);
    expect(tokens.length).toBeGreaterThanOrEqual(40);
    expect(tokens.length).toBeLessThan(300); // stopped before the fake model finished
    expect(whole).toMatch(/^event: end\ndata: \{"state":"cancelled","reason":"stopped by the user"\}$/m);
    expect(await second.textContent('#gen-answer')).toBe(tokens.join(''));
    await second.close();
  }, 60_000);
});
