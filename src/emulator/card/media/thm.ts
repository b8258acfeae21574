/**
 * ".THM" files: the 160×120 JPEG a Canon camera writes next to a raw (.CRW)
 * picture or a movie (.AVI), with the same base name. gphoto2 fetches it as a
 * normal file and, for a preview, looks for the JPEG embedded inside it
 * (searching from offset 3 for `FF D8 ?? DB` up to the next `FF D9`), so the
 * file carries an EXIF segment whose IFD1 thumbnail is that embedded JPEG.
 *
 * @module
 */

import { makeJpeg, THUMBNAIL_HEIGHT, THUMBNAIL_WIDTH } from "./photo.ts";

/** What {@link makeThm} draws and records. */
export interface ThmOptions {
  /** Text drawn large in the picture (normally the file number). */
  label: string;
  /** Picks the picture's colours. */
  seed: number;
  /** Capture time (camera-local seconds) for EXIF. */
  date: number;
  /** Camera model for EXIF. */
  model: string;
}

/**
 * Makes a .THM file: a 160×120 camera JPEG with EXIF whose IFD1 thumbnail is
 * the same 160×120 picture.
 *
 * @param options label, colours, date and model
 * @returns the file's bytes
 *
 * @example
 * ```ts
 * import { makeThm } from "./thm.ts";
 * const thm = makeThm({ label: "0006", seed: 6, date: 1044619200, model: "Canon PowerShot G3" });
 * if (thm[0] !== 0xff || thm[1] !== 0xd8) throw new Error("not a JPEG");
 * ```
 */
export function makeThm(options: ThmOptions): Uint8Array {
  return makeJpeg({
    width: THUMBNAIL_WIDTH,
    height: THUMBNAIL_HEIGHT,
    label: options.label,
    seed: options.seed,
    date: options.date,
    model: options.model,
    quality: 75,
  });
}
