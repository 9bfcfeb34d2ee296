/**
 * A Lua script run with EVALSHA, falling back to EVAL once when Redis does not have it yet (after a restart, or
 * on a cluster node that never ran it). Also the Lua every script that appends shares.
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

export class LuaScript {
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash('sha1').update(source).digest('hex');
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
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error && err.message.startsWith('NOSCRIPT') && stillWanted())) throw err;
      return await redis.eval(this.#source, keys.length, ...keys, ...args);
    }
  }
}
