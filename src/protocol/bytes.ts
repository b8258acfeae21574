/**
 * Little-endian integers and C strings in byte buffers.
 *
 * @module
 */

/** The 32-bit little-endian word at `offset` (unsigned). */
export function readU32(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) |
    (bytes[offset + 3] << 24)) >>> 0;
}

/** The 16-bit little-endian half-word at `offset`. */
export function readU16(bytes: Uint8Array, offset: number): number {
  return bytes[offset] | (bytes[offset + 1] << 8);
}

/** Write `value` as a 32-bit little-endian word at `offset`. */
export function writeU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = (value >>> 16) & 0xff;
  bytes[offset + 3] = (value >>> 24) & 0xff;
}

/**
 * The NUL-terminated string at `offset`, at most `max` bytes long, decoded as
 * Latin-1 (the cameras store 8-bit text).
 */
export function readCString(bytes: Uint8Array, offset: number, max: number): string {
  const end = Math.min(bytes.length, offset + max);
  const nul = bytes.indexOf(0, offset);
  const stop = nul < 0 || nul > end ? end : nul;
  // Char codes straight from the bytes (Latin-1), in slices short enough for
  // one call: no string per character (a listing decodes thousands of names).
  let text = "";
  for (let at = offset; at < stop; at += 4096) {
    const part = bytes.subarray(at, Math.min(stop, at + 4096));
    text += String.fromCharCode.apply(null, part as unknown as number[]);
  }
  return text;
}

/** `text` as Latin-1 bytes followed by `nuls` NUL bytes. Characters above 0xFF are refused. */
export function cString(text: string, nuls = 1): Uint8Array {
  const out = new Uint8Array(text.length + nuls);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code > 0xff) {
      throw new RangeError(`character ${JSON.stringify(text[i])} cannot be sent to the camera`);
    }
    out[i] = code;
  }
  return out;
}

/** Concatenate byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  return joinBytes(parts);
}

/** The byte arrays of a list one after the other, in one new buffer. */
export function joinBytes(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** 32-bit little-endian words as bytes. */
export function words(...values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  values.forEach((value, i) => writeU32(out, i * 4, value));
  return out;
}
