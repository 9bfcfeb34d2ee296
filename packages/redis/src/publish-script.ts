/**
 * The one atomic step of a broadcast: a Lua script that appends the event to its channel's stream, renews the
 * stream's expiry and publishes the whole event on the channel's live feed, with its id and the id of the entry
 * before it (so a node can tell a hole in the feed from the next event).
 */
import type { RedisClient } from './command-gate.js';
import { APPEND_AND_PUBLISH, LuaScript } from './lua-script.js';

/** KEYS[1]: the stream (its name is also the live feed's). ARGV: MAXLEN, PEXPIRE ms, the publish command, then the entry's field/value pairs. */
const PUBLISH = new LuaScript(`${APPEND_AND_PUBLISH}
local id = appendAndPublish(KEYS[1], ARGV[3], {unpack(ARGV, 4)}, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return id
`);

/** How the live feed is published: `PUBLISH` on one Redis, `SPUBLISH` (sharded) on a cluster. */
export type PublishCommand = 'PUBLISH' | 'SPUBLISH';

/** Runs the publish script on `redis` for stream `key`; resolves to the new entry's id. */
export async function runPublishScript(
  redis: RedisClient,
  key: string,
  settings: { maxLen: number; ttl: number; command: PublishCommand },
  fields: readonly string[],
  stillWanted: () => boolean,
): Promise<string> {
  const args = [settings.maxLen, settings.ttl, settings.command, ...fields];
  return (await PUBLISH.run(redis, [key], args, stillWanted)) as string;
}
