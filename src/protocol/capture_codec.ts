/**
 * Pure encoders and decoders of remote capture (protocol reference §4.3.13,
 * §4.3.14, §4.3.17, §4.4, §5.4, §6.3–6.8 and errata E2, E3, E10): the
 * remote-control payloads, the release-parameter block and its value tables
 * (each written once, with its meaning), the zoom reply, the picture-abilities
 * table, custom functions, the captured-image and viewfinder requests, and the
 * interrupt-packet state machine of a shutter release. No I/O. Remote
 * capture is described in the package's `docs/protocol.md` (section 6).
 *
 * Sources of the value tables: §6.4–6.6 (gphoto2 `canon.h`, checked against
 * libgphoto2 2.5.30 by the errata), the G3 RemoteCapture traces (§6.3, §6.5:
 * SuperFine, Medium 2 and the macro byte) and the 20D dumps (§6.8).
 *
 * @module
 */

import { readCString, readU16, readU32, writeU32 } from "./bytes.ts";
import { ProtocolError } from "./errors.ts";

// ---- remote-control framing (§4.4.1) ---------------------------------------

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
 * import { encodeRemoteControl } from "./capture_codec.ts";
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
 * import { encodeRetrieveCapture } from "./capture_codec.ts";
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

// ---- value tables (§6.4–6.6) -------------------------------------------------

/** One row of a value table: the value the API uses, its label, and its byte. */
export interface ValueCode<T> {
  /** The value in the API's terms. */
  readonly value: T;
  /** How people (and gphoto2's menus) write it. */
  readonly label: string;
  /** The byte in the release-parameter block. */
  readonly code: number;
}

/** ISO speeds the release block can carry. */
export type IsoSpeed =
  | 50
  | 100
  | 125
  | 160
  | 200
  | 250
  | 320
  | 400
  | 500
  | 640
  | 800
  | 1000
  | 1250
  | 1600
  | 3200;

function rows<T>(entries: readonly (readonly [T, number, string?])[]): ValueCode<T>[] {
  return entries.map(([value, code, label]) => ({ value, code, label: label ?? String(value) }));
}

/** ISO (block byte 0x1A, §6.4): 8 units per stop, 0x48 = ISO 100. */
export const ISO_SPEEDS: readonly ValueCode<IsoSpeed>[] = rows<IsoSpeed>([
  [50, 0x40],
  [100, 0x48],
  [125, 0x4b],
  [160, 0x4d],
  [200, 0x50],
  [250, 0x53],
  [320, 0x55],
  [400, 0x58],
  [500, 0x5b],
  [640, 0x5d],
  [800, 0x60],
  [1000, 0x63],
  [1250, 0x65],
  [1600, 0x68],
  [3200, 0x70],
]);

/** Apertures (f-numbers) the release block can carry. */
export type Aperture =
  | 1.2
  | 1.4
  | 1.6
  | 1.8
  | 2
  | 2.2
  | 2.5
  | 2.8
  | 3.2
  | 3.5
  | 4
  | 4.5
  | 5
  | 5.6
  | 6.3
  | 7.1
  | 8
  | 9
  | 10
  | 11
  | 13
  | 14
  | 16
  | 18
  | 20
  | 22
  | 25
  | 29
  | 32;

/** Aperture (block byte 0x1C, §6.4): f/4 = 0x28, 8 units per stop. */
export const APERTURES: readonly ValueCode<Aperture>[] = rows<Aperture>([
  [1.2, 0x0d, "f/1.2"],
  [1.4, 0x10, "f/1.4"],
  [1.6, 0x13, "f/1.6"],
  [1.8, 0x15, "f/1.8"],
  [2, 0x18, "f/2.0"],
  [2.2, 0x1b, "f/2.2"],
  [2.5, 0x1d, "f/2.5"],
  [2.8, 0x20, "f/2.8"],
  [3.2, 0x23, "f/3.2"],
  [3.5, 0x25, "f/3.5"],
  [4, 0x28, "f/4.0"],
  [4.5, 0x2b, "f/4.5"],
  [5, 0x2d, "f/5.0"],
  [5.6, 0x30, "f/5.6"],
  [6.3, 0x33, "f/6.3"],
  [7.1, 0x35, "f/7.1"],
  [8, 0x38, "f/8"],
  [9, 0x3b, "f/9"],
  [10, 0x3d, "f/10"],
  [11, 0x40, "f/11"],
  [13, 0x43, "f/13"],
  [14, 0x45, "f/14"],
  [16, 0x48, "f/16"],
  [18, 0x4b, "f/18"],
  [20, 0x4d, "f/20"],
  [22, 0x50, "f/22"],
  [25, 0x53, "f/25"],
  [29, 0x55, "f/29"],
  [32, 0x58, "f/32"],
]);

/** Shutter speeds the release block can carry, written as gphoto2 writes them (seconds). */
export type ShutterSpeed =
  | "Bulb"
  | "30"
  | "25"
  | "20"
  | "15"
  | "13"
  | "10"
  | "8"
  | "6"
  | "5"
  | "4"
  | "3.2"
  | "2.5"
  | "2"
  | "1.6"
  | "1.3"
  | "1"
  | "0.8"
  | "0.6"
  | "0.5"
  | "0.4"
  | "0.3"
  | "1/4"
  | "1/5"
  | "1/6"
  | "1/8"
  | "1/10"
  | "1/13"
  | "1/15"
  | "1/20"
  | "1/25"
  | "1/30"
  | "1/40"
  | "1/50"
  | "1/60"
  | "1/80"
  | "1/100"
  | "1/125"
  | "1/160"
  | "1/200"
  | "1/250"
  | "1/320"
  | "1/400"
  | "1/500"
  | "1/640"
  | "1/800"
  | "1/1000"
  | "1/1250"
  | "1/1600"
  | "1/2000"
  | "1/2500"
  | "1/3200"
  | "1/4000"
  | "1/5000"
  | "1/6400"
  | "1/8000";

/**
 * Shutter speed (block byte 0x1E, §6.4): 0x38 = 1 s, 8 units per stop.
 *
 * 1.6 s is written as 0x33, the code the thirds-of-a-stop pattern gives
 * (2 s 0x30, 1.3 s 0x35) and libgphoto2's current code uses; libgphoto2
 * 2.5.30 (Debian 12) and canon-remote use 0x32 (errata E2), so 0x32 is read
 * as 1.6 s too (see {@link SHUTTER_SPEED_ALIASES}).
 */
