/**
 * Writing the EXIF APP1 segment a camera puts right after a JPEG's SOI: a
 * little-endian TIFF structure with IFD0 (camera and date), the Exif IFD
 * (exposure), and IFD1 holding an embedded JPEG thumbnail, as libexif and
 * gphoto2 read it.
 *
 * @module
 */

/** TIFF field types used here. */
const TYPE = { BYTE: 1, ASCII: 2, SHORT: 3, LONG: 4, RATIONAL: 5, UNDEFINED: 7, SRATIONAL: 10 };

/** TIFF/EXIF tag numbers used here. */
export const EXIF_TAG = {
  IMAGE_DESCRIPTION: 0x010e,
  MAKE: 0x010f,
  MODEL: 0x0110,
  ORIENTATION: 0x0112,
  X_RESOLUTION: 0x011a,
  Y_RESOLUTION: 0x011b,
  RESOLUTION_UNIT: 0x0128,
  DATE_TIME: 0x0132,
  YCBCR_POSITIONING: 0x0213,
  COMPRESSION: 0x0103,
  JPEG_INTERCHANGE_FORMAT: 0x0201,
  JPEG_INTERCHANGE_FORMAT_LENGTH: 0x0202,
  EXIF_IFD_POINTER: 0x8769,
  EXPOSURE_TIME: 0x829a,
  F_NUMBER: 0x829d,
  ISO_SPEED_RATINGS: 0x8827,
  EXIF_VERSION: 0x9000,
  DATE_TIME_ORIGINAL: 0x9003,
  DATE_TIME_DIGITIZED: 0x9004,
  COMPONENTS_CONFIGURATION: 0x9101,
  SHUTTER_SPEED_VALUE: 0x9201,
  APERTURE_VALUE: 0x9202,
  EXPOSURE_BIAS_VALUE: 0x9204,
  MAX_APERTURE_VALUE: 0x9205,
  METERING_MODE: 0x9207,
  FLASH: 0x9209,
  FOCAL_LENGTH: 0x920a,
  FLASHPIX_VERSION: 0xa000,
  COLOR_SPACE: 0xa001,
  PIXEL_X_DIMENSION: 0xa002,
  PIXEL_Y_DIMENSION: 0xa003,
  SENSING_METHOD: 0xa217,
  FILE_SOURCE: 0xa300,
  CUSTOM_RENDERED: 0xa401,
  EXPOSURE_MODE: 0xa402,
  WHITE_BALANCE: 0xa403,
  SCENE_CAPTURE_TYPE: 0xa406,
} as const;

/** What {@link buildExifSegment} records. */
export interface ExifOptions {
  /** Manufacturer (IFD0 Make); default "Canon". */
  make?: string;
  /** Camera model (IFD0 Model), e.g. "Canon PowerShot G3". */
  model: string;
  /** When the picture was taken: seconds since 1970 in the camera's local time. */
  date: number;
  /** Width of the main image in pixels (PixelXDimension). */
  width: number;
  /** Height of the main image in pixels (PixelYDimension). */
  height: number;
  /** IFD0 Orientation (1 = normal); default 1. */
  orientation?: number;
  /** ISO speed; default 100. */
  iso?: number;
  /** Aperture f-number, e.g. 2.8; default 4. */
  fNumber?: number;
  /** Exposure time as a fraction [numerator, denominator] of a second; default [1, 60]. */
  exposureTime?: readonly [number, number];
  /** Whether the flash fired; default false. */
  flash?: boolean;
  /** Exposure compensation in EV, in thirds or halves; default 0. */
  exposureBias?: number;
  /** Focal length in mm; default 7.2 (the G3's wide end). */
  focalLength?: number;
  /** The JPEG thumbnail to embed through IFD1 (normally 160×120); none when omitted. */
  thumbnail?: Uint8Array;
}

/** One IFD entry: tag, type, count and its value bytes (little-endian). */
interface Entry {
  tag: number;
  type: number;
  count: number;
  data: Uint8Array;
}

/**
 * Formats camera-local seconds as an EXIF date, "YYYY:MM:DD HH:MM:SS" (the
 * seconds are read as UTC because the camera has no time zone).
 *
 * @param seconds seconds since 1970 in camera-local time
 * @returns the EXIF date string (19 characters)
 *
 * @example
 * ```ts
 * import { exifDateTime } from "./exif.ts";
 * if (exifDateTime(0x3e43e644) !== "2003:02:07 17:00:52") throw new Error("wrong date");
 * ```
 */
export function exifDateTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${String(d.getUTCFullYear()).padStart(4, "0")}:${two(d.getUTCMonth() + 1)}:${
    two(d.getUTCDate())
  } ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

