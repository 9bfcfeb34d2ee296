/**
 * The runtime harness itself: every runtime starts a handler on a free port, answers through it, and is gone
 * after stop(). A runtime missing outside CI is skipped with a printed reason (see runtimesHere()).
 */
import * as path from 'node:path';
import { launch, runtimesHere } from './harness';

const hello = path.join(__dirname, 'handlers', 'hello.mjs');

describe.each(runtimesHere())('%s', (runtime) => {
  test('serves a handler on 127.0.0.1 with a free port, then stops', async () => {
    const server = await launch(runtime, hello);
    try {
      expect(server.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const response = await fetch(server.origin);
      expect(await response.text()).toBe(`hello from ${runtime}`);
    } finally {
      await server.stop();
    }
    await expect(fetch(server.origin)).rejects.toThrow(); // nothing listens there any more
  });
});
