/**
 * The two real browsers, behind one small interface: Debian's Chromium through playwright-core, and Debian's
 * Firefox ESR through puppeteer-core over WebDriver BiDi (playwright-core cannot drive a stock Firefox). Neither
 * library downloads a browser. Outside CI a missing browser skips its suite with the reason printed.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { chromium } from 'playwright-core';

/** What the tests do with a page: load it, run an expression in it, wait until one is truthy. */
export interface BrowserPage {
  goto(url: string): Promise<void>;
  /** The value of a JavaScript expression evaluated in the page (awaited when it is a promise). */
  evaluate<T>(expression: string): Promise<T>;
  /** Resolves once `expression` is truthy in the page; rejects after `timeoutMs`. */
  waitFor(expression: string, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface LaunchedBrowser {
  newPage(): Promise<BrowserPage>;
  close(): Promise<void>;
}

export interface BrowserDriver {
  name: string;
  executablePath: string;
  /** What to do when the browser is missing. */
  install: string;
  launch(): Promise<LaunchedBrowser>;
}

const WAIT_MS = 5000;

/** Chromium's flags for a closed network (TOOLCHAIN.md): no background connections, no QUIC. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const chromiumDriver: BrowserDriver = {
  name: 'Chromium',
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  install: '`apt-get install -y chromium` (or set CHROMIUM_PATH)',
  async launch() {
    const browser = await chromium.launch({ executablePath: this.executablePath, headless: true, args: CHROMIUM_ARGS });
    return {
      async newPage() {
        const page = await browser.newPage();
        return {
          goto: async (url) => {
            await page.goto(url);
          },
          evaluate: (expression) => page.evaluate(expression),
          waitFor: async (expression, timeoutMs = WAIT_MS) => {
            await page.waitForFunction(expression, undefined, { timeout: timeoutMs, polling: 20 });
          },
          close: () => page.close(),
        };
      },
      close: () => browser.close(),
    };
  },
};

/**
 * Firefox runs from firefox-worker.mjs, a child process (puppeteer-core is ESM only, which Jest on Node 20 cannot
 * load); each call is a message over the IPC channel.
 */
export const firefoxDriver: BrowserDriver = {
  name: 'Firefox ESR',
  executablePath: process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr',
  install: '`apt-get install -y firefox-esr` (or set FIREFOX_PATH)',
  async launch() {
    const worker = fork(path.join(__dirname, 'firefox-worker.mjs'), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const pending = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
    let lastCallId = 0;
    worker.on('message', ({ id, value, error }: { id: number; value?: unknown; error?: string }) => {
      const call = pending.get(id);
      pending.delete(id);
      if (error === undefined) call?.resolve(value);
      else call?.reject(new Error(error));
    });
    worker.once('exit', (code) => {
      for (const call of pending.values()) call.reject(new Error(`firefox-worker.mjs exited with ${code}`));
    });
    const call = <T>(command: string, args: object = {}) =>
      new Promise<T>((resolve, reject) => {
        const id = ++lastCallId;
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        worker.send({ id, command, args });
      });

    await call('launch', { executablePath: this.executablePath });
    return {
      async newPage() {
        const page = await call<number>('newPage');
        return {
          goto: (url) => call('goto', { page, url }),
          evaluate: (expression) => call('evaluate', { page, expression }),
          waitFor: (expression, timeoutMs = WAIT_MS) => call('waitFor', { page, expression, timeoutMs }),
          close: () => call('closePage', { page }),
        };
      },
      async close() {
        const exited = once(worker, 'exit');
        await call('close');
        await exited;
      },
    };
  },
};

/**
 * `describe` when the browser is installed. Otherwise, outside CI: skipped with the reason printed; under CI=true:
 * one failing test, since CI installs both browsers.
 */
export function describeInBrowser(driver: BrowserDriver, name: string, body: () => void): void {
  if (existsSync(driver.executablePath)) {
    describe(name, body);
    return;
  }
  const problem = `no ${driver.name} at ${driver.executablePath}: ${driver.install}`;
  if (process.env.CI === 'true') {
    describe(name, () => {
      test(`needs ${driver.name} (CI installs it)`, () => {
        throw new Error(problem);
      });
    });
  } else {
    console.warn(`Skipping "${name}": ${problem}.`);
    describe.skip(name, body);
  }
}
