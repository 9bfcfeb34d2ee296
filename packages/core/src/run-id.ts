/**
 * Run ids: what one may look like (it comes from URLs and becomes part of log keys, so it is checked before any
 * use) and how one is made when the producer gives none. Free of Node-only imports.
 */
import { SseInvalidRunIdError } from './errors.js';

/** Longest run id, in characters. */
export const MAX_RUN_ID_LENGTH = 256;

/** The unreserved characters of RFC 3986: an id made of them goes into a URL path or a key as it is. */
const URL_SAFE = /^[A-Za-z0-9._~-]+$/;

/** Throws `SSE_ERR_INVALID_RUN_ID` unless `id` is a string of 1–256 URL-safe characters (`A–Z a–z 0–9 - _ . ~`). */
export function checkRunId(id: unknown): string {
  if (isRunId(id)) return id;
  // Refused: which rule it breaks.
  if (typeof id !== 'string' || id.length === 0) {
    throw new SseInvalidRunIdError('A run id must be a non-empty string.');
  }
  // Length first: a 10 KiB id is refused without running the pattern over it.
  if (id.length > MAX_RUN_ID_LENGTH) {
    throw new SseInvalidRunIdError(`A run id may be at most ${MAX_RUN_ID_LENGTH} characters, got ${id.length}.`);
  }
  throw new SseInvalidRunIdError(
    'A run id may only hold URL-safe characters (A-Z a-z 0-9 - _ . ~); let createRun() generate one.',
  );
}

/** A new random run id: a UUID (URL-safe, unguessable). */
export function generateRunId(): string {
  return globalThis.crypto.randomUUID();
}

/** Whether `id` is 1–256 URL-safe characters; the length first, so a 10 KiB id never meets the pattern. */
export function isRunId(id: unknown): id is string {
  return typeof id === 'string' && id.length > 0 && id.length <= MAX_RUN_ID_LENGTH && URL_SAFE.test(id);
}
