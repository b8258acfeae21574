/**
 * The Linux usbmon packet header, as Wireshark, tshark and libpcap store USB
 * traffic: LINKTYPE_USB_LINUX (189, a 48-byte header) and
 * LINKTYPE_USB_LINUX_MMAPPED (220, the same 48 bytes and 16 more). Each
 * packet is one event of one URB: its submission ('S'), its completion
 * ('C') or an error ('E'), with the setup packet of a control submission and
 * the data captured (OUT data at submission, IN data at completion).
 *
 * @module
 */

import { TraceFormatError } from "./pcap.ts";
import { decodeSetupPacket } from "../usb/setup_packet.ts";

/** Link type of usbmon packets with the 48-byte header. */
export const LINKTYPE_USB_LINUX = 189;
/** Link type of usbmon packets with the 64-byte header (what Wireshark writes today). */
export const LINKTYPE_USB_LINUX_MMAPPED = 220;

/** USB transfer types as usbmon numbers them. */
export const TRANSFER_TYPE = {
  /** Isochronous. */
  isochronous: 0,
  /** Interrupt. */
  interrupt: 1,
  /** Control. */
  control: 2,
  /** Bulk. */
  bulk: 3,
} as const;

/** A transfer type name (the keys of {@link TRANSFER_TYPE}). */
export type TransferType = "isochronous" | "interrupt" | "control" | "bulk";

const TRANSFER_NAMES: readonly TransferType[] = ["isochronous", "interrupt", "control", "bulk"];

/** Status of a submission still in flight (-EINPROGRESS). */
export const STATUS_IN_PROGRESS: number = -115;

/** One usbmon event. */
export interface UsbmonPacket {
  /** The URB's id: a submission and its completion share it. */
  id: bigint;
  /** 'S' submission, 'C' completion, 'E' submission error. */
  event: "S" | "C" | "E";
  /** Transfer type. */
  transferType: TransferType;
  /** Endpoint address, direction bit included (0x81 = bulk IN 1; 0x80/0x00 for control). */
  endpoint: number;
  /** Device address on the bus. */
  device: number;
  /** Bus number. */
  bus: number;
  /** The 8-byte setup packet of a control submission, else undefined. */
  setup: Uint8Array | undefined;
  /** The data flag: 0 when data follows, else a character code ('<', '>', ...). */
  dataFlag: number;
  /** Time of the event in microseconds since 1970. */
  timeMicros: bigint;
  /** URB status: 0, -EINPROGRESS for a submission, -errno for a failure. */
  status: number;
  /** Length of the URB (submission) or of what was transferred (completion). */
  length: number;
  /** The captured data (may be shorter than `length` when the capture cut it). */
  data: Uint8Array;
  /** bInterval-based polling interval (mmapped header only; 0 otherwise). */
  interval: number;
  /** URB transfer flags (mmapped header only; 0 otherwise). */
  transferFlags: number;
}

/** bmRequestType, bRequest, wValue, wIndex, wLength of a setup packet. */
export interface SetupFields {
  /** bmRequestType. */
  requestType: number;
  /** bRequest. */
  request: number;
  /** wValue. */
  value: number;
  /** wIndex. */
  index: number;
  /** wLength. */
  length: number;
}

/**
 * The fields of an 8-byte setup packet.
 *
 * @param setup the packet
 * @returns its fields
 */
export function setupFields(setup: Uint8Array): SetupFields {
  const f = decodeSetupPacket(setup);
  return {
    requestType: f.bmRequestType,
    request: f.bRequest,
    value: f.wValue,
    index: f.wIndex,
    length: f.wLength,
  };
}

/**
 * Decode one usbmon packet.
 *
 * @param bytes the packet as stored in the capture
 * @param linkType {@link LINKTYPE_USB_LINUX} or {@link LINKTYPE_USB_LINUX_MMAPPED}
 * @param littleEndian byte order of the header (that of the machine that captured it)
 * @returns the event
 * @throws {TraceFormatError} for a packet shorter than its header or another link type
 */
export function decodeUsbmon(
  bytes: Uint8Array,
  linkType: number,
  littleEndian = true,
): UsbmonPacket {
  const headerLength = linkType === LINKTYPE_USB_LINUX_MMAPPED
    ? 64
    : linkType === LINKTYPE_USB_LINUX
    ? 48
    : 0;
  if (headerLength === 0) {
    throw new TraceFormatError(`link type ${linkType} is not a usbmon link type`);
  }
  if (bytes.length < headerLength) {
    throw new TraceFormatError(
      `a usbmon packet of ${bytes.length} bytes is shorter than its header`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = littleEndian;
  const event = String.fromCharCode(view.getUint8(8));
  const transferType = TRANSFER_NAMES[view.getUint8(9)] ?? "bulk";
  const flagSetup = view.getUint8(14);
  let dataStart = headerLength;
  let interval = 0;
  let transferFlags = 0;
  if (headerLength === 64) {
    interval = view.getInt32(48, le);
    transferFlags = view.getUint32(56, le);
    // Isochronous descriptors (16 bytes each) come before the data.
    if (transferType === "isochronous") dataStart += 16 * view.getUint32(60, le);
  }
  const captured = view.getUint32(36, le);
  return {
    id: view.getBigUint64(0, le),
    event: event === "S" || event === "C" ? event : "E",
    transferType,
    endpoint: view.getUint8(10),
    device: view.getUint8(11),
    bus: view.getUint16(12, le),
    setup: flagSetup === 0 && transferType === "control" ? bytes.slice(40, 48) : undefined,
    dataFlag: view.getUint8(15),
    timeMicros: view.getBigInt64(16, le) * 1_000_000n + BigInt(view.getInt32(24, le)),
    status: view.getInt32(28, le),
    length: view.getUint32(32, le),
    data: bytes.slice(dataStart, Math.min(bytes.length, dataStart + captured)),
    interval,
    transferFlags,
  };
}

/**
 * Encode a usbmon event with the 64-byte header (LINKTYPE_USB_LINUX_MMAPPED),
 * little-endian, as Linux on x86 and ARM captures it.
 *
 * @param packet the event
 * @returns header and data
 */
export function encodeUsbmon(packet: UsbmonPacket): Uint8Array {
  const out = new Uint8Array(64 + packet.data.length);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, packet.id, true);
  view.setUint8(8, packet.event.charCodeAt(0));
  view.setUint8(9, TRANSFER_TYPE[packet.transferType]);
  view.setUint8(10, packet.endpoint);
  view.setUint8(11, packet.device);
  view.setUint16(12, packet.bus, true);
  view.setUint8(14, packet.setup ? 0 : 0x2d); // '-' = no setup packet
  view.setUint8(15, packet.dataFlag);
  view.setBigInt64(16, packet.timeMicros / 1_000_000n, true);
  view.setInt32(24, Number(packet.timeMicros % 1_000_000n), true);
  view.setInt32(28, packet.status, true);
  view.setUint32(32, packet.length, true);
  view.setUint32(36, packet.data.length, true);
  if (packet.setup) out.set(packet.setup.subarray(0, 8), 40);
  view.setInt32(48, packet.interval, true);
  view.setUint32(56, packet.transferFlags, true);
  out.set(packet.data, 64);
  return out;
}
