/**
 * A callback that throws neither stops the stream nor goes unseen: its error is rethrown on its own, an
 * uncaught exception as with EventTarget. Jest turns uncaught exceptions into test failures, so this runs in a
 * child Node process: the client bundled from its sources by esbuild, a raw node:http server, and a script that
 * records what process 'uncaughtException' gets and what the stream goes on to deliver.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';

const script = `
import http from 'node:http';
import { connect } from './client.mjs';
const uncaught = [];
process.on('uncaughtException', (err) => uncaught.push(err.message));
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.end('data: 1\\n\\ndata: 2\\n\\ndata: 3\\n\\n');
}).listen(0, '127.0.0.1', () => {
  const s = connect('http://127.0.0.1:' + server.address().port, { retry: false });
  const seen = [];
  s.on('message', (data) => { if (data === 2) throw new Error('listener failed on 2'); });
  s.on('message', (data) => seen.push(data));
  s.onOpen(() => { throw new Error('onOpen failed'); });
  s.onClose(() => setTimeout(() => {
    console.log(JSON.stringify({ seen, uncaught, state: s.readyState }));
    server.close();
  }, 20));
});
`;

test('a throwing callback is rethrown on its own; the other callbacks and events go on', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tidings-client-'));
  try {
    const bundled = await build({
      entryPoints: [path.join(__dirname, '../src/index.ts')],
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      write: false,
      logLevel: 'silent',
    });
    writeFileSync(path.join(dir, 'client.mjs'), bundled.outputFiles[0]!.contents);
    writeFileSync(path.join(dir, 'run.mjs'), script);
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(dir, 'run.mjs')], { timeout: 10_000 });
    expect(JSON.parse(stdout)).toEqual({
      seen: [1, 2, 3],
      uncaught: ['onOpen failed', 'listener failed on 2'],
      state: 'closed',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