export const SHUTTER_SPEEDS: readonly ValueCode<ShutterSpeed>[] = rows<ShutterSpeed>([
  ["Bulb", 0x04],
  ["30", 0x10],
  ["25", 0x13],
  ["20", 0x15],
  ["15", 0x18],
  ["13", 0x1b],
  ["10", 0x1d],
  ["8", 0x20],
  ["6", 0x23],
  ["5", 0x25],
  ["4", 0x28],
  ["3.2", 0x2b],
  ["2.5", 0x2d],
  ["2", 0x30],
  ["1.6", 0x33],
  ["1.3", 0x35],
  ["1", 0x38],
  ["0.8", 0x3b],
  ["0.6", 0x3d],
  ["0.5", 0x40],
  ["0.4", 0x43],
  ["0.3", 0x45],
  ["1/4", 0x48],
  ["1/5", 0x4b],
  ["1/6", 0x4d],
  ["1/8", 0x50],
  ["1/10", 0x53],
  ["1/13", 0x55],
  ["1/15", 0x58],
  ["1/20", 0x5b],
  ["1/25", 0x5d],
  ["1/30", 0x60],
  ["1/40", 0x63],
  ["1/50", 0x65],
  ["1/60", 0x68],
  ["1/80", 0x6b],
  ["1/100", 0x6d],
  ["1/125", 0x70],
  ["1/160", 0x73],
  ["1/200", 0x75],
  ["1/250", 0x78],
  ["1/320", 0x7b],
  ["1/400", 0x7d],
  ["1/500", 0x80],
  ["1/640", 0x83],
  ["1/800", 0x85],
  ["1/1000", 0x88],
  ["1/1250", 0x8b],
  ["1/1600", 0x8d],
  ["1/2000", 0x90],
  ["1/2500", 0x93],
  ["1/3200", 0x95],
  ["1/4000", 0x98],
  ["1/5000", 0x9a],
  ["1/6400", 0x9d],
  ["1/8000", 0xa0],
]);

/** Other bytes read as a shutter speed: 0x32 is 1.6 s in libgphoto2 2.5.30 and canon-remote (errata E2). */
export const SHUTTER_SPEED_ALIASES: Readonly<Record<number, ShutterSpeed>> = { 0x32: "1.6" };

/** One exposure-compensation step, with its byte in both encodings (§6.4). */
export interface ExposureCompensationCode {
  /** Exposure value, e.g. -1/3 (as a number, -0.333…). */
  readonly value: number;
  /** As written, e.g. "-1/3". */
  readonly label: string;
  /** Byte in EOS bodies (signed, 8 units per stop). */
  readonly eos: number;
  /** Byte in PowerShots (0x18 − the EOS value). */
  readonly powerShot: number;
}

/**
 * Exposure compensation (block byte 0x20, §6.4). gphoto2 uses the EOS column
 * when the model name contains "EOS" or "Rebel", the PowerShot column
 * otherwise; this library reads the choice from the model's traits (`eos`).
 */
export const EXPOSURE_COMPENSATIONS: readonly ExposureCompensationCode[] = (
  [
    [2, "+2", 0x10],
    [5 / 3, "+1 2/3", 0x0d],
    [1.5, "+1 1/2", 0x0c],
    [4 / 3, "+1 1/3", 0x0b],
    [1, "+1", 0x08],
    [2 / 3, "+2/3", 0x05],
    [0.5, "+1/2", 0x04],
    [1 / 3, "+1/3", 0x03],
    [0, "0", 0x00],
    [-1 / 3, "-1/3", 0xfd],
    [-0.5, "-1/2", 0xfc],
    [-2 / 3, "-2/3", 0xfb],
    [-1, "-1", 0xf8],
    [-4 / 3, "-1 1/3", 0xf5],
    [-1.5, "-1 1/2", 0xf4],
    [-5 / 3, "-1 2/3", 0xf3],
    [-2, "-2", 0xf0],
  ] as const
).map(([value, label, eos]) => ({ value, label, eos, powerShot: (0x18 - eos) & 0xff }));

/** Picture sizes of the image-format triple. */
export type ImageSize = "large" | "medium" | "medium2" | "small";

/** JPEG compression of the image-format triple, or "raw" for a RAW file alone. */
export type ImageQuality = "superfine" | "fine" | "normal" | "raw";

/** What the camera records: size and quality, and whether a RAW file is kept. */
export interface ImageFormat {
  /** The picture size; RAW files are always full size ("large"). */
  readonly size: ImageSize;
  /** JPEG compression, or "raw" when only a RAW file is recorded. */
  readonly quality: ImageQuality;
  /** True when a RAW file is recorded (alone when `quality` is "raw", else beside the JPEG). */
  readonly raw: boolean;
}

/** One image-format triple (block bytes 0x01–0x03). */
export interface ImageFormatCode {
  /** The format. */
  readonly value: ImageFormat;
  /** gphoto2's name, e.g. "Large Fine JPEG". */
  readonly label: string;
  /** Bytes 0x01 (quality), 0x02 (format: 1 JPEG, 2 RAW, 0x12 both), 0x03 (size). */
  readonly code: readonly [number, number, number];
  /** Where the triple comes from. */
  readonly source: "gphoto2" | "G3 trace";
}

function format(
  label: string,
  code: [number, number, number],
  size: ImageSize,
  quality: ImageQuality,
  raw: boolean,
  source: "gphoto2" | "G3 trace" = "gphoto2",
): ImageFormatCode {
  return { label, code, value: { size, quality, raw }, source };
}

/**
 * Image formats (block bytes 0x01–0x03, §6.5): gphoto2's table (tested on
 * the EOS 5D) and the SuperFine and "Medium 2" triples of the G3 traces
 * (quality 5 = SuperFine; size 3 = Medium 2 is read from the order of the
 * G3's own format list, unverified). "RAW 2" (03 02 00) is read as RAW;
 * RAW is written as 04 02 00.
 */
