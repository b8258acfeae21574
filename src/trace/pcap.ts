/**
 * Capture files as Wireshark, tshark, dumpcap and tcpdump write them: the
 * classic pcap format (micro- or nanosecond timestamps, either byte order)
 * and pcapng (any number of sections and interfaces, enhanced, simple and
 * obsolete packet blocks). A reader that hands back every packet with its
 * link type, and a pcapng writer.
 *
 * @module
 */

import { CanonError } from "../usb/errors.ts";
/** One packet of a capture. */
export interface TracePacket {
  /** The link type of the interface it was captured on (189/220 for usbmon). */
  linkType: number;
  /** Capture time in microseconds since 1970. */
  timeMicros: bigint;
  /** The bytes captured. */
  data: Uint8Array;
  /** The packet's length on the wire (at least `data.length`). */
  originalLength: number;
  /** Byte order of the file (and so of the capturing machine). */
  littleEndian: boolean;
}

/** A capture file, read. */
export interface TraceFile {
  /** Which file format it was. */
  format: "pcap" | "pcapng";
  /** The packets, in file order. */
  packets: TracePacket[];
  /** What was damaged or cut short (the packets before it are all there). */
  warnings: string[];
}

/** The file is not a capture, or is damaged. */
export class TraceFormatError extends CanonError {
  /**
   * Make the error.
   *
   * @param message what is wrong
   */
  constructor(message: string) {
    super(message);
    this.name = "TraceFormatError";
  }
}

const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_IDB = 0x00000001;
const PCAPNG_PB = 0x00000002; // obsolete packet block
const PCAPNG_SPB = 0x00000003;
const PCAPNG_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/**
 * The largest pcap record or pcapng block the reader accepts, in bytes. A
 * usbmon event is smaller: the kernel caps the data of one event at a fifth
 * of its ring buffer (`rp->b_size/5` in drivers/usb/mon/mon_bin.c), whose
 * maximum (BUFF_MAX) has long been 1200 KiB (240 KiB an event) and is 64 MiB
 * in a 2025 patch (12.8 MiB an event); dumpcap's default snapshot length is
 * 256 KiB. A larger length is damage, and is never allocated.
 */
export const MAX_CAPTURE_BLOCK = 16 * 1024 * 1024;

/** Interfaces a pcapng section may describe before more are ignored. */
const MAX_INTERFACES = 1024;
/** Warnings kept before they are only counted. */
const MAX_WARNINGS = 20;

