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
export interface CapturedPacket {
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
export interface CaptureFile {
  /** Which file format it was. */
  format: "pcap" | "pcapng";
  /** The packets, in file order. */
  packets: CapturedPacket[];
}

/** The file is not a capture, or is damaged. */
export class CaptureFormatError extends CanonError {
  /**
   * Make the error.
   *
   * @param message what is wrong
   */
  constructor(message: string) {
    super(message);
    this.name = "CaptureFormatError";
  }
}

const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_IDB = 0x00000001;
const PCAPNG_PB = 0x00000002; // obsolete packet block
const PCAPNG_SPB = 0x00000003;
const PCAPNG_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/**
 * Read a pcap or pcapng capture.
 *
 * @param bytes the whole file
 * @returns its packets with their link types and times
 * @throws {CaptureFormatError} for something that is neither, or is cut short
 * @example
 * ```ts ignore
 * import { readCapture } from "@canon-remote/canon-remote/trace";
 * const capture = readCapture(await Deno.readFile("camera.pcapng"));
 * console.log(capture.format, capture.packets.length);
 * ```
 */
export function readCapture(bytes: Uint8Array): CaptureFile {
  if (bytes.length < 12) throw new CaptureFormatError("the file is too short to be a capture");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) === PCAPNG_SHB) {
    return { format: "pcapng", packets: readPcapng(view) };
  }
  return { format: "pcap", packets: readPcap(view) };
}

function readPcap(view: DataView): CapturedPacket[] {
  if (view.byteLength < 24) throw new CaptureFormatError("the pcap header is cut short");
  const magicLe = view.getUint32(0, true);
  let le: boolean;
  let nano: boolean;
  if (magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d) {
    le = true;
    nano = magicLe === 0xa1b23c4d;
  } else {
    const magicBe = view.getUint32(0, false);
    if (magicBe !== 0xa1b2c3d4 && magicBe !== 0xa1b23c4d) {
      throw new CaptureFormatError(
        "not a capture file (neither the pcap nor the pcapng magic number)",
      );
    }
    le = false;
    nano = magicBe === 0xa1b23c4d;
  }
  const linkType = view.getUint32(20, le) & 0xffff;
  const packets: CapturedPacket[] = [];
  let offset = 24;
  while (offset + 16 <= view.byteLength) {
    const seconds = BigInt(view.getUint32(offset, le));
    const fraction = BigInt(view.getUint32(offset + 4, le));
    const captured = view.getUint32(offset + 8, le);
    const original = view.getUint32(offset + 12, le);
    offset += 16;
    if (offset + captured > view.byteLength) {
      throw new CaptureFormatError(
        `packet ${packets.length + 1} is cut short (${captured} bytes announced)`,
      );
    }
    packets.push({
      linkType,
      timeMicros: seconds * 1_000_000n + (nano ? fraction / 1000n : fraction),
      data: new Uint8Array(view.buffer, view.byteOffset + offset, captured).slice(),
      originalLength: original,
      littleEndian: le,
    });
    offset += captured;
  }
  return packets;
}

interface PcapngInterface {
  linkType: number;
  snapLength: number;
  /** Timestamp units per second. */
  unitsPerSecond: bigint;
}

function readPcapng(view: DataView): CapturedPacket[] {
  const packets: CapturedPacket[] = [];
  let interfaces: PcapngInterface[] = [];
  let le = true;
  let offset = 0;
  while (offset + 12 <= view.byteLength) {
    let type = view.getUint32(offset, le);
    if (view.getUint32(offset, true) === PCAPNG_SHB) {
      type = PCAPNG_SHB;
      const magic = view.getUint32(offset + 8, true);
      if (magic === BYTE_ORDER_MAGIC) le = true;
      else if (view.getUint32(offset + 8, false) === BYTE_ORDER_MAGIC) le = false;
      else throw new CaptureFormatError("a pcapng section header has no byte-order magic");
      interfaces = [];
    }
    const length = view.getUint32(offset + 4, le);
    if (length < 12 || length % 4 !== 0 || offset + length > view.byteLength) {
      throw new CaptureFormatError(`a pcapng block at offset ${offset} has a bad length ${length}`);
    }
    const body = offset + 8;
    const bodyEnd = offset + length - 4;
    switch (type) {
      case PCAPNG_IDB: {
        const linkType = view.getUint16(body, le);
        const snapLength = view.getUint32(body + 4, le);
        let unitsPerSecond = 1_000_000n;
        forEachOption(view, body + 8, bodyEnd, le, (code, start, size) => {
          if (code === 9 && size >= 1) {
            const resolution = view.getUint8(start);
            unitsPerSecond = resolution & 0x80
              ? 1n << BigInt(resolution & 0x7f)
              : 10n ** BigInt(resolution);
          }
        });
        interfaces.push({ linkType, snapLength, unitsPerSecond });
        break;
      }
      case PCAPNG_EPB:
      case PCAPNG_PB: {
        const enhanced = type === PCAPNG_EPB;
        const id = enhanced ? view.getUint32(body, le) : view.getUint16(body, le);
        const iface = interfaces[id];
        if (!iface) throw new CaptureFormatError(`a packet names interface ${id}, never described`);
        const stamp = (BigInt(view.getUint32(body + 4, le)) << 32n) |
          BigInt(view.getUint32(body + 8, le));
        const captured = view.getUint32(body + 12, le);
        const original = view.getUint32(body + 16, le);
        if (body + 20 + captured > bodyEnd) {
          throw new CaptureFormatError(`a packet at offset ${offset} is cut short`);
        }
        packets.push({
          linkType: iface.linkType,
          timeMicros: stamp * 1_000_000n / iface.unitsPerSecond,
          data: new Uint8Array(view.buffer, view.byteOffset + body + 20, captured).slice(),
          originalLength: original,
          littleEndian: le,
        });
        break;
      }
      case PCAPNG_SPB: {
        const iface = interfaces[0];
        if (!iface) throw new CaptureFormatError("a simple packet block before any interface");
        const original = view.getUint32(body, le);
        const captured = Math.min(
          original,
          iface.snapLength || original,
          bodyEnd - body - 4,
        );
        packets.push({
          linkType: iface.linkType,
          timeMicros: 0n,
          data: new Uint8Array(view.buffer, view.byteOffset + body + 4, captured).slice(),
          originalLength: original,
          littleEndian: le,
        });
        break;
      }
      default:
        // Name resolution, statistics, custom and other blocks: nothing to read.
        break;
    }
    offset += length;
  }
  return packets;
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
