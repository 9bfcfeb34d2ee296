/**
 * A Lua script run with EVAL until Redis answered it for a key (it then has the script), EVALSHA afterwards,
 * falling back to EVAL once when Redis no longer has it. Also the Lua every script that appends shares.
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from './command-gate.js';

/**
 * Lua: appends `fields` to stream `key` (trimmed to about `maxLen` entries when given) and publishes the whole
 * entry on the live feed of the same name with `command` (PUBLISH, or SPUBLISH on a cluster), as the JSON array
 * `[id, previous id, [field, value, ...]]` (`0-0` when there was no entry before). Returns the new entry's id.
 */
export const APPEND_AND_PUBLISH = `
local function appendAndPublish(key, command, fields, maxLen)
  local last = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
  local previous = '0-0'
  if last[1] then previous = last[1][1] end
  local id
  if maxLen then
    id = redis.call('XADD', key, 'MAXLEN', '~', maxLen, '*', unpack(fields))
  else
    id = redis.call('XADD', key, '*', unpack(fields))
  end
  redis.call(command, key, cjson.encode({id, previous, fields}))
  return id
end
`;

/** Lua: Redis's clock, in ms (the one clock every node agrees on). */
export const NOW_MS = `
local function nowMs()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
`;

/** Most keys a script remembers as safe for EVALSHA (the oldest is forgotten: its next call sends the source). */
const MAX_KNOWN_KEYS = 10_000;

export class LuaScript {
  readonly #source: string;
  readonly #sha: string;
  /**
   * Per client, the keys whose Redis (the node serving their slot, on a cluster) answered a call of this script:
   * EVALSHA finds it there. Until a key's first answer every call on it sends the source (EVAL). Were they EVALSHA,
   * each would fail with NOSCRIPT and be sent again as EVAL once its refusal came back, behind calls made after it
   * that found the script loaded meanwhile: the key's entries would be stored out of call order. Forgotten when the
   * client connects again (the Redis may have restarted without its scripts).
   */
  readonly #known = new WeakMap<RedisClient, Set<string>>();
  readonly #ordered: boolean;

  /**
   * `ordered: false` for a script whose calls on one key need no order among themselves (run once per key, or
   * only reading): EVALSHA at once, the source only after NOSCRIPT, no key remembered.
   */
  constructor(source: string, options: { ordered?: boolean } = {}) {
    this.#source = source;
    this.#sha = createHash('sha1').update(source).digest('hex');
    this.#ordered = options.ordered ?? true;
  }

  /**
   * Runs the script on `keys` with `args`. The EVAL fallback is sent only while `stillWanted()` (an EVALSHA
   * resent after a reconnect must not act for a caller that gave up).
   */
  async run(
    redis: RedisClient,
    keys: readonly string[],
    args: readonly (string | number)[],
    stillWanted: () => boolean,
  ): Promise<unknown> {
    const key = keys[0]!;
    const known = this.#ordered ? this.#knownOn(redis) : undefined;
    if (known !== undefined && !known.has(key)) {
      const reply = await redis.eval(this.#source, keys.length, ...keys, ...args);
      remember(known, key);
      return reply;
    }
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (err) {
      // Redis lost its scripts (SCRIPT FLUSH, a restart or a failover that reached this key without a reconnect):
      // the source again. Calls already in flight on the key can then be stored out of order, once.
      if (!(err instanceof Error && err.message.startsWith('NOSCRIPT'))) throw err;
      known?.delete(key);
      if (!stillWanted()) throw err;
      return await redis.eval(this.#source, keys.length, ...keys, ...args);
    }
  }

  #knownOn(redis: RedisClient): Set<string> {
    let known = this.#known.get(redis);
    if (known === undefined) {
      const keys = new Set<string>();
      redis.on('ready', () => keys.clear());
      this.#known.set(redis, keys);
      known = keys;
    }
    return known;
  }
}

/** Adds `key` to `known`, forgetting the oldest past {@link MAX_KNOWN_KEYS}. */
function remember(known: Set<string>, key: string): void {
  if (known.has(key)) return;
  if (known.size >= MAX_KNOWN_KEYS) known.delete(known.values().next().value!);
  known.add(key);
}