/** Bytes received and not yet read, as a list of chunks. */
class ByteQueue {
  #chunks: Uint8Array[] = [];
  #head = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** The first `n` bytes (at most {@link length}), contiguous; copied only when they span chunks. */
  peek(n: number): Uint8Array {
    const first = this.#chunks[0];
    if (first && first.length - this.#head >= n) return first.subarray(this.#head, this.#head + n);
    const out = new Uint8Array(Math.min(n, this.#length));
    let filled = 0;
    let head = this.#head;
    for (const chunk of this.#chunks) {
      if (filled === out.length) break;
      const part = chunk.subarray(head, head + out.length - filled);
      out.set(part, filled);
      filled += part.length;
      head = 0;
    }
    return out;
  }

  skip(n: number): void {
    this.#length -= n;
    while (n > 0) {
      const first = this.#chunks[0];
      const left = first.length - this.#head;
      if (n < left) {
        this.#head += n;
        return;
      }
      n -= left;
      this.#chunks.shift();
      this.#head = 0;
    }
  }
}

interface PcapngInterface {
  linkType: number;
  snapLength: number;
  /** Timestamp units per second. */
  unitsPerSecond: bigint;
}

/**
 * Reads a pcap or pcapng capture as it arrives, chunk by chunk: memory stays
 * that of the largest block, whatever the file's size or the lengths it
 * claims. A damaged block or a capture cut short ends the reading with a
 * warning; the packets before it are all delivered.
 *
 * @example
 * ```ts ignore
 * import { TraceReader } from "./pcap.ts";
 * const reader = new TraceReader();
 * for await (const chunk of (await Deno.open("camera.pcapng")).readable) {
 *   for (const packet of reader.push(chunk)) console.log(packet.data.length);
 * }
 * reader.finish();
 * console.log(reader.warnings);
 * ```
 */
export class TraceReader {
  #queue = new ByteQueue();
  #format: "pcap" | "pcapng" | undefined;
  #stopped = false;
  #offset = 0;
  #warnings: string[] = [];
  #dropped = 0;
  #packets = 0;
  // pcap
  #le = true;
  #nano = false;
  #linkType = 0;
  // pcapng
  #interfaces: PcapngInterface[] = [];

  /** "pcap" or "pcapng", once the file's header is read. */
  get format(): "pcap" | "pcapng" | undefined {
    return this.#format;
  }

  /** What was damaged or cut short, in file order (bounded; the rest counted). */
  get warnings(): string[] {
    return this.#dropped > 0
      ? [...this.#warnings, `... and ${this.#dropped} more warnings`]
      : [...this.#warnings];
  }

  /** Packets delivered so far. */
  get packets(): number {
    return this.#packets;
  }

  #warn(message: string): void {
    if (this.#warnings.length < MAX_WARNINGS) this.#warnings.push(message);
    else this.#dropped++;
  }

  #stop(message: string): void {
    this.#warn(`${message}; the capture is read up to offset ${this.#offset}`);
    this.#stopped = true;
  }

  /**
   * Add the next bytes of the file.
   *
   * @param chunk bytes in file order (kept only until the blocks they complete are read)
   * @returns the packets completed by them
   * @throws {TraceFormatError} when the file does not start as a pcap or pcapng capture
   */
  push(chunk: Uint8Array): TracePacket[] {
    if (this.#stopped) return [];
    this.#queue.push(chunk);
    const out: TracePacket[] = [];
    if (this.#format === undefined && !this.#readFileHeader()) return out;
    if (this.#format === "pcap") this.#readPcap(out);
    else this.#readPcapng(out);
    this.#packets += out.length;
    return out;
  }

  /**
   * The file has ended: note a last block cut short.
   *
   * @throws {TraceFormatError} when the file was too short for a capture's header
   */
  finish(): void {
    if (this.#format === undefined) {
      throw new TraceFormatError("the file is too short to be a capture");
    }
    if (!this.#stopped && this.#queue.length > 0) {
      this.#stop(`the capture is cut short: ${this.#queue.length} bytes of an unfinished block`);
    }
    this.#stopped = true;
  }

  #readFileHeader(): boolean {
    const queue = this.#queue;
    if (queue.length < 4) return false;
    const head = queue.peek(Math.min(queue.length, 24));
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
    if (view.getUint32(0, true) === PCAPNG_SHB) {
      this.#format = "pcapng";
      return true;
    }
    const magicLe = view.getUint32(0, true);
    const magicBe = view.getUint32(0, false);
    const known = [0xa1b2c3d4, 0xa1b23c4d];
    if (!known.includes(magicLe) && !known.includes(magicBe)) {
      throw new TraceFormatError(
        "not a capture file (neither the pcap nor the pcapng magic number)",
      );
    }
    if (head.length < 24) return false;
    this.#le = known.includes(magicLe);
    this.#nano = (this.#le ? magicLe : magicBe) === 0xa1b23c4d;
    this.#linkType = view.getUint32(20, this.#le) & 0xffff;
    this.#format = "pcap";
    queue.skip(24);
    this.#offset = 24;
    return true;
  }

  #readPcap(out: TracePacket[]): void {
    const queue = this.#queue;
    const le = this.#le;
    while (!this.#stopped && queue.length >= 16) {
      const head = queue.peek(16);
      const view = new DataView(head.buffer, head.byteOffset, 16);
      const seconds = BigInt(view.getUint32(0, le));
      const fraction = BigInt(view.getUint32(4, le));
      const captured = view.getUint32(8, le);
      const original = view.getUint32(12, le);
      if (captured > MAX_CAPTURE_BLOCK) {
        this.#stop(`packet ${this.#packets + out.length + 1} announces ${captured} bytes`);
        return;
      }
      if (queue.length < 16 + captured) return;
      queue.skip(16);
      const data = queue.peek(captured).slice();
      queue.skip(captured);
      this.#offset += 16 + captured;
      out.push({
        linkType: this.#linkType,
        timeMicros: seconds * 1_000_000n + (this.#nano ? fraction / 1000n : fraction),
        data,
        originalLength: original,
        littleEndian: le,
      });
    }
  }

  #readPcapng(out: TracePacket[]): void {
    const queue = this.#queue;
    while (!this.#stopped && queue.length >= 12) {
      const head = queue.peek(12);
      const view = new DataView(head.buffer, head.byteOffset, 12);
      let le = this.#le;
      let type = view.getUint32(0, le);
      if (view.getUint32(0, true) === PCAPNG_SHB) {
        type = PCAPNG_SHB;
        if (view.getUint32(8, true) === BYTE_ORDER_MAGIC) le = true;
        else if (view.getUint32(8, false) === BYTE_ORDER_MAGIC) le = false;
        else {
          if (this.#offset === 0) {
            throw new TraceFormatError("a pcapng section header has no byte-order magic");
          }
          this.#stop(`the section header at offset ${this.#offset} has no byte-order magic`);
          return;
        }
      } else if (this.#offset === 0) {
        throw new TraceFormatError("not a capture file (no pcapng section header)");
      }
      const length = view.getUint32(4, le);
      const minimum = type === PCAPNG_SHB ? 28 : 12;
      if (length < minimum || length % 4 !== 0 || length > MAX_CAPTURE_BLOCK) {
        if (this.#offset === 0) {
          throw new TraceFormatError(`the pcapng section header has a bad length ${length}`);
        }
        this.#stop(`the block at offset ${this.#offset} has a bad length ${length}`);
        return;
      }
      if (queue.length < length) return;
      const bytes = queue.peek(length);
      queue.skip(length);
      if (type === PCAPNG_SHB) {
        this.#le = le;
        this.#interfaces = [];
      }
      this.#block(type, bytes, out);
      this.#offset += length;
    }
  }

  /** One whole pcapng block (header and trailer included). */
  #block(type: number, bytes: Uint8Array, out: TracePacket[]): void {
    const le = this.#le;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const body = 8;
    const bodyEnd = bytes.length - 4;
    const size = bodyEnd - body;
    const short = (what: string, needed: number) => {
      this.#warn(
        `the ${what} block at offset ${this.#offset} has ${size} bytes, fewer than its ${needed}; skipped`,
      );
    };
    switch (type) {
      case PCAPNG_IDB: {
        if (size < 8) return short("interface description", 8);
        const linkType = view.getUint16(body, le);
        const snapLength = view.getUint32(body + 4, le);
        let unitsPerSecond = 1_000_000n;
        forEachOption(view, body + 8, bodyEnd, le, (code, start, length) => {
          if (code === 9 && length >= 1) {
            const resolution = view.getUint8(start);
            unitsPerSecond = resolution & 0x80
              ? 1n << BigInt(resolution & 0x7f)
              : 10n ** BigInt(resolution);
          }
        });
        if (this.#interfaces.length >= MAX_INTERFACES) {
          this.#warn(`more than ${MAX_INTERFACES} interfaces in one section; the rest ignored`);
          return;
        }
        this.#interfaces.push({ linkType, snapLength, unitsPerSecond });
        return;
      }
      case PCAPNG_EPB:
      case PCAPNG_PB: {
        if (size < 20) return short("packet", 20);
        const enhanced = type === PCAPNG_EPB;
        const id = enhanced ? view.getUint32(body, le) : view.getUint16(body, le);
        const iface = this.#interfaces[id];
        if (!iface) {
          this.#warn(`a packet at offset ${this.#offset} names interface ${id}, never described`);
          return;
        }
        const stamp = (BigInt(view.getUint32(body + 4, le)) << 32n) |
          BigInt(view.getUint32(body + 8, le));
        const captured = view.getUint32(body + 12, le);
        const original = view.getUint32(body + 16, le);
        if (captured > size - 20) {
          this.#warn(
            `the packet at offset ${this.#offset} announces ${captured} bytes in a block of ${
              size - 20
            }; skipped`,
          );
          return;
        }
        out.push({
          linkType: iface.linkType,
          timeMicros: stamp * 1_000_000n / iface.unitsPerSecond,
          data: bytes.slice(body + 20, body + 20 + captured),
          originalLength: original,
          littleEndian: le,
        });
        return;
      }
      case PCAPNG_SPB: {
        if (size < 4) return short("simple packet", 4);
        const iface = this.#interfaces[0];
        if (!iface) {
          this.#warn(`a simple packet block at offset ${this.#offset} before any interface`);
          return;
        }
        const original = view.getUint32(body, le);
        const captured = Math.min(original, iface.snapLength || original, size - 4);
        out.push({
          linkType: iface.linkType,
          timeMicros: 0n,
          data: bytes.slice(body + 4, body + 4 + captured),
          originalLength: original,
          littleEndian: le,
        });
        return;
      }
      default:
        // Section headers, name resolution, statistics, custom blocks: nothing to read.
        return;
    }
  }
}

/**
 * Read a pcap or pcapng capture held in memory.
 *
 * @param bytes the whole file
 * @returns its packets with their link types and times, and what was damaged or cut short
 * @throws {TraceFormatError} for something that is not a capture
 * @example
 * ```ts ignore
 * import { readTrace } from "./pcap.ts";
 * const capture = readTrace(await Deno.readFile("camera.pcapng"));
 * console.log(capture.format, capture.packets.length);
 * ```
 */
export function readTrace(bytes: Uint8Array): TraceFile {
  if (bytes.length < 12) throw new TraceFormatError("the file is too short to be a capture");
  const reader = new TraceReader();
  const packets = reader.push(bytes);
  reader.finish();
  return { format: reader.format!, packets, warnings: reader.warnings };
}

/**
 * Read a capture as it arrives (a file's `readable`, a pipe): each packet as
 * soon as its block is whole, memory independent of the file's size.
 *
 * @param source the file's bytes in order
 * @param reader the reader to use (to see its format and warnings afterwards)
 * @returns the packets, in file order
 * @throws {TraceFormatError} for something that is not a capture
 */
export async function* readTraceStream(
  source: AsyncIterable<Uint8Array>,
  reader: TraceReader = new TraceReader(),
): AsyncGenerator<TracePacket> {
  for await (const chunk of source) {
    for (const packet of reader.push(chunk)) yield packet;
  }
  reader.finish();
}

function forEachOption(
  view: DataView,
  start: number,
  end: number,
  le: boolean,
  each: (code: number, start: number, size: number) => void,
): void {
  let offset = start;
  while (offset + 4 <= end) {
    const code = view.getUint16(offset, le);
    const size = view.getUint16(offset + 2, le);
    if (code === 0) return;
    if (offset + 4 + size > end) return;
    each(code, offset + 4, size);
    offset += 4 + size + ((4 - (size % 4)) % 4);
  }
}

function padded(length: number): number {
  return length + ((4 - (length % 4)) % 4);
}

function option(code: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + padded(value.length));
  const view = new DataView(out.buffer);
  view.setUint16(0, code, true);
  view.setUint16(2, value.length, true);
  out.set(value, 4);
  return out;
}

function block(type: number, body: Uint8Array): Uint8Array {
  const length = 12 + padded(body.length);
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, length, true);
  out.set(body, 8);
  view.setUint32(length - 4, length, true);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Options of {@link PcapngWriter}. */
export interface PcapngWriterOptions {
  /** The interface's link type (default 220, LINKTYPE_USB_LINUX_MMAPPED). */
  linkType?: number;
  /** The interface name Wireshark shows (default "usbmon1"). */
  interfaceName?: string;
  /** The program named in the section header (default "canon-remote"). */
  application?: string;
}

/**
 * Writes a pcapng file with one interface: a section header, an interface
 * description and one enhanced packet block per packet (microsecond
 * timestamps, little-endian). The bytes go to `sink` as they are made.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PcapngWriter } from "@canon-remote/canon-remote/trace";
 * const chunks: Uint8Array[] = [];
 * const writer = new PcapngWriter((bytes) => chunks.push(bytes));
 * writer.writePacket(new Uint8Array(64), 1_700_000_000_000_000n);
 * assert.ok(chunks.length >= 2, "a section header, then blocks");
 * ```
 */
export class PcapngWriter {
  #sink: (bytes: Uint8Array) => void;

