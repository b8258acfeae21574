/**
 * The virtual camera's memory card: an in-memory FAT-like tree of
 * directories and files with realistic, deterministic default content (DCF
 * folders with JPEGs carrying EXIF thumbnails, a raw file and a movie with
 * their .THM siblings, catalogue files, a DPOF print order), plus the card
 * operations the camera's protocol engine performs, failing with the
 * camera's status codes.
 *
 * Files are kept in memory. Generated media (pictures, raw file, movie) are
 * produced on first access and shared between cards in the same process, so
 * creating many cards is cheap; "pattern" files produce any byte range on
 * demand, so huge files cost no memory.
 *
 * @module
 */

import {
  CARD_ATTRIBUTE,
  CARD_STATUS,
  CardError,
  type CardFileSystem,
  type CardNode,
} from "./card_model.ts";
import {
  type CardFileKind,
  type CardFileSpec,
  type CardSnapshotEntry,
  contentPathNames,
  DEFAULT_CAPACITY,
  DEFAULT_CLUSTER_SIZE,
  DEFAULT_MODEL,
  DEFAULT_START_TIME,
  fileNumberDigits,
  isCount,
  type MemoryCardOptions,
  resolveKind,
  shortName,
} from "./card_content.ts";
import { makeAvi } from "./media/avi.ts";
import { cr2ThumbnailEnd, makeCr2 } from "./media/cr2.ts";
import { makeCrw } from "./media/crw.ts";
import { defaultCardContent } from "./media/default_content.ts";
import { exifSegmentEnd } from "./media/jpeg_markers.ts";
import { makeJpeg } from "./media/photo.ts";
import { fillPattern, hashString } from "./media/prng.ts";
import { makeThm } from "./media/thm.ts";

/** How a file's bytes are held. */
type Content =
  /** In memory; `data` may be longer than `length` (room to append). */
  | { kind: "buffer"; data: Uint8Array; length: number }
  /** Pseudo-random bytes computed from the offset. */
  | { kind: "pattern"; seed: number; size: number }
  /** A file on this computer, read range by range. */
  | { kind: "host"; path: string; size: number }
  /** Generated on first use; shared through {@link generated}. */
  | { kind: "lazy"; key: string; make: () => Uint8Array; data?: Uint8Array };

/** Generated media by generation parameters, shared by all cards (never modified in place). */
const generated = new Map<string, Uint8Array>();

/** A file or directory on the card. */
class Entry implements CardNode {
  readonly name: string;
  readonly isDirectory: boolean;
  attributes: number;
  mtime: number;
  readonly children: Entry[] | undefined;
  content: Content | undefined;

  constructor(name: string, isDirectory: boolean, attributes: number, mtime: number) {
    this.name = name;
    this.isDirectory = isDirectory;
    this.attributes = isDirectory ? 0 : attributes;
    this.mtime = mtime;
    this.children = isDirectory ? [] : undefined;
  }

  get size(): number {
    const c = this.content;
    if (c === undefined) return 0;
    if (c.kind === "buffer") return c.length;
    if (c.kind === "pattern" || c.kind === "host") return c.size;
    return materialise(c).length;
  }
}

function materialise(c: Content & { kind: "lazy" }): Uint8Array {
  if (c.data === undefined) {
    let data = generated.get(c.key);
    if (data === undefined) {
      data = c.make();
      generated.set(c.key, data);
    }
    c.data = data;
  }
  return c.data;
}

function joinPath(path: readonly string[]): string {
  return "/" + path.join("/");
}

function fail(status: number, message: string): never {
  throw new CardError(status, message);
}

/** Exposure settings of generated pictures, picked by file number so pictures differ plausibly. */
const ISO = [100, 200, 400, 50];
const APERTURES = [2.8, 4, 5.6, 8, 2];
const EXPOSURES: readonly (readonly [number, number])[] = [
  [1, 60],
  [1, 125],
  [1, 250],
  [1, 30],
  [1, 500],
  [1, 15],
];

