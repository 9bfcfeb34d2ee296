/**
 * The event-stream interpretation of the HTML standard (§9.2.6), incremental: bytes go in as they arrive, in
 * chunks of any size (one byte at a time included), and each blank line dispatches. UTF-8 is decoded with a
 * streaming TextDecoder, so a character split across chunks is joined, and it strips one BOM at the start.
 * A CR at the end of a chunk ends the line at once; an LF opening the next chunk is then the rest of that CRLF.
 */

/** Called on every dispatch (blank line). `data` is undefined when the event had no data line: nothing fires, but the id still counts. */
export type OnDispatch = (event: string, data: string | undefined, id: string) => void;

/** Feeds one chunk of the response body to the parser. */
export type Feed = (chunk: Uint8Array) => void;

const DIGITS = /^\d+$/;

/**
 * Makes a parser for one response body. `lastId` seeds the last event ID buffer (the id the stream resumes
 * from), so an event without an `id:` keeps it. `onRetry` gets each valid `retry:` value in ms. Never throws
 * on any input; callbacks' exceptions propagate to the caller of the returned feed function.
 */
export function createParser(onDispatch: OnDispatch, onRetry: (ms: number) => void, lastId = ''): Feed {
  const decoder = new TextDecoder();
  const lineEnd = /\r\n|\r|\n/g; // one per parser: its lastIndex is this parser's state
  let pending = ''; // text after the last line end
  let skipLF = false; // the previous chunk ended in CR: an LF first in this one completes that CRLF
  let data = ''; // the data buffer: each data line's value plus LF
  let event = '';
  let id = lastId;

  const line = (text: string): void => {
    if (text === '') {
      // Dispatch: the id applies even without data; an event without a data line fires nothing.
      onDispatch(event || 'message', data === '' ? undefined : data.slice(0, -1), id);
      data = event = '';
      return;
    }
    const colon = text.indexOf(':');
    if (colon === 0) return; // a comment
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (field === 'data') data += `${value}\n`;
    else if (field === 'event') event = value;
    else if (field === 'id') {
      if (!value.includes('\0')) id = value;
    } else if (field === 'retry' && DIGITS.test(value)) onRetry(Number(value));
  };

  return (chunk) => {
    let text = decoder.decode(chunk, { stream: true });
    if (text === '') return; // only part of a multi-byte character so far
    if (skipLF && text[0] === '\n') text = text.slice(1);
    skipLF = false;
    // Only the new text is scanned: a long line arriving in small chunks is not rescanned each time.
    let start = 0;
    lineEnd.lastIndex = 0;
    for (let m = lineEnd.exec(text); m; m = lineEnd.exec(text)) {
      // A CR last in the chunk may be half of a CRLF whose LF is still on its way.
      if (m[0] === '\r' && lineEnd.lastIndex === text.length) skipLF = true;
      line(pending + text.slice(start, m.index));
      pending = '';
      start = lineEnd.lastIndex;
    }
    pending += text.slice(start);
  };
}
