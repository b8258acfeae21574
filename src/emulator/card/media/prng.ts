/**
 * Deterministic pseudo-random numbers for the virtual camera's media: a small
 * seeded generator for drawing, a string hash for deriving seeds from names,
 * and a position-addressed byte pattern that can produce any range of a huge
 * file without producing what comes before it.
 *
 * Everything here gives the same output on every run and every platform.
 *
 * @module
 */

/** Mixes a 32-bit integer into a well-spread 32-bit value (MurmurHash3's finaliser). */
function mix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/**
 * A seeded generator of unsigned 32-bit integers (mulberry32).
 *
 * @param seed any integer; equal seeds give equal sequences
 * @returns a function giving the next value in [0, 2^32)
 *
 * @example
 * ```ts
 * import { createPrng } from "./prng.ts";
 * const next = createPrng(42);
 * const a = next();
 * if (a !== createPrng(42)()) throw new Error("not deterministic");
 * ```
 */
export function createPrng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/**
 * A 32-bit FNV-1a hash of a string's UTF-16 code units, for deriving seeds from
 * names (e.g. a file's path).
 *
 * @param text the string to hash
 * @returns an unsigned 32-bit hash
 *
 * @example
 * ```ts
 * import { hashString } from "./prng.ts";
 * const seed = hashString("/DCIM/100CANON/IMG_0001.JPG");
 * if (seed !== hashString("/DCIM/100CANON/IMG_0001.JPG")) throw new Error("unstable");
 * ```
 */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Writes the bytes `[offset, offset + target.length)` of the pseudo-random
 * byte stream identified by `seed` into `target`.
 *
 * Byte `n` of the stream is byte `n % 4` (little-endian) of a hash of
 * `(seed, floor(n / 4))`, so any range can be produced on its own, at several
 * hundred MB/s, without allocating the bytes before it. Offsets up to 2^34
 * are supported.
 *
 * @param target where to write; its whole length is filled
 * @param seed identifies the stream
 * @param offset position of `target[0]` in the stream (a non-negative integer)
 *
 * @example
 * ```ts
 * import { fillPattern } from "./prng.ts";
 * const whole = new Uint8Array(16);
 * fillPattern(whole, 7, 0);
 * const part = new Uint8Array(5);
 * fillPattern(part, 7, 9);
 * if (part.some((b, i) => b !== whole[9 + i])) throw new Error("ranges disagree");
 * ```
 */
export function fillPattern(target: Uint8Array, seed: number, offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new RangeError(`pattern offset must be a non-negative integer, got ${offset}`);
  }
  const length = target.length;
  if (length === 0) return;
  const key = mix32(seed >>> 0);
  const firstWord = Math.floor(offset / 4);
  const lead = offset % 4;
  if (lead === 0 && target.byteOffset % 4 === 0 && LITTLE_ENDIAN) {
    // Fast path: whole words straight into the target's memory, then the tail.
    const whole = length >>> 2;
    const view = new Uint32Array(target.buffer, target.byteOffset, whole);
    for (let i = 0; i < whole; i++) view[i] = patternWord(key, firstWord + i);
    if (whole * 4 < length) {
      const last = patternWord(key, firstWord + whole);
      for (let b = whole * 4; b < length; b++) target[b] = last >>> (8 * (b % 4));
    }
    return;
  }
  const words = Math.ceil((lead + length) / 4);
  const scratch = new Uint32Array(words);
  for (let i = 0; i < words; i++) scratch[i] = patternWord(key, firstWord + i);
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < words; i++) {
      const w = scratch[i];
      scratch[i] = ((w & 0xff) << 24 | (w & 0xff00) << 8 | (w >>> 8) & 0xff00 | w >>> 24) >>> 0;
    }
  }
  target.set(new Uint8Array(scratch.buffer, lead, length));
}

/** Word `index` (< 2^32) of the stream with mixed seed `key`. */
function patternWord(key: number, index: number): number {
  return mix32(Math.imul(index >>> 0, 0x9e3779b1) ^ key);
}
