/**
 * Pure encoders and decoders of the Canon command framing and of the camera
 * commands (identify, owner, time, power, init block, interrupt packets).
 * No I/O: these are what the unit tests and fuzzers aim at. The framing,
 * the handshake and the replies are described in the package's
 * `docs/protocol.md` (sections 2–5).
 *
 * @module
 */

import { cString, readCString, readU32, writeU32 } from "./bytes.ts";
import { type CommandSpec, FIXED_REPLY, LONG_REPLY } from "./commands.ts";
import { ProtocolError } from "./errors.ts";

/** The largest command block gphoto2 sends; the camera's buffer is not known to take more. */
export const MAX_COMMAND_BLOCK = 1024;

/**
 * Build a command block (protocol reference §3.1): a 0x40-byte preamble, the
 * 0x10-byte header and the payload.
 *
 * @param spec the command
 * @param serial the serial number, echoed by the camera
 * @param payload the command's arguments
 * @param newProtocol true for class-6 cameras (byte 0x46 = 0x10 or 0x20)
 * @returns the block to send with a control OUT transfer (wValue 0x10)
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeCommand } from "@canon-remote/canon-remote/protocol";
 * import { COMMANDS } from "@canon-remote/canon-remote/protocol";
 * const block = encodeCommand(COMMANDS.identify, 1, new Uint8Array(0), false);
 * assert.deepEqual([block.length, block[0x44], block[0x47]], [0x50, 0x01, 0x12]);
 * ```
 */
export function encodeCommand(
  spec: CommandSpec,
  serial: number,
  payload: Uint8Array,
  newProtocol: boolean,
): Uint8Array {
  const total = 0x50 + payload.length;
  if (total > MAX_COMMAND_BLOCK) {
    throw new RangeError(
      `${spec.name}: command block of ${total} bytes is longer than the ${MAX_COMMAND_BLOCK} a camera takes`,
    );
  }
  const block = new Uint8Array(total);
  const length = 0x10 + payload.length;
  writeU32(block, 0x00, length);
  writeU32(block, 0x04, spec.cmd3);
  block[0x40] = 0x02;
  block[0x44] = spec.cmd1;
  if (newProtocol) block[0x46] = spec.cmd3 === LONG_REPLY ? 0x20 : 0x10;
  block[0x47] = spec.cmd2;
  writeU32(block, 0x48, length);
  writeU32(block, 0x4c, serial);
  block.set(payload, 0x50);
  return block;
}

/** A fixed reply, decoded. */
export interface FixedReply {
  /** The status word at 0x50. */
  status: number;
  /** The data after the status word (from 0x54). */
  data: Uint8Array;
  /** The whole reply as received. */
  raw: Uint8Array;
}

/**
 * The total reply length a fixed reply's header announces (word 0, or the
 * word at 0x48 when word 0 is 0), or 0 when it announces none.
 *
 * @param head at least the first 0x40 bytes of the reply
 * @returns the announced total length (header included), or 0
 */
export function announcedLength(head: Uint8Array): number {
  const word0 = readU32(head, 0);
  if (word0 !== 0) return word0 + 0x40;
  if (head.length >= 0x50) {
    const word48 = readU32(head, 0x48);
    if (word48 !== 0) return word48 + 0x40;
  }
  return 0;
}

/**
 * Check and split a complete fixed reply.
 *
 * @param spec the command it answers (for messages and the data length check)
 * @param raw the whole reply
 * @returns status and data
 * @throws {ProtocolError} when the reply is too short to hold a status or the command's data
 */
export function decodeFixedReply(
  spec: CommandSpec,
  raw: Uint8Array,
  minData = spec.minData,
): FixedReply {
  if (raw.length < 0x54) {
    throw new ProtocolError(
      `${spec.name}: reply of ${raw.length} bytes is too short to carry a status (need 0x54)`,
    );
  }
  const status = readU32(raw, 0x50);
  const data = raw.subarray(0x54);
  if (status === 0 && data.length + 4 < minData) {
    throw new ProtocolError(
      `${spec.name}: reply carries ${data.length + 4} data bytes, the command needs ${minData}`,
    );
  }
  return { status, data, raw };
}

