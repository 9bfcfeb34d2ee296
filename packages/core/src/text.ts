/** Text helpers shared by the encoder and request parsing; free of Node-only APIs (Fetch runtimes load them too). */

/** True when `text` holds a C0 control character (U+0000–U+001F: CR, LF, NUL, ...) or DEL. */
export function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

const encoder = new TextEncoder();

/**
 * `text` as UTF-8 bytes: a Node `Buffer` where there is one (pooled, the fastest for small frames), else a plain
 * `Uint8Array` (Workers and edge runtimes have no `Buffer`).
 */
export const utf8: (text: string) => Uint8Array =
  typeof Buffer === 'function' ? (text) => Buffer.from(text) : (text) => encoder.encode(text);

/** Length of `text` in UTF-8 bytes. */
export function utf8Length(text: string): number {
  return typeof Buffer === 'function' ? Buffer.byteLength(text) : encoder.encode(text).length;
}
