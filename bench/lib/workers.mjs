// Starting the server and load-client processes: each pinned to its own core with taskset (when it exists),
// with the open-file limit raised to the hard limit (5,000 sockets need more than the usual 1,024), talking
// to run.mjs over IPC with request/response messages.
import { spawn, spawnSync } from 'node:child_process';

const HAS_TASKSET = spawnSync('taskset', ['-V']).status === 0;
const CORES = (await import('node:os')).availableParallelism();

/** How processes are placed, for the report. */
export const placement = HAS_TASKSET && CORES >= 2 ? 'server on core 0, load client on core 1 (taskset)' : 'unpinned';

/** The open-file limits a child gets. */
export function fileLimits() {
  const soft = spawnSync('/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; ulimit -n'], { encoding: 'utf8' });
  return Number(soft.stdout.trim());
}

/**
 * Starts `node <nodeArgs> <script> <args>` (or `<executable> <script> <args>`: Bun, which speaks Node's IPC) on
 * `core`; resolves once it sent its `ready` message, to a handle with `call(cmd, fields)` (resolves to the reply)
 * and `stop()`.
 */
export function startWorker(script, args, { core, nodeArgs = [], env, executable }) {
  const pin = HAS_TASKSET && CORES >= 2 ? ['taskset', '-c', String(core)] : [];
  const child = spawn(
    '/bin/sh',
    [
      '-c',
      'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"',
      'sh',
      ...pin,
      ...(executable === undefined ? [process.execPath, ...nodeArgs] : [executable]),
      script,
      ...args,
    ],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env },
  );
  const pending = new Map();
  let nextId = 1;
  let exited = false;
  const exit = new Promise((resolve) => child.once('exit', resolve));
  exit.then((code) => {
    exited = true;
    for (const { reject } of pending.values()) reject(new Error(`${script} ${args.join(' ')} exited (${code})`));
    pending.clear();
  });
  return new Promise((resolve, reject) => {
    child.on('message', (msg) => {
      if (msg.ready) {
        resolve({ ...msg, call, stop, pid: child.pid });
        return;
      }
      const waiter = pending.get(msg.id);
      pending.delete(msg.id);
      waiter?.resolve(msg);
    });
    exit.then((code) => reject(new Error(`${script} ${args.join(' ')} exited before ready (${code})`)));
  });

  function call(cmd, fields = {}, timeoutMs = 120_000) {
    if (exited) return Promise.reject(new Error(`${script} is not running`));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${script}: no answer to ${cmd} in ${timeoutMs} ms`));
      }, timeoutMs);
      pending.set(id, {
        resolve: (msg) => {
          clearTimeout(timer);
          resolve(msg);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
      child.send({ id, cmd, ...fields });
    });
  }

  async function stop(cmd) {
    if (!exited) {
      await Promise.race([call(cmd, {}, 5000).catch(() => {}), exit]);
      const killer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exit;
      clearTimeout(killer);
    }
  }
}

/**
 * The child side of startWorker: answers each `{ id, cmd, ...fields }` message with `{ id, ...(await
 * handlers[cmd](fields)) }`, then says it is ready with `ready` (e.g. the port it listens on).
 */
export function answerCalls(handlers, ready = {}) {
  process.on('message', async (msg) => {
    const result = (await handlers[msg.cmd](msg)) ?? {};
    process.send({ id: msg.id, ...result });
  });
  process.send({ ready: true, ...ready });
}
