/** Ways to cut a byte string into chunks, so a parser is checked against every way a network may deliver it. */

/** A seeded generator (mulberry32), so a failing random split can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cuts `bytes` into pieces of `size` bytes. */
export function bySize(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

/** Cuts `bytes` at random places (1 to 16 bytes a piece). */
export function randomly(bytes: Uint8Array, seed: number): Uint8Array[] {
  const next = random(seed);
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; ) {
    const size = 1 + Math.floor(next() * 16);
    out.push(bytes.subarray(i, i + size));
    i += size;
  }
  return out;
}

/** The chunkings every parser case runs under: whole, byte by byte, in pairs, and two random splits. */
export function chunkings(bytes: Uint8Array): [string, Uint8Array[]][] {
  return [
    ['whole', [bytes]],
    ['byte by byte', bySize(bytes, 1)],
    ['in pairs', bySize(bytes, 2)],
    ['random split 1', randomly(bytes, 1)],
    ['random split 2', randomly(bytes, 2)],
  ];
}