/**
 * Builds a complete EXIF APP1 segment (`FF E1`, length, "Exif\0\0", TIFF
 * "II*\0" little-endian) with IFD0, the Exif IFD and, when a thumbnail is
 * given, IFD1 with Compression 6, JPEGInterchangeFormat and
 * JPEGInterchangeFormatLength pointing at the embedded thumbnail, which ends
 * the segment.
 *
 * @param options what to record
 * @returns the segment, ready to follow a JPEG's SOI
 * @throws RangeError when the segment would exceed the 64 KiB APP1 limit
 *
 * @example
 * ```ts
 * import { buildExifSegment } from "./exif.ts";
 * const app1 = buildExifSegment({ model: "Canon PowerShot G3", date: 1044619200, width: 640, height: 480 });
 * if (app1[0] !== 0xff || app1[1] !== 0xe1) throw new Error("not an APP1 segment");
 * ```
 */
export function buildExifSegment(options: ExifOptions): Uint8Array {
  const date = exifDateTime(options.date);
  const fNumber = options.fNumber ?? 4;
  const [expNum, expDen] = options.exposureTime ?? [1, 60];
  if (!(fNumber > 0) || !(expNum > 0) || !(expDen > 0)) {
    throw new RangeError("f-number and exposure time must be positive");
  }
  const focal = options.focalLength ?? 7.2;
  const ifd0: Entry[] = [
    ascii(EXIF_TAG.MAKE, options.make ?? "Canon"),
    ascii(EXIF_TAG.MODEL, options.model),
    short(EXIF_TAG.ORIENTATION, options.orientation ?? 1),
    rational(EXIF_TAG.X_RESOLUTION, 180, 1),
    rational(EXIF_TAG.Y_RESOLUTION, 180, 1),
    short(EXIF_TAG.RESOLUTION_UNIT, 2),
    ascii(EXIF_TAG.DATE_TIME, date),
    short(EXIF_TAG.YCBCR_POSITIONING, 1),
    long(EXIF_TAG.EXIF_IFD_POINTER, 0),
  ];
  const exif: Entry[] = [
    rational(EXIF_TAG.EXPOSURE_TIME, expNum, expDen),
    rational(EXIF_TAG.F_NUMBER, Math.round(fNumber * 10), 10),
    short(EXIF_TAG.ISO_SPEED_RATINGS, options.iso ?? 100),
    undefinedBytes(EXIF_TAG.EXIF_VERSION, new TextEncoder().encode("0220")),
    ascii(EXIF_TAG.DATE_TIME_ORIGINAL, date),
    ascii(EXIF_TAG.DATE_TIME_DIGITIZED, date),
    undefinedBytes(EXIF_TAG.COMPONENTS_CONFIGURATION, new Uint8Array([1, 2, 3, 0])),
    srational(EXIF_TAG.SHUTTER_SPEED_VALUE, Math.round(-Math.log2(expNum / expDen) * 1000), 1000),
    rational(EXIF_TAG.APERTURE_VALUE, Math.round(2 * Math.log2(fNumber) * 1000), 1000),
    exposureBias(options.exposureBias ?? 0),
    rational(EXIF_TAG.MAX_APERTURE_VALUE, 2, 1),
    short(EXIF_TAG.METERING_MODE, 5),
    short(EXIF_TAG.FLASH, options.flash ? 0x09 : 0x10),
    rational(EXIF_TAG.FOCAL_LENGTH, Math.round(focal * 10), 10),
    undefinedBytes(EXIF_TAG.FLASHPIX_VERSION, new TextEncoder().encode("0100")),
    short(EXIF_TAG.COLOR_SPACE, 1),
    long(EXIF_TAG.PIXEL_X_DIMENSION, options.width),
    long(EXIF_TAG.PIXEL_Y_DIMENSION, options.height),
    short(EXIF_TAG.SENSING_METHOD, 2),
    undefinedBytes(EXIF_TAG.FILE_SOURCE, new Uint8Array([3])),
    short(EXIF_TAG.CUSTOM_RENDERED, 0),
    short(EXIF_TAG.EXPOSURE_MODE, 0),
    short(EXIF_TAG.WHITE_BALANCE, 0),
    short(EXIF_TAG.SCENE_CAPTURE_TYPE, 0),
  ];
  const thumbnail = options.thumbnail;
  const ifd1: Entry[] = thumbnail === undefined ? [] : [
    short(EXIF_TAG.COMPRESSION, 6),
    rational(EXIF_TAG.X_RESOLUTION, 180, 1),
    rational(EXIF_TAG.Y_RESOLUTION, 180, 1),
    short(EXIF_TAG.RESOLUTION_UNIT, 2),
    long(EXIF_TAG.JPEG_INTERCHANGE_FORMAT, 0),
    long(EXIF_TAG.JPEG_INTERCHANGE_FORMAT_LENGTH, thumbnail.length),
  ];

  // Layout (TIFF offsets): header, IFD0, Exif IFD, IFD1, thumbnail.
  const ifd0At = 8;
  const exifAt = ifd0At + ifdSize(ifd0);
  const ifd1At = exifAt + ifdSize(exif);
  const thumbAt = ifd1At + ifdSize(ifd1);
  setLong(ifd0, EXIF_TAG.EXIF_IFD_POINTER, exifAt);
  if (thumbnail !== undefined) setLong(ifd1, EXIF_TAG.JPEG_INTERCHANGE_FORMAT, thumbAt);
  const tiffLength = thumbAt + (thumbnail?.length ?? 0);

  const header = 10; // FF E1, length, "Exif\0\0"
  const segmentLength = 2 + 6 + tiffLength;
  if (segmentLength > 0xffff) {
    throw new RangeError(
      `EXIF segment of ${segmentLength} bytes exceeds the 65535-byte APP1 limit`,
    );
  }
  const out = new Uint8Array(header + tiffLength);
  const view = new DataView(out.buffer);
  out.set([0xff, 0xe1]);
  view.setUint16(2, segmentLength);
  out.set([0x45, 0x78, 0x69, 0x66, 0, 0], 4);
  const tiff = new Uint8Array(out.buffer, header);
  const tv = new DataView(out.buffer, header);
  tiff.set([0x49, 0x49, 0x2a, 0x00]);
  tv.setUint32(4, ifd0At, true);
  writeIfd(tiff, tv, ifd0, ifd0At, thumbnail === undefined ? 0 : ifd1At);
  writeIfd(tiff, tv, exif, exifAt, 0);
  if (thumbnail !== undefined) {
    writeIfd(tiff, tv, ifd1, ifd1At, 0);
    tiff.set(thumbnail, thumbAt);
  }
  return out;
}

