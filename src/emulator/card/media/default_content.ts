/**
 * The virtual camera's default memory-card content: what a PowerShot G3's
 * card looks like after a day of use (DCF layout, §6.10 of the protocol
 * reference):
 *
 * | Path | Kind | Attributes |
 * |---|---|---|
 * | /DCIM/100CANON/IMG_0001.JPG … IMG_0005.JPG | 640×480 JPEG, EXIF, 160×120 thumbnail | 0x00 downloaded (0001, 0003), 0x01 protected (0002), 0x20 new (0004, 0005) |
 * | /DCIM/100CANON/CRW_0006.CRW + CRW_0006.THM | CIFF raw + its thumbnail | 0x20 |
 * | /DCIM/100CANON/MVI_0007.AVI + MVI_0007.THM | MJPEG movie (8 frames 160×120, 15 fps) + its thumbnail | 0x20 |
 * | /DCIM/CANONMSC/100.CTG | catalogue of 100CANON | 0x20 |
 * | /DCIM/101CANON/IMG_0101.JPG, IMG_0102.JPG | 640×480 JPEG (taken the next day) | 0x20 |
 * | /DCIM/CANONMSC/101.CTG | catalogue of 101CANON | 0x20 |
 * | /MISC/AUTPRINT.MRK | DPOF print order (IMG_0003, IMG_0101) | 0x20 |
 *
 * Other cameras' cards differ in the raw file and the movie: `raw: "cr2"`
 * (EOS 20D generation) puts IMG_0006.CR2 (thumbnail inside) in place of the
 * CRW and its .THM, `raw: "none"` leaves file 6 out, and `movie: false`
 * (EOS bodies) leaves out the movie and its .THM.
 *
 * Times increase file by file from the start time; every file is at least
 * 256 bytes.
 *
 * @module
 */

import type { CardFileSpec } from "../card_content.ts";
import { makeCatalog } from "./ctg.ts";
import { makeDpofOrder } from "./dpof.ts";

/** Inputs of {@link defaultCardContent}. */
export interface DefaultContentOptions {
  /** Camera-local time of the first picture. */
  startTime: number;
  /** Camera model (for the print order's creator field). */
  model: string;
  /** The raw file: "crw" (default, with its .THM), "cr2", or "none". */
  raw?: "crw" | "cr2" | "none";
  /** Whether there is a movie (default true). */
  movie?: boolean;
}

/**
 * The default card's files in creation order (directories are created as
 * their first file appears, so DCIM lists 100CANON, CANONMSC, 101CANON).
 *
 * @param options start time and model
 * @returns the file list for {@link MemoryCard}'s `content` option
 *
 * @example
 * ```ts
 * import { defaultCardContent } from "./default_content.ts";
 * const specs = defaultCardContent({ startTime: 1044619200, model: "Canon PowerShot G3" });
 * if (specs[0].path !== "/DCIM/100CANON/IMG_0001.JPG") throw new Error("unexpected order");
 * ```
 */
export function defaultCardContent(options: DefaultContentOptions): CardFileSpec[] {
  const t = options.startTime;
  const day2 = t + 86_400;
  const rawKind = options.raw ?? "crw";
  const hasMovie = options.movie ?? true;
  const raw: CardFileSpec[] = rawKind === "cr2"
    ? [{ path: "/DCIM/100CANON/IMG_0006.CR2", mtime: t + 3600, attributes: 0x20 }]
    : rawKind === "none"
    ? []
    : [
      { path: "/DCIM/100CANON/CRW_0006.CRW", mtime: t + 3600, attributes: 0x20 },
      { path: "/DCIM/100CANON/CRW_0006.THM", mtime: t + 3601, attributes: 0x20 },
    ];
  const movie: CardFileSpec[] = hasMovie
    ? [
      { path: "/DCIM/100CANON/MVI_0007.AVI", mtime: t + 5400, attributes: 0x20 },
      // The movie's thumbnail shows its first frame, which is labelled "0007 1".
      { path: "/DCIM/100CANON/MVI_0007.THM", mtime: t + 5401, attributes: 0x20, label: "0007 1" },
    ]
    : [];
  return [
    { path: "/DCIM/100CANON/IMG_0001.JPG", mtime: t, attributes: 0x00 },
    { path: "/DCIM/100CANON/IMG_0002.JPG", mtime: t + 95, attributes: 0x01 },
    { path: "/DCIM/100CANON/IMG_0003.JPG", mtime: t + 230, attributes: 0x00 },
    { path: "/DCIM/100CANON/IMG_0004.JPG", mtime: t + 1805, attributes: 0x20 },
    { path: "/DCIM/100CANON/IMG_0005.JPG", mtime: t + 1862, attributes: 0x20 },
    ...raw,
    ...movie,
    {
      path: "/DCIM/CANONMSC/100.CTG",
      mtime: t + 5402,
      attributes: 0x20,
      bytes: makeCatalog(100, [
        { fileNumber: 1, kind: "jpeg" },
        { fileNumber: 2, kind: "jpeg", protected: true },
        { fileNumber: 3, kind: "jpeg" },
        { fileNumber: 4, kind: "jpeg" },
        { fileNumber: 5, kind: "jpeg" },
        ...(rawKind === "none" ? [] : [{ fileNumber: 6, kind: "raw" as const }]),
        ...(hasMovie ? [{ fileNumber: 7, kind: "movie" as const }] : []),
      ]),
    },
    { path: "/DCIM/101CANON/IMG_0101.JPG", mtime: day2, attributes: 0x20 },
    { path: "/DCIM/101CANON/IMG_0102.JPG", mtime: day2 + 40, attributes: 0x20 },
    {
      path: "/DCIM/CANONMSC/101.CTG",
      mtime: day2 + 41,
      attributes: 0x20,
      bytes: makeCatalog(101, [
        { fileNumber: 101, kind: "jpeg" },
        { fileNumber: 102, kind: "jpeg" },
      ]),
    },
    {
      path: "/MISC/AUTPRINT.MRK",
      mtime: day2 + 300,
      attributes: 0x20,
      bytes: makeDpofOrder({
        model: options.model,
        date: day2 + 300,
        images: ["DCIM/100CANON/IMG_0003.JPG", "DCIM/101CANON/IMG_0101.JPG"],
      }),
    },
  ];
}
