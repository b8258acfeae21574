/**
 * What the camera answers to GET_DESCRIPTOR, and the init block it hands
 * over in the handshake (§2.2): both follow from the model profile alone.
 *
 * @module
 */

import type { UsbDescriptorSet } from "./usb_function.ts";
import type { EmulatedModel } from "./emulated_models.ts";
import { putU16, putU32 } from "./wire.ts";

/**
 * A descriptor as GET_DESCRIPTOR sends it.
 *
 * @param descriptors the device's descriptors
 * @param wValue type (high byte) and index (low byte)
 * @returns the bytes, or a stall for one the device does not have
 */
export function descriptorBytes(
  descriptors: UsbDescriptorSet,
  wValue: number,
): Uint8Array | "stall" {
  const type = wValue >> 8;
  const index = wValue & 0xff;
  if (type === 1) return descriptors.device;
  if (type === 2) return descriptors.configuration;
  if (type !== 3) return "stall";
  if (index === 0) return Uint8Array.of(4, 3, 0x09, 0x04); // English (US)
  const text = descriptors.strings[index];
  if (text === undefined) return "stall";
  const out = new Uint8Array(2 + text.length * 2);
  out[0] = out.length;
  out[1] = 3;
  for (let i = 0; i < text.length; i++) putU16(out, 2 + i * 2, text.charCodeAt(i));
  return out;
}

/**
 * The init block (§2.2): family bytes, product and vendor ids, the four init words.
 *
 * @param model the model profile
 * @returns the 0x58-byte block
 */
export function initBlock(model: EmulatedModel): Uint8Array {
  const block = new Uint8Array(0x58);
  putU32(block, 0, 0x18);
  block.set(model.familyBytes, 0x40);
  if (model.initModelWord !== undefined) putU32(block, 0x44, model.initModelWord);
  else {
    putU16(block, 0x44, model.productId);
    putU16(block, 0x46, 0x04a9);
  }
  const [w48, w4c, w50, w54] = model.initWords;
  putU32(block, 0x48, w48);
  putU32(block, 0x4c, w4c);
  putU32(block, 0x50, w50);
  putU32(block, 0x54, w54);
  return block;
}