export const IMAGE_FORMATS: readonly ImageFormatCode[] = [
  format("RAW", [0x04, 0x02, 0x00], "large", "raw", true),
  format("RAW 2", [0x03, 0x02, 0x00], "large", "raw", true),
  format("Small Normal JPEG", [0x02, 0x01, 0x02], "small", "normal", false),
  format("Small Fine JPEG", [0x03, 0x01, 0x02], "small", "fine", false),
  format("Small SuperFine JPEG", [0x05, 0x01, 0x02], "small", "superfine", false, "G3 trace"),
  format("Medium Normal JPEG", [0x02, 0x01, 0x01], "medium", "normal", false),
  format("Medium Fine JPEG", [0x03, 0x01, 0x01], "medium", "fine", false),
  format("Medium SuperFine JPEG", [0x05, 0x01, 0x01], "medium", "superfine", false, "G3 trace"),
  format("Medium 2 Normal JPEG", [0x02, 0x01, 0x03], "medium2", "normal", false, "G3 trace"),
  format("Medium 2 Fine JPEG", [0x03, 0x01, 0x03], "medium2", "fine", false, "G3 trace"),
  format(
    "Medium 2 SuperFine JPEG",
    [0x05, 0x01, 0x03],
    "medium2",
    "superfine",
    false,
    "G3 trace",
  ),
  format("Large Normal JPEG", [0x02, 0x01, 0x00], "large", "normal", false),
  format("Large Fine JPEG", [0x03, 0x01, 0x00], "large", "fine", false),
  format("Large SuperFine JPEG", [0x05, 0x01, 0x00], "large", "superfine", false, "G3 trace"),
  format("RAW + Small Normal JPEG", [0x24, 0x12, 0x20], "small", "normal", true),
  format("RAW + Small Fine JPEG", [0x34, 0x12, 0x20], "small", "fine", true),
  format("RAW + Medium Normal JPEG", [0x24, 0x12, 0x10], "medium", "normal", true),
  format("RAW + Medium Fine JPEG", [0x34, 0x12, 0x10], "medium", "fine", true),
  format("RAW + Large Normal JPEG", [0x24, 0x12, 0x00], "large", "normal", true),
  format("RAW + Large Fine JPEG", [0x34, 0x12, 0x00], "large", "fine", true),
];

/** Shooting modes the release block can carry, as gphoto2 names them. */
export type ShootingMode =
  | "AUTO"
  | "P"
  | "Tv"
  | "Av"
  | "M"
  | "A-DEP"
  | "M-DEP"
  | "Bulb"
  | "Manual 2"
  | "Far scene"
  | "Fast shutter"
  | "Slow shutter"
  | "Night scene"
  | "Gray scale"
  | "Sepia"
  | "Portrait"
  | "Spot"
  | "Macro"
  | "BW"
  | "PanFocus"
  | "Vivid"
  | "Neutral"
  | "Flash off"
  | "Long shutter"
  | "Super macro"
  | "Foliage"
  | "Indoor"
  | "Fireworks"
  | "Beach"
  | "Underwater"
  | "Snow"
  | "Kids and pets"
  | "Night snapshot"
  | "Digital macro"
  | "MyColors"
  | "Photo in movie";

/** Shooting mode (block byte 0x08, §6.6). Not every camera takes every mode. */
export const SHOOTING_MODES: readonly ValueCode<ShootingMode>[] = rows<ShootingMode>([
  ["AUTO", 0x00],
  ["P", 0x01],
  ["Tv", 0x02],
  ["Av", 0x03],
  ["M", 0x04],
  ["A-DEP", 0x05],
  ["M-DEP", 0x06],
  ["Bulb", 0x07],
  ["Manual 2", 0x65],
  ["Far scene", 0x66],
  ["Fast shutter", 0x67],
  ["Slow shutter", 0x68],
  ["Night scene", 0x69],
  ["Gray scale", 0x6a],
  ["Sepia", 0x6b],
  ["Portrait", 0x6c],
  ["Spot", 0x6d],
  ["Macro", 0x6e],
  ["BW", 0x6f],
  ["PanFocus", 0x70],
  ["Vivid", 0x71],
  ["Neutral", 0x72],
  ["Flash off", 0x73],
  ["Long shutter", 0x74],
  ["Super macro", 0x75],
  ["Foliage", 0x76],
  ["Indoor", 0x77],
  ["Fireworks", 0x78],
  ["Beach", 0x79],
  ["Underwater", 0x7a],
  ["Snow", 0x7b],
  ["Kids and pets", 0x7c],
  ["Night snapshot", 0x7d],
  ["Digital macro", 0x7e],
  ["MyColors", 0x7f],
  ["Photo in movie", 0x80],
]);

/** Focus modes. */
export type FocusMode = "one-shot" | "ai-servo" | "ai-focus" | "manual";

/** Focus mode (block byte 0x12, §6.3); "manual" also follows the lens's AF/MF switch. */
export const FOCUS_MODES: readonly ValueCode<FocusMode>[] = rows<FocusMode>([
  ["one-shot", 0x00, "Auto focus: one-shot"],
  ["ai-servo", 0x01, "Auto focus: AI servo"],
  ["ai-focus", 0x02, "Auto focus: AI focus"],
  ["manual", 0x03, "Manual focus"],
]);

/** Flash modes. */
export type FlashMode = "off" | "on" | "auto";

/** Flash (block byte 0x06, §6.3; confirmed by the G3 RemoteCapture traces). */
export const FLASH_MODES: readonly ValueCode<FlashMode>[] = rows<FlashMode>([
  ["off", 0x00, "Flash off"],
  ["on", 0x01, "Flash on"],
  ["auto", 0x02, "Flash auto"],
]);

/** Beep (block byte 0x07, §6.3). */
export const BEEP_MODES: readonly ValueCode<boolean>[] = rows<boolean>([
  [false, 0x00, "Beep off"],
  [true, 0x01, "Beep on"],
]);

/**
 * Macro (block byte 0x0D; canon-remote from the G3 trace, not in gphoto2).
 * Other cameras carry other bytes there (0xFF in the document's and the
 * 20D's samples), which read as "no macro setting".
 */
export const MACRO_MODES: readonly ValueCode<boolean>[] = rows<boolean>([
  [false, 0x01, "Macro off"],
  [true, 0x03, "Macro on"],
]);

// ---- the release-parameter block (§6.3) -------------------------------------

/** Length of the release-parameter block on the wire (the count word of RC 0x0A and 0x07). */
export const RELEASE_PARAMS_LENGTH = 0x30;