/**
 * An in-memory memory card implementing the camera's {@link CardFileSystem}.
 *
 * Camera-facing behaviour (status codes on failure):
 * - every operation on a card that is not present: NO_CARD;
 * - a missing parent directory, an invalid 8.3 name, mkdir of an existing
 *   name, rmdir of a missing, non-empty or non-directory path: PATH_NOT_FOUND;
 * - read, delete, setAttributes, setMtime, thumbnailBlob of a missing file
 *   (or of a directory): FILE_NOT_FOUND;
 * - delete (or overwrite by upload) of a protected file: FILE_PROTECTED;
 * - a write that does not fit: CARD_FULL (nothing is changed).
 *
 * Names are matched case-insensitively and stored upper-case. New entries
 * are appended to their directory (camera order = creation order). Free
 * space = capacity − Σ over files of the size rounded up to whole clusters.
 *
 * @example
 * ```ts
 * import { MemoryCard } from "@canon-remote/canon-remote/emulator";
 * const card = new MemoryCard();
 * const dir = card.find(["DCIM", "100CANON"]);
 * const first = dir?.children?.[0];
 * if (first?.name !== "IMG_0001.JPG") throw new Error("unexpected first file");
 * const head = card.read(["DCIM", "100CANON", "IMG_0001.JPG"], 0, 4);
 * if (head[0] !== 0xff || head[1] !== 0xd8) throw new Error("not a JPEG");
 * ```
 */
export class MemoryCard implements CardFileSystem {
  /** The camera's clock (camera-local seconds) for the time of new directories. */
  clock: () => number;
  #present: boolean;
  readonly #capacity: number;
  readonly #cluster: number;
  readonly #model: string;
  readonly #root: Entry = new Entry("", true, 0, 0);

  /**
   * Creates a card (by default the realistic default content, inserted).
   *
   * @param options content, geometry, presence, model and times
   * @throws RangeError for invalid options or content that does not fit
   */
  constructor(options: MemoryCardOptions = {}) {
    const capacity = options.capacity ?? DEFAULT_CAPACITY;
    const cluster = options.clusterSize ?? DEFAULT_CLUSTER_SIZE;
    if (!Number.isInteger(capacity) || capacity < 0 || capacity > 0xffffffff) {
      throw new RangeError(`card capacity must be an integer in 0..4294967295, got ${capacity}`);
    }
    if (!Number.isInteger(cluster) || cluster < 1) {
      throw new RangeError(`cluster size must be a positive integer, got ${cluster}`);
    }
    this.#capacity = capacity;
    this.#cluster = cluster;
    this.#present = options.present ?? true;
    this.#model = options.model ?? DEFAULT_MODEL;
    this.clock = options.clock ??
      (() => Math.floor(Date.now() / 1000) - new Date().getTimezoneOffset() * 60);
    const startTime = options.startTime ?? DEFAULT_START_TIME;
    const content = options.content ?? "default";
    const specs = content === "default"
      ? defaultCardContent({
        startTime,
        model: this.#model,
        raw: options.raw,
        movie: options.movie,
      })
      : content === "empty"
      ? []
      : content;
    this.#populate(specs, startTime);
  }

  /** False when no card is inserted (every operation then fails with NO_CARD); settable. */
  get present(): boolean {
    return this.#present;
  }
  set present(value: boolean) {
    this.#present = value;
  }

  /** Capacity in bytes (0 when no card is inserted). */
  get capacity(): number {
    return this.#present ? this.#capacity : 0;
  }

  /** Free bytes: capacity minus the files' sizes in whole clusters (0 when no card). */
  get free(): number {
    return this.#present ? Math.max(0, this.#capacity - this.#used()) : 0;
  }

  /**
   * The node at `path` (a live view: it reflects later changes), or undefined.
   * Names match case-insensitively.
   *
   * @param path names below the root; `[]` is the root
   * @returns the file or directory
   */
  find(path: readonly string[]): CardNode | undefined {
    this.#requireCard();
    return this.#lookup(path);
  }