/**
 * The data length announced by a long reply's 0x40-byte header (the word at
 * offset 6).
 *
 * @param spec the command (for messages)
 * @param header the 0x40-byte header
 * @returns the number of data bytes that follow
 */
export function decodeLongHeader(spec: CommandSpec, header: Uint8Array): number {
  if (header.length !== 0x40) {
    throw new ProtocolError(`${spec.name}: reply header of ${header.length} bytes, expected 0x40`);
  }
  return readU32(header, 6);
}

/** The fields of the 0x58-byte init block the library uses (§2.3). */
export interface InitBlock {
  /** Bytes 0x40–0x43 (model/protocol family). */
  family: Uint8Array;
  /** Bytes 0x44–0x47 as a word: product and vendor id (old protocol) or a model code (new). */
  modelWord: number;
  /** The largest bulk read the host should ask for (word 0x4C; 0xFFFFFFFF means 0x1400). */
  transferLength: number;
  /** The raw block. */
  raw: Uint8Array;
}

/** The default largest bulk read (when the init block says 0xFFFFFFFF). */
export const DEFAULT_TRANSFER_LENGTH = 0x1400;

/** The largest bulk read the host asks for, whatever the init block says (1 MiB). */
export const MAX_TRANSFER_LENGTH = 0x100000;

/**
 * Decode the 0x58-byte init block.
 *
 * @param raw the block as read with control IN wValue 1
 * @returns the fields the library uses
 */
export function decodeInitBlock(raw: Uint8Array): InitBlock {
  if (raw.length !== 0x58) {
    throw new ProtocolError(`init block of ${raw.length} bytes, expected 0x58`);
  }
  const word = readU32(raw, 0x4c);
  // As gphoto2: any value but 0xFFFFFFFF is the camera's; clamped to what one
  // host read can be (0x40 to MAX_TRANSFER_LENGTH, whole 0x40 blocks), never refused.
  const transferLength = word === 0xffffffff
    ? DEFAULT_TRANSFER_LENGTH
    : Math.min(Math.max(word, 0x40), MAX_TRANSFER_LENGTH) & ~0x3f;
  return {
    family: raw.slice(0x40, 0x44),
    modelWord: readU32(raw, 0x44),
    transferLength,
    raw,
  };
}

/**
 * The 0x50-byte block the host writes (wValue 0x11) after camstat 'C':
 * word 0 = 0x10, bytes 0x40–0x4F = init block bytes 0x48–0x57.
 *
 * @param init the init block
 * @returns the block to write
 */
export function encodeInitWrite(init: InitBlock): Uint8Array {
  const block = new Uint8Array(0x50);
  writeU32(block, 0, 0x10);
  block.set(init.raw.subarray(0x48, 0x58), 0x40);
  return block;
}

/** What the identify command tells (§4.3.1). */
export interface IdentifyInfo {
  /** Model string, e.g. "Canon PowerShot G3". */
  model: string;
  /** Owner name (old protocol; the new protocol asks with GetOwner). */
  owner: string;
  /** Firmware version, "a.b.c.d". */
  firmware: string;
}

/**
 * Decode an identify reply's data (from 0x54).
 *
 * @param data the reply data after the status word
 * @returns model, owner and firmware
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeIdentify } from "@canon-remote/canon-remote/protocol";
 * const data = new Uint8Array(0x48);
 * data.set([0x00, 0x02, 0x00, 0x01], 4); // firmware at 0x58, reversed
 * data.set(new TextEncoder().encode("Canon PowerShot G3"), 8);
 * assert.equal(decodeIdentify(data).firmware, "1.0.2.0");
 * ```
 */
