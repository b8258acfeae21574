/**
 * The virtual camera's bulk IN pipe: a queue of byte sources served in
 * whatever read sizes the host asks for, never more than asked. Sources can be
 * lazy (a file streamed from the card on demand), so a 512 MiB download never
 * sits in memory.
 *
 * @module
 */

/** A run of bytes that can be read piecewise. */
export interface ByteSource {
  /** Total number of bytes. */
  readonly size: number;
  /**
   * `length` bytes starting at `offset` (both within `size`).
   *
   * @param offset first byte
   * @param length how many
   */
  bytes(offset: number, length: number): Uint8Array;
}

/**
 * A source over bytes already in memory.
 *
 * @param data the bytes
 * @returns the source
 */
export function bytesSource(data: Uint8Array): ByteSource {
  return { size: data.length, bytes: (offset, length) => data.subarray(offset, offset + length) };
}

/**
 * `size` bytes of `source` starting at `start`.
 *
 * @param source the source
 * @param start first byte kept
 * @param size how many bytes to keep (cut at the source's end)
 * @returns the part
 */
export function sliceSource(source: ByteSource, start: number, size: number): ByteSource {
  const length = Math.max(0, Math.min(size, source.size - start));
  return { size: length, bytes: (offset, n) => source.bytes(start + offset, n) };
}

/**
 * A list of sources cut to at most `limit` bytes in total.
 *
 * @param sources the sources, in order
 * @param limit how many bytes to keep
 * @returns the kept part
 */
export function limitSources(sources: readonly ByteSource[], limit: number): ByteSource[] {
  const out: ByteSource[] = [];
  let left = Math.max(0, limit);
  for (const source of sources) {
    if (left <= 0) break;
    const kept = source.size <= left ? source : sliceSource(source, 0, left);
    out.push(kept);
    left -= kept.size;
  }
  return out;
}

/**
 * A list of sources without its first `count` bytes.
 *
 * @param sources the sources, in order
 * @param count how many bytes to drop
 * @returns what remains
 */
export function dropSources(sources: readonly ByteSource[], count: number): ByteSource[] {
  const out: ByteSource[] = [];
  let skip = Math.max(0, count);
  for (const source of sources) {
    if (skip >= source.size) {
      skip -= source.size;
      continue;
    }
    out.push(skip > 0 ? sliceSource(source, skip, source.size - skip) : source);
    skip = 0;
  }
  return out;
}

/** A first-in first-out byte pipe over {@link ByteSource}s. */
export class ByteFifo {
  #sources: ByteSource[] = [];
  #offset = 0; // read position inside #sources[0]
  #queued = 0;

  /** Bytes waiting to be read. */
  get length(): number {
    return this.#queued;
  }

  /**
   * Append sources.
   *
   * @param sources the sources, in order
   */
  push(...sources: ByteSource[]): void {
    for (const source of sources) {
      if (source.size <= 0) continue;
      this.#sources.push(source);
      this.#queued += source.size;
    }
  }

  /** Drop everything queued. */
  clear(): void {
    this.#sources = [];
    this.#offset = 0;
    this.#queued = 0;
  }

  /**
   * Take up to `max` bytes (across sources), or null when the pipe is empty.
   *
   * @param max the most the reader accepts
   * @returns the bytes, or null
   */
  take(max: number): Uint8Array | null {
    if (this.#queued === 0) return null;
    const wanted = Math.min(max, this.#queued);
    const out = new Uint8Array(wanted);
    let filled = 0;
    while (filled < wanted) {
      const source = this.#sources[0];
      const n = Math.min(wanted - filled, source.size - this.#offset);
      out.set(source.bytes(this.#offset, n).subarray(0, n), filled);
      filled += n;
      this.#offset += n;
      if (this.#offset >= source.size) {
        this.#sources.shift();
        this.#offset = 0;
      }
    }
    this.#queued -= wanted;
    return out;
  }
}
