/**
 * USB control setup packets: WebUSB's `{ requestType, recipient, request,
 * value, index }` plus a direction and a length, and the 8 bytes that go on
 * the wire (USB 2.0 § 9.3): bmRequestType (bit 7 direction, bits 6..5 type,
 * bits 4..0 recipient), bRequest, then wValue, wIndex and wLength, each
 * 16 bits little-endian.
 *
 * The one encoder and decoder of the client side: the libusb device, the
 * trace recorder and the usbmon reader use it. (The virtual camera keeps its
 * own: the emulator shares no code with the client.)
 *
 * @module
 */

import type { UsbControlSetup, UsbDirection, UsbRecipient, UsbRequestType } from "./device.ts";
import { UsbError } from "./errors.ts";

/** Bytes of a setup packet. */
export const SETUP_PACKET_SIZE = 8;

/** A setup packet's fields as numbers, named as in the USB specification. */
export interface SetupPacketFields {
  /** bmRequestType: direction, type and recipient bits. */
  bmRequestType: number;
  /** bRequest. */
  bRequest: number;
  /** wValue. */
  wValue: number;
  /** wIndex. */
  wIndex: number;
  /** wLength: the data stage's length (the most bytes to receive, for IN). */
  wLength: number;
}

/** A setup packet in WebUSB's terms, with its direction and length. */
export interface DecodedSetup extends UsbControlSetup {
  /** Bit 7 of bmRequestType: `"in"` is device to host. */
  direction: UsbDirection;
  /** wLength. */
  length: number;
}

const TYPE_BITS: Readonly<Record<UsbRequestType, number>> = {
  standard: 0x00,
  class: 0x20,
  vendor: 0x40,
};
const RECIPIENT_BITS: Readonly<Record<UsbRecipient, number>> = {
  device: 0x00,
  interface: 0x01,
  endpoint: 0x02,
  other: 0x03,
};
const TYPES: readonly (UsbRequestType | undefined)[] = ["standard", "class", "vendor", undefined];
const RECIPIENTS: readonly UsbRecipient[] = ["device", "interface", "endpoint", "other"];

function checkField(what: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new UsbError(
      "INVALID_PARAM",
      `${what} must be an integer from 0 to ${max}, not ${value}`,
    );
  }
}

/**
 * The numeric fields of a WebUSB setup, checked.
 *
 * @param setup requestType, recipient, request, value, index
 * @param direction `"in"` (device to host) or `"out"`
 * @param length wLength (0..65535)
 * @returns bmRequestType and the rest
 * @throws {UsbError} `INVALID_PARAM` for an unknown request type or
 *   recipient, or a field out of its range
 */
export function setupPacketFields(
  setup: UsbControlSetup,
  direction: UsbDirection,
  length: number,
): SetupPacketFields {
  const type = Object.hasOwn(TYPE_BITS, setup.requestType)
    ? TYPE_BITS[setup.requestType]
    : undefined;
  const recipient = Object.hasOwn(RECIPIENT_BITS, setup.recipient)
    ? RECIPIENT_BITS[setup.recipient]
    : undefined;
  if (type === undefined || recipient === undefined) {
    throw new UsbError(
      "INVALID_PARAM",
      `unsupported control setup: requestType "${setup.requestType}", recipient "${setup.recipient}"`,
    );
  }
  checkField("setup.request", setup.request, 0xff);
  checkField("setup.value", setup.value, 0xffff);
  checkField("setup.index", setup.index, 0xffff);
  checkField("length", length, 0xffff);
  return {
    bmRequestType: (direction === "in" ? 0x80 : 0x00) | type | recipient,
    bRequest: setup.request,
    wValue: setup.value,
    wIndex: setup.index,
    wLength: length,
  };
}

/**
 * Write the 8 bytes of a setup packet.
 *
 * @param fields the packet's fields
 * @param into where to write (a control transfer's buffer starts with them)
 * @param offset the first byte written
 */
export function writeSetupPacket(fields: SetupPacketFields, into: Uint8Array, offset = 0): void {
  const view = new DataView(into.buffer, into.byteOffset + offset, SETUP_PACKET_SIZE);
  view.setUint8(0, fields.bmRequestType);
  view.setUint8(1, fields.bRequest);
  view.setUint16(2, fields.wValue, true);
  view.setUint16(4, fields.wIndex, true);
  view.setUint16(6, fields.wLength, true);
}

/**
 * The 8 bytes of a setup packet.
 *
 * @param fields the packet's fields
 * @returns a new 8-byte array
 */
export function encodeSetupPacket(fields: SetupPacketFields): Uint8Array {
  const out = new Uint8Array(SETUP_PACKET_SIZE);
  writeSetupPacket(fields, out);
  return out;
}

/**
 * The 8 bytes of a WebUSB setup.
 *
 * @param setup requestType, recipient, request, value, index
 * @param direction `"in"` or `"out"`
 * @param length wLength
 * @returns a new 8-byte array
 * @throws {UsbError} `INVALID_PARAM` as {@link setupPacketFields}
 */
export function encodeWebUsbSetup(
  setup: UsbControlSetup,
  direction: UsbDirection,
  length: number,
): Uint8Array {
  return encodeSetupPacket(setupPacketFields(setup, direction, length));
}

/**
 * The fields of an 8-byte setup packet.
 *
 * @param bytes the packet (at least 8 bytes; the first 8 are read)
 * @returns its fields
 * @throws {RangeError} fewer than 8 bytes
 */
export function decodeSetupPacket(bytes: Uint8Array): SetupPacketFields {
  if (bytes.byteLength < SETUP_PACKET_SIZE) {
    throw new RangeError(`a setup packet has 8 bytes, not ${bytes.byteLength}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, SETUP_PACKET_SIZE);
  return {
    bmRequestType: view.getUint8(0),
    bRequest: view.getUint8(1),
    wValue: view.getUint16(2, true),
    wIndex: view.getUint16(4, true),
    wLength: view.getUint16(6, true),
  };
}

/**
 * A setup packet's fields in WebUSB's terms.
 *
 * @param fields the numeric fields
 * @returns direction, request type, recipient, request, value, index, length;
 *   undefined when bmRequestType uses the reserved type (3) or a reserved
 *   recipient (4..31), which WebUSB cannot express
 */
export function webUsbSetupOf(fields: SetupPacketFields): DecodedSetup | undefined {
  const requestType = TYPES[(fields.bmRequestType >> 5) & 0x03];
  const recipient = RECIPIENTS[fields.bmRequestType & 0x1f];
  if (requestType === undefined || recipient === undefined) return undefined;
  return {
    direction: fields.bmRequestType & 0x80 ? "in" : "out",
    requestType,
    recipient,
    request: fields.bRequest,
    value: fields.wValue,
    index: fields.wIndex,
    length: fields.wLength,
  };
}
