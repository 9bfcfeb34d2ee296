/** Where a channel lives in Redis. */

/**
 * The key of `channel`'s stream, which is also the name of its live feed (the Pub/Sub channel): `<prefix>:{<channel>}`.
 * The braces make the channel its own hash tag, so on a Redis Cluster the stream and its feed share one slot
 * while different channels spread over every master.
 */
export function channelKey(prefix: string, channel: string): string {
  return `${prefix}:{${channel}}`;
}
