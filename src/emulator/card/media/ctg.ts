/**
 * Catalogue files (`\DCIM\CANONMSC\nnn.CTG`), which PowerShots keep per DCF
 * folder. Their real layout is not documented anywhere we rely on; the
 * virtual camera writes a plausible stand-in with a fixed, documented layout,
 * one 512-byte sector long (≥ 256 bytes, so gphoto2 accepts it as a
 * download):
 *
 * | Offset | Size | Content |
 * |---|---|---|
 * | 0 | 4 | "CTG\0" |
 * | 4 | 2 | folder number (e.g. 100), little-endian |
 * | 6 | 2 | entry count |
 * | 8 | 8 | zero |
 * | 16 + 8·i | 2 | file number of entry i |
 * | 18 + 8·i | 1 | kind: 1 JPEG, 2 raw (CRW), 3 movie (AVI), 4 other |
 * | 19 + 8·i | 1 | flags: 0x01 protected |
 * | 20 + 8·i | 4 | zero |
 *
 * The rest of the sector is zero (at most 62 entries fit).
 *
 * @module
 */

/** One catalogue entry. */
export interface CatalogEntry {
  /** DCF file number, 1..9999. */
  fileNumber: number;
  /** What the file is. */
  kind: "jpeg" | "raw" | "movie" | "other";
  /** Whether the file is write-protected. */
  protected?: boolean;
}

/** Size of every catalogue file. */
export const CATALOG_SIZE = 512;

const KIND_CODE = { jpeg: 1, raw: 2, movie: 3, other: 4 } as const;

/**
 * Makes a catalogue file for one DCF folder.
 *
 * @param folderNumber the folder's number (100..999)
 * @param entries the folder's files
 * @returns the 512-byte file
 * @throws RangeError when more entries are given than fit in one sector
 *
 * @example
 * ```ts
 * import { makeCatalog } from "./ctg.ts";
 * const ctg = makeCatalog(100, [{ fileNumber: 1, kind: "jpeg" }]);
 * if (ctg.length !== 512 || ctg[4] !== 100) throw new Error("bad catalogue");
 * ```
 */
export function makeCatalog(folderNumber: number, entries: readonly CatalogEntry[]): Uint8Array {
  const max = (CATALOG_SIZE - 16) / 8;
  if (entries.length > max) {
    throw new RangeError(`a catalogue holds at most ${max} entries, got ${entries.length}`);
  }
  const out = new Uint8Array(CATALOG_SIZE);
  const v = new DataView(out.buffer);
  out.set([0x43, 0x54, 0x47, 0x00]);
  v.setUint16(4, folderNumber, true);
  v.setUint16(6, entries.length, true);
  entries.forEach((e, i) => {
    const p = 16 + 8 * i;
    v.setUint16(p, e.fileNumber, true);
    out[p + 2] = KIND_CODE[e.kind];
    out[p + 3] = e.protected ? 0x01 : 0x00;
  });
  return out;
}