/** Offsets of the known bytes in the release-parameter block (§6.3). */
export const RELEASE_PARAM: Readonly<{
  IMAGE_FORMAT: 0x01;
  SELF_TIMER: 0x04;
  FLASH: 0x06;
  BEEP: 0x07;
  SHOOTING_MODE: 0x08;
  MACRO: 0x0d;
  FOCUS_MODE: 0x12;
  ISO: 0x1a;
  APERTURE: 0x1c;
  SHUTTER_SPEED: 0x1e;
  EXPOSURE_COMPENSATION: 0x20;
}> = {
  /** Three bytes: quality, format, size (§6.5). */
  IMAGE_FORMAT: 0x01,
  /** Two bytes, unused by gphoto2 (G1 and G3: 64 00). */
  SELF_TIMER: 0x04,
  /** 0 off, 1 on, 2 auto. */
  FLASH: 0x06,
  /** 0 off, 1 on. */
  BEEP: 0x07,
  /** §6.6. */
  SHOOTING_MODE: 0x08,
  /** 0x03 macro, 0x01 normal (G3). */
  MACRO: 0x0d,
  /** 0 one-shot, 1 AI servo, 2 AI focus, 3 manual. */
  FOCUS_MODE: 0x12,
  /** §6.4. */
  ISO: 0x1a,
  /** §6.4. */
  APERTURE: 0x1c,
  /** §6.4. */
  SHUTTER_SPEED: 0x1e,
  /** §6.4, encoding by model. */
  EXPOSURE_COMPENSATION: 0x20,
} as const;

/** The settings a release-parameter block holds; `undefined` where its byte is not in the tables. */
export interface ReleaseSettings {
  /** Size and quality of the pictures. */
  imageFormat: ImageFormat | undefined;
  /** Flash mode. */
  flash: FlashMode | undefined;
  /** Whether the camera beeps. */
  beep: boolean | undefined;
  /** Shooting mode. */
  shootingMode: ShootingMode | undefined;
  /** Macro focusing (G3-style cameras only). */
  macro: boolean | undefined;
  /** Focus mode. */
  focusMode: FocusMode | undefined;
  /** ISO speed. */
  iso: IsoSpeed | undefined;
  /** Aperture f-number. */
  aperture: Aperture | undefined;
  /** Shutter speed. */
  shutterSpeed: ShutterSpeed | undefined;
  /** Exposure compensation in EV. */
  exposureCompensation: number | undefined;
}

/** The settings {@link encodeReleaseSettings} can change. */
export type ReleaseSettingsChange = Partial<
  { [K in keyof ReleaseSettings]: NonNullable<ReleaseSettings[K]> }
>;

function byCode<T>(table: readonly ValueCode<T>[], code: number): T | undefined {
  return table.find((row) => row.code === code)?.value;
}

/**
 * The exposure-compensation row of a value in EV, matched to 1/100 EV.
 *
 * @param ev e.g. -1, 0.5 or 1/3
 * @returns the row, or undefined when the tables have no such step
 */
export function exposureCompensationRow(ev: number): ExposureCompensationCode | undefined {
  return EXPOSURE_COMPENSATIONS.find((row) => Math.abs(row.value - ev) < 0.01);
}

/**
 * The image-format row of a format (the first triple of the table that
 * writes it: RAW is written as 04 02 00).
 *
 * @param wanted the format
 * @returns the row, or undefined when no triple writes it
 */
export function imageFormatRow(wanted: ImageFormat): ImageFormatCode | undefined {
  return IMAGE_FORMATS.find((row) => sameImageFormat(row.value, wanted));
}

/**
 * Whether two image formats are the same.
 *
 * @param a one format
 * @param b the other
 * @returns true when size, quality and the RAW flag agree
 */
export function sameImageFormat(a: ImageFormat, b: ImageFormat): boolean {
  return a.size === b.size && a.quality === b.quality && a.raw === b.raw;
}

function checkBlock(block: Uint8Array): void {
  if (block.length < RELEASE_PARAM.EXPOSURE_COMPENSATION + 1) {
    throw new ProtocolError(
      `release-parameter block of ${block.length} bytes, expected ${RELEASE_PARAMS_LENGTH}`,
    );
  }
}

/**
 * Decode a release-parameter block.
 *
 * @param block the 0x30 bytes (RC 0x0A reply from 0x5C)
 * @param eos true when the model uses the EOS exposure-compensation encoding
 * @returns the settings; bytes not in the tables decode to `undefined`
 * @throws {ProtocolError} for a block too short to hold the known bytes
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeReleaseParams } from "./capture_codec.ts";
 * const g3 = Uint8Array.from(
 *   "20 03 01 00 64 00 00 00 01 FF 00 00 03 01 03 30 00 FF 00 FF 00 00 00 7F FF FF 40 00 28 00 70 00 18 18 FF FF 18 00 38 00 E6 00 9A 03 E6 00 20 00"
 *     .split(" "), (h) => parseInt(h, 16));
 * assert.equal(decodeReleaseParams(g3, false).iso, 50);
 * ```
 */
export function decodeReleaseParams(block: Uint8Array, eos: boolean): ReleaseSettings {
  checkBlock(block);
  const P = RELEASE_PARAM;
  const triple = [block[P.IMAGE_FORMAT], block[P.IMAGE_FORMAT + 1], block[P.IMAGE_FORMAT + 2]];
  const imageFormat = IMAGE_FORMATS.find((row) =>
    row.code[0] === triple[0] && row.code[1] === triple[1] && row.code[2] === triple[2]
  )?.value;
  const bias = block[P.EXPOSURE_COMPENSATION];
  const shutter = block[P.SHUTTER_SPEED];
  return {
    imageFormat,
    flash: byCode(FLASH_MODES, block[P.FLASH]),
    beep: byCode(BEEP_MODES, block[P.BEEP]),
    shootingMode: byCode(SHOOTING_MODES, block[P.SHOOTING_MODE]),
    macro: byCode(MACRO_MODES, block[P.MACRO]),
    focusMode: byCode(FOCUS_MODES, block[P.FOCUS_MODE]),
    iso: byCode(ISO_SPEEDS, block[P.ISO]),
    aperture: byCode(APERTURES, block[P.APERTURE]),
    shutterSpeed: byCode(SHUTTER_SPEEDS, shutter) ?? SHUTTER_SPEED_ALIASES[shutter],
    exposureCompensation: EXPOSURE_COMPENSATIONS.find((row) =>
      (eos ? row.eos : row.powerShot) === bias
    )?.value,
  };
}

/** A value that no table row writes. */
export class UnknownSettingValueError extends RangeError {
  /** The setting, e.g. "iso". */
  readonly setting: string;
  /**
   * Make the error.
   *
   * @param setting the setting's name
   * @param value the value asked for
   */
  constructor(setting: string, value: unknown) {
    super(`${setting}: ${JSON.stringify(value)} is not a value the release block can carry`);
    this.name = "UnknownSettingValueError";
    this.setting = setting;
  }
}

function codeOf<T>(table: readonly ValueCode<T>[], setting: string, value: T): number {
  const row = table.find((r) => r.value === value);
  if (!row) throw new UnknownSettingValueError(setting, value);
  return row.code;
}

