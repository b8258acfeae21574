/**
 * Finding the embedded JPEG thumbnail in what a camera returns for a
 * "thumbnail" request: the leading part of a JPEG with its EXIF segment, or a
 * CR2's TIFF header.
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";

function reader(bytes: Uint8Array, base: number, little: boolean) {
  return {
    u16: (at: number) => {
      const o = base + at;
      if (o + 2 > bytes.length) throw new RangeError("past the end");
      return little ? bytes[o] | (bytes[o + 1] << 8) : (bytes[o] << 8) | bytes[o + 1];
    },
    u32: (at: number) => {
      const o = base + at;
      if (o + 4 > bytes.length) throw new RangeError("past the end");
      return little
        ? (bytes[o] | (bytes[o + 1] << 8) | (bytes[o + 2] << 16) | (bytes[o + 3] << 24)) >>> 0
        : ((bytes[o] << 24) | (bytes[o + 1] << 16) | (bytes[o + 2] << 8) | bytes[o + 3]) >>> 0;
    },
  };
}

/** The IFD1 thumbnail of a TIFF structure starting at `base`, or undefined. */
function tiffThumbnail(bytes: Uint8Array, base: number): Uint8Array | undefined {
  if (base + 8 > bytes.length) return undefined;
  const order = String.fromCharCode(bytes[base], bytes[base + 1]);
  if (order !== "II" && order !== "MM") return undefined;
  const r = reader(bytes, base, order === "II");
  try {
    if (r.u16(2) !== 42) return undefined;
    const ifd0 = r.u32(4);
    const count0 = r.u16(ifd0);
    if (count0 > 1000) return undefined;
    const ifd1 = r.u32(ifd0 + 2 + count0 * 12);
    if (ifd1 === 0) return undefined;
    const count1 = r.u16(ifd1);
    if (count1 > 1000) return undefined;
    let offset: number | undefined;
    let length: number | undefined;
    for (let i = 0; i < count1; i++) {
      const entry = ifd1 + 2 + i * 12;
      const tag = r.u16(entry);
      const type = r.u16(entry + 2);
      const value = type === 3 ? r.u16(entry + 8) : r.u32(entry + 8);
      if (tag === 0x0201) offset = value;
      if (tag === 0x0202) length = value;
    }
    if (offset === undefined || length === undefined || length === 0) return undefined;
    const start = base + offset;
    if (start + length > bytes.length) return undefined;
    const thumb = bytes.subarray(start, start + length);
    return thumb[0] === 0xff && thumb[1] === 0xd8 ? thumb : undefined;
  } catch {
    return undefined;
  }
}

/** A JPEG found by scanning for the second FF D8 and the FF D9 after it. */
function scannedThumbnail(bytes: Uint8Array, from: number): Uint8Array | undefined {
  for (let i = from; i + 3 < bytes.length; i++) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xd8 && bytes[i + 2] === 0xff) {
      for (let j = i + 2; j + 1 < bytes.length; j++) {
        if (bytes[j] === 0xff && bytes[j + 1] === 0xd9) return bytes.subarray(i, j + 2);
      }
      return undefined;
    }
  }
  return undefined;
}

/**
 * The embedded thumbnail JPEG of `bytes`: the leading part of a JPEG file
 * (EXIF APP1, IFD1), or a TIFF/CR2 header.
 *
 * @param bytes what the camera returned for a thumbnail request
 * @returns the thumbnail JPEG (a view into `bytes`)
 * @throws {ProtocolError} when there is no thumbnail in it
 */
export function extractThumbnail(bytes: Uint8Array): Uint8Array {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    let offset = 2;
    while (offset + 4 <= bytes.length && bytes[offset] === 0xff) {
      const marker = bytes[offset + 1];
      const length = (bytes[offset + 2] << 8) | bytes[offset + 3];
      if (
        marker === 0xe1 && String.fromCharCode(...bytes.subarray(offset + 4, offset + 8)) === "Exif"
      ) {
        const found = tiffThumbnail(bytes, offset + 10);
        if (found) return found;
        break;
      }
      if (marker === 0xda || length < 2) break;
      offset += 2 + length;
    }
    const scanned = scannedThumbnail(bytes, 3);
    if (scanned) return scanned;
  } else {
    const found = tiffThumbnail(bytes, 0);
    if (found) return found;
  }
  throw new ProtocolError("the camera's thumbnail data holds no embedded JPEG thumbnail");
}
