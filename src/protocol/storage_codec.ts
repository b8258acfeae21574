/**
 * Pure encoders and decoders of the storage commands (protocol reference
 * §4.3.4–4.3.11): camera paths, directory listings, file requests,
 * attributes, delete, make and remove directory, disk info and upload blocks
 * (the camera's clock is `clock.ts`).
 * `docs/protocol.md` in the package describes them (sections 4 and 5); the
 * § numbers refer to the longer reference it was written from.
 *
 * @module
 */

import { concat, cString, readCString, readU32, words, writeU32 } from "./bytes.ts";
import { ProtocolError } from "./errors.ts";

/** Attribute bits of a directory entry (§6.1). */
export const ATTRIBUTE = {
  /** Write-protected: the camera refuses to delete it. */
  PROTECTED: 0x01,
  /** A directory not descended into by this listing. */
  DIRECTORY: 0x10,
  /** Not yet downloaded (the camera sets it on new files). */
  NOT_DOWNLOADED: 0x20,
  /** A directory descended into (its contents follow). */
  DESCENDED: 0x80,
} as const;

const UNSAFE_NAME = /[\\/:*?"<>|]/;
/**
 * C0, DEL and C1 (0x80-0x9f: a Latin-1 byte from the camera can be one, e.g.
 * 0x9b CSI). A regular expression rather than a loop over the characters: it
 * runs once per listed name.
 */
// deno-lint-ignore no-control-regex
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;

function hasControlCharacter(name: string): boolean {
  return CONTROL_CHARACTER.test(name);
}

/**
 * Refuse a file or directory name that could escape a destination directory
 * or is not a plain name: path separators, `.`/`..`, NUL and control
 * characters, drive letters.
 *
 * @param name one path segment
 * @param from where the name came from, for the message
 * @returns the name
 * @throws {ProtocolError} for an unsafe name from the camera, {@link RangeError} for one from the user
 */
export function checkName(name: string, from: "camera" | "user"): string {
  let problem: string | undefined;
  if (name === "") problem = "it is empty";
  else if (name === "." || name === "..") problem = "it names a directory above or itself";
  else if (UNSAFE_NAME.test(name) || hasControlCharacter(name)) {
    problem = "it contains a path separator, a drive colon, or a control character";
  } else if (name.length > 255) problem = "it is longer than 255 characters";
  if (problem === undefined) return name;
  const shown = JSON.stringify(name);
  if (from === "camera") {
    throw new ProtocolError(
      `the camera listed a file named ${shown}, which is refused because ${problem} ` +
        `(it could escape the destination directory)`,
    );
  }
  throw new RangeError(`the name ${shown} is not a valid camera file name: ${problem}`);
}

/**
 * Split a host-style camera path (`/DCIM/100CANON/IMG_0001.JPG`) into
 * upper-case segments. Backslashes are accepted as separators too; `.` and
 * `..` segments, NUL and control characters are refused.
 *
 * @param path an absolute path on the card ("/" is the root)
 * @returns the segments, e.g. `["DCIM", "100CANON", "IMG_0001.JPG"]`
 * @throws {RangeError} for a path that is not a plain path on the card
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { splitCardPath } from "./storage_codec.ts";
 * assert.deepEqual(splitCardPath("/dcim/100canon/img_0001.jpg"), ["DCIM", "100CANON", "IMG_0001.JPG"]);
 * ```
 */
export function splitCardPath(path: string): string[] {
  if (typeof path !== "string") throw new TypeError("a camera path must be a string");
  const trimmed = path.replace(/^[A-Za-z]:/, "");
  const segments = trimmed.split(/[\\/]+/).filter((s) => s !== "");
  return segments.map((s) => checkName(s.toUpperCase(), "user"));
}

/**
 * The camera's form of a path: drive, backslashes (`D:\DCIM\100CANON`).
 *
 * @param drive the drive name the camera reported, e.g. "D:"
 * @param segments path segments below the root
 * @returns the camera path; the root is the drive alone ("D:")
 */
export function toCameraPath(drive: string, segments: readonly string[]): string {
  return segments.length === 0 ? drive : `${drive}\\${segments.join("\\")}`;
}

/**
 * The host form of path segments: `/DCIM/100CANON`.
 *
 * @param segments path segments below the root
 * @returns the host path ("/" for the root)
 */
export function toHostPath(segments: readonly string[]): string {
  return "/" + segments.join("/");
}

/**
 * Payload of GetDirectory: depth byte, path, NUL and two more zero bytes.
 *
 * @param cameraPath e.g. "D:\DCIM"
 * @param depth 0 = this directory only; N = descend N levels
 * @returns the payload
 */
export function encodeGetDirectory(cameraPath: string, depth: number): Uint8Array {
  return concat(Uint8Array.of(depth & 0xff), cString(cameraPath, 3));
}

/** One raw entry of a directory listing. */
export interface RawDirectoryEntry {
  /** Attribute byte (§6.1). */
  attributes: number;
  /** Size in bytes. */
  size: number;
  /** Modification time, camera-local seconds (0 for markers). */
  time: number;
  /** The name as sent. */
  name: string;
}

/**
 * Split a listing into its raw entries (attribute, size, time, name),
 * stopping at the end of the data.
 *
 * @param data the listing bytes
 * @returns the entries, the all-zero terminator included
 * @throws {ProtocolError} for an entry cut short or a name that is not terminated
 */
export function decodeDirectoryEntries(data: Uint8Array): RawDirectoryEntry[] {
  const entries: RawDirectoryEntry[] = [];
  let offset = 0;
  while (offset < data.length) {
    if (data.length - offset < 11) {
      throw new ProtocolError(
        `directory listing: ${
          data.length - offset
        } stray bytes at offset ${offset}, too few for an entry`,
      );
    }
    const limit = Math.min(data.length, offset + 10 + 257);
    const nul = data.indexOf(0, offset + 10);
    const end = nul < 0 || nul > limit ? limit : nul;
    if (end >= limit) {
      throw new ProtocolError(
        `directory listing: the name at offset ${offset + 10} is not terminated within 256 bytes`,
      );
    }
    entries.push({
      attributes: data[offset],
      size: readU32(data, offset + 2),
      time: readU32(data, offset + 6),
      name: readCString(data, offset + 10, end - offset - 10),
    });
    offset = end + 1;
  }
  return entries;
}

/** An entry of a decoded listing, placed in the tree. */
export interface ListingEntry {
  /** Path segments of the directory holding it. */
  parent: string[];
  /** The name. */
  name: string;
  /** True for directories. */
  isDirectory: boolean;
  /** Size in bytes (0 for directories). */
  size: number;
  /** Modification time, camera-local seconds (0 when unknown). */
  time: number;
  /** Attribute bits. */
  attributes: number;
}

/**
 * How deep a listing may descend below the listed directory. The host asks
 * for at most 15 levels (GetDirectory depth 0x0F); a listing nested deeper is
 * refused rather than decoded, since each level costs a copy of the path.
 */
export const MAX_LISTING_DEPTH = 32;

/**
 * The most entries one directory can hold: a FAT directory is at most 65 536
 * entries of 32 bytes, 2 MiB (QNX SDP 8.0 User's Guide, "DOS FAT12/16/32
 * filesystem" limits: "limited (for DOS-compatibility) to containing 64 K
 * entries"; a long name takes several). A listing of one directory claiming
 * more is not of a memory card.
 */
export const MAX_DIRECTORY_ENTRIES = 65_536;

/**
 * The most entries a recursive listing may have before it is refused. No card
 * of a camera speaking this protocol comes near: DCF numbers at most 9 999
 * files per folder, and a 32 GB card of 2 MB pictures holds some 16 000;
 * 262 144 is sixteen times that, and keeps a whole listing in memory well
 * under 100 MiB.
 */
export const MAX_TREE_ENTRIES = 262_144;

const EMPTY = new Uint8Array(0);

/** The longest an entry can be: 10 bytes of fields, a name of up to 256 bytes, its NUL. */
const MAX_ENTRY = 10 + 257;

/**
 * Decodes a listing as it arrives, chunk by chunk: each entry is handed back
 * with its place in the tree as soon as its bytes are in, and only the bytes
 * of an unfinished entry are kept. The first entry (the listed directory
 * itself) is dropped, `.\NAME` entries open a sub-directory, `..` entries close
 * it, the terminator and empty names are skipped. Every name is checked with
 * {@link checkName}; nesting deeper than {@link MAX_LISTING_DEPTH} and more
 * entries than `maxEntries` are refused.
 *
 * @example
 * ```ts
 * import { ListingDecoder } from "./storage_codec.ts";
 * const decoder = new ListingDecoder(["DCIM"]);
 * const entries = decoder.push(new Uint8Array(11)); // the listed directory: dropped
 * decoder.finish();
 * ```
 */
export class ListingDecoder {
  #stack: string[][];
  #rest: Uint8Array = EMPTY;
  #raw = 0;
  #entries = 0;
  #bytes = 0;
  #maxEntries: number;
  #empty = false;

  /**
   * Start a listing.
   *
   * @param base path segments of the listed directory
   * @param maxEntries the most entries accepted (default {@link MAX_TREE_ENTRIES})
   */
  constructor(base: readonly string[], maxEntries: number = MAX_TREE_ENTRIES) {
    this.#stack = [[...base]];
    this.#maxEntries = maxEntries;
  }

  /** Bytes received so far. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * True when the listing starts as a camera's answer for a directory that
   * does not exist: nothing, or an all-zero first entry (the G3).
   */
  get missing(): boolean {
    return this.#empty || this.#bytes < 11;
  }

  /**
   * Add the next bytes of the listing.
   *
   * @param chunk bytes in order (not kept: copy nothing out of it)
   * @returns the entries it completes, in the camera's order
   * @throws {ProtocolError} for an unterminated name, an unsafe name, nesting too deep or too many entries
   */
  push(chunk: Uint8Array): ListingEntry[] {
    this.#bytes += chunk.length;
    const out: ListingEntry[] = [];
    let data = chunk;
    if (this.#rest.length > 0) data = concat(this.#rest, chunk);
    let offset = 0;
    while (data.length - offset >= 11) {
      const limit = Math.min(data.length, offset + MAX_ENTRY);
      // The name's NUL, found natively: a JS loop over every byte of a large
      // listing would run hot enough to bring in V8's optimising compilers,
      // megabytes of resident code (measured with bench/list_side_by_side.ts).
      const nul = data.indexOf(0, offset + 10);
      const end = nul < 0 || nul > limit ? limit : nul;
      if (end >= limit) {
        if (limit === offset + MAX_ENTRY) throw unterminated(this.#consumed(data, offset));
        break; // the name goes on in the next chunk
      }
      this.#take(data, offset, end, out);
      offset = end + 1;
    }
    this.#rest = offset === data.length ? EMPTY : data.slice(offset);
    return out;
  }

  /** Offset in the whole listing of `offset` in `data` (which starts with the kept rest). */
  #consumed(data: Uint8Array, offset: number): number {
    return this.#bytes - data.length + offset;
  }

  #take(data: Uint8Array, offset: number, end: number, out: ListingEntry[]): void {
    const first = this.#raw++ === 0;
    if (first) {
      // The listed directory itself; all zero when it does not exist.
      if (end === offset + 10 && data.subarray(offset, offset + 10).every((b) => b === 0)) {
        this.#empty = true;
      }
      return;
    }
    const name = readCString(data, offset + 10, end - offset - 10);
    if (name === "") return;
    const attributes = data[offset];
    const time = readU32(data, offset + 6);
    const stack = this.#stack;
    const current = stack[stack.length - 1];
    if (name === "..") {
      if (stack.length > 1) stack.pop();
      return;
    }
    if (++this.#entries > this.#maxEntries) {
      throw new ProtocolError(
        `directory listing: more than ${this.#maxEntries} entries, more than a camera's card holds`,
      );
    }
    if (name.startsWith(".\\")) {
      const sub = checkName(name.slice(2), "camera");
      if (stack.length > MAX_LISTING_DEPTH) {
        throw new ProtocolError(
          `directory listing: nested more than ${MAX_LISTING_DEPTH} directories deep ` +
            `(at ${JSON.stringify(sub)}), which no camera card holds`,
        );
      }
      out.push({ parent: current, name: sub, isDirectory: true, size: 0, time, attributes });
      stack.push([...current, sub]);
      return;
    }
    const checked = checkName(name, "camera");
    const isDirectory = (attributes & (ATTRIBUTE.DIRECTORY | ATTRIBUTE.DESCENDED)) !== 0;
    out.push({
      parent: current,
      name: checked,
      isDirectory,
      size: isDirectory ? 0 : readU32(data, offset + 2),
      time,
      attributes,
    });
  }

  /**
   * The listing has ended.
   *
   * @throws {ProtocolError} for bytes left over that are no whole entry
   */
  finish(): void {
    const rest = this.#rest;
    if (rest.length === 0) return;
    const at = this.#bytes - rest.length;
    if (rest.length < 11) {
      throw new ProtocolError(
        `directory listing: ${rest.length} stray bytes at offset ${at}, too few for an entry`,
      );
    }
    throw unterminated(at);
  }
}

function unterminated(offset: number): ProtocolError {
  return new ProtocolError(
    `directory listing: the name at offset ${offset + 10} is not terminated within 256 bytes`,
  );
}

/**
 * Decode a whole listing into entries with their place in the tree (see
 * {@link ListingDecoder}, which this runs over the bytes at once).
 *
 * @param data the listing bytes
 * @param base path segments of the listed directory
 * @param maxEntries the most entries accepted (default {@link MAX_TREE_ENTRIES})
 * @returns the entries in the camera's order
 */
export function decodeListing(
  data: Uint8Array,
  base: readonly string[],
  maxEntries: number = MAX_TREE_ENTRIES,
): ListingEntry[] {
  const decoder = new ListingDecoder(base, maxEntries);
  const entries = decoder.push(data);
  decoder.finish();
  return entries;
}

/**
 * Payload of GetFile (§4.3.7).
 *
 * @param cameraPath full camera path
 * @param thumbnail true for the thumbnail (flag 1)
 * @param transferLength the block size the host will read with (old protocol only)
 * @param newProtocol class 6 layout: flag, path, two NULs
 * @returns the payload
 */
export function encodeGetFile(
  cameraPath: string,
  thumbnail: boolean,
  transferLength: number,
  newProtocol: boolean,
): Uint8Array {
  if (newProtocol) return concat(words(thumbnail ? 1 : 0), cString(cameraPath, 2));
  return concat(words(thumbnail ? 1 : 0, transferLength), cString(cameraPath));
}

/**
 * Payload of SetAttributes: attribute word, directory, NUL, name, NUL, NUL.
 *
 * @param cameraDir camera path of the directory
 * @param name file name
 * @param attributes the new attribute bits
 * @returns the payload
 */
export function encodeSetAttributes(
  cameraDir: string,
  name: string,
  attributes: number,
): Uint8Array {
  return concat(words(attributes), cString(cameraDir), cString(name, 2));
}

/**
 * Payload of DeleteFile (§4.3.9), old or new layout.
 *
 * @param cameraDir camera path of the directory
 * @param name file name
 * @param newProtocol class 6 layout
 * @returns the payload
 */
export function encodeDeleteFile(
  cameraDir: string,
  name: string,
  newProtocol: boolean,
): Uint8Array {
  if (!newProtocol) return concat(cString(cameraDir), cString(name, 2));
  const full = cString(`${cameraDir}\\${name}`);
  const field = new Uint8Array(Math.max(0x30, full.length));
  field.set(full);
  const dir = cString(`${cameraDir}\\`, 0);
  return concat(field, dir);
}

/**
 * Payload of MakeDirectory (MKDIR, 0x05/0x11): the full camera path, Latin-1, and a NUL.
 *
 * @param cameraPath the directory to make, e.g. `D:\DCIM\102CANON`
 * @returns the payload
 * @throws {RangeError} for a character Latin-1 cannot hold
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeMakeDirectory } from "./storage_codec.ts";
 * // One byte per character: "Ä" is 0xC4 on the wire
 * assert.deepEqual([...encodeMakeDirectory("D:\\Ä")], [0x44, 0x3a, 0x5c, 0xc4, 0]);
 * ```
 */
export function encodeMakeDirectory(cameraPath: string): Uint8Array {
  return cString(cameraPath);
}

/**
 * Payload of RemoveDirectory (RMDIR, 0x06/0x11): the full camera path, Latin-1, and a NUL.
 *
 * @param cameraPath the empty directory to remove
 * @returns the payload
 * @throws {RangeError} for a character Latin-1 cannot hold
 */
export function encodeRemoveDirectory(cameraPath: string): Uint8Array {
  return cString(cameraPath);
}

/**
 * Payload of DiskInfo: "D:\" + NUL (old) or "A:" + NUL (new).
 *
 * @param drive the drive name, e.g. "D:"
 * @param newProtocol class 6 layout
 * @returns the payload
 */
export function encodeDiskInfo(drive: string, newProtocol: boolean): Uint8Array {
  return cString(newProtocol ? drive : `${drive}\\`);
}

/** Raw disk-info values (unit depends on the camera). */
export interface DiskInfoValues {
  /** Capacity as sent. */
  capacity: number;
  /** Free space as sent. */
  free: number;
}

/**
 * Decode a DiskInfo reply's data (from 0x54).
 *
 * @param data the data after the status word
 * @returns capacity and free space as the camera sent them
 */
export function decodeDiskInfo(data: Uint8Array): DiskInfoValues {
  if (data.length < 8) throw new ProtocolError(`DiskInfo: ${data.length} data bytes, expected 8`);
  const capacity = readU32(data, 0);
  const free = readU32(data, 4);
  if (free > capacity) {
    throw new ProtocolError(`DiskInfo: free space ${free} is larger than the capacity ${capacity}`);
  }
  return { capacity, free };
}

/**
 * Decode the FlashDeviceIdent data: a drive name like "D:".
 *
 * @param data the long reply's data
 * @returns the drive name
 */
export function decodeDriveName(data: Uint8Array): string {
  const drive = readCString(data, 0, data.length);
  if (!/^[A-Z]:$/.test(drive)) {
    throw new ProtocolError(`the camera reported the drive name ${JSON.stringify(drive)}`);
  }
  return drive;
}

/**
 * Payload of SetFileTime: time word, full path, NUL, NUL.
 *
 * @param cameraPath full camera path
 * @param cameraSeconds camera-local seconds
 * @returns the payload
 */
export function encodeSetFileTime(cameraPath: string, cameraSeconds: number): Uint8Array {
  return concat(words(cameraSeconds), cString(cameraPath, 2));
}

/** The largest data block of one upload step (USB_BULK_WRITE_SIZE). */
export const UPLOAD_BLOCK = 0x1400;

/**
 * The 0x40-byte pre-header of an upload block, sent by control OUT wValue 0x10
 * (§4.3.10): half-word cmd3 0x203 at 4, word at 6 = len1 + 0x40. The
 * reference places a serial at 0x4C, but the pre-header is only 0x40 bytes
 * long: gphoto2 writes it into its buffer and never sends it, and so do we not.
 *
 * @param blockLength len1 of the data block that follows
 * @returns the 0x40 bytes
 */
export function encodeUploadPreHeader(blockLength: number): Uint8Array {
  const header = new Uint8Array(0x40);
  header[4] = 0x03;
  header[5] = 0x02;
  writeU32(header, 6, blockLength + 0x40);
  return header;
}

/**
 * One upload data block for bulk OUT (§4.3.10): a command block (cmd3 0x403,
 * cmd1 0x03, cmd2 0x11) with file offset, data length, path and the data.
 *
 * @param cameraPath full camera path of the file
 * @param offset where this block goes in the file
 * @param data at most {@link UPLOAD_BLOCK} bytes
 * @param serial serial number
 * @returns the block
 */
export function encodeUploadBlock(
  cameraPath: string,
  offset: number,
  data: Uint8Array,
  serial: number,
): Uint8Array {
  const path = cString(cameraPath);
  const len1 = data.length + 0x1c + path.length;
  const block = new Uint8Array(0x40 + len1);
  writeU32(block, 0, len1);
  block[4] = 0x03;
  block[5] = 0x04;
  block[0x40] = 0x02;
  block[0x44] = 0x03;
  block[0x47] = 0x11;
  writeU32(block, 0x48, len1);
  writeU32(block, 0x4c, serial);
  writeU32(block, 0x54, offset);
  writeU32(block, 0x58, data.length);
  block.set(path, 0x5c);
  block.set(data, 0x5c + path.length);
  return block;
}
