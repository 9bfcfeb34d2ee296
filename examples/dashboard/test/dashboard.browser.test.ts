/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core, against the real servers
 * (server-fastify.mjs and server-express.mjs run as child processes on a free port, built packages).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

const dashboardDir = path.join(__dirname, '..');
const artifactsDir = path.join(__dirname, '../../../test-artifacts');
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

interface Server {
  url: string;
  process: ChildProcess;
}

/** Starts a dashboard server on a free port; resolves once it printed the URL it listens on. */
async function startServer(flavour: string): Promise<Server> {
  const child = spawn(process.execPath, [`server-${flavour}.mjs`], {
    cwd: dashboardDir,
    env: { ...process.env, PORT: '0', REDIS_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (chunk) => {
    output += chunk;
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk) => {
      output += chunk;
      const url = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      if (url !== undefined) resolve({ url, process: child });
    });
    child.once('exit', (code) => reject(new Error(`server-${flavour}.mjs exited with ${code}:\n${output}`)));
  });
}

async function stopServer(server: Server | undefined): Promise<void> {
  if (server === undefined || server.process.exitCode !== null) return;
  const exited = once(server.process, 'exit');
  server.process.kill('SIGTERM');
  await exited;
}

interface ChatLine {
  id: string;
  text: string;
  tag: string;
}

function chatLines(page: Page): Promise<ChatLine[]> {
  return page.$$eval('#chat-list li[data-id]', (items) =>
    items.map((li) => ({
      id: (li as HTMLElement).dataset.id ?? '',
      text: li.querySelector('.text')?.textContent ?? '',
      tag: (li as HTMLElement).dataset.tag ?? '',
    })),
  );
}

async function waitForChatText(page: Page, text: string): Promise<void> {
  await page.locator('#chat-list li', { hasText: text }).first().waitFor();
}

/** Opens the page and waits until its stream is open (the chat history is shown by then). */
async function openDashboard(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForSelector('#conn-state[data-state="open"]');
  return page;
}

/**
 * Holds the page stream's next (re)connection until `release()`, so messages can be posted while the tab is
 * certainly disconnected. (Chromium adds Last-Event-ID below what interception sees: the page shows the id the
 * server received, from the `hello` event.)
 */
async function holdReconnect(page: Page) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let seen!: () => void;
  const attempted = new Promise<void>((resolve) => {
    seen = resolve;
  });
  await page.route(
    (url) => url.pathname === '/events',
    async (route) => {
      const request = route.request();
      if (request.method() === 'GET' && request.headers().accept?.includes('text/event-stream')) {
        seen();
        await released;
      }
      await route.continue();
    },
  );
  return { attempted, release };
}

/** Debian's Chromium (CI installs it); never a downloaded browser. */
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(chromiumPath)) {
    throw new Error(`No Chromium at ${chromiumPath}: run \`apt-get install -y chromium\` or set CHROMIUM_PATH.`);
  }
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
});

describe.each(['fastify', 'express'])('the %s dashboard in Chromium', (flavour) => {
  let server: Server | undefined;
  let context: BrowserContext;

  const post = async (text: string): Promise<string> => {
    const res = await context.request.post(`${server!.url}/chat`, { data: { text, from: 'test' } });
    expect(res.status()).toBe(201);
    return (await res.json()).id;
  };

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
    await page.waitForFunction(() => document.getElementById('job-status')?.textContent?.includes('stream completed'));
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

    const reconnect = await holdReconnect(page);
    await page.click('#drop');
    await page.waitForSelector('#conn-state[data-state="reconnecting"]');
    await reconnect.attempted;
    const missed = ['missed one', 'missed two', 'missed three'];
    for (const text of missed) await post(text);
    reconnect.release();

    await page.waitForSelector('#conn-state[data-state="open"]');
    for (const text of missed) await waitForChatText(page, text);
    const lines = await chatLines(page);
    const after = lines.slice(lines.findIndex((line) => line.id === before) + 1);
    expect(after.map(({ text, tag }) => ({ text, tag }))).toEqual([
      { text: expect.stringMatching(/^the server dropped tab-\w+'s connection$/), tag: 'replayed' },
      ...missed.map((text) => ({ text, tag: 'replayed' })),
    ]);
    // the server got the id of the last message before the drop (from the Last-Event-ID header)
    expect(await page.textContent('#conn-log')).toContain(`hello: the server resumes after ${before}`);

    // A live message after the reconnect is tagged live again.
    await post('live again');
    await waitForChatText(page, 'live again');
    expect((await chatLines(page)).at(-1)).toMatchObject({ text: 'live again', tag: 'live' });

    mkdirSync(artifactsDir, { recursive: true });
    await page.screenshot({ path: path.join(artifactsDir, `dashboard-${flavour}.png`), fullPage: true });
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
});
