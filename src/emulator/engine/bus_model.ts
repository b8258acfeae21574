/**
 * A model of a USB 1.1 full-speed bus for bulk IN data, so that the virtual
 * camera (in-process and behind umockdev) delivers data no faster than a real
 * camera on a real bus would.
 *
 * The rules:
 * - time is cut into frames of 1 ms; a frame carries at most 19 bulk packets
 *   of 64 bytes (1,216,000 bytes/s at most);
 * - a transfer of `n` bytes takes `max(1, ceil(n / 64))` packet slots;
 * - a transfer submitted while the previous one is still on the bus follows
 *   it at once, in the next free slot (a host that keeps transfers queued
 *   loses nothing between them);
 * - a transfer submitted after the previous one completed (or whose data
 *   only became available after that) starts at the next frame (a host that
 *   waits for each read before asking for the next loses the rest of the
 *   frame, and more if it is slow to resubmit);
 * - a transfer completes when its last packet has gone: `k` packets into a
 *   frame is `k/19` of the way through it.
 *
 * Control transfers, bulk OUT and interrupt transfers are not modelled
 * (they are short and rare next to the file data).
 *
 * @module
 */

/** Bytes in one full-speed bulk packet. */
export const FULL_SPEED_PACKET = 64;
/** Bulk packets in one 1 ms frame, at most. */
export const PACKETS_PER_FRAME = 19;
/** The bulk throughput limit of a full-speed bus, bytes per second. */
export const FULL_SPEED_BULK_LIMIT = FULL_SPEED_PACKET * PACKETS_PER_FRAME * 1000;

/**
 * How long a pipelined host needs, at least, to read `bytes` on a full-speed
 * bus: whole packets, 19 of them per millisecond.
 *
 * @param bytes bytes to read
 * @returns milliseconds
 */
export function fullSpeedMinimumMs(bytes: number): number {
  return Math.ceil(bytes / FULL_SPEED_PACKET) / PACKETS_PER_FRAME;
}

/** Where a transfer sits on the bus. */
export interface BusSlot {
  /** When its first packet goes (ms, `performance.now()` clock). */
  start: number;
  /** When its last packet has gone: the transfer completes then. */
  end: number;
}

/** What a {@link FullSpeedBus} has carried so far. */
export interface BusStats {
  /** Transfers put on the bus. */
  transfers: number;
  /** Packet slots they took. */
  packets: number;
  /**
   * Transfers that could not follow the one before at once (submitted, or
   * with data, only after it completed) and started at a fresh frame.
   */
  restarts: number;
  /** Packet slots left unused before those fresh starts (since the first transfer). */
  idleSlots: number;
}

/**
 * The bus timeline of one device: where the next packet can go, and when
 * the transfer last put on the bus completes. Times are milliseconds on the
 * `performance.now()` clock; frame `f` spans `[f, f + 1)`.
 */
export class FullSpeedBus {
  /** The next free packet slot (absolute: frame * 19 + slot in frame). */
  #cursor = 0;
  /** When the last reserved transfer completes. */
  #busyUntil = -Infinity;
  #stats: BusStats = { transfers: 0, packets: 0, restarts: 0, idleSlots: 0 };