/**
 * A copy of a release-parameter block with some settings changed; the bytes
 * the tables do not describe are kept as the camera sent them.
 *
 * @param block the block as read (0x30 bytes)
 * @param changes the settings to write
 * @param eos true for the EOS exposure-compensation encoding
 * @returns the new block
 * @throws {UnknownSettingValueError} for a value no table row writes
 */
export function encodeReleaseSettings(
  block: Uint8Array,
  changes: ReleaseSettingsChange,
  eos: boolean,
): Uint8Array {
  checkBlock(block);
  const out = block.slice();
  const P = RELEASE_PARAM;
  if (changes.imageFormat !== undefined) {
    const row = imageFormatRow(changes.imageFormat);
    if (!row) throw new UnknownSettingValueError("imageFormat", changes.imageFormat);
    out.set(row.code, P.IMAGE_FORMAT);
  }
  if (changes.flash !== undefined) out[P.FLASH] = codeOf(FLASH_MODES, "flash", changes.flash);
  if (changes.beep !== undefined) out[P.BEEP] = codeOf(BEEP_MODES, "beep", changes.beep);
  if (changes.shootingMode !== undefined) {
    out[P.SHOOTING_MODE] = codeOf(SHOOTING_MODES, "shootingMode", changes.shootingMode);
  }
  if (changes.macro !== undefined) out[P.MACRO] = codeOf(MACRO_MODES, "macro", changes.macro);
  if (changes.focusMode !== undefined) {
    out[P.FOCUS_MODE] = codeOf(FOCUS_MODES, "focusMode", changes.focusMode);
  }
  if (changes.iso !== undefined) out[P.ISO] = codeOf(ISO_SPEEDS, "iso", changes.iso);
  if (changes.aperture !== undefined) {
    out[P.APERTURE] = codeOf(APERTURES, "aperture", changes.aperture);
  }
  if (changes.shutterSpeed !== undefined) {
    out[P.SHUTTER_SPEED] = codeOf(SHUTTER_SPEEDS, "shutterSpeed", changes.shutterSpeed);
  }
  if (changes.exposureCompensation !== undefined) {
    const row = exposureCompensationRow(changes.exposureCompensation);
    if (!row) {
      throw new UnknownSettingValueError("exposureCompensation", changes.exposureCompensation);
    }
    out[P.EXPOSURE_COMPENSATION] = eos ? row.eos : row.powerShot;
  }
  return out;
}

/**
 * The payload of "get release parameters" (RC 0x0A), as gphoto2 sends it
 * (parameter word 0).
 *
 * @param newProtocol true for class 6
 * @returns the payload
 */
export function encodeGetReleaseParams(newProtocol = false): Uint8Array {
  return encodeRemoteControl(0x0a, [0], newProtocol);
}

/**
 * The release-parameter block of an RC 0x0A reply.
 *
 * @param data the reply from 0x54 (echo 0x0A, count word 0x30, the block)
 * @returns the 0x30-byte block
 * @throws {ProtocolError} when the reply is not a release-parameter reply
 */
export function decodeGetReleaseParams(data: Uint8Array): Uint8Array {
  if (data.length < 8 || readU32(data, 0) !== 0x0a) {
    throw new ProtocolError("GetReleaseParams: the reply does not echo sub-command 0x0a");
  }
  const count = readU32(data, 4);
  const block = data.subarray(8, 8 + Math.min(count, RELEASE_PARAMS_LENGTH));
  if (count < RELEASE_PARAM.EXPOSURE_COMPENSATION + 1 || block.length < count) {
    throw new ProtocolError(
      `GetReleaseParams: the reply carries a ${block.length}-byte block (count word ${count}), expected ${RELEASE_PARAMS_LENGTH}`,
    );
  }
  return block.slice();
}

/**
 * The payload of "set release parameters" (RC 0x07, §4.4.5): word 0x07, word
 * 0x30, then the whole 0x30-byte block, as Canon RemoteCapture sends it on the
 * G3 and the 20D (gphoto2 sends 0x2F bytes); class 6 appends the zero byte.
 *
 * @param block the block to write (0x30 bytes)
 * @param newProtocol true for class 6
 * @returns the payload
 */
export function encodeSetReleaseParams(block: Uint8Array, newProtocol = false): Uint8Array {
  if (block.length !== RELEASE_PARAMS_LENGTH) {
    throw new RangeError(
      `a release-parameter block is ${RELEASE_PARAMS_LENGTH} bytes, got ${block.length}`,
    );
  }
  const params = new Uint8Array(4 + block.length);
  writeU32(params, 0, RELEASE_PARAMS_LENGTH);
  params.set(block, 4);
  return encodeRemoteControl(0x07, params, newProtocol);
}

// ---- zoom (§4.4.2) ----------------------------------------------------------

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

// ---- picture abilities (§4.3.13) --------------------------------------------