  /**
   * `length` bytes of the file at `path` from `offset` (fewer at the end of
   * the file, none past it), as a new array.
   *
   * @param path the file
   * @param offset first byte
   * @param length bytes wanted
   * @returns the bytes
   */
  read(path: readonly string[], offset: number, length: number): Uint8Array {
    const file = this.#file(path);
    if (!isCount(offset) || !isCount(length)) {
      fail(CARD_STATUS.PATH_NOT_FOUND, `invalid read range ${offset}+${length}`);
    }
    const size = file.size;
    const start = Math.min(offset, size);
    const end = Math.min(size, start + length);
    const c = file.content!;
    if (c.kind === "pattern") {
      const out = new Uint8Array(end - start);
      fillPattern(out, c.seed, start);
      return out;
    }
    if (c.kind === "host") return readHostFile(c.path, start, end - start);
    const data = c.kind === "buffer" ? c.data : materialise(c);
    return data.slice(start, end);
  }

  /**
   * The camera's "thumbnail" of the file at `path`: for a .JPG with an EXIF
   * APP1 segment, the file's leading bytes up to the end of that segment
   * (which holds the whole IFD1 thumbnail); for a .CR2, its TIFF head up to
   * the end of the IFD1 thumbnail (§4.3.7); undefined otherwise (CRW files
   * and movies have separate .THM files).
   *
   * @param path the file
   * @returns the leading part of the JPEG, or undefined
   */
  thumbnailBlob(path: readonly string[]): Uint8Array | undefined {
    const file = this.#file(path);
    const cr2 = file.name.endsWith(".CR2");
    if (!file.name.endsWith(".JPG") && !cr2) return undefined;
    const head = this.read(path, 0, 0x20000);
    const end = cr2 ? cr2ThumbnailEnd(head) : exifSegmentEnd(head);
    return end === undefined ? undefined : head.slice(0, end);
  }

  /**
   * Creates a directory at the end of its parent's list, timed by
   * {@link MemoryCard.clock}.
   *
   * @param path the new directory
   */
  mkdir(path: readonly string[]): void {
    const { parent, name } = this.#parentOf(path);
    if (this.#child(parent, name) !== undefined) {
      fail(CARD_STATUS.PATH_NOT_FOUND, `${joinPath(path)} already exists`);
    }
    parent.children!.push(new Entry(name, true, 0, this.clock()));
  }

  /**
   * Removes an empty directory.
   *
   * @param path the directory
   */
  rmdir(path: readonly string[]): void {
    this.#requireCard();
    const target = path.length === 0 ? undefined : this.#lookup(path);
    if (target === undefined || !target.isDirectory) {
      fail(CARD_STATUS.PATH_NOT_FOUND, `no directory ${joinPath(path)}`);
    }
    if (target.children!.length > 0) {
      fail(CARD_STATUS.PATH_NOT_FOUND, `directory ${joinPath(path)} is not empty`);
    }
    const parent = this.#lookup(path.slice(0, -1))!;
    parent.children!.splice(parent.children!.indexOf(target), 1);
  }

  /**
   * Deletes a file (refused for protected files).
   *
   * @param path the file
   */
  delete(path: readonly string[]): void {
    const file = this.#file(path);
    if (file.attributes & CARD_ATTRIBUTE.PROTECTED) {
      fail(CARD_STATUS.FILE_PROTECTED, `${joinPath(path)} is protected`);
    }
    const parent = this.#lookup(path.slice(0, -1))!;
    parent.children!.splice(parent.children!.indexOf(file), 1);
  }

  /**
   * Sets a file's attribute bits (0x01 protected, 0x20 not downloaded; the
   * directory bits 0x10 and 0x80 are ignored).
   *
   * @param path the file
   * @param attributes the new bits
   */
  setAttributes(path: readonly string[], attributes: number): void {
    const file = this.#file(path);
    file.attributes = attributes & 0xff & ~(CARD_ATTRIBUTE.DIRECTORY | CARD_ATTRIBUTE.DESCENDED);
  }