  /** What the bus has carried so far (a copy). */
  get stats(): BusStats {
    return { ...this.#stats };
  }

  /** When the transfer last put on the bus completes (-Infinity: none yet). */
  get busyUntil(): number {
    return this.#busyUntil;
  }

  /**
   * Put a transfer on the bus.
   *
   * @param bytes how many bytes it carries (0: one zero-length packet)
   * @param submittedAt when the host submitted it
   * @param now when its data is there to send (not before `submittedAt`)
   * @returns when it starts and completes
   */
  reserve(bytes: number, submittedAt: number, now: number): BusSlot {
    const packets = Math.max(1, Math.ceil(bytes / FULL_SPEED_PACKET));
    const ready = Math.max(now, submittedAt);
    // Queued while the previous transfer was still on the bus (and its data
    // ready before that one ended): it follows at once. Otherwise: next frame.
    const follows = submittedAt < this.#busyUntil && ready <= this.#busyUntil;
    const first = follows ? this.#cursor : (Math.floor(ready) + 1) * PACKETS_PER_FRAME;
    const stats = this.#stats;
    if (!follows) {
      if (stats.transfers > 0) stats.idleSlots += Math.max(0, first - this.#cursor);
      stats.restarts++;
    }
    stats.transfers++;
    stats.packets += packets;
    const next = first + packets;
    const lastFrame = Math.floor((next - 1) / PACKETS_PER_FRAME);
    const usedInLast = next - lastFrame * PACKETS_PER_FRAME;
    const end = lastFrame + usedInLast / PACKETS_PER_FRAME;
    this.#cursor = next;
    this.#busyUntil = end;
    const startFrame = Math.floor(first / PACKETS_PER_FRAME);
    const start = startFrame + (first - startFrame * PACKETS_PER_FRAME) / PACKETS_PER_FRAME;
    return { start, end };
  }

  /**
   * The transfers on the bus after `now` were taken off it (cancelled): the
   * bus is free from `now` on.
   *
   * @param now the current time
   */
  release(now: number): void {
    if (this.#busyUntil <= now) return;
    this.#busyUntil = now;
    const frame = Math.floor(now);
    this.#cursor = frame * PACKETS_PER_FRAME +
      Math.min(PACKETS_PER_FRAME, Math.ceil((now - frame) * PACKETS_PER_FRAME));
  }
}

/** A read waiting on an IN endpoint, as {@link servicePaced} sees it. */
export interface PacedRead {
  /** Bytes asked for. */
  readonly length: number;
  /** When the host submitted it (`performance.now()`). */
  readonly submittedAt: number;
  /** Set once the read is on the bus: how many bytes it carries, and when. */
  slot?: BusSlot & { bytes: number };
}

/** Where a paced endpoint's data comes from. */
export interface PacedSource {
  /** Bytes the endpoint could send now, or "stall". */
  available(): number | "stall";
  /** Take up to `maxLength` bytes (the function's `read`); may throw. */
  read(maxLength: number): Uint8Array | "stall" | null;
}

/**
 * Move one endpoint's queue of reads along the bus: complete (in order) the
 * reads whose last packet has gone by `now`, taking their data only then,
 * and put waiting reads on the bus while the endpoint has data for them.
 *
 * @param bus the device's bus
 * @param queue the endpoint's reads in submission order; completed ones are removed
 * @param source the endpoint's data
 * @param complete called with each read taken off the queue and its result
 *   (the bytes, "stall", or the error the source threw)
 * @param now the current time
 * @returns when the next read on the bus completes (call again then), or
 *   undefined when no read is on the bus
 */
export function servicePaced<R extends PacedRead>(
  bus: FullSpeedBus,
  queue: R[],
  source: PacedSource,
  complete: (read: R, result: Uint8Array | "stall" | Error) => void,
  now: number = performance.now(),
): number | undefined {
  // Reads whose time has come, in order.
  while (queue.length > 0) {
    const head = queue[0];
    if (!head.slot || head.slot.end > now) break;
    let result: Uint8Array | "stall" | null | Error;
    try {
      result = source.read(head.slot.bytes);
    } catch (error) {
      result = error instanceof Error ? error : new Error(String(error));
    }
    if (result === null) {
      // The data went away meanwhile (a flushed pipe): off the bus, wait again.
      releasePaced(bus, queue, now);
      break;
    }
    queue.shift();
    complete(head, result);
  }
  // Put waiting reads on the bus, as far as the data goes.
  let available = source.available();
  for (let i = 0; i < queue.length; i++) {
    const read = queue[i];
    if (read.slot) {
      if (available !== "stall") available -= read.slot.bytes;
      continue;
    }
    if (available === "stall") {
      // A halted endpoint answers the first waiting read at once.
      if (i === 0) {
        queue.shift();
        complete(read, "stall");
      }
      break;
    }
    if (available <= 0 && read.length > 0) break;
    const bytes = Math.min(read.length, available);
    read.slot = { bytes, ...bus.reserve(bytes, read.submittedAt, now) };
    available -= bytes;
    if (bytes < read.length) break; // a short transfer: what follows waits for new data
  }
  return queue[0]?.slot?.end;
}

/**
 * Take every read of `queue` off the bus (one of them was cancelled, or the
 * data they were promised went away): the bus is free from `now`, and the
 * next {@link servicePaced} puts them on it again.
 *
 * @param bus the device's bus
 * @param queue the endpoint's reads
 * @param now the current time
 */
export function releasePaced(bus: FullSpeedBus, queue: readonly PacedRead[], now: number): void {
  for (const read of queue) read.slot = undefined;
  bus.release(now);
}
