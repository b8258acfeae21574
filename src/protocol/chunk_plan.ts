/**
 * The read sizes of a long reply's data (§3.4): the camera's transfer
 * length (0x1400 on old cameras, the init block's value on others) while
 * more than that remains, then, on cameras other than class 6, what remains
 * rounded down to a multiple of 0x40, then the exact remainder.
 *
 * @module
 */

/**
 * The size of the next read of a long reply.
 *
 * @param remaining data bytes still to read (more than 0)
 * @param transferLength the largest read the camera allows
 * @param newProtocol class-6 camera (no rounding to 0x40)
 * @returns bytes to ask for
 */
export function nextChunkLength(
  remaining: number,
  transferLength: number,
  newProtocol: boolean,
): number {
  if (remaining > transferLength) return transferLength;
  if (remaining > 0x40 && !newProtocol) return remaining - (remaining % 0x40);
  return remaining;
}

/**
 * Every read size of `total` data bytes, in order (lazily: a 512 MiB file
 * is a hundred thousand reads).
 *
 * @param total data bytes to read
 * @param transferLength the largest read the camera allows
 * @param newProtocol class-6 camera
 * @returns the read sizes; they add up to `total`
 */
export function* chunkLengths(
  total: number,
  transferLength: number,
  newProtocol: boolean,
): Generator<number, void, undefined> {
  let remaining = total;
  while (remaining > 0) {
    const length = nextChunkLength(remaining, transferLength, newProtocol);
    yield length;
    remaining -= length;
  }
}
