/**
 * The virtual camera's memory card, as the camera's protocol engine sees it.
 * Paths are arrays of upper-case 8.3 names below the card's root:
 * `["DCIM", "100CANON", "IMG_0001.JPG"]`; `[]` is the root.
 *
 * @module
 */

/** Camera status codes a card operation can fail with (protocol reference §5.1). */
export const CARD_STATUS = {
  /** File not found. */
  FILE_NOT_FOUND: 0x02000022,
  /** File protected. */
  FILE_PROTECTED: 0x02000029,
  /** Card full. */
  CARD_FULL: 0x0200002a,
  /** Invalid parameters / path not found. */
  PATH_NOT_FOUND: 0x02000086,
  /** No storage card. */
  NO_CARD: 0x02000087,
} as const;

/** Directory-entry attribute bits (protocol reference §6.1). */
export const CARD_ATTRIBUTE = {
  /** Write-protected: delete refused. */
  PROTECTED: 0x01,
  /** A directory that is not descended into. */
  DIRECTORY: 0x10,
  /** Not yet downloaded (set by the camera on new files). */
  NOT_DOWNLOADED: 0x20,
  /** A directory that is descended into. */
  DESCENDED: 0x80,
} as const;

/** A card operation failed; `status` is what the camera answers. */
export class CardError extends Error {
  /** The camera status code, one of {@link CARD_STATUS}. */
  readonly status: number;
  /**
   * Make the error.
   *
   * @param status the camera status code
   * @param message what failed
   */
  constructor(status: number, message: string) {
    super(message);
    this.name = "CardError";
    this.status = status;
  }
}

/** A file or directory on the card. */
export interface CardNode {
  /** Upper-case 8.3 name, e.g. `IMG_0001.JPG`; `""` for the root. */
  readonly name: string;
  /** True for directories. */
  readonly isDirectory: boolean;
  /** File attribute bits ({@link CARD_ATTRIBUTE}: 0x01, 0x20); 0 for directories. */
  readonly attributes: number;
  /** Modification time: seconds since 1970 counted in the camera's local time; never 0 for files. */
  readonly mtime: number;
  /** Size in bytes; 0 for directories. */
  readonly size: number;
  /** Directory contents in the order the camera lists them; undefined for files. */
  readonly children?: readonly CardNode[];
}

/** What the camera's protocol engine needs of a memory card. */
export interface CardFileSystem {
  /** False when no card is inserted: every operation then fails with NO_CARD. */
  readonly present: boolean;
  /** Capacity in bytes. */
  readonly capacity: number;
  /** Free space in bytes (capacity minus what the files take, in clusters). */
  readonly free: number;
  /** The node at `path`, or undefined. */
  find(path: readonly string[]): CardNode | undefined;
  /** `length` bytes of the file at `path` from `offset` (fewer at the end of the file). */
  read(path: readonly string[], offset: number, length: number): Uint8Array;
  /**
   * What the camera returns for a "thumbnail" request of the file at `path`:
   * for a JPEG, the leading part of the file holding the whole EXIF APP1
   * segment (with its IFD1 thumbnail); undefined when the file has none.
   */
  thumbnailBlob(path: readonly string[]): Uint8Array | undefined;
  /** Create a directory (parent must exist). */
  mkdir(path: readonly string[]): void;
  /** Remove an empty directory. */
  rmdir(path: readonly string[]): void;
  /** Delete a file (refused with FILE_PROTECTED for protected files). */
  delete(path: readonly string[]): void;
  /** Set a file's attribute bits. */
  setAttributes(path: readonly string[], attributes: number): void;
  /**
   * Write `data` at `offset` into the file at `path`, creating it (with the
   * "not downloaded" attribute and mtime -1, as the camera leaves it) when
   * `offset` is 0. Fails with CARD_FULL when the card has no room.
   */
  write(path: readonly string[], offset: number, data: Uint8Array): void;
  /** Set a file's modification time (camera-local seconds). */
  setMtime(path: readonly string[], mtime: number): void;
}
