// Drives Firefox ESR for the browser tests from a child process: puppeteer-core is ESM only, which Jest on Node 20
// cannot load. The test sends `{ id, command, args }` over the IPC channel and gets `{ id, value }` or `{ id, error }`.
import puppeteer from 'puppeteer-core';

let browser;
const pages = new Map();
let lastPageId = 0;

const commands = {
  async launch({ executablePath }) {
    browser = await puppeteer.launch({ browser: 'firefox', executablePath, headless: true });
  },
  async newPage() {
    pages.set(++lastPageId, await browser.newPage());
    return lastPageId;
  },
  async goto({ page, url }) {
    await pages.get(page).goto(url);
  },
  evaluate: ({ page, expression }) => pages.get(page).evaluate(expression),
  async waitFor({ page, expression, timeoutMs }) {
    await pages.get(page).waitForFunction(expression, { timeout: timeoutMs, polling: 20 });
  },
  async closePage({ page }) {
    await pages.get(page).close();
    pages.delete(page);
  },
  async close() {
    await browser?.close();
  },
};

// Jest went away without asking for `close` (a crash, a timeout): take Firefox down too, never leave it running.
process.on('disconnect', async () => {
  await browser?.close().catch(() => {});
  process.exit(0);
});

process.on('message', async ({ id, command, args }) => {
  let reply;
  try {
    reply = { id, value: await commands[command](args) };
  } catch (err) {
    reply = { id, error: `${command}: ${err.message}` };
  }
  // After `close`, the worker leaves once the answer is out.
  process.send(reply, () => command === 'close' && process.disconnect());
});
