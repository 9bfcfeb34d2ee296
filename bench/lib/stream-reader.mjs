// Reads one raw HTTP/1.1 event-stream response: the status line and headers, the chunked transfer coding
// (or a plain body), then event-stream frames. For every frame with a `data:` line in the bench payload
// format (`<seq> <send µs> ...`) it calls `onEvent(seq, sentUs, id)`. Allocates nothing per frame unless asked
// for the frame's `id:` line (`readIds`).

const HEAD = 0;
const SIZE = 1;
const SIZE_LF = 2;
const DATA = 3;
const DATA_CRLF = 4;
const BODY = 5;
const DONE = 6;

const HEAD_END = Buffer.from('\r\n\r\n');
const FRAME_END = Buffer.from('\n\n');
const DATA_FIELD = Buffer.from('data:');
const ID_FIELD = Buffer.from('id:');

export class StreamReader {
  state = HEAD;
  status = 0;
  chunked = false;
  /** Bytes read off the socket, framing included. */
  wireBytes = 0;
  /** Bytes of the event stream (after the transfer coding). */
  bodyBytes = 0;
  /** Head bytes seen so far, while the head is incomplete. */
  head = null;
  remaining = 0;
  crlfLeft = 0;
  /** The start of a frame whose end has not arrived yet. */
  partial = null;
  onEvent;
  onHead;
  readIds;

  /**
   * `onHead(status)` runs once the response head is in; `onEvent(seq, sentUs, id)` for each bench event, `id`
   * the frame's `id:` value (a string) when `readIds` is true, else undefined.
   */
  constructor(onHead, onEvent, readIds = false) {
    this.onHead = onHead;
    this.onEvent = onEvent;
    this.readIds = readIds;
  }

  /** Feeds bytes read from the socket; keeps nothing of `buf` past the call (it may be reused). */
  feed(buf) {
    this.wireBytes += buf.length;
    let pos = 0;
    if (this.state === HEAD) {
      pos = this.#readHead(buf);
      if (pos < 0) return;
    }
    const length = buf.length;
    while (pos < length) {
      switch (this.state) {
        case BODY:
          this.#body(pos === 0 ? buf : buf.subarray(pos));
          return;
        case SIZE: {
          const c = buf[pos++];
          if (c === 13) this.state = SIZE_LF;
          else this.remaining = this.remaining * 16 + hexValue(c);
          break;
        }
        case SIZE_LF:
          pos++;
          if (this.remaining === 0) {
            this.state = DONE;
            return;
          }
          this.state = DATA;
          break;
        case DATA: {
          const end = Math.min(length, pos + this.remaining);
          this.#body(buf.subarray(pos, end));
          this.remaining -= end - pos;
          pos = end;
          if (this.remaining === 0) {
            this.state = DATA_CRLF;
            this.crlfLeft = 2;
          }
          break;
        }
        case DATA_CRLF:
          pos++;
          if (--this.crlfLeft === 0) this.state = SIZE;
          break;
        default:
          return;
      }
    }
  }

  /** True once a chunked body's last chunk arrived. */
  get ended() {
    return this.state === DONE;
  }

  #readHead(buf) {
    const all = this.head === null ? buf : Buffer.concat([this.head, buf]);
    const end = all.indexOf(HEAD_END);
    if (end === -1) {
      this.head = Buffer.from(all);
      return -1;
    }
    this.head = null;
    const text = all.toString('latin1', 0, end);
    this.status = Number(text.slice(9, 12));
    this.chunked = /\r\ntransfer-encoding:\s*chunked/i.test(text);
    this.state = this.chunked ? SIZE : BODY;
    this.onHead(this.status);
    // Whatever followed the head in this read belongs to the body: re-enter feed's loop at that offset.
    const offset = end + 4 - (all.length - buf.length);
    return offset;
  }

  #body(segment) {
    this.bodyBytes += segment.length;
    let buf = segment;
    if (this.partial !== null) {
      buf = Buffer.concat([this.partial, segment]);
      this.partial = null;
    }
    let start = 0;
    for (;;) {
      const end = buf.indexOf(FRAME_END, start);
      if (end === -1) break;
      this.#frame(buf, start, end);
      start = end + 2;
    }
    // A copy: the load client reads every socket into one shared buffer.
    if (start < buf.length) this.partial = Buffer.from(buf.subarray(start));
  }

  #frame(buf, start, end) {
    let p = buf.indexOf(DATA_FIELD, start);
    if (p === -1 || p >= end) return; // a comment, a retry line: not an event of ours
    p += 5;
    if (buf[p] === 32) p++; // one optional space after the colon
    if (buf[p] === 34) p++; // JSON-serialized string data (better-sse's default serializer)
    let seq = 0;
    let c = buf[p];
    if (c < 48 || c > 57) return;
    while (c >= 48 && c <= 57) {
      seq = seq * 10 + (c - 48);
      c = buf[++p];
    }
    p++;
    let sent = 0;
    c = buf[p];
    while (c >= 48 && c <= 57) {
      sent = sent * 10 + (c - 48);
      c = buf[++p];
    }
    this.onEvent(seq, sent, this.readIds ? frameId(buf, start, end) : undefined);
  }
}

/** The value of the frame's `id:` line (one optional space after the colon), or undefined without one. */
function frameId(buf, start, end) {
  let p = buf.indexOf(ID_FIELD, start);
  while (p !== -1 && p < end && p !== start && buf[p - 1] !== 10) p = buf.indexOf(ID_FIELD, p + 1);
  if (p === -1 || p >= end) return undefined;
  p += 3;
  if (buf[p] === 32) p++;
  let lineEnd = buf.indexOf(10, p);
  if (lineEnd === -1 || lineEnd > end) lineEnd = end;
  return buf.toString('latin1', p, lineEnd);
}

function hexValue(c) {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return 0; // chunk extensions are not used by any variant
}
