/** The live message the publish script sends on a channel's feed, read back. */

/** One entry as it travels on the live feed. */
export interface LiveMessage {
  /** The entry's stream id. */
  id: string;
  /** The id of the stream's entry before it (`0-0` when it was the first). */
  previous: string;
  /** The entry's field/value pairs, as stored. */
  fields: string[];
}

/** Parses `[id, previous, [field, value, ...]]`; undefined for a message no Tidings node sent. */
export function parseLiveMessage(message: string): LiveMessage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 3) return undefined;
  const [id, previous, fields] = value as unknown[];
  if (typeof id !== 'string' || typeof previous !== 'string' || !Array.isArray(fields)) return undefined;
  if (!fields.every((field) => typeof field === 'string')) return undefined;
  return { id, previous, fields };
}