/** One size-and-quality the camera can record, from its picture-abilities table. */
export interface PictureAbility {
  /** The camera's name for it, e.g. "Large:SuperFine", "Medium 1:Fine", "CRW". */
  name: string;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Compression: 1 SuperFine, 2 Fine, 3 Normal, 4 RAW (the table's own numbering). */
  compression: number;
  /** The image format it corresponds to, when its name says (size "Medium 2" read as size code 3). */
  format: ImageFormat | undefined;
}

/** The picture-abilities reply. */
export interface PictureAbilities {
  /** The structure size at 0x54 (G2 0x330, G3 0x340). */
  structureSize: number;
  /** The four model-code bytes at 0x56 (G3 `00 00 19 01`); their reading is unverified. */
  modelCode: Uint8Array;
  /** The camera name at 0x5A, e.g. "PowerShot G3". */
  cameraName: string;
  /** The table. */
  entries: PictureAbility[];
}

const ABILITY_QUALITY: Readonly<Record<number, ImageQuality>> = {
  1: "superfine",
  2: "fine",
  3: "normal",
  4: "raw",
};

const ABILITY_SIZE: Readonly<Record<string, ImageSize>> = {
  large: "large",
  medium: "medium",
  "medium 1": "medium",
  middle: "medium",
  "medium 2": "medium2",
  small: "small",
};

function abilityFormat(name: string, compression: number): ImageFormat | undefined {
  const quality = ABILITY_QUALITY[compression];
  if (quality === undefined) return undefined;
  if (quality === "raw") return { size: "large", quality: "raw", raw: true };
  const size = ABILITY_SIZE[name.split(":")[0].trim().toLowerCase()];
  return size === undefined ? undefined : { size, quality, raw: false };
}

function readPadded(data: Uint8Array, offset: number, max: number): string {
  let text = "";
  for (let i = offset; i < Math.min(data.length, offset + max); i++) {
    if (data[i] === 0 || data[i] === 0xff) break;
    text += String.fromCharCode(data[i]);
  }
  return text;
}

/**
 * Decode a picture-abilities reply (0x1F/0x12, class 6 0x24/0x12).
 *
 * @param data the reply from 0x54
 * @returns the table
 * @throws {ProtocolError} when the reply is too short for its header
 */
export function decodePictureAbilities(data: Uint8Array): PictureAbilities {
  // Offsets below are relative to 0x54: size 0x54, model 0x56, name 0x5A, count 0x7A, table 0x7E.
  if (data.length < 0x2a) {
    throw new ProtocolError(`GetPictureAbilities: ${data.length} data bytes, too few for a table`);
  }
  const count = readU32(data, 0x26);
  const fits = Math.floor((data.length - 0x2a) / 32);
  const entries: PictureAbility[] = [];
  for (let i = 0; i < Math.min(count, fits); i++) {
    const at = 0x2a + i * 32;
    const name = readCString(data, at, 20);
    const compression = readU32(data, at + 28);
    entries.push({
      name,
      height: readU32(data, at + 20),
      width: readU32(data, at + 24),
      compression,
      format: abilityFormat(name, compression),
    });
  }
  return {
    structureSize: readU16(data, 0),
    modelCode: data.slice(2, 6),
    cameraName: readPadded(data, 6, 32),
    entries,
  };
}

// ---- custom functions (§4.3.14, §6.8) ---------------------------------------

/** A custom function: its number, its name and the meaning of each value. */
export interface CustomFunctionInfo {
  /** The function's number (C.Fn-n). */
  readonly index: number;
  /** What it controls. */
  readonly name: string;
  /** Meaning of each value. */
  readonly values: Readonly<Record<number, string>>;
}

function fn(index: number, name: string, values: string[]): CustomFunctionInfo {
  return { index, name, values: Object.fromEntries(values.map((v, i) => [i, v])) };
}

/** Old-protocol EOS custom functions (RC 0x0F), §6.8. 0 is the default of every one. */
export const EOS_CUSTOM_FUNCTIONS: readonly CustomFunctionInfo[] = [
  fn(1, "Long exposure noise reduction", ["off", "on"]),
  fn(2, "Shutter button/AE lock button", [
    "AF/AE lock",
    "AE lock/AF",
    "AF/AF lock",
    "AE+release/AE+AF",
  ]),
  fn(3, "Mirror lockup", ["off", "on"]),
  fn(4, "Tv/Av and exposure level steps", ["1/2 stop", "1/3 stop"]),
  fn(5, "AF-assist beam/flash firing", [
    "emits/fires",
    "does not emit/fires",
    "only external flash emits/fires",
    "emits/does not fire",
  ]),
  fn(6, "Shutter speed in Av mode", ["auto", "1/200 fixed"]),
  fn(7, "AEB sequence/auto cancellation", ["0", "1", "2", "3"]),
  fn(8, "Shutter curtain sync", ["1st curtain", "2nd curtain"]),
  fn(9, "Lens AF stop button", ["AF stop", "AF start", "AE lock while metering"]),
  fn(10, "Auto reduction of fill flash", ["enable", "disable"]),
  fn(11, "Menu button return position", [
    "top",
    "previous (top after power off)",
    "previous",
  ]),
  fn(12, "SET button when shooting", ["none", "image quality", "ISO speed", "parameters"]),
  fn(13, "Sensor cleaning", ["off", "on"]),
  fn(14, "Superimposed display", ["on", "off"]),
  fn(15, "Shutter release without CF card", ["possible", "not possible"]),
];

/** EOS 20D custom functions (0x1D/0x12 reply bytes in index order), §6.8. */
export const EOS_20D_CUSTOM_FUNCTIONS: readonly CustomFunctionInfo[] = [
  fn(1, "SET button function", ["none", "image quality", "parameters", "menu", "replay"]),
  fn(2, "Long exposure noise reduction", ["off", "on"]),
  fn(3, "Shutter speed in Av mode", ["auto", "1/250 fixed"]),
  fn(4, "Shutter button/AE lock button", ["0", "1", "2", "3"]),
  fn(5, "AF-assist beam", ["enabled", "disabled"]),
  fn(6, "Exposure level increments", ["1/2 stop", "1/3 stop"]),
  fn(7, "Flash firing", ["fires", "does not fire"]),
  fn(8, "ISO expansion", ["off", "on"]),
  fn(9, "AEB sequence/auto cancellation", ["0", "1", "2", "3"]),
  fn(10, "Superimposed display", ["on", "off"]),
  fn(11, "Menu button display position", ["previous (top after power off)", "previous", "top"]),
  fn(12, "Mirror lockup", ["off", "on"]),
  fn(13, "AF point selection method", [
    "normal",
    "multi-controller direct",
    "quick control dial direct",
  ]),
  fn(14, "E-TTL II", ["evaluative", "average"]),
  fn(15, "Shutter curtain sync", ["1st curtain", "2nd curtain"]),
  fn(16, "Safety shift in Av or Tv", ["off", "on"]),
  fn(17, "Lens AF stop button function", ["0", "1", "2", "3", "4", "5"]),
  fn(18, "Add original decision data", ["off", "on"]),
];

/** A custom function's current value. */
export interface CustomFunction {
  /** The function's number. */
  index: number;
  /** Its value. */
  value: number;
  /** What it controls, when the table knows. */
  name: string | undefined;
  /** What the value means, when the table knows. */
  meaning: string | undefined;
}

/**
 * The payload of RC 0x0F "get custom function" (old-protocol EOS, §4.4.2):
 * sub 0x0F, word 0x0A, half index, then 8 bytes (`FF FF 00 00 00 00 00 00`,
 * one of the trace's two forms).
 *
 * @param index the function's number
 * @returns the 18-byte payload
 */
export function encodeGetCustomFunction(index: number): Uint8Array {
  const params = new Uint8Array(14);
  writeU32(params, 0, 0x0a);
  params[4] = index & 0xff;
  params[5] = (index >>> 8) & 0xff;
  params[6] = 0xff;
  params[7] = 0xff;
  return encodeRemoteControl(0x0f, params, false);
}

function describe(table: readonly CustomFunctionInfo[], index: number, value: number) {
  const info = table.find((f) => f.index === index);
  return { index, value, name: info?.name, meaning: info?.values[value] };
}

/**
 * Decode an RC 0x0F reply (0x66 bytes): echo 0x0F, word 0x0A, half index,
 * the index again, the value at 0x60 (read as 16 bits; its width is
 * unverified).
 *
 * @param data the reply from 0x54
 * @param table the names to use (default: the old-protocol EOS table)
 * @returns the function and its value
 * @throws {ProtocolError} for a reply that is not a custom-function reply
 */
export function decodeCustomFunctionReply(
  data: Uint8Array,
  table: readonly CustomFunctionInfo[] = EOS_CUSTOM_FUNCTIONS,
): CustomFunction {
  if (data.length < 0x0e || readU32(data, 0) !== 0x0f) {
    throw new ProtocolError("GetCustomFunction: the reply is not a custom-function reply");
  }
  return describe(table, readU16(data, 0x08), readU16(data, 0x0c));
}

/**
 * Decode a class-6 custom-functions reply (0x1D/0x12, 0x94 bytes): word byte
 * count at 0x54 (including itself), then two bytes per function from 0x58,
 * the value first, then the function's number. A real 20D answers count 0x28
 * and `00 01 00 02 00 03 00 04 00 05 01 06 …` up to function 18
 * (Protocol.xml): 18 pairs. Names come from `table` (default: the 20D's,
 * §6.8); other bodies number theirs differently, so pass `table: []` for
 * them and get numbers only.
 *
 * @param data the reply from 0x54
 * @param table the names to use (default: the 20D's)
 * @returns one entry per pair the count announces, in the camera's order
 * @throws {ProtocolError} when the count does not fit the reply or is odd
 */
export function decodeCustomFunctions2(
  data: Uint8Array,
  table: readonly CustomFunctionInfo[] = EOS_20D_CUSTOM_FUNCTIONS,
): CustomFunction[] {
  if (data.length < 4) throw new ProtocolError("GetCustomFunctions: empty reply");
  const count = readU32(data, 0);
  if (count < 4 || count > data.length) {
    throw new ProtocolError(`GetCustomFunctions: byte count ${count} does not fit the reply`);
  }
  if ((count - 4) % 2 !== 0) {
    throw new ProtocolError(
      `GetCustomFunctions: ${
        count - 4
      } bytes of settings, not a whole number of (value, function) pairs`,
    );
  }
  const out: CustomFunction[] = [];
  for (let at = 4; at < count; at += 2) out.push(describe(table, data[at + 1], data[at]));
  return out;
}

// ---- the shutter release and the interrupt pipe (§4.4.3, §5.4, E10) ---------

/** Interrupt packet codes (byte 4, §5.4). */
export const INTERRUPT_CODE: Readonly<{
  THUMBNAIL: 0x08;
  STATUS: 0x0a;
  IMAGE: 0x0c;
  CARD_WRITTEN: 0x0e;
  COMPLETE: 0x0f;
  SECONDARY: 0x10;
  INIT: 0x20;
}> = {
  /** Thumbnail descriptor (key, size). */
  THUMBNAIL: 0x08,
  /** Capture status; sub-code at 0x0C. */
  STATUS: 0x0a,
  /** Full-image descriptor. */
  IMAGE: 0x0c,
  /** EOS: the image is written to the card. */
  CARD_WRITTEN: 0x0e,
  /** EOS: capture complete. */
  COMPLETE: 0x0f,
  /** Secondary image (RAW+JPEG) descriptor. */
  SECONDARY: 0x10,
  /** Initialisation packet. */
  INIT: 0x20,
} as const;

/** Sub-codes of a capture-status packet (0x0A, word 0x0C). */
export const CAPTURE_STATUS: Readonly<{
  FAILURE: 0x0a;
  FLASH_WAIT: 0x1b;
  STARTED: 0x1c;
  FINISHED: 0x1d;
}> = {
  /** Photographic failure; word 0x10 = the failure code (1 = autofocus failure on the 5D). */
  FAILURE: 0x0a,
  /** Waiting for the flash (D30/D60 internal flash). */
  FLASH_WAIT: 0x1b,
  /** Capture started. */
  STARTED: 0x1c,
  /** Capture finished (PowerShot: complete; EOS: still writing). */
  FINISHED: 0x1d,
} as const;

/** An image the camera announces for the host to fetch. */
export interface ImageDescriptor {
  /** The key to fetch it with (0x17 payload word 3). */
  key: number;
  /** Its size in bytes. */
  size: number;
}

/**
 * How a camera ends its capture sequence (§1.4, §4.4.3). Each model's rules
 * are its traits' `captureRules`: its class's, with the model's quirks (the
 * 10D's and the 300D's) laid over them.
 */
export interface CaptureRules {
  /** "Capture finished" (0x0A/0x1D) ends the sequence: every class but 4. */
  readonly doneOnFinished: boolean;
  /** The last requested descriptor ends it: class 6 and the 300D. */
  readonly doneOnDescriptors: boolean;
  /** "Written to card" (0x0E) ends it: class 6, the 10D and the 300D. */
  readonly doneOnCardWrite: boolean;
  /** 0x0E may come before "capture finished": class 6. */
  readonly cardWriteAnyStep: boolean;
}

/** Where a capture is in its interrupt sequence. */
export interface CaptureProgress {
  /** 0 released, 1 started, 2 finished, 3 written to card. */
  readonly step: 0 | 1 | 2 | 3;
  /** Transfer-mode bits whose packets are still expected. */
  readonly pending: number;
  /** Whether a secondary (RAW+JPEG) image is expected. */
  readonly secondaryExpected: boolean;
  /** The thumbnail announced for the host. */
  readonly thumbnail?: ImageDescriptor;
  /** The full image announced for the host. */
  readonly image?: ImageDescriptor;
  /** The secondary image announced for the host. */
  readonly secondary?: ImageDescriptor;
}

/** What one interrupt packet did to a capture. */
export type CaptureAdvance =
  /**
   * Wait for more packets. `idle` marks a zero-length packet: a real camera
   * answers every poll of its interrupt endpoint with one while it has
   * nothing to say (a PowerShot G3 every 64 ms).
   */
  | {
    readonly kind: "continue";
    readonly progress: CaptureProgress;
    readonly note?: string;
    readonly idle?: true;
  }
  /** The capture sequence is complete. */
  | { readonly kind: "done"; readonly progress: CaptureProgress }
  /** The camera could not take the picture (0x0A/0x0A); `code` = its failure code. */
  | { readonly kind: "failed"; readonly progress: CaptureProgress; readonly code: number }
  /** The packet does not fit the sequence. */
  | { readonly kind: "unexpected"; readonly progress: CaptureProgress; readonly reason: string };

/**
 * The state of a capture just released with transfer mode `mode`.
 *
 * @param mode the bits last sent with RC 0x09
 * @param secondaryExpected true when the image format records RAW+JPEG (§6.3: block byte 0x02 has bits 0xF0)
 * @returns the initial progress
 */
export function startCapture(mode: number, secondaryExpected = false): CaptureProgress {
  return { step: 0, pending: mode & 0x0f, secondaryExpected };
}

/**
 * Advance a capture by one interrupt packet, as gphoto2's capture dialogue
 * does (§4.4.3 table; errata E10 for the failure code).
 *
 * @param progress where the capture is
 * @param packet the interrupt packet (0x10, 0x14 or 0x17 bytes; empty = nothing to report)
 * @param rules the camera's rules (its traits' `captureRules`)
 * @returns the new progress and whether the sequence is done, failed or unexpected
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { advanceCapture, startCapture } from "./capture_codec.ts";
 * import { CLASS_TRAITS } from "./traits.ts";
 * const rules = CLASS_TRAITS[5].captureRules;
 * const p0 = startCapture(0x08);
 * const started = Uint8Array.of(2,0,0,0, 0x0a,0,0,0, 0x10,0,0,0, 0x1c,0,0,0);
 * const a = advanceCapture(p0, started, rules);
 * assert.equal(a.kind, "continue");
 * ```
 */
export function advanceCapture(
  progress: CaptureProgress,
  packet: Uint8Array,
  rules: CaptureRules,
): CaptureAdvance {
  if (packet.length === 0) return { kind: "continue", progress, idle: true };
  if (packet.length < 0x10) {
    return { kind: "unexpected", progress, reason: `a ${packet.length}-byte interrupt packet` };
  }
  const code = packet[4];
  const word0c = readU32(packet, 0x0c);
  const descriptor = (): ImageDescriptor => ({
    key: word0c,
    size: packet.length >= 0x15 ? readU32(packet, 0x11) : 0,
  });
  switch (code) {
    case INTERRUPT_CODE.THUMBNAIL: {
      if (!(progress.pending & TRANSFER_MODE.THUMB_TO_PC)) {
        return { kind: "continue", progress, note: "thumbnail descriptor not asked for" };
      }
      const next = {
        ...progress,
        thumbnail: descriptor(),
        pending: progress.pending & ~TRANSFER_MODE.THUMB_TO_PC,
      };
      return rules.doneOnDescriptors && next.pending === 0
        ? { kind: "done", progress: next }
        : { kind: "continue", progress: next };
    }
    case INTERRUPT_CODE.IMAGE: {
      if (!(progress.pending & TRANSFER_MODE.FULL_TO_PC)) {
        return { kind: "continue", progress, note: "image descriptor not asked for" };
      }
      const next = {
        ...progress,
        image: descriptor(),
        pending: progress.pending & ~TRANSFER_MODE.FULL_TO_PC,
      };
      return rules.doneOnDescriptors && !next.secondaryExpected && next.pending === 0
        ? { kind: "done", progress: next }
        : { kind: "continue", progress: next };
    }
    case INTERRUPT_CODE.SECONDARY: {
      if (!progress.secondaryExpected && !(progress.pending & TRANSFER_MODE.FULL_TO_PC)) {
        return { kind: "continue", progress, note: "secondary descriptor not asked for" };
      }
      const next = {
        ...progress,
        secondary: descriptor(),
        pending: progress.pending & ~TRANSFER_MODE.FULL_TO_PC,
      };
      return rules.doneOnDescriptors && next.pending === 0
        ? { kind: "done", progress: next }
        : { kind: "continue", progress: next };
    }
    case INTERRUPT_CODE.STATUS: {
      switch (word0c) {
        case CAPTURE_STATUS.STARTED:
          if (progress.step === 0 || progress.step === 2) {
            return { kind: "continue", progress: { ...progress, step: 1 } };
          }
          return { kind: "unexpected", progress, reason: "a second 'capture started'" };
        case CAPTURE_STATUS.FINISHED: {
          if (progress.step !== 1 && progress.step !== 0) {
            return { kind: "unexpected", progress, reason: "a second 'capture finished'" };
          }
          // Step 0: "started" never reached the host (a lost packet); after the release,
          // "finished" still means the capture is over. Stale packets are drained before it.
          const note = progress.step === 0 ? "'capture started' was not seen" : undefined;
          const next: CaptureProgress = { ...progress, step: 2 };
          if (note) {
            return rules.doneOnFinished
              ? { kind: "done", progress: next }
              : { kind: "continue", progress: next, note };
          }
          // A PowerShot announces its descriptors before "finished": the caller checks them.
          return rules.doneOnFinished
            ? { kind: "done", progress: next }
            : { kind: "continue", progress: next };
        }
        case CAPTURE_STATUS.FAILURE:
          return {
            kind: "failed",
            progress,
            code: packet.length >= 0x14 ? readU32(packet, 0x10) : 0,
          };
        case CAPTURE_STATUS.FLASH_WAIT:
          return { kind: "continue", progress, note: "waiting for the flash" };
        default:
          return {
            kind: "continue",
            progress,
            note: `unknown capture status 0x${word0c.toString(16)}`,
          };
      }
    }
    case INTERRUPT_CODE.CARD_WRITTEN: {
      const driveBits = TRANSFER_MODE.THUMB_TO_DRIVE | TRANSFER_MODE.FULL_TO_DRIVE;
      if (!(progress.pending & driveBits)) {
        return { kind: "continue", progress, note: "card write not asked for" };
      }
      if (progress.step !== 2 && !rules.cardWriteAnyStep) {
        return { kind: "unexpected", progress, reason: "'written to card' before 'finished'" };
      }
      const next: CaptureProgress = {
        ...progress,
        step: 3,
        pending: progress.pending & ~driveBits,
      };
      return rules.doneOnCardWrite
        ? { kind: "done", progress: next }
        : { kind: "continue", progress: next };
    }
    case INTERRUPT_CODE.COMPLETE:
      if (progress.step === 2 || progress.step === 3) return { kind: "done", progress };
      return { kind: "unexpected", progress, reason: "'capture complete' out of sequence" };
    default:
      return {
        kind: "unexpected",
        progress,
        reason: `interrupt packet code 0x${code.toString(16)}`,
      };
  }
}