  /**
   * Writes `data` at `offset` into the file at `path`. Offset 0 creates the
   * file (or replaces an unprotected one in place) with the "not downloaded"
   * attribute and mtime −1, as the camera leaves an upload until its time is
   * set; a later offset must be within or at the end of the file.
   *
   * @param path the file
   * @param offset where the data goes
   * @param data the bytes
   */
  write(path: readonly string[], offset: number, data: Uint8Array): void {
    const { parent, name } = this.#parentOf(path);
    if (!isCount(offset)) fail(CARD_STATUS.PATH_NOT_FOUND, `invalid write offset ${offset}`);
    const existing = this.#child(parent, name);
    if (existing?.isDirectory) fail(CARD_STATUS.PATH_NOT_FOUND, `${joinPath(path)} is a directory`);
    if (offset === 0) {
      if (existing !== undefined && existing.attributes & CARD_ATTRIBUTE.PROTECTED) {
        fail(CARD_STATUS.FILE_PROTECTED, `${joinPath(path)} is protected`);
      }
      this.#reserve(existing?.size ?? 0, data.length, path);
      const content: Content = { kind: "buffer", data: data.slice(), length: data.length };
      const file = existing ?? new Entry(name, false, 0, 0);
      file.content = content;
      file.attributes = CARD_ATTRIBUTE.NOT_DOWNLOADED;
      file.mtime = -1;
      if (existing === undefined) parent.children!.push(file);
      return;
    }
    if (existing === undefined) fail(CARD_STATUS.FILE_NOT_FOUND, `no file ${joinPath(path)}`);
    const size = existing.size;
    if (offset > size) {
      fail(
        CARD_STATUS.PATH_NOT_FOUND,
        `write at ${offset} beyond the end (${size}) of ${joinPath(path)}`,
      );
    }
    const newSize = Math.max(size, offset + data.length);
    this.#reserve(size, newSize, path);
    const buffer = this.#writable(existing, newSize);
    buffer.data.set(data, offset);
    buffer.length = newSize;
  }

  /**
   * Sets a file's modification time.
   *
   * @param path the file
   * @param mtime camera-local seconds
   */
  setMtime(path: readonly string[], mtime: number): void {
    const file = this.#file(path);
    if (!Number.isInteger(mtime)) fail(CARD_STATUS.PATH_NOT_FOUND, `invalid time ${mtime}`);
    file.mtime = mtime;
  }

  /**
   * Stores a file the camera made itself (a captured picture): creates any
   * missing directories, appends the file (or replaces an unprotected one in
   * place) with the "not downloaded" attribute. The bytes are copied.
   *
   * @param path absolute card path, e.g. "/DCIM/100CANON/IMG_0008.JPG"
   * @param bytes the file's contents
   * @param mtime camera-local seconds
   * @throws CardError NO_CARD, PATH_NOT_FOUND (bad name, a file in the way), FILE_PROTECTED, CARD_FULL
   */
  addFile(path: string, bytes: Uint8Array, mtime: number): void {
    this.#requireCard();
    const names = this.#cardPath(path);
    if (names.length === 0) fail(CARD_STATUS.PATH_NOT_FOUND, `not a file path: ${path}`);
    const existing = this.#lookup(names);
    if (existing?.isDirectory) fail(CARD_STATUS.PATH_NOT_FOUND, `${path} is a directory`);
    if (existing !== undefined && existing.attributes & CARD_ATTRIBUTE.PROTECTED) {
      fail(CARD_STATUS.FILE_PROTECTED, `${path} is protected`);
    }
    this.#reserve(existing?.size ?? 0, bytes.length, names);
    const parent = this.#ensureDirectories(names.slice(0, -1), mtime);
    const file = existing ?? new Entry(names[names.length - 1], false, 0, 0);
    file.content = { kind: "buffer", data: bytes.slice(), length: bytes.length };
    file.attributes = CARD_ATTRIBUTE.NOT_DOWNLOADED;
    file.mtime = mtime;
    if (existing === undefined) parent.children!.push(file);
  }

