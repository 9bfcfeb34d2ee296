/**
 * The two real browsers, behind one small interface: Debian's Chromium through playwright-core, and Debian's
 * Firefox ESR through puppeteer-core over WebDriver BiDi (playwright-core cannot drive a stock Firefox). Neither
 * library downloads a browser; paths and Chromium's flags come from @tidings/testkit, as does `describeWith`, which
 * skips a suite outside CI when its browser is missing.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import * as path from 'node:path';
import { CHROMIUM_ARGS, CHROMIUM_PATH, FIREFOX_PATH, type Service } from '@tidings/testkit';
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
  /** The @tidings/testkit service a suite on this browser needs. */
  service: Service;
  launch(): Promise<LaunchedBrowser>;
}

const WAIT_MS = 5000;

export const chromiumDriver: BrowserDriver = {
  name: 'Chromium',
  service: 'chromium',
  async launch() {
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
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
  service: 'firefox',
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

    try {
      await call('launch', { executablePath: FIREFOX_PATH });
    } catch (err) {
      worker.kill('SIGKILL'); // its IPC channel would keep Jest from exiting
      throw err;
    }
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
