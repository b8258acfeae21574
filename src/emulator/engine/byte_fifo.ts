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
  /**
   * The camera ends the USB transfer carrying this source's last byte there,
   * short of what the host asked for (the next bytes go in the next
   * transfer), as real cameras do in the middle of long replies.
   */
  readonly endsTransfer?: boolean;
  /** The data of a long reply (where a real bus's packet overflow is modelled). */
  readonly longData?: boolean;
  /** Bytes beyond any reply (the "oversize" fault): the next command discards them. */
  readonly surplus?: boolean;
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
 * `source` cut into consecutive parts of the given sizes (the last size
 * repeats until the source is used up), each ending its USB transfer.
 *
 * @param source the source
 * @param sizes part sizes in order; the pattern's tail `repeat` sizes repeat
 * @param repeat how many of the last sizes repeat (at least 1)
 * @returns the parts, each with `endsTransfer` set
 */
export function segmentSource(
  source: ByteSource,
  sizes: readonly number[],
  repeat = 1,
): ByteSource[] {
  const out: ByteSource[] = [];
  let at = 0;
  let i = 0;
  const loopFrom = Math.max(0, sizes.length - Math.max(1, repeat));
  while (at < source.size && sizes.length > 0) {
    const size = Math.max(1, sizes[i]);
    const part = sliceSource(source, at, size);
    out.push({ size: part.size, bytes: part.bytes, endsTransfer: true, longData: source.longData });
    at += part.size;
    i = i + 1 < sizes.length ? i + 1 : loopFrom;
  }
  return out;
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
    out.push(skip > 0 ? keepEnd(source, sliceSource(source, skip, source.size - skip)) : source);
    skip = 0;
  }
  return out;
}

function keepEnd(original: ByteSource, part: ByteSource): ByteSource {
  return { ...part, endsTransfer: original.endsTransfer, longData: original.longData };
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

  /**
   * Bytes the current USB transfer can carry: up to the end of the first
   * source that ends its transfer, or everything queued.
   */
  get untilTransferEnd(): number {
    let total = -this.#offset;
    for (const source of this.#sources) {
      total += source.size;
      if (source.endsTransfer) return total;
    }
    return this.#queued;
  }

  /** Whether the next byte to send belongs to a long reply's data. */
  get atLongData(): boolean {
    return this.#sources[0]?.longData === true;
  }

  /** Drop the surplus sources at the head of the pipe (the next command's start). */
  dropSurplus(): void {
    while (this.#sources[0]?.surplus) {
      this.#queued -= this.#sources[0].size - this.#offset;
      this.#sources.shift();
      this.#offset = 0;
    }
  }

  /** Drop everything queued. */
  clear(): void {
    this.#sources = [];
    this.#offset = 0;
    this.#queued = 0;
  }

  /**
   * Take up to `max` bytes (across sources, but not past the end of a
   * source that ends its transfer), or null when the pipe is empty.
   *
   * @param max the most the reader accepts
   * @returns the bytes, or null
   */
  take(max: number): Uint8Array | null {
    if (this.#queued === 0) return null;
    const wanted = Math.min(max, this.untilTransferEnd);
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
