/**
 * The atomic steps of a run in Redis, one Lua script each, over its two keys (KEYS[1] its log, KEYS[2] its
 * record; see keys.ts). The record is a hash: `state` (running, ended, cancelled), `reason`, `maxEvents`,
 * `idleTimeout`, `ttl`, `events`, `lastEventId`, `endId`, `lastAppend` (ms, Redis's clock). While the run runs,
 * both keys expire `idleTimeout + ttl` after the last append (a run nobody ends is cancelled as stalled by any
 * node that holds it; one that no node holds any more is gone then); after the end, `ttl` after it.
 * Refusals are error replies starting with a word runs.ts turns into core's errors (`refusal`).
 */
import { APPEND_AND_PUBLISH, LuaScript, NOW_MS } from './lua-script.js';

/** The fields of a run's record, by name (Lua's HGETALL gives pairs), and `idleMs` by Redis's clock. */
const RECORD = `
local function record(meta)
  local fields = redis.call('HGETALL', meta)
  if #fields == 0 then return nil end
  local lastAppend = 0
  for i = 1, #fields, 2 do
    if fields[i] == 'lastAppend' then lastAppend = tonumber(fields[i + 1]) end
  end
  table.insert(fields, 'idleMs')
  table.insert(fields, tostring(nowMs() - lastAppend))
  return fields
end
`;

/** ARGV: maxEvents, idleTimeout, ttl. Returns 1, or 0 when a run of this id exists. */
export const CREATE_RUN = new LuaScript(
  `${NOW_MS}
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[2], 'state', 'running', 'maxEvents', ARGV[1], 'idleTimeout', ARGV[2], 'ttl', ARGV[3],
  'events', 0, 'lastAppend', nowMs())
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]) + tonumber(ARGV[3]))
return 1
`,
  { ordered: false },
);

/**
 * ARGV: the publish command, the writer (the adapter instance), its append number (increasing across all its
 * appends), then the entry's field/value pairs. Returns the entry's id. The entry also gets `a <writer>:<number>`,
 * and the record keeps each writer's last number (`w:<writer>`): an append whose number is not above it is one
 * ioredis sent again after a cut connection (Redis ran it, the reply was lost), answered with the id it got then
 * instead of being stored twice (when it is still among the run's last 1,000 entries).
 */
export const APPEND_RUN = new LuaScript(`${NOW_MS}${APPEND_AND_PUBLISH}
local writer = 'w:' .. ARGV[2]
local tag = ARGV[2] .. ':' .. ARGV[3]
local meta = redis.call('HMGET', KEYS[2], 'state', 'events', 'maxEvents', 'idleTimeout', 'ttl', writer)
if not meta[1] then return redis.error_reply('RUN_NOT_FOUND') end
if meta[6] and tonumber(meta[6]) >= tonumber(ARGV[3]) then
  for _, entry in ipairs(redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1000)) do
    local fields = entry[2]
    for i = 1, #fields, 2 do
      if fields[i] == 'a' and fields[i + 1] == tag then return entry[1] end
    end
  end
  -- Not among the last 1,000 entries: stored (again) rather than lost.
end
if meta[1] ~= 'running' then return redis.error_reply('RUN_ENDED ' .. meta[1]) end
if tonumber(meta[2]) >= tonumber(meta[3]) then return redis.error_reply('RUN_FULL ' .. meta[3]) end
local fields = {unpack(ARGV, 4)}
table.insert(fields, 'a')
table.insert(fields, tag)
local id = appendAndPublish(KEYS[1], ARGV[1], fields)
redis.call('HINCRBY', KEYS[2], 'events', 1)
redis.call('HSET', KEYS[2], 'lastEventId', id, 'lastAppend', nowMs(), writer, ARGV[3])
local life = tonumber(meta[4]) + tonumber(meta[5])
redis.call('PEXPIRE', KEYS[1], life)
redis.call('PEXPIRE', KEYS[2], life)
return id
`);

/**
 * ARGV: the publish command, the new state, the reason ('' with ARGV[4] '0': none), whether there is a reason,
 * the end entry's data, the idle ms required ('' for none), then the final event's field/value pairs (none: no
 * final event). Returns the record afterwards (nil when the run is unknown).
 */
export const END_RUN = new LuaScript(
  `${NOW_MS}${APPEND_AND_PUBLISH}${RECORD}
local meta = redis.call('HMGET', KEYS[2], 'state', 'lastAppend', 'ttl')
if not meta[1] then return nil end
if meta[1] ~= 'running' then return record(KEYS[2]) end
if ARGV[6] ~= '' and nowMs() - tonumber(meta[2]) < tonumber(ARGV[6]) then return record(KEYS[2]) end
if #ARGV > 6 then
  local id = appendAndPublish(KEYS[1], ARGV[1], {unpack(ARGV, 7)})
  redis.call('HINCRBY', KEYS[2], 'events', 1)
  redis.call('HSET', KEYS[2], 'lastEventId', id)
end
local endId = appendAndPublish(KEYS[1], ARGV[1], {'v', '1', 'event', 'end', 'data', ARGV[5], 'final', '1'})
redis.call('HSET', KEYS[2], 'state', ARGV[2], 'endId', endId)
if ARGV[4] == '1' then redis.call('HSET', KEYS[2], 'reason', ARGV[3]) end
redis.call('PEXPIRE', KEYS[1], meta[3])
redis.call('PEXPIRE', KEYS[2], meta[3])
return record(KEYS[2])
`,
  { ordered: false },
);

/** No ARGV. Returns the record (nil when the run is unknown or expired). */
export const FIND_RUN = new LuaScript(
  `${NOW_MS}${RECORD}
return record(KEYS[2])
`,
  { ordered: false },
);
