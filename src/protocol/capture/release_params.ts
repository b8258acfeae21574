/**
 * The release-parameter block (§6.3): read it into settings, write
 * settings into it, and the get/set payloads that carry it.
 *
 * @module
 */

import { readU32, writeU32 } from "../bytes.ts";
import { ProtocolError } from "../errors.ts";
import { encodeRemoteControl } from "./remote_control.ts";
import {
  type Aperture,
  APERTURES,
  BEEP_MODES,
  EXPOSURE_COMPENSATIONS,
  type ExposureCompensationCode,
  FLASH_MODES,
  type FlashMode,
  FOCUS_MODES,
  type FocusMode,
  HALF_STOP_APERTURES,
  HALF_STOP_SHUTTER_SPEEDS,
  IMAGE_FORMATS,
  type ImageFormat,
  type ImageFormatCode,
  ISO_SPEEDS,
  type IsoSpeed,
  MACRO_MODES,
  SHOOTING_MODES,
  type ShootingMode,
  SHUTTER_SPEED_ALIASES,
  SHUTTER_SPEEDS,
  type ShutterSpeed,
  type ValueCode,
} from "./value_tables.ts";

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
 * import { decodeReleaseParams } from "./release_params.ts";
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
    aperture: byCode(APERTURES, block[P.APERTURE]) ??
      byCode(HALF_STOP_APERTURES, block[P.APERTURE]),
    shutterSpeed: byCode(SHUTTER_SPEEDS, shutter) ?? SHUTTER_SPEED_ALIASES[shutter] ??
      byCode(HALF_STOP_SHUTTER_SPEEDS, shutter),
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
