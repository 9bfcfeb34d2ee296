/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core, against each real server
 * (server-fastify.mjs, server-express.mjs) with the in-memory registry.
 */
import { describeWith } from '@tidings/testkit';
import type { Browser, BrowserContext } from 'playwright-core';
import {
  chatLines,
  dropAndMiss,
  holdReconnect,
  launchChromium,
  openDashboard,
  postChat,
  replayedAfterDrop,
  type Server,
  saveScreenshot,
  startServer,
  stopServer,
  waitForChatText,
} from './support';

describeWith(['chromium'], 'the dashboard in Chromium', () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
  });

  describe.each(['fastify', 'express'])('the %s dashboard in Chromium', (flavour) => {
    let server: Server | undefined;
    let context: BrowserContext;

    const post = (text: string): Promise<string> => postChat(context, server!, text);

    beforeAll(async () => {
      server = await startServer(flavour);
      context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    });

    afterAll(async () => {
      await context?.close();
      await stopServer(server);
    });

    test('the page opens and named tick and stats events reach their addEventListener handlers', async () => {
      const page = await openDashboard(context, server!.url);
      expect(await page.title()).toBe('Tidings dashboard');
      await page.waitForFunction(() => Number(document.getElementById('clock-ticks')?.textContent) >= 2);
      expect(await page.textContent('#clock')).toMatch(/\d/);
      expect(await page.getAttribute('#clock-state', 'data-state')).toBe('open');
      // the page's stream is counted by the registry
      await page.waitForFunction(() => Number(document.getElementById('stat-connections')?.textContent) >= 1);
      expect(await page.textContent('#node')).toContain(flavour);
      await page.close();
    });

    test('the job bar fills from progress events to 100% and the stream completes', async () => {
      const page = await openDashboard(context, server!.url);
      // A second run of the same route, read to its end by fetch: the body only ends if the server completes it.
      const body = page.evaluate(() => fetch('/job').then((res) => res.text()));
      await page.click('#job-start');
      await page.waitForSelector('#job-bar[aria-valuenow="100"]');
      await page.waitForFunction(() =>
        document.getElementById('job-status')?.textContent?.includes('stream completed'),
      );
      expect(await page.textContent('#job-status')).toBe('done: 20 progress events, stream completed');
      expect((await body).match(/^event: progress$/gm)).toHaveLength(20);
      expect(await body).toMatch(/data: \{"percent":100\}\n\nevent: done\ndata: .*\n\n$/);
      await page.close();
    });

    test('a chat message posted in one page appears live in a second page', async () => {
      const [first, second] = [await openDashboard(context, server!.url), await openDashboard(context, server!.url)];
      await first.fill('#chat-input', `hello from ${flavour}`);
      await first.click('#chat-send');
      for (const page of [first, second]) await waitForChatText(page, `hello from ${flavour}`);
      const seen = (await chatLines(second)).filter((line) => line.text === `hello from ${flavour}`);
      expect(seen).toEqual([{ id: expect.any(String), text: `hello from ${flavour}`, tag: 'live' }]);
      await Promise.all([first.close(), second.close()]);
    });

    test('after the server drops the connection, the browser resumes with Last-Event-ID and shows each missed message once', async () => {
      const page = await openDashboard(context, server!.url);
      const before = await post('before the drop');
      await waitForChatText(page, 'before the drop');

      const missed = ['missed one', 'missed two', 'missed three'];
      expect(await dropAndMiss(page, post, missed, before)).toEqual(replayedAfterDrop(missed));
      // the server got the id of the last message before the drop (from the Last-Event-ID header)
      expect(await page.textContent('#conn-log')).toContain(`hello: the server resumes after ${before}`);

      // A live message after the reconnect is tagged live again.
      await post('live again');
      await waitForChatText(page, 'live again');
      expect((await chatLines(page)).at(-1)).toMatchObject({ text: 'live again', tag: 'live' });

      await saveScreenshot(page, `dashboard-${flavour}`);
      await page.close();
    });

    test('the private feed follows the chat channel with a bearer token through @tidings/client; a wrong token stops on 401', async () => {
      // What EventSource would send: no Authorization header, refused before any stream.
      const plain = await context.request.get(`${server!.url}/channels/chat`, {
        headers: { accept: 'text/event-stream' },
      });
      expect(plain.status()).toBe(401);

      const page = await context.newPage();
      const feedRequests: Array<string | undefined> = [];
      page.on('request', (request) => {
        if (new URL(request.url()).pathname === '/channels/chat') feedRequests.push(request.headers().authorization);
      });
      await page.goto(`${server!.url}/private`);
      await page.fill('#login-name', 'alice');
      await page.click('#login');
      await page.waitForSelector('#feed-state[data-state="open"]');
      expect(await page.textContent('#user')).toBe('alice');
      expect(feedRequests).toEqual([expect.stringMatching(/^Bearer \S+$/)]);

      const text = `for the private feed (${flavour})`;
      const id = await post(text);
      await page.locator('#feed-list li', { hasText: text }).waitFor();
      expect(await page.getAttribute('#feed-list li:last-child', 'data-id')).toBe(id);
      expect(await page.textContent('#last-id')).toBe(id);

      // A token the server never issued: 401, asked once more with fresh headers (headers is a function), then closed.
      feedRequests.length = 0;
      await page.click('#wrong-token');
      await page.waitForSelector('#feed-state[data-state="closed"]');
      expect(feedRequests).toEqual(['Bearer not-a-token', 'Bearer not-a-token']);
      expect(await page.textContent('#feed-log')).toContain('SSE_CLIENT_ERR_HTTP (HTTP 401)');
      await saveScreenshot(page, `private-feed-${flavour}`);
      await page.close();
    });

    test('a reload resumes from the last event id: messages sent meanwhile are replayed, none twice', async () => {
      const page = await openDashboard(context, server!.url);
      const last = await post('seen before the reload');
      await waitForChatText(page, 'seen before the reload');

      const reconnect = await holdReconnect(page);
      await page.reload();
      await reconnect.attempted;
      await post('sent during the reload');
      reconnect.release();

      await page.waitForSelector('#conn-state[data-state="open"]');
      await waitForChatText(page, 'sent during the reload');
      const lines = await chatLines(page);
      expect(lines.filter((line) => line.text === 'seen before the reload')).toHaveLength(1);
      expect(lines.filter((line) => line.text === 'sent during the reload')).toEqual([
        { id: expect.any(String), text: 'sent during the reload', tag: 'replayed' },
      ]);
      expect(await page.textContent('#chat-list')).toContain(`reloaded: resuming after ${last}`);
      expect(await page.textContent('#conn-log')).toContain(`hello: the server resumes after ${last}`);
      await page.close();
    });

    test('Generation: a reload mid-answer shows the whole answer once, and after the end the browser stops', async () => {
      // ~10 s of tokens at ~30/s, then Chromium's 3 s reconnection delay and 4 s of watching it stay stopped.
      const page = await openDashboard(context, server!.url);
      const runRequests: string[] = [];
      page.on('request', (request) => {
        if (request.method() === 'GET' && new URL(request.url()).pathname.startsWith('/runs/')) {
          runRequests.push(request.url());
        }
      });
      await page.fill('#gen-prompt', `tell me about ${flavour}`);
      await page.click('#gen-start');
      await page.waitForFunction(
        () => Number.parseInt(document.getElementById('gen-status')?.textContent ?? '', 10) >= 20,
      );
      const id = new URL(page.url()).searchParams.get('run')!;
      await page.reload(); // mid-answer: the run goes on without the page
      await page.waitForSelector('#gen-state[data-state="ended"]', { timeout: 30_000 });
      // The answer as the server holds it, read separately from the start.
      const whole = await page.evaluate((runId) => fetch(`/runs/${runId}`).then((res) => res.text()), id);
      const tokens = [...whole.matchAll(/^event: token\ndata: (.*)$/gm)].map((m) => m[1]!);
      expect(tokens).toHaveLength(300);
      expect(await page.textContent('#gen-answer')).toBe(tokens.join(''));
      // After the end frame the browser reconnects once with its id, is answered 204 and stops.
      await page.waitForFunction(
        () => document.getElementById('gen-status')?.textContent?.includes('stream closed'),
        null,
        {
          timeout: 15_000,
        },
      );
      const settled = runRequests.length;
      await page.waitForTimeout(4000); // more than Chromium's 3 s reconnection delay
      expect(runRequests.length).toBe(settled);
      await page.close();
    }, 60_000);
  });
});
