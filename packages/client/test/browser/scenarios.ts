/**
 * What each browser must do with @tidings/client against a real Express and a real Fastify server: channel events
 * arrive (JSON data, ids), the bearer token from `headers()` reaches the server and a missing one stops the stream
 * on 401, replay with Last-Event-ID after the server destroys the socket, and long-poll mode.
 */
import { event } from '@tidings/core';
import { describeWith } from '@tidings/testkit';
import { bundleClient, RETRY_MS, type StreamRequest, startExpress, startFastify, type TestServer, TOKEN } from './apps';
import type { BrowserDriver, BrowserPage, LaunchedBrowser } from './drivers';

/** What `window.streamRecord(key)` returns (see page.mjs). */
interface StreamRecord {
  events: Array<{ data: unknown; id: string }>;
  opens: number;
  reconnects: number;
  errors: Array<{ code: string | undefined; status: number | undefined }>;
  closed: boolean;
  readyState: string;
  lastEventId: string;
}

/** Whole suite, launch included; each test stays far below it. */
const SUITE_TIMEOUT_MS = 30_000;
const TEST_TIMEOUT_MS = 10_000;

const STARTERS = { express: startExpress, fastify: startFastify };

/** Polls `check` every 10 ms until it is true; rejects after `timeoutMs` with `what`. */
async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Every `news` event of `channel`, broadcast in order; resolves to their ids. */
async function broadcastNews(server: TestServer, channel: string, values: number[]): Promise<string[]> {
  const ids: string[] = [];
  for (const n of values) {
    const id = await server.registry.channel(channel).broadcast(event({ event: 'news', data: { n } }));
    if (id === undefined) throw new Error(`channel ${channel} gave no id: the tests need its history on`);
    ids.push(id);
  }
  return ids;
}

/** The browser suite: one browser launch, then each scenario against each server. */
export function browserSuite(driver: BrowserDriver): void {
  describeWith([driver.service], `@tidings/client in ${driver.name}`, () => {
    let browser: LaunchedBrowser;
    let clientBundle: string;

    beforeAll(async () => {
      [browser, clientBundle] = await Promise.all([driver.launch(), bundleClient()]);
    }, SUITE_TIMEOUT_MS);

    afterAll(async () => {
      await browser?.close();
    });

    describe.each(Object.keys(STARTERS) as Array<keyof typeof STARTERS>)('against %s', (framework) => {
      let server: TestServer;
      let page: BrowserPage;
      let channelCount = 0;

      /** A channel name no other test uses, and the stream requests made for it. */
      const freshChannel = () => `news-${framework}-${++channelCount}`;
      const requestsFor = (url: string): StreamRequest[] => server.requests.filter((r) => r.path === url);
      const record = (key: string) => page.evaluate<StreamRecord>(`window.streamRecord(${JSON.stringify(key)})`);
      const follow = (key: string, url: string, options: object) =>
        page.evaluate(
          `window.followStream(${JSON.stringify(key)}, ${JSON.stringify(url)}, ${JSON.stringify(options)})`,
        );
      const waitForEvents = (key: string, count: number) =>
        page.waitFor(`window.streamRecord(${JSON.stringify(key)}).events.length >= ${count}`);

      // One page per server: each test opens streams of its own on channels of its own, and closes them.
      beforeAll(async () => {
        server = await STARTERS[framework](clientBundle);
        page = await browser.newPage();
        await page.goto(server.url);
        await page.waitFor('window.pageReady === true');
      });

      afterEach(async () => {
        await page?.evaluate('window.closeStreams()');
      });

      afterAll(async () => {
        await page?.close();
        await server?.close();
      });

      test(
        'channel events arrive with their JSON data and ids; the bearer token from headers() reaches the server',
        async () => {
          const channel = freshChannel();
          const url = `/channels/${channel}`;
          await follow('news', url, { token: TOKEN });
          await until('the subscription', () => requestsFor(url).some((r) => r.subscribed));

          const ids = await broadcastNews(server, channel, [1, 2, 3]);
          await waitForEvents('news', 3);
          const seen = await record('news');
          expect(seen.events).toEqual([1, 2, 3].map((n, i) => ({ data: { n }, id: ids[i] })));
          expect(seen).toMatchObject({ readyState: 'open', opens: 1, lastEventId: ids[2], errors: [] });
          expect(requestsFor(url).map((r) => r.authorization)).toEqual([`Bearer ${TOKEN}`]);
        },
        TEST_TIMEOUT_MS,
      );

      test('without the token the server answers 401 and the stream closes for good', async () => {
        const url = `/channels/${freshChannel()}`;
        await follow('anonymous', url, {});
        await page.waitFor(`window.streamRecord('anonymous').closed`);
        const seen = await record('anonymous');
        expect(seen).toMatchObject({ readyState: 'closed', opens: 0, events: [] });
        expect(seen.errors).toEqual([{ code: 'SSE_CLIENT_ERR_HTTP', status: 401 }]);
        // refused before any stream, and not asked again
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS * 3));
        expect(requestsFor(url)).toEqual([expect.objectContaining({ authorization: undefined, subscribed: false })]);
      });

      test(
        'after the server destroys the socket, the client resumes with Last-Event-ID: each missed event once',
        async () => {
          const channel = freshChannel();
          const url = `/channels/${channel}`;
          await follow('resumed', url, { token: TOKEN });
          await until('the subscription', () => requestsFor(url).some((r) => r.subscribed));
          const before = await broadcastNews(server, channel, [1, 2]);
          await waitForEvents('resumed', 2);

          // The server drops the connection, then broadcasts while the client waits its RETRY_MS to come back.
          requestsFor(url)[0]!.socket.destroy();
          const missed = await broadcastNews(server, channel, [3, 4]);
          await waitForEvents('resumed', 4);
          const after = await broadcastNews(server, channel, [5]);
          await waitForEvents('resumed', 5);

          const seen = await record('resumed');
          const ids = [...before, ...missed, ...after];
          expect(seen.events).toEqual([1, 2, 3, 4, 5].map((n, i) => ({ data: { n }, id: ids[i] })));
          expect(seen.reconnects).toBeGreaterThanOrEqual(1);
          const requests = requestsFor(url);
          expect(requests).toHaveLength(2);
          // headers() was asked again for the second request, which named the last event seen before the drop
          expect(requests[1]).toMatchObject({ authorization: `Bearer ${TOKEN}`, lastEventId: before[1] });
        },
        TEST_TIMEOUT_MS,
      );

      test(
        'long-poll mode: every response ends after its events, the client asks again at once from its last id',
        async () => {
          const channel = freshChannel();
          const url = `/poll/${channel}`;
          await follow('polled', url, { token: TOKEN });
          await until('the subscription', () => requestsFor(url).some((r) => r.subscribed));

          const ids: string[] = [];
          for (const n of [1, 2, 3, 4, 5]) {
            ids.push(...(await broadcastNews(server, channel, [n])));
            await waitForEvents('polled', n);
          }
          const seen = await record('polled');
          expect(seen.events).toEqual([1, 2, 3, 4, 5].map((n, i) => ({ data: { n }, id: ids[i] })));
          expect(seen.errors).toEqual([]);
          // one request per event answered: each after the first resumes from the id the previous one ended on
          const requests = requestsFor(url);
          expect(requests.length).toBeGreaterThanOrEqual(5);
          expect(requests.slice(1, 5).map((r) => r.lastEventId)).toEqual(ids.slice(0, 4));
        },
        TEST_TIMEOUT_MS,
      );
    });
  });
}
