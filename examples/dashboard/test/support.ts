/**
 * What the browser tests share: the dashboard servers as child processes (the real server-*.mjs on a free port,
 * built packages), Debian's Chromium through playwright-core, and reading the page.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { CHROMIUM_PATH } from '@tidings/testkit';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';

const dashboardDir = path.join(__dirname, '..');
/** Screenshots go here (git-ignored). */
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

export interface Server {
  url: string;
  process: ChildProcess;
}

/** Starts a dashboard server on a free port (in-memory unless `env` sets REDIS_URL); resolves with its URL. */
export async function startServer(flavour: string, env: Record<string, string> = {}): Promise<Server> {
  const child = spawn(process.execPath, [`server-${flavour}.mjs`], {
    cwd: dashboardDir,
    env: { ...process.env, PORT: '0', REDIS_URL: '', ...env },
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

/** Stops a server the way Ctrl-C would (its streams get `bye` and end) and waits for it to exit. */
export async function stopServer(server: Server | undefined): Promise<void> {
  if (server === undefined || server.process.exitCode !== null) return;
  const exited = once(server.process, 'exit');
  server.process.kill('SIGTERM');
  await exited;
}

/** One chat message as the page shows it. */
export interface ChatLine {
  id: string;
  text: string;
  tag: string;
}

export function chatLines(page: Page): Promise<ChatLine[]> {
  return page.$$eval('#chat-list li[data-id]', (items) =>
    items.map((li) => ({
      id: (li as HTMLElement).dataset.id ?? '',
      text: li.querySelector('.text')?.textContent ?? '',
      tag: (li as HTMLElement).dataset.tag ?? '',
    })),
  );
}

export async function waitForChatText(page: Page, text: string): Promise<void> {
  await page.locator('#chat-list li', { hasText: text }).first().waitFor();
}

/** Opens the page and waits until its stream is open (the chat history is shown by then). */
export async function openDashboard(context: BrowserContext, url: string): Promise<Page> {
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
export async function holdReconnect(page: Page) {
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

/**
 * Has the server drop the page's stream (the page's button), posts `missed` through `post` while the browser's
 * reconnection is held back, lets it through, and waits until every missed message is shown. Resolves to the chat
 * lines after the message with id `afterId` (text and tag).
 */
export async function dropAndMiss(
  page: Page,
  post: (text: string) => Promise<unknown>,
  missed: string[],
  afterId: string,
): Promise<Array<Omit<ChatLine, 'id'>>> {
  const reconnect = await holdReconnect(page);
  await page.click('#drop');
  await page.waitForSelector('#conn-state[data-state="reconnecting"]');
  await reconnect.attempted;
  for (const text of missed) await post(text);
  reconnect.release();
  await page.waitForSelector('#conn-state[data-state="open"]');
  for (const text of missed) await waitForChatText(page, text);
  const lines = await chatLines(page);
  return lines.slice(lines.findIndex((line) => line.id === afterId) + 1).map(({ text, tag }) => ({ text, tag }));
}

/** What a dropped page shows after it reconnected: the server's notice of the drop, then each missed message once, all replayed. */
export function replayedAfterDrop(missed: string[]): Array<Omit<ChatLine, 'id'>> {
  return [
    { text: expect.stringMatching(/^the server dropped tab-\w+'s connection$/), tag: 'replayed' },
    ...missed.map((text) => ({ text, tag: 'replayed' })),
  ];
}

/** Launches Debian's headless Chromium (never a downloaded browser); fails with what to install when it is missing. */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`No Chromium at ${CHROMIUM_PATH}: run \`apt-get install -y chromium\` or set CHROMIUM_PATH.`);
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/** Posts a chat message as a client other than the page would; resolves to its event id. */
export async function postChat(context: BrowserContext, server: Server, text: string): Promise<string> {
  const res = await context.request.post(`${server.url}/chat`, { data: { text, from: 'test' } });
  if (res.status() !== 201) throw new Error(`POST /chat answered ${res.status()}: ${await res.text()}`);
  return (await res.json()).id;
}

/** Saves a full-page screenshot under test-artifacts/. */
export async function saveScreenshot(page: Page, name: string): Promise<void> {
  mkdirSync(artifactsDir, { recursive: true });
  await page.screenshot({ path: path.join(artifactsDir, `${name}.png`), fullPage: true });
}
