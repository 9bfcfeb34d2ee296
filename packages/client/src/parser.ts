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
  let pending = ''; // text after the last line end
  let skipLF = false; // the previous chunk ended in CR: an LF first in this one completes that CRLF
  let data: string | undefined; // the data buffer, without the standard's trailing LF (undefined: no data line)
  let event = '';
  let id = lastId;

  const line = (text: string): void => {
    if (text === '') {
      // Dispatch: the id applies even without data; an event without a data line fires nothing.
      onDispatch(event || 'message', data, id);
      data = undefined;
      event = '';
      return;
    }
    const colon = text.indexOf(':');
    if (colon === 0) return; // a comment
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (field === 'data') data = data === undefined ? value : `${data}\n${value}`;
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
    // Only the new text is scanned, each character once: the next LF and the next CR are found with indexOf and
    // looked for again only once passed (a long line arriving in small chunks is not rescanned either).
    let start = 0;
    let lf = text.indexOf('\n');
    let cr = text.indexOf('\r');
    while (lf >= 0 || cr >= 0) {
      const end = cr < 0 || (lf >= 0 && lf < cr) ? lf : cr;
      let next = end + 1;
      if (end === cr) {
        if (text[next] === '\n') next++;
        else if (next === text.length) skipLF = true; // a CR last in the chunk may be half of a CRLF
      }
      line(pending + text.slice(start, end));
      pending = '';
      start = next;
      if (lf >= 0 && lf < start) lf = text.indexOf('\n', start);
      if (cr >= 0 && cr < start) cr = text.indexOf('\r', start);
    }
    pending += text.slice(start);
  };
}
