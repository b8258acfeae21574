/**
 * The remote-control framing (0x13/0x12; class 6: 0x25/0x12) and the zoom
 * reply (protocol reference §4.4.1–4.4.2).
 *
 * @module
 */

import { writeU32 } from "../bytes.ts";
import { ProtocolError } from "../errors.ts";

/**
 * The payload of a remote-control command (0x13/0x12, class 6: 0x25/0x12):
 * the sub-command word, then the parameters (words, or raw bytes), padded
 * with zeros to the 8-byte minimum; class 6 appends one more zero byte, so
 * its blocks always have an odd length.
 *
 * @param code the sub-command, e.g. 0x04 (release shutter)
 * @param params parameter words, or the parameter bytes as they go on the wire
 * @param newProtocol true for class-6 cameras
 * @returns the payload (bytes from 0x50 of the command block)
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeRemoteControl } from "./remote_control.ts";
 * // Appendix A: set transfer mode 0x0D
 * assert.deepEqual([...encodeRemoteControl(0x09, [4, 0x0d], false)], [9, 0, 0, 0, 4, 0, 0, 0, 0x0d, 0, 0, 0]);
 * assert.equal(encodeRemoteControl(0x00, [], true).length, 9); // RC init, new protocol
 * ```
 */
export function encodeRemoteControl(
  code: number,
  params: readonly number[] | Uint8Array = [],
  newProtocol = false,
): Uint8Array {
  const body = params instanceof Uint8Array ? params : wordsOf(params);
  const length = Math.max(8, 4 + body.length) + (newProtocol ? 1 : 0);
  const payload = new Uint8Array(length);
  writeU32(payload, 0, code);
  payload.set(body, 4);
  return payload;
}

function wordsOf(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  values.forEach((value, i) => writeU32(out, i * 4, value));
  return out;
}

/** Transfer-mode bits of remote-control sub-command 0x09 (§4.4.2, §6.9). */
export const TRANSFER_MODE: Readonly<{
  THUMB_TO_PC: 0x01;
  FULL_TO_PC: 0x02;
  THUMB_TO_DRIVE: 0x04;
  FULL_TO_DRIVE: 0x08;
}> = {
  /** The thumbnail is kept for the host to fetch with 0x17. */
  THUMB_TO_PC: 0x01,
  /** The full image is kept for the host to fetch with 0x17. */
  FULL_TO_PC: 0x02,
  /** The thumbnail is written to the card. */
  THUMB_TO_DRIVE: 0x04,
  /** The full image is written to the card. */
  FULL_TO_DRIVE: 0x08,
} as const;

/** Image types of the captured-image download (§4.3.17). */
export const CAPTURED_IMAGE_TYPE: Readonly<{ THUMBNAIL: 1; FULL: 2; SECONDARY: 3 }> = {
  /** The thumbnail (160×120 JPEG on the G3). */
  THUMBNAIL: 1,
  /** The full image. */
  FULL: 2,
  /** The second image of a RAW+JPEG shot. */
  SECONDARY: 3,
} as const;

/**
 * The 16-byte payload of "retrieve captured image" (0x17/0x12/0x202, class 6
 * 0x26): word 0, word block size, word image type, word image key.
 *
 * @param type 1 thumbnail, 2 full image, 3 secondary image
 * @param key the key from the interrupt packet's descriptor
 * @param blockSize the largest block the camera may send at once (gphoto2: its transfer length)
 * @returns the payload
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeRetrieveCapture } from "./remote_control.ts";
 * // Appendix A: thumbnail, key 1, block 0x5000
 * assert.deepEqual(
 *   [...encodeRetrieveCapture(1, 1, 0x5000)],
 *   [0, 0, 0, 0, 0, 0x50, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0],
 * );
 * ```
 */
export function encodeRetrieveCapture(type: number, key: number, blockSize: number): Uint8Array {
  return wordsOf([0, blockSize, type, key]);
}

/** The block size Canon RemoteCapture asks viewfinder frames in (§4.4.4). */
export const PREVIEW_BLOCK_SIZE = 0x5000;

/**
 * The payload of "retrieve viewfinder frame" (0x18/0x12/0x202, §4.4.4): word 0,
 * word block size.
 *
 * @param blockSize the block size (the G3 trace: 0x5000)
 * @returns the 8-byte payload
 */
export function encodePreviewRequest(blockSize: number = PREVIEW_BLOCK_SIZE): Uint8Array {
  return wordsOf([0, blockSize]);
}

/** The zoom lens: where it is and how far it goes. */
export interface ZoomPosition {
  /** Current position (0 = wide end). */
  position: number;
  /** Largest position (G3: 17). */
  max: number;
}

/**
 * Decode an RC 0x0B (get zoom) reply: byte 0x5C position, byte 0x5E maximum.
 *
 * @param data the reply from 0x54
 * @returns position and maximum
 * @throws {ProtocolError} for a reply shorter than gphoto2 accepts (15 data bytes)
 */
export function decodeZoom(data: Uint8Array): ZoomPosition {
  if (data.length < 0x0b) {
    throw new ProtocolError(`GetZoom: ${data.length + 4} data bytes, expected at least 15`);
  }
  return { position: data[0x08], max: data[0x0a] };
}
