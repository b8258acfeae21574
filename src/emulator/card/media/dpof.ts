/**
 * DPOF print orders (`\MISC\AUTPRINT.MRK`): the text file a camera writes
 * when pictures are marked for printing (CRLF line ends, ASCII).
 *
 * @module
 */

import { exifDateTime } from "./exif.ts";

/** What {@link makeDpofOrder} writes. */
export interface DpofOptions {
  /** Camera model, written as the creator. */
  model: string;
  /** Creation time: camera-local seconds. */
  date: number;
  /** Pictures to print, as card paths relative to the root, e.g. "DCIM/100CANON/IMG_0001.JPG". */
  images: readonly string[];
  /** Prints of each picture; default 1. */
  quantity?: number;
}

/**
 * Makes an AUTPRINT.MRK print order: a header, then one standard-print job
 * per picture, referring to it relative to `\MISC`.
 *
 * @param options creator, date and pictures
 * @returns the file's bytes
 *
 * @example
 * ```ts
 * import { makeDpofOrder } from "./dpof.ts";
 * const mrk = makeDpofOrder({ model: "Canon PowerShot G3", date: 1044619200, images: ["DCIM/100CANON/IMG_0001.JPG"] });
 * if (!new TextDecoder().decode(mrk).startsWith("[HDR]")) throw new Error("no header");
 * ```
 */
export function makeDpofOrder(options: DpofOptions): Uint8Array {
  const pad3 = (n: number) => String(n).padStart(3, "0");
  const lines = [
    "[HDR]",
    "GEN REV = 01.10",
    `GEN CRT = "${options.model}" -01.00`,
    `GEN DTM = ${exifDateTime(options.date).replace(" ", ":")}`,
    "",
  ];
  options.images.forEach((path, i) => {
    lines.push(
      "[JOB]",
      `PRT PID = ${pad3(i + 1)}`,
      "PRT TYP = STD",
      `PRT QTY = ${pad3(options.quantity ?? 1)}`,
      "IMG FMT = EXIF2 -J",
      `<IMG SRC = "../${path}">`,
      "",
    );
  });
  return new TextEncoder().encode(lines.join("\r\n"));
}
