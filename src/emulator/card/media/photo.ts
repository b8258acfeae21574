/**
 * The virtual camera's JPEG pictures: a rendered test picture, encoded as a
 * baseline JPEG, with an EXIF APP1 segment right after SOI that records the
 * camera, the date and the exposure and embeds a 160×120 thumbnail, laid out
 * as a Canon PowerShot writes it (`FF D8 FF E1 … Exif`, no JFIF segment).
 *
 * @module
 */

import { buildExifSegment } from "./exif.ts";
import { renderPicture } from "./image.ts";
import { encodeBaselineJpeg } from "./jpeg_encoder.ts";

/** Width of the EXIF thumbnail every picture embeds. */
export const THUMBNAIL_WIDTH = 160;
/** Height of the EXIF thumbnail every picture embeds. */
export const THUMBNAIL_HEIGHT = 120;

/** What {@link makeJpeg} produces. */
export interface PhotoOptions {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Text drawn large in the picture (file number, frame counter, …). */
  label: string;
  /** Picks the picture's colours. */
  seed: number;
  /** Capture time: seconds since 1970 in camera-local time (EXIF DateTime*). */
  date: number;
  /** Camera model for EXIF Model, e.g. "Canon PowerShot G3". */
  model: string;
  /** ISO speed; default 100. */
  iso?: number;
  /** Aperture f-number; default 4. */
  fNumber?: number;
  /** Exposure time [numerator, denominator] in seconds; default [1, 60]. */
  exposureTime?: readonly [number, number];
  /** Whether the flash fired; default false. */
  flash?: boolean;
  /** Exposure compensation in EV (EXIF ExposureBiasValue); default 0. */
  exposureBias?: number;
  /** JPEG quality of the main image (1..100); default 85. */
  quality?: number;
}

/**
 * Makes a camera JPEG: SOI, EXIF APP1 (IFD0 Make/Model/DateTime…, Exif IFD
 * with the exposure settings and pixel dimensions, IFD1 with the 160×120
 * JPEG thumbnail), then the baseline-encoded picture. Deterministic: equal
 * options give equal bytes.
 *
 * @param options picture and EXIF contents
 * @returns the JPEG file
 *
 * @example
 * ```ts
 * import { makeJpeg } from "./photo.ts";
 * const jpeg = makeJpeg({
 *   width: 320, height: 240, label: "0042", seed: 42,
 *   date: 1044619200, model: "Canon PowerShot G3", iso: 200, flash: true,
 * });
 * if (jpeg[2] !== 0xff || jpeg[3] !== 0xe1) throw new Error("EXIF must follow SOI");
 * ```
 */
export function makeJpeg(options: PhotoOptions): Uint8Array {
  const { width, height, label, seed } = options;
  const main = encodeBaselineJpeg(
    renderPicture({ width, height, label, seed }),
    options.quality ?? 85,
  );
  const thumbnail = width === THUMBNAIL_WIDTH && height === THUMBNAIL_HEIGHT
    ? main
    : encodeBaselineJpeg(
      renderPicture({ width: THUMBNAIL_WIDTH, height: THUMBNAIL_HEIGHT, label, seed }),
      75,
    );
  const app1 = buildExifSegment({
    model: options.model,
    date: options.date,
    width,
    height,
    iso: options.iso,
    fNumber: options.fNumber,
    exposureTime: options.exposureTime,
    flash: options.flash,
    exposureBias: options.exposureBias,
    thumbnail,
  });
  // main = SOI + tables + scan; the EXIF segment goes between SOI and the tables.
  const out = new Uint8Array(main.length + app1.length);
  out.set(main.subarray(0, 2));
  out.set(app1, 2);
  out.set(main.subarray(2), 2 + app1.length);
  return out;
}