export function decodeIdentify(data: Uint8Array): IdentifyInfo {
  if (data.length < 0x48) {
    throw new ProtocolError(`IdentifyCamera: ${data.length} data bytes, expected 0x48`);
  }
  const firmware = `${data[7]}.${data[6]}.${data[5]}.${data[4]}`;
  return {
    model: readCString(data, 0x08, 32),
    owner: readCString(data, 0x28, 32),
    firmware,
  };
}

/** The longest owner name a camera takes. */
export const MAX_OWNER_LENGTH = 30;

/**
 * Check an owner name and encode it (name + NUL).
 *
 * @param name at most 30 printable ASCII characters
 * @returns the command payload
 * @throws {RangeError} with a message saying what is wrong with the name
 */
export function encodeOwner(name: string): Uint8Array {
  if (typeof name !== "string") throw new TypeError("the owner name must be a string");
  if (name.length > MAX_OWNER_LENGTH) {
    throw new RangeError(
      `owner name is ${name.length} characters long; the camera stores at most ${MAX_OWNER_LENGTH}`,
    );
  }
  for (const ch of name) {
    const code = ch.codePointAt(0)!;
    if (code < 0x20 || code > 0x7e) {
      throw new RangeError(
        `owner name contains ${JSON.stringify(ch)}, which the camera cannot store ` +
          `(use printable ASCII: letters, digits, space and punctuation)`,
      );
    }
  }
  return cString(name);
}

/** Power supply (§4.3.12). */
export interface PowerStatus {
  /** Where the power comes from. */
  source: "battery" | "ac";
  /** Whether the camera reports its power as good. */
  ok: boolean;
  /** The raw status byte (6 = OK, 4 = low). */
  level: number;
}

/**
 * Decode a power-status reply's data (from 0x54).
 *
 * @param data the reply data after the status word
 * @returns source and state
 */
export function decodePowerStatus(data: Uint8Array): PowerStatus {
  if (data.length < 4) {
    throw new ProtocolError(`PowerStatus: ${data.length} data bytes, expected 4`);
  }
  return { source: data[3] & 0x20 ? "battery" : "ac", ok: data[0] === 0x06, level: data[0] };
}

/**
 * Encode a set-time payload: the word then 8 zero bytes.
 *
 * @param cameraSeconds seconds since 1970 in the camera's local time
 * @returns the 12-byte payload
 */
export function encodeSetTime(cameraSeconds: number): Uint8Array {
  const payload = new Uint8Array(12);
  writeU32(payload, 0, cameraSeconds);
  return payload;
}

/** An interrupt packet (§4.4.3). */
export interface InterruptPacket {
  /** Packet code (byte 4). */
  code: number;
  /** Packet length (word 8). */
  length: number;
  /** Word 0x0C: status sub-code, or image key for descriptors. */
  word0c: number;
  /** Image size (descriptors) or failure code (0x0A/0x0A). */
  word10: number;
  /** The raw packet. */
  raw: Uint8Array;
}

/**
 * Decode an interrupt packet.
 *
 * @param raw at least 0x10 bytes
 * @returns its fields
 */
export function decodeInterruptPacket(raw: Uint8Array): InterruptPacket {
  if (raw.length < 0x10) {
    throw new ProtocolError(`interrupt packet of ${raw.length} bytes, expected at least 16`);
  }
  const code = raw[4];
  const descriptor = code === 0x08 || code === 0x0c || code === 0x10;
  return {
    code,
    length: readU32(raw, 8),
    word0c: readU32(raw, 0x0c),
    word10: descriptor
      ? (raw.length >= 0x15 ? readU32(raw, 0x11) : 0)
      : raw.length >= 0x14
      ? readU32(raw, 0x10)
      : 0,
    raw,
  };
}

/** cmd3 of a fixed command, re-exported for readers of this module. */
export { FIXED_REPLY, LONG_REPLY };