  /**
   * Where the camera would store its next picture (DCF numbering): in the
   * highest-numbered `/DCIM/nnnXXXXX` folder, `IMG_` + one more than the
   * highest file number in that folder (or on the card, when the folder is
   * empty); after 9999 the next folder number and IMG_0001. With no DCF
   * folder: "/DCIM/100CANON/IMG_0001.JPG". The folder may not exist yet
   * ({@link MemoryCard.addFile} creates it).
   *
   * @returns the absolute card path of the next picture
   * @throws CardError NO_CARD; CARD_FULL when folder 999 is exhausted
   */
  nextImagePath(): string {
    this.#requireCard();
    const folders = (this.#child(this.#root, "DCIM")?.children ?? [])
      .filter((e) => e.isDirectory && /^[1-9]\d\d[A-Z0-9_]{5}$/.test(e.name))
      .sort((a, b) => parseInt(a.name) - parseInt(b.name));
    if (folders.length === 0) return "/DCIM/100CANON/IMG_0001.JPG";
    const highest = (dirs: readonly Entry[]) =>
      Math.max(
        0,
        ...dirs.flatMap((d) => d.children!)
          .map((f) => /^[A-Z0-9_]{4}(\d{4})\.[A-Z0-9]{3}$/.exec(f.name))
          .filter((m) => m !== null)
          .map((m) => parseInt(m![1])),
      );
    const last = folders[folders.length - 1];
    const inLast = highest([last]);
    const next = (inLast > 0 ? inLast : highest(folders)) + 1;
    if (next <= 9999) return `/DCIM/${last.name}/IMG_${String(next).padStart(4, "0")}.JPG`;
    const folderNumber = parseInt(last.name) + 1;
    if (folderNumber > 999) fail(CARD_STATUS.CARD_FULL, "no DCF folder numbers left");
    return `/DCIM/${folderNumber}CANON/IMG_0001.JPG`;
  }

  /**
   * Every directory and file below the root, depth first in camera order.
   *
   * @returns paths, sizes, attributes and times
   */
  snapshot(): CardSnapshotEntry[] {
    this.#requireCard();
    const out: CardSnapshotEntry[] = [];
    const walk = (dir: Entry, prefix: string) => {
      for (const e of dir.children!) {
        const path = `${prefix}/${e.name}`;
        out.push({
          path,
          isDirectory: e.isDirectory,
          size: e.size,
          attributes: e.attributes,
          mtime: e.mtime,
        });
        if (e.isDirectory) walk(e, path);
      }
    };
    walk(this.#root, "");
    return out;
  }

  #requireCard(): void {
    if (!this.#present) fail(CARD_STATUS.NO_CARD, "no memory card");
  }

  #child(dir: Entry, name: string): Entry | undefined {
    const upper = name.toUpperCase();
    return dir.children!.find((e) => e.name === upper);
  }

  #lookup(path: readonly string[]): Entry | undefined {
    let node: Entry | undefined = this.#root;
    for (const name of path) {
      if (node === undefined || !node.isDirectory) return undefined;
      node = this.#child(node, name);
    }
    return node;
  }

