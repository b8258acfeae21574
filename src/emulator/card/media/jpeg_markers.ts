/**
 * Walking the marker segments at the head of a JPEG file (everything before
 * the entropy-coded scan): enough to find, strip or insert APPn segments.
 *
 * @module
 */

/** One marker segment of a JPEG header. */
export interface JpegSegment {
  /** The marker's second byte, e.g. 0xE1 for APP1, 0xDB for DQT, 0xDA for SOS. */
  readonly marker: number;
  /** Offset of the segment's 0xFF byte in the file. */
  readonly offset: number;
  /** Bytes the segment occupies, marker and length field included. */
  readonly length: number;
}

/** Start-of-image marker byte. */
export const SOI = 0xd8;
/** APP0 (JFIF) marker byte. */
export const APP0 = 0xe0;
/** APP1 (EXIF) marker byte. */
export const APP1 = 0xe1;
/** Start-of-scan marker byte: the header ends with this segment. */
export const SOS = 0xda;

/**
 * The marker segments after SOI, up to and including SOS. Stops early (without
 * error) at anything that is not a well-formed segment, so a truncated header
 * yields the segments that are complete.
 *
 * @param bytes the JPEG file (or its leading part)
 * @returns the segments in file order; empty when `bytes` does not start with SOI
 *
 * @example
 * ```ts
 * import { jpegSegments } from "./jpeg_markers.ts";
 * const head = new Uint8Array([0xff, 0xd8, 0xff, 0xe1, 0x00, 0x04, 0x45, 0x78]);
 * const [app1] = jpegSegments(head);
 * if (app1.marker !== 0xe1 || app1.length !== 6) throw new Error("APP1 not found");
 * ```
 */
export function jpegSegments(bytes: Uint8Array): JpegSegment[] {
  const segments: JpegSegment[] = [];
  if (bytes.length < 2 || bytes[0] !== 0xff || bytes[1] !== SOI) return segments;
  let p = 2;
  while (p + 4 <= bytes.length && bytes[p] === 0xff) {
    const marker = bytes[p + 1];
    const length = 2 + ((bytes[p + 2] << 8) | bytes[p + 3]);
    if (length < 4 || p + length > bytes.length) break;
    segments.push({ marker, offset: p, length });
    if (marker === SOS) break;
    p += length;
  }
  return segments;
}

/**
 * Where the EXIF APP1 segment ends: the length of the leading part of a JPEG
 * that holds SOI and every segment up to and including the APP1 segment whose
 * payload starts with "Exif\0\0".
 *
 * @param bytes the JPEG file (or its leading part)
 * @returns the end offset of the EXIF segment, or undefined when there is none
 *
 * @example
 * ```ts
 * import { exifSegmentEnd } from "./jpeg_markers.ts";
 * const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe1, 0, 8, 0x45, 0x78, 0x69, 0x66, 0, 0]);
 * if (exifSegmentEnd(jpeg) !== 12) throw new Error("wrong end");
 * ```
 */
export function exifSegmentEnd(bytes: Uint8Array): number | undefined {
  for (const s of jpegSegments(bytes)) {
    if (s.marker !== APP1 || s.length < 10) continue;
    const p = s.offset + 4;
    if (
      bytes[p] === 0x45 && bytes[p + 1] === 0x78 && bytes[p + 2] === 0x69 &&
      bytes[p + 3] === 0x66 && bytes[p + 4] === 0 && bytes[p + 5] === 0
    ) return s.offset + s.length;
  }
  return undefined;
}
