/**
 * What a memory card is made of: the description of its initial content
 * ({@link CardFileSpec}), the options of a card, the lines of its snapshot,
 * and the rules for its names (8.3, upper case) and paths.
 *
 * @module
 */

/** Capacity of the default card: a 128 MB CompactFlash card (7840 clusters of 16 KiB). */
export const DEFAULT_CAPACITY = 128_450_560;
/** Default allocation unit: free space is counted in whole clusters. */
export const DEFAULT_CLUSTER_SIZE = 16_384;
/** Default camera model recorded in generated EXIF data. */
export const DEFAULT_MODEL = "Canon PowerShot G3";
/** Default time of the first file: 2003-02-07 12:00:00 camera-local (0x3E439FC0). */
export const DEFAULT_START_TIME = 0x3e439fc0;

/**
 * How a {@link CardFileSpec} makes its file's bytes:
 * - "jpeg": a camera JPEG (EXIF with thumbnail) showing the file number;
 * - "thm": a 160×120 .THM thumbnail JPEG;
 * - "crw": a CIFF raw file;
 * - "cr2": a CR2 raw file (TIFF with preview, thumbnail and sensor data);
 * - "avi": an MJPEG movie;
 * - "pattern": `size` deterministic pseudo-random bytes, computed on demand;
 * - "bytes": exactly `bytes`;
 * - "host": the file `hostFile` on this computer, read when the camera reads it
 *   (copied into memory only when the card changes it);
 * - "directory": an (empty) directory.
 */
export type CardFileKind =
  | "jpeg"
  | "thm"
  | "crw"
  | "cr2"
  | "avi"
  | "pattern"
  | "bytes"
  | "host"
  | "directory";

/** One file (or directory) of a card's initial content. */
export interface CardFileSpec {
  /** Absolute card path with upper-case 8.3 names, e.g. "/DCIM/100CANON/IMG_0001.JPG". */
  path: string;
  /**
   * How the bytes are made. When omitted: "bytes" if `bytes` is given,
   * "pattern" if `size` is given, else by extension (.JPG, .THM, .CRW, .CR2, .AVI).
   */
  kind?: CardFileKind;
  /** Size in bytes of a "pattern" file (up to 4 GiB − 1). */
  size?: number;
  /** Contents of a "bytes" file (copied). */
  bytes?: Uint8Array;
  /** The local file a "host" file serves (its size is taken when the card is made). */
  hostFile?: string;
  /** Modification time, camera-local seconds; default `startTime + 60 × index`. */
  mtime?: number;
  /** Attribute bits (0x01 protected, 0x20 not downloaded); default 0x20. */
  attributes?: number;
  /** Text drawn in generated pictures; default the file number, e.g. "0001". */
  label?: string;
  /** Width of a generated "jpeg" picture (default 640) or "avi" movie (default 160). */
  width?: number;
  /** Height of a generated "jpeg" picture (default 480) or "avi" movie (default 120). */
  height?: number;
}

/** Options of {@link MemoryCard}. */
export interface MemoryCardOptions {
  /** Initial content: the default card, an empty card, or a list of files. Default "default". */
  content?: "default" | "empty" | readonly CardFileSpec[];
  /** Capacity in bytes (at most 4 GiB − 1); default {@link DEFAULT_CAPACITY}. */
  capacity?: number;
  /** Cluster size in bytes; default {@link DEFAULT_CLUSTER_SIZE}. */
  clusterSize?: number;
  /** Whether a card is inserted; default true. */
  present?: boolean;
  /** Camera model for generated EXIF; default {@link DEFAULT_MODEL}. */
  model?: string;
  /**
   * The raw file of the default content: "crw" (with its .THM; the
   * default), "cr2" (EOS 20D generation) or "none" (cameras without raw).
   */
  raw?: "crw" | "cr2" | "none";
  /** Whether the default content has a movie (default true; EOS bodies have none). */
  movie?: boolean;
  /** Camera-local time of the first file; default {@link DEFAULT_START_TIME}. */
  startTime?: number;
  /**
   * The camera's clock (camera-local seconds), used for the time of new
   * directories; default the host's local time.
   */
  clock?: () => number;
}

/** One line of {@link MemoryCard.snapshot}. */
export interface CardSnapshotEntry {
  /** Absolute card path, e.g. "/DCIM/100CANON/IMG_0001.JPG". */
  path: string;
  /** True for directories. */
  isDirectory: boolean;
  /** Size in bytes (0 for directories). */
  size: number;
  /** Attribute bits (0 for directories). */
  attributes: number;
  /** Modification time, camera-local seconds. */
  mtime: number;
}

/** Characters allowed in an 8.3 short name (besides letters and digits). */
const NAME_PART = /^[A-Z0-9_$~!#%&'(){}@^`-]+$/;

/** The name upper-cased if it is a valid 8.3 name with at most one dot, else undefined. */
export function shortName(name: string): string | undefined {
  const upper = name.toUpperCase();
  const parts = upper.split(".");
  if (parts.length > 2) return undefined;
  const [base, ext] = parts;
  if (base.length < 1 || base.length > 8 || !NAME_PART.test(base)) return undefined;
  if (ext !== undefined && (ext.length < 1 || ext.length > 3 || !NAME_PART.test(ext))) {
    return undefined;
  }
  return upper;
}

/**
 * Splits an absolute path of a card's content into its names:
 * "/DCIM/100CANON" → `["DCIM", "100CANON"]`, "/" → `[]`. Backslashes are
 * accepted as separators; the names are kept as given (the card upper-cases
 * and checks them). The client parses card paths with its own, stricter
 * rules (`src/protocol/storage_codec.ts`).
 *
 * @param path the path, starting with "/" (or "\")
 * @returns the names below the root
 * @throws RangeError when the path is not absolute or has empty names
 *
 * @example
 * ```ts
 * import { contentPathNames } from "./card_content.ts";
 * const names = contentPathNames("/DCIM/100CANON/IMG_0001.JPG");
 * if (names.length !== 3) throw new Error("three names expected");
 * ```
 */
export function contentPathNames(path: string): string[] {
  const p = path.replaceAll("\\", "/");
  if (!p.startsWith("/")) throw new RangeError(`card path must start with "/": ${path}`);
  if (p === "/") return [];
  const names = p.slice(1).replace(/\/$/, "").split("/");
  if (names.some((n) => n.length === 0)) throw new RangeError(`empty name in card path: ${path}`);
  return names;
}

/** Digits of the DCF file number in a name ("IMG_0012.JPG" → "0012"), or undefined. */
export function fileNumberDigits(name: string): string | undefined {
  const m = /^[A-Z0-9_]{4}(\d{4})\./.exec(name) ?? /(\d+)(?!.*\d)/.exec(name.split(".")[0]);
  return m?.[1];
}

export function resolveKind(spec: CardFileSpec, name: string): CardFileKind {
  if (spec.kind !== undefined) return spec.kind;
  if (spec.hostFile !== undefined) return "host";
  if (spec.bytes !== undefined) return "bytes";
  if (spec.size !== undefined) return "pattern";
  const ext = name.split(".")[1];
  const byExtension: Record<string, CardFileKind> = {
    JPG: "jpeg",
    THM: "thm",
    CRW: "crw",
    CR2: "cr2",
    AVI: "avi",
  };
  const kind = ext === undefined ? undefined : byExtension[ext];
  if (kind === undefined) {
    throw new RangeError(`card content ${spec.path}: give kind, bytes or size`);
  }
  return kind;
}

export function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}
