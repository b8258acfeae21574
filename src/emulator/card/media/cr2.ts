/**
 * Canon raw ".CR2" files (EOS 20D generation): a little-endian TIFF whose
 * header carries "CR" 2.0 and the offset of the raw IFD at bytes 8–15. IFD0
 * describes a full-size JPEG preview (camera, date, strip), IFD1 the 160×120
 * JPEG thumbnail (JPEGInterchangeFormat/Length, where gphoto2 and the
 * protocol reference look for it, §4.3.7), and the raw IFD the sensor data.
 *
 * The thumbnail comes right after the IFDs, so the head of the file up to
 * its end ({@link cr2ThumbnailEnd}) is what a camera returns for a thumbnail
 * request. The "sensor data" is a deterministic pseudo-random stream: the
 * file is structurally a CR2 that TIFF parsers walk, not a decodable raw.
 *
 * @module
 */

import { exifDateTime } from "./exif.ts";
import { makeJpeg, THUMBNAIL_HEIGHT, THUMBNAIL_WIDTH } from "./photo.ts";
import { fillPattern } from "./prng.ts";

/** What {@link makeCr2} records. */
export interface Cr2Options {
  /** Capture time: seconds since 1970, camera-local. */
  date: number;
  /** Camera model, e.g. "Canon EOS 20D". */
  model: string;
  /** Text drawn in the preview and thumbnail (the file number). */
  label: string;
  /** Picks the pictures' colours and the sensor data. */
  seed: number;
  /** Bytes of sensor data; default 800,000 (a real 20D CR2 is about 8 MB). */
  rawSize?: number;
}

const ASCII = 2;
const SHORT = 3;
const LONG = 4;

type Entry = [tag: number, type: number, count: number, value: number | Uint8Array];

