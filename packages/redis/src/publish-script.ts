/**
 * The one atomic step of a broadcast: a Lua script that appends the event to its channel's stream, renews the
 * stream's expiry and publishes the whole event on the channel's live feed, with its id and the id of the entry
 * before it (so a node can tell a hole in the feed from the next event). Run with EVALSHA, falling back to EVAL
 * once when Redis does not have the script yet (after a restart or on a new cluster node).
 */
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/**
 * KEYS[1]: the stream (its name is also the live feed's). ARGV: MAXLEN, PEXPIRE ms, the publish command
 * (PUBLISH, or SPUBLISH on a cluster), then the entry's field/value pairs. Returns the new entry's id.
 * The live message is the JSON array `[id, previous id, [field, value, ...]]`; `0-0` when there was no entry.
 */
const SCRIPT = `
local key = KEYS[1]
local last = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)
local previous = '0-0'
if last[1] then previous = last[1][1] end
local fields = {unpack(ARGV, 4)}
local id = redis.call('XADD', key, 'MAXLEN', '~', ARGV[1], '*', unpack(fields))
redis.call('PEXPIRE', key, ARGV[2])
redis.call(ARGV[3], key, cjson.encode({id, previous, fields}))
return id
`;

const SHA = createHash('sha1').update(SCRIPT).digest('hex');

/** How the live feed is published: `PUBLISH` on one Redis, `SPUBLISH` (sharded) on a cluster. */
export type PublishCommand = 'PUBLISH' | 'SPUBLISH';

/**
 * Runs the publish script on `redis` for stream `key`; resolves to the new entry's id. The EVAL fallback is
 * sent only while `stillWanted()` (an EVALSHA resent after a reconnect must not publish for a caller that gave up).
 */
export async function runPublishScript(
  redis: Redis | Cluster,
  key: string,
  settings: { maxLen: number; ttl: number; command: PublishCommand },
  fields: readonly string[],
  stillWanted: () => boolean,
): Promise<string> {
  const args = [settings.maxLen, settings.ttl, settings.command, ...fields];
  try {
    return (await redis.evalsha(SHA, 1, key, ...args)) as string;
  } catch (err) {
    if (!(err instanceof Error && err.message.startsWith('NOSCRIPT') && stillWanted())) throw err;
    return (await redis.eval(SCRIPT, 1, key, ...args)) as string;
  }
}