  /** The existing file at `path`: PATH_NOT_FOUND without its directory, FILE_NOT_FOUND without it. */
  #file(path: readonly string[]): Entry {
    this.#requireCard();
    if (path.length === 0) fail(CARD_STATUS.FILE_NOT_FOUND, "the root is not a file");
    const dir = this.#lookup(path.slice(0, -1));
    if (dir === undefined || !dir.isDirectory) {
      fail(CARD_STATUS.PATH_NOT_FOUND, `no directory ${joinPath(path.slice(0, -1))}`);
    }
    const file = this.#child(dir, path[path.length - 1]);
    if (file === undefined || file.isDirectory) {
      fail(CARD_STATUS.FILE_NOT_FOUND, `no file ${joinPath(path)}`);
    }
    return file;
  }

  /** The existing parent directory of `path` and the validated (upper-case) last name. */
  #parentOf(path: readonly string[]): { parent: Entry; name: string } {
    this.#requireCard();
    if (path.length === 0) fail(CARD_STATUS.PATH_NOT_FOUND, "the root has no parent");
    const parent = this.#lookup(path.slice(0, -1));
    if (parent === undefined || !parent.isDirectory) {
      fail(CARD_STATUS.PATH_NOT_FOUND, `no directory ${joinPath(path.slice(0, -1))}`);
    }
    const name = shortName(path[path.length - 1]);
    if (name === undefined) {
      fail(CARD_STATUS.PATH_NOT_FOUND, `not an 8.3 name: ${path[path.length - 1]}`);
    }
    return { parent, name };
  }

  /** Validated upper-case names of an absolute path string (PATH_NOT_FOUND when invalid). */
  #cardPath(path: string): string[] {
    let names: string[];
    try {
      names = contentPathNames(path);
    } catch (e) {
      fail(CARD_STATUS.PATH_NOT_FOUND, (e as Error).message);
    }
    return names.map((n) =>
      shortName(n) ?? fail(CARD_STATUS.PATH_NOT_FOUND, `not an 8.3 name: ${n}`)
    );
  }

  /** Creates missing directories along `names`; a file in the way fails with PATH_NOT_FOUND. */
  #ensureDirectories(names: readonly string[], mtime: number): Entry {
    let dir = this.#root;
    for (const name of names) {
      let next = this.#child(dir, name);
      if (next === undefined) {
        next = new Entry(name, true, 0, mtime);
        dir.children!.push(next);
      } else if (!next.isDirectory) {
        fail(CARD_STATUS.PATH_NOT_FOUND, `${name} is a file, not a directory`);
      }
      dir = next;
    }
    return dir;
  }

  #clusters(size: number): number {
    return Math.ceil(size / this.#cluster) * this.#cluster;
  }

  #used(): number {
    let used = 0;
    const walk = (dir: Entry) => {
      for (const e of dir.children!) {
        if (e.isDirectory) walk(e);
        else used += this.#clusters(e.size);
      }
    };
    walk(this.#root);
    return used;
  }

  /** CARD_FULL unless a file can grow from `oldSize` to `newSize` bytes. */
  #reserve(oldSize: number, newSize: number, path: readonly string[]): void {
    const needed = this.#clusters(newSize) - this.#clusters(oldSize);
    if (needed > 0 && this.#used() + needed > this.#capacity) {
      fail(CARD_STATUS.CARD_FULL, `no room for ${joinPath(path)} (${newSize} bytes)`);
    }
  }

  /** The file's content as an in-memory buffer with room for `size` bytes. */
  #writable(file: Entry, size: number): Content & { kind: "buffer" } {
    let c = file.content!;
    if (c.kind !== "buffer") {
      const length = file.size;
      const data = new Uint8Array(length);
      if (c.kind === "pattern") fillPattern(data, c.seed, 0);
      else if (c.kind === "host") data.set(readHostFile(c.path, 0, length));
      else data.set(materialise(c));
      c = { kind: "buffer", data, length };
      file.content = c;
    }
    if (c.data.length < size) {
      const grown = new Uint8Array(Math.max(size, Math.min(0xffffffff, c.data.length * 2)));
      grown.set(c.data.subarray(0, c.length));
      c.data = grown;
    }
    return c;
  }

  #populate(specs: readonly CardFileSpec[], startTime: number): void {
    let knownSize = 0;
    specs.forEach((spec, index) => {
      const names = (() => {
        try {
          return contentPathNames(spec.path).map((n) => {
            const s = shortName(n);
            if (s === undefined) throw new RangeError(`not an 8.3 name: ${n}`);
            return s;
          });
        } catch (e) {
          throw new RangeError(`card content ${spec.path}: ${(e as Error).message}`);
        }
      })();
      if (names.length === 0) throw new RangeError(`card content: "${spec.path}" is the root`);
      const mtime = spec.mtime ?? startTime + 60 * index;
      const name = names[names.length - 1];
      const kind = resolveKind(spec, name);
      const existing = this.#lookup(names);
      if (existing?.isDirectory && kind === "directory") return; // already made for a file in it
      if (existing !== undefined) {
        throw new RangeError(`card content: ${spec.path} is listed twice`);
      }
      let parent: Entry;
      try {
        parent = this.#ensureDirectories(names.slice(0, -1), mtime);
      } catch {
        throw new RangeError(`card content: a file is in the way of ${spec.path}`);
      }
      if (kind === "directory") {
        parent.children!.push(new Entry(name, true, 0, mtime));
        return;
      }
      const entry = new Entry(name, false, spec.attributes ?? CARD_ATTRIBUTE.NOT_DOWNLOADED, mtime);
      entry.content = this.#contentFor(spec, kind, names, mtime);
      if (entry.content.kind !== "lazy") knownSize += this.#clusters(entry.size);
      parent.children!.push(entry);
    });
    if (knownSize > this.#capacity) {
      throw new RangeError(
        `card content (${knownSize} bytes in clusters) exceeds the capacity (${this.#capacity})`,
      );
    }
  }

  #contentFor(
    spec: CardFileSpec,
    kind: Exclude<CardFileKind, "directory">,
    names: readonly string[],
    mtime: number,
  ): Content {
    const path = joinPath(names);
    const name = names[names.length - 1];
    const stem = name.split(".")[0];
    const digits = fileNumberDigits(name);
    const number = digits === undefined ? 0 : parseInt(digits);
    const label = spec.label ?? digits ?? stem;
    const seed = hashString(stem);
    const model = this.#model;
    switch (kind) {
      case "host": {
        if (spec.hostFile === undefined) {
          throw new RangeError(`card content ${path}: no hostFile given`);
        }
        const size = Deno.statSync(spec.hostFile).size;
        if (size > 0xffffffff) throw new RangeError(`${spec.hostFile}: too large for the card`);
        return { kind: "host", path: spec.hostFile, size };
      }
      case "bytes":
        if (spec.bytes === undefined) throw new RangeError(`card content ${path}: no bytes given`);
        return { kind: "buffer", data: spec.bytes.slice(), length: spec.bytes.length };
      case "pattern": {
        const size = spec.size ?? 0;
        if (!Number.isInteger(size) || size < 0 || size > 0xffffffff) {
          throw new RangeError(`card content ${path}: size must be an integer in 0..4294967295`);
        }
        return { kind: "pattern", seed: hashString(path), size };
      }
      case "jpeg": {
        const options = {
          width: spec.width ?? 640,
          height: spec.height ?? 480,
          label,
          seed,
          date: mtime,
          model,
          iso: ISO[number % ISO.length],
          fNumber: APERTURES[number % APERTURES.length],
          exposureTime: EXPOSURES[number % EXPOSURES.length],
          flash: number % 3 === 0,
        };
        return lazy("jpeg", options, () => makeJpeg(options));
      }
      case "thm": {
        const options = { label, seed, date: mtime, model };
        return lazy("thm", options, () => makeThm(options));
      }
      case "crw": {
        const options = { date: mtime, model, fileNumber: number, seed };
        return lazy("crw", options, () => makeCrw(options));
      }
      case "cr2": {
        const options = { date: mtime, model, label, seed };
        return lazy("cr2", options, () => makeCr2(options));
      }
      case "avi": {
        const options = { label, seed, width: spec.width ?? 160, height: spec.height ?? 120 };
        return lazy("avi", options, () => makeAvi(options));
      }
    }
  }
}

/** `length` bytes of a local file from `offset` (fewer at its end). */
function readHostFile(path: string, offset: number, length: number): Uint8Array {
  const file = Deno.openSync(path, { read: true });
  try {
    file.seekSync(offset, Deno.SeekMode.Start);
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const n = file.readSync(out.subarray(done));
      if (n === null || n === 0) break;
      done += n;
    }
    return done === length ? out : out.slice(0, done);
  } finally {
    file.close();
  }
}

function lazy(kind: string, options: object, make: () => Uint8Array): Content {
  return { kind: "lazy", key: `${kind}:${JSON.stringify(options)}`, make };
}
