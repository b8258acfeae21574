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

/**
 * The read sizes of `total` data bytes that may be queued ahead, several
 * transfers in flight: the plan of {@link chunkLengths}, with its last size,
 * the one that is not a whole number of packets, given room for a whole
 * number (35 bytes asked for as 64). No transfer may be queued with room
 * for less than a packet: when the camera ends a transfer early (the EOS
 * 20D does, Protocol.xml), every queued transfer after it receives bytes
 * meant for the one before, and a partial-packet transfer would then
 * receive a full packet and overflow. With room for whole packets it takes
 * what comes, and the camera's last, short packet ends it where the plan's
 * exact size would have: the wire carries the same packets. What is left
 * after an early end is read one transfer at a time, re-planned from what
 * really arrived. A tail that rounded up would exceed the camera's transfer
 * length is left out (read after these, one transfer at a time).
 *
 * @param total data bytes to read
 * @param transferLength the largest read the camera allows
 * @param newProtocol class-6 camera
 * @param packetSize the bulk IN endpoint's wMaxPacketSize
 * @returns the read sizes, each a multiple of `packetSize`
 */
export function* queuedChunkLengths(
  total: number,
  transferLength: number,
  newProtocol: boolean,
  packetSize: number,
): Generator<number, void, undefined> {
  const packet = packetSize > 0 ? packetSize : 64;
  for (const length of chunkLengths(total, transferLength, newProtocol)) {
    if (length % packet !== 0) {
      const whole = length + packet - (length % packet);
      if (whole <= transferLength) yield whole;
      return;
    }
    yield length;
  }
}
