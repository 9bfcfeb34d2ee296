/**
 * What a handler may return as a stream: an SseEmitter, or an (async) iterable / Node Readable of events
 * and data. Iterables are pulled only as fast as the client drains, and stopped (`return()`, so `finally`
 * blocks run) when the client leaves. The one rule holds for every yielded value: `event()` values are
 * events, anything else is data.
 */
import type { Readable } from 'node:stream';
import { EMITTER, SseEmitter } from './emitter.js';

/** Anything that can be consumed value by value. */
export type SseIterable = AsyncIterable<unknown> | Iterable<unknown> | Readable;

/** What an SSE handler may return (or resolve to). */
export type SseSource = SseEmitter<never> | SseIterable;

/** True for an SseEmitter (works across duplicate copies of the package, e.g. its ESM and CommonJS builds). */
export function isEmitter(value: unknown): value is SseEmitter<never> {
  return (
    value instanceof SseEmitter ||
    (typeof value === 'object' && value !== null && (value as { [EMITTER]?: unknown })[EMITTER] === true)
  );
}

/** True for a value a handler may return as a stream. Strings are not streams. */
export function isSseSource(value: unknown): value is SseSource {
  if (isEmitter(value)) return true;
  if (typeof value !== 'object' || value === null) return false;
  return Symbol.asyncIterator in value || Symbol.iterator in value;
}

/** A source whose first value (or end, or error) is known: the stream can open without losing an error. */
export interface StartedSource {
  /** Writes the rest of the source to `em` and completes it; errors complete it with the error. */
  pipeTo(em: SseEmitter<never>): Promise<void>;
}

/**
 * Pulls the first value of `source` before anything is written, so a source that fails at once fails like any
 * handler (a normal HTTP error) instead of as a broken stream. Rejects with the source's own error.
 */
export async function startSource(source: SseIterable): Promise<StartedSource> {
  const iterator = iteratorOf(source);
  let first: IteratorResult<unknown>;
  try {
    first = await iterator.next();
  } catch (err) {
    await closeIterator(iterator);
    throw err;
  }
  return { pipeTo: (em) => pipe(iterator, first, em) };
}

async function pipe(
  iterator: AsyncIterator<unknown>,
  first: IteratorResult<unknown>,
  em: SseEmitter<never>,
): Promise<void> {
  // The client leaving (or the emitter completing elsewhere) stops the iteration: return() runs `finally`.
  let stopped = false;
  em.onCompletion(() => {
    stopped = true;
    void closeIterator(iterator);
  });
  try {
    for (let step = first; !step.done && !stopped; step = await iterator.next()) {
      await (em as SseEmitter).send(step.value);
    }
    em.complete();
  } catch (err) {
    // A send rejected because the client is gone is the normal end of a stream; anything else is an error.
    if (!stopped) em.completeWithError(err);
  }
}

function iteratorOf(source: SseIterable): AsyncIterator<unknown> {
  if (Symbol.asyncIterator in source) return (source as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  const sync = (source as Iterable<unknown>)[Symbol.iterator]();
  return {
    next: async () => sync.next(),
    return: async (value?: unknown) => sync.return?.(value) ?? { done: true, value },
  };
}

async function closeIterator(iterator: AsyncIterator<unknown>): Promise<void> {
  try {
    await iterator.return?.();
  } catch {
    // The source failed while closing; the stream is over either way.
  }
}