/** Bytes an IFD takes: count, entries, next-IFD offset and out-of-line values (word-aligned). */
function ifdSize(entries: readonly Entry[]): number {
  if (entries.length === 0) return 0;
  let size = 2 + 12 * entries.length + 4;
  for (const e of entries) if (e.data.length > 4) size += e.data.length + (e.data.length & 1);
  return size;
}

/** Writes an IFD (entries sorted by tag) and its out-of-line values at `at`. */
function writeIfd(
  tiff: Uint8Array,
  view: DataView,
  entries: Entry[],
  at: number,
  next: number,
): void {
  entries.sort((a, b) => a.tag - b.tag);
  view.setUint16(at, entries.length, true);
  let dataAt = at + 2 + 12 * entries.length + 4;
  entries.forEach((e, i) => {
    const p = at + 2 + 12 * i;
    view.setUint16(p, e.tag, true);
    view.setUint16(p + 2, e.type, true);
    view.setUint32(p + 4, e.count, true);
    if (e.data.length <= 4) {
      tiff.set(e.data, p + 8);
    } else {
      view.setUint32(p + 8, dataAt, true);
      tiff.set(e.data, dataAt);
      dataAt += e.data.length + (e.data.length & 1);
    }
  });
  view.setUint32(at + 2 + 12 * entries.length, next, true);
}

function setLong(entries: Entry[], tag: number, value: number): void {
  const e = entries.find((x) => x.tag === tag);
  if (e !== undefined) new DataView(e.data.buffer).setUint32(0, value, true);
}

function ascii(tag: number, text: string): Entry {
  const bytes = new TextEncoder().encode(text);
  const data = new Uint8Array(bytes.length + 1);
  data.set(bytes);
  return { tag, type: TYPE.ASCII, count: data.length, data };
}

function short(tag: number, value: number): Entry {
  const data = new Uint8Array(2);
  new DataView(data.buffer).setUint16(0, value, true);
  return { tag, type: TYPE.SHORT, count: 1, data };
}

function long(tag: number, value: number): Entry {
  const data = new Uint8Array(4);
  new DataView(data.buffer).setUint32(0, value, true);
  return { tag, type: TYPE.LONG, count: 1, data };
}

function rational(tag: number, numerator: number, denominator: number): Entry {
  const data = new Uint8Array(8);
  const v = new DataView(data.buffer);
  v.setUint32(0, numerator, true);
  v.setUint32(4, denominator, true);
  return { tag, type: TYPE.RATIONAL, count: 1, data };
}

function srational(tag: number, numerator: number, denominator: number): Entry {
  const data = new Uint8Array(8);
  const v = new DataView(data.buffer);
  v.setInt32(0, numerator, true);
  v.setInt32(4, denominator, true);
  return { tag, type: TYPE.SRATIONAL, count: 1, data };
}

/** ExposureBiasValue in thirds of a stop, or halves when the value is one. */
function exposureBias(ev: number): Entry {
  const thirds = Math.round(ev * 3);
  if (Math.abs(thirds / 3 - ev) < 0.01) return srational(EXIF_TAG.EXPOSURE_BIAS_VALUE, thirds, 3);
  return srational(EXIF_TAG.EXPOSURE_BIAS_VALUE, Math.round(ev * 2), 2);
}

function undefinedBytes(tag: number, bytes: Uint8Array): Entry {
  return { tag, type: TYPE.UNDEFINED, count: bytes.length, data: bytes };
}
