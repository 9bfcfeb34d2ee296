/** Where a channel and a run live in Redis. */

/**
 * The key of `channel`'s stream, which is also the name of its live feed (the Pub/Sub channel): `<prefix>:{<channel>}`.
 * The braces make the channel its own hash tag, so on a Redis Cluster the stream and its feed share one slot
 * while different channels spread over every master.
 */
export function channelKey(prefix: string, channel: string): string {
  return `${prefix}:{${channel}}`;
}

/**
 * The keys of run `id` (an id checked by core: 1–256 URL-safe characters): its log, a stream that is also the name
 * of its live feed, `<prefix>:run:{<id>}`, and its record, a hash, `<prefix>:run:{<id>}:meta`. One hash tag, so
 * on a cluster both sit in one slot (a script touches both); `run:` before the brace keeps them apart from every
 * channel's key, whatever the channel's name.
 */
export function runKeys(prefix: string, id: string): { log: string; meta: string } {
  const log = `${prefix}:run:{${id}}`;
  return { log, meta: `${log}:meta` };
}
