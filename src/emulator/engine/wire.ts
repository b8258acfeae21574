/**
 * Little-endian integers and 8-bit strings as the virtual camera writes and
 * reads them. The camera's own copy: the emulator shares no protocol code
 * with the client, so that a bug on one end cannot hide a bug on the other.
 *
 * @module
 */

/**
 * The unsigned 32-bit little-endian word at `offset` (0 past the end).
 *
 * @param bytes the buffer
 * @param offset where the word starts
 * @returns the word
 */
export function u32At(bytes: Uint8Array, offset: number): number {
  if (offset + 4 > bytes.length) return 0;
  return (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16) |
    (bytes[offset + 3] << 24)) >>> 0;
}

/**
 * The unsigned 16-bit little-endian half-word at `offset` (0 past the end).
 *
 * @param bytes the buffer
 * @param offset where the half-word starts
 * @returns the half-word
 */
export function u16At(bytes: Uint8Array, offset: number): number {
  if (offset + 2 > bytes.length) return 0;
  return bytes[offset] | (bytes[offset + 1] << 8);
}

/**
 * Store `value` as a 32-bit little-endian word at `offset`.
 *
 * @param bytes the buffer
 * @param offset where the word goes
 * @param value the value (taken modulo 2^32)
 */
export function putU32(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
  bytes[offset + 2] = (value >>> 16) & 0xff;
  bytes[offset + 3] = (value >>> 24) & 0xff;
}

/**
 * Store `value` as a 16-bit little-endian half-word at `offset`.
 *
 * @param bytes the buffer
 * @param offset where the half-word goes
 * @param value the value (taken modulo 2^16)
 */
export function putU16(bytes: Uint8Array, offset: number, value: number): void {
  bytes[offset] = value & 0xff;
  bytes[offset + 1] = (value >>> 8) & 0xff;
}

/**
 * `text` as 8-bit (Latin-1) bytes, the way the camera stores names; characters
 * above U+00FF become `?`.
 *
 * @param text the text
 * @returns one byte per character
 */
export function latin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    out[i] = code > 0xff ? 0x3f : code;
  }
  return out;
}

/**
 * Store `text` at `offset` in a field of `size` bytes: Latin-1 bytes, cut to
 * leave room for a NUL, the rest of the field filled with `fill`.
 *
 * @param bytes the buffer
 * @param offset where the field starts
 * @param size field size in bytes
 * @param text the text
 * @param fill the byte after the terminating NUL (0 or 0xFF in camera replies)
 */
export function putString(
  bytes: Uint8Array,
  offset: number,
  size: number,
  text: string,
  fill = 0,
): void {
  const encoded = latin1(text).subarray(0, size - 1);
  bytes.fill(fill, offset, offset + size);
  bytes.set(encoded, offset);
  bytes[offset + encoded.length] = 0;
}

/** A NUL-terminated string found in a buffer, and where the next one starts. */
export interface FoundString {
  /** The text (Latin-1). */
  text: string;
  /** Offset just past the NUL; `terminated` false means the buffer ended first. */
  next: number;
  /** Whether a NUL was found before the end of the buffer. */
  terminated: boolean;
}

/**
 * The NUL-terminated Latin-1 string starting at `offset`.
 *
 * @param bytes the buffer
 * @param offset where the string starts
 * @returns the text, the offset after its NUL, and whether the NUL was there
 */
export function stringAt(bytes: Uint8Array, offset: number): FoundString {
  let end = offset;
  while (end < bytes.length && bytes[end] !== 0) end++;
  let text = "";
  for (let i = offset; i < end; i++) text += String.fromCharCode(bytes[i]);
  const terminated = end < bytes.length;
  return { text, next: terminated ? end + 1 : end, terminated };
}

/**
 * The bytes of several buffers, one after the other.
 *
 * @param parts the buffers
 * @returns a new buffer holding them all
 */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