function ascii(text: string): Uint8Array {
  const out = new Uint8Array(text.length + 1);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

function put16(out: Uint8Array, at: number, value: number): void {
  out[at] = value & 0xff;
  out[at + 1] = (value >>> 8) & 0xff;
}

function put32(out: Uint8Array, at: number, value: number): void {
  put16(out, at, value & 0xffff);
  put16(out, at + 2, value >>> 16);
}

/**
 * Makes a CR2 file.
 *
 * @param options date, model, label, seed and raw size
 * @returns the file's bytes
 * @example
 * ```ts
 * import { makeCr2 } from "./cr2.ts";
 * const cr2 = makeCr2({ date: 1104580800, model: "Canon EOS 20D", label: "0006", seed: 6 });
 * if (String.fromCharCode(cr2[8], cr2[9]) !== "CR") throw new Error("not a CR2");
 * ```
 */
export function makeCr2(options: Cr2Options): Uint8Array {
  const { label, seed } = options;
  const preview = makeJpeg({
    width: 640,
    height: 480,
    label,
    seed,
    date: options.date,
    model: options.model,
  });
  // The thumbnail is the EXIF-less 160×120 JPEG: the part of a .THM-sized picture after its APP1.
  const thumbFile = makeJpeg({
    width: THUMBNAIL_WIDTH,
    height: THUMBNAIL_HEIGHT,
    label,
    seed,
    date: options.date,
    model: options.model,
    quality: 75,
  });
  const app1Length = (thumbFile[4] << 8) | thumbFile[5];
  const thumbnail = new Uint8Array(thumbFile.length - 2 - app1Length);
  thumbnail.set(thumbFile.subarray(0, 2));
  thumbnail.set(thumbFile.subarray(4 + app1Length), 2);
  const rawSize = options.rawSize ?? 800_000;

  const make = ascii("Canon");
  const model = ascii(options.model);
  const date = ascii(exifDateTime(options.date));
  // Offsets are filled in once the layout is known; 0 placeholders first.
  const ifd0: Entry[] = [
    [0x0100, SHORT, 1, 640], // ImageWidth (of the preview)
    [0x0101, SHORT, 1, 480], // ImageLength
    [0x0103, SHORT, 1, 6], // Compression: JPEG
    [0x010f, ASCII, make.length, make],
    [0x0110, ASCII, model.length, model],
    [0x0111, LONG, 1, 0], // StripOffsets → preview
    [0x0112, SHORT, 1, 1], // Orientation
    [0x0117, LONG, 1, preview.length], // StripByteCounts
    [0x0132, ASCII, date.length, date],
  ];
  const ifd1: Entry[] = [
    [0x0103, SHORT, 1, 6],
    [0x0201, LONG, 1, 0], // JPEGInterchangeFormat → thumbnail
    [0x0202, LONG, 1, thumbnail.length],
  ];
  const rawIfd: Entry[] = [
    [0x0103, SHORT, 1, 6], // lossless JPEG on a real CR2
    [0x0111, LONG, 1, 0], // StripOffsets → sensor data
    [0x0117, LONG, 1, rawSize],
  ];
  const ifdSize = (entries: Entry[]) => 2 + entries.length * 12 + 4;
  const extra = (entries: Entry[]) =>
    entries.reduce(
      (n, [, , , v]) => n + (v instanceof Uint8Array && v.length > 4 ? v.length : 0),
      0,
    );
  const ifd0At = 0x10;
  const ifd1At = ifd0At + ifdSize(ifd0) + extra(ifd0);
  const rawIfdAt = ifd1At + ifdSize(ifd1);
  const thumbAt = rawIfdAt + ifdSize(rawIfd);
  const previewAt = thumbAt + thumbnail.length;
  const rawAt = previewAt + preview.length;
  ifd0[5][3] = previewAt;
  ifd1[1][3] = thumbAt;
  rawIfd[1][3] = rawAt;

  const out = new Uint8Array(rawAt + rawSize);
  out.set([0x49, 0x49, 0x2a, 0x00]);
  put32(out, 4, ifd0At);
  out.set([0x43, 0x52, 0x02, 0x00], 8); // "CR", version 2.0
  put32(out, 12, rawIfdAt);
  const writeIfd = (at: number, entries: Entry[], next: number): void => {
    put16(out, at, entries.length);
    let data = at + ifdSize(entries);
    entries.forEach(([tag, type, count, value], i) => {
      const e = at + 2 + i * 12;
      put16(out, e, tag);
      put16(out, e + 2, type);
      put32(out, e + 4, count);
      if (value instanceof Uint8Array) {
        if (value.length <= 4) out.set(value, e + 8);
        else {
          put32(out, e + 8, data);
          out.set(value, data);
          data += value.length;
        }
      } else if (type === SHORT) put16(out, e + 8, value);
      else put32(out, e + 8, value);
    });
    put32(out, at + 2 + entries.length * 12, next);
  };
  writeIfd(ifd0At, ifd0, ifd1At);
  writeIfd(ifd1At, ifd1, rawIfdAt);
  writeIfd(rawIfdAt, rawIfd, 0);
  out.set(thumbnail, thumbAt);
  out.set(preview, previewAt);
  fillPattern(out.subarray(rawAt), seed, 0);
  return out;
}

/**
 * Where a CR2's thumbnail ends: the length of the head a camera sends for a
 * thumbnail request (TIFF header, IFDs and the IFD1 JPEG).
 *
 * @param head the first bytes of the file (at least up to the thumbnail's end)
 * @returns the length, or undefined when `head` is not a CR2 made here
 */
export function cr2ThumbnailEnd(head: Uint8Array): number | undefined {
  if (head.length < 16 || head[8] !== 0x43 || head[9] !== 0x52) return undefined;
  const u16 = (at: number) => head[at] | (head[at + 1] << 8);
  const u32 = (at: number) => (u16(at) | (u16(at + 2) << 16)) >>> 0;
  const ifd0 = u32(4);
  if (ifd0 + 2 > head.length) return undefined;
  const ifd1 = u32(ifd0 + 2 + u16(ifd0) * 12);
  if (ifd1 === 0 || ifd1 + 2 > head.length) return undefined;
  let offset: number | undefined;
  let length: number | undefined;
  for (let i = 0; i < u16(ifd1); i++) {
    const e = ifd1 + 2 + i * 12;
    if (e + 12 > head.length) return undefined;
    if (u16(e) === 0x0201) offset = u32(e + 8);
    if (u16(e) === 0x0202) length = u32(e + 8);
  }
  if (offset === undefined || length === undefined) return undefined;
  const end = offset + length;
  return end <= head.length ? end : undefined;
}