  /**
   * Start the file: the section header and interface description go to `sink` at once.
   *
   * @param sink receives the file's bytes in order
   * @param options link type, interface name, application name
   */
  constructor(sink: (bytes: Uint8Array) => void, options: PcapngWriterOptions = {}) {
    this.#sink = sink;
    const encoder = new TextEncoder();
    const shb = new Uint8Array(16);
    const shbView = new DataView(shb.buffer);
    shbView.setUint32(0, BYTE_ORDER_MAGIC, true);
    shbView.setUint16(4, 1, true); // version 1.0
    shbView.setUint16(6, 0, true);
    shbView.setBigInt64(8, -1n, true); // section length unknown
    sink(block(
      PCAPNG_SHB,
      concat([
        shb,
        option(4, encoder.encode(options.application ?? "canon-remote")), // shb_userappl
        option(0, new Uint8Array(0)),
      ]),
    ));
    const idb = new Uint8Array(8);
    const idbView = new DataView(idb.buffer);
    idbView.setUint16(0, options.linkType ?? 220, true);
    idbView.setUint32(4, 0, true); // no snap length limit
    sink(block(
      PCAPNG_IDB,
      concat([
        idb,
        option(2, encoder.encode(options.interfaceName ?? "usbmon1")), // if_name
        option(9, Uint8Array.of(6)), // if_tsresol: microseconds
        option(0, new Uint8Array(0)),
      ]),
    ));
  }

  /**
   * Write one packet.
   *
   * @param data the packet (for usbmon: header and data)
   * @param timeMicros capture time in microseconds since 1970
   */
  writePacket(data: Uint8Array, timeMicros: bigint): void {
    const head = new Uint8Array(20);
    const view = new DataView(head.buffer);
    view.setUint32(0, 0, true); // interface 0
    view.setUint32(4, Number(timeMicros >> 32n), true);
    view.setUint32(8, Number(timeMicros & 0xffffffffn), true);
    view.setUint32(12, data.length, true);
    view.setUint32(16, data.length, true);
    this.#sink(block(PCAPNG_EPB, concat([head, data])));
  }
}
