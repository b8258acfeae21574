/**
 * The picture-abilities table a camera answers with (§4.3.13).
 *
 * @module
 */

import { readCString, readU16, readU32 } from "../bytes.ts";
import { ProtocolError } from "../errors.ts";
import type { ImageFormat, ImageQuality, ImageSize } from "./value_tables.ts";

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
