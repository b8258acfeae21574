/**
 * `cam.storage`: the memory card — browse, download with thumbnails, delete,
 * protect, make and remove directories, upload.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";
import { type CommandPurpose, COMMANDS, type CommandSpec, STATUS } from "../protocol/commands.ts";
import { CameraStatusError, CanonError, ProtocolError } from "../protocol/errors.ts";
import { extractThumbnail } from "../protocol/exif.ts";
import { log } from "../protocol/log.ts";
import type { Session } from "../protocol/session.ts";
import {
  ATTRIBUTE,
  checkName,
  decodeDiskInfo,
  decodeDriveName,
  decodeListing,
  encodeDeleteFile,
  encodeDiskInfo,
  encodeGetDirectory,
  encodeGetFile,
  encodeSetAttributes,
  encodeSetFileTime,
  fromCameraTime,
  type ListingEntry,
  splitCardPath,
  toCameraPath,
  toCameraTime,
  toHostPath,
  UPLOAD_BLOCK,
} from "../protocol/storage_codec.ts";
import type { CameraModel } from "./models.ts";
import { isDirectory, pathExists, PendingFile } from "./pending_file.ts";
import { type CameraTraits, traitsOf } from "./traits.ts";

/** Capacity and free space of the card, in bytes. */
export interface StorageInfo {
  /** The drive name the camera uses, e.g. "D:". */
  drive: string;
  /** Capacity in bytes. */
  capacity: number;
  /** Free space in bytes. */
  free: number;
}

/** A file or directory on the card. */
export interface StorageEntry {
  /** The name, e.g. "IMG_0001.JPG". */
  name: string;
  /** The full path, e.g. "/DCIM/100CANON/IMG_0001.JPG". */
  path: string;
  /** Size in bytes (0 for directories). */
  size: number;
  /** Modification time as the camera's clock read it, as a local `Date`; undefined when unknown. */
  date: Date | undefined;
  /** True for directories. */
  isDirectory: boolean;
  /** False while the camera marks the file as new (not yet downloaded). */
  downloaded: boolean;
  /** True when the file is write-protected (the camera refuses to delete it). */
  protected: boolean;
}

/** Options of {@link Storage.list}. */
export interface ListOptions {
  /** List the whole tree below `path`, not just its direct contents. */
  recursive?: boolean;
}

/** Options of {@link Storage.download}. */
export interface DownloadOptions {
  /** Called as data arrives with the bytes done and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Abort the download; a partial file is removed. */
  signal?: AbortSignal;
  /** Replace an existing file at the destination (default: refuse). */
  overwrite?: boolean;
}

/** What a download wrote. */
export interface DownloadResult {
  /** The camera path. */
  path: string;
  /** The file written, or undefined for a stream. */
  file: string | undefined;
  /** Bytes downloaded. */
  size: number;
}

/** Options of {@link Storage.upload}. */
export interface UploadOptions {
  /** The file name on the card (default: the local file's name, upper-cased). */
  name?: string;
  /** Called after each block with bytes done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** What {@link Storage} needs from its camera. */
export interface StorageHost {
  /** The protocol session. */
  readonly session: Session;
  /** The model table entry. */
  readonly modelInfo: CameraModel;
  /** Run dialogues with the wire to themselves. */
  run<T>(body: () => Promise<T>): Promise<T>;
  /** The command for a purpose in this camera's protocol generation. */
  spec(purpose: CommandPurpose): CommandSpec;
}

/** A path on the card was not found. */
export class CardPathNotFoundError extends CanonError {
  /** The path asked for. */
  readonly path: string;
  /**
   * Make the error.
   *
   * @param path the host-style path
   * @param what "file" or "directory"
   */
  constructor(path: string, what = "file or directory") {
    super(`no ${what} ${path} on the camera's card`);
    this.name = "CardPathNotFoundError";
    this.path = path;
  }
}

const SINGLE_LISTING_LIMIT = 1024 * 1024;
const TREE_LISTING_LIMIT = 64 * 1024 * 1024;
const EXTERNAL_THUMBNAIL = /\.(CRW|AVI|WAV)$/;

/** The memory card of a camera. Reached as `cam.storage`. */
export class Storage {
  #host: StorageHost;
  #drive: string | undefined;

  /**
   * Make the storage of a camera (use `cam.storage`).
   *
   * @param host the camera
   */
  constructor(host: StorageHost) {
    this.#host = host;
  }

  get #session(): Session {
    return this.#host.session;
  }

  get #traits(): CameraTraits {
    return traitsOf(this.#host.modelInfo);
  }

  get #newProtocol(): boolean {
    return this.#traits.newProtocol;
  }

  async #driveName(): Promise<string> {
    if (this.#drive) return this.#drive;
    const chunks: Uint8Array[] = [];
    await this.#session.longCommand(this.#host.spec("flashDeviceIdent"), new Uint8Array(0), (c) => {
      chunks.push(c.slice());
    }, { maxLength: 1024 });
    const data = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let offset = 0;
    for (const c of chunks) {
      data.set(c, offset);
      offset += c.length;
    }
    this.#drive = decodeDriveName(data);
    return this.#drive;
  }

  /**
   * The drive name, capacity and free space, in bytes.
   *
   * @returns `{ drive, capacity, free }`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Camera } from "@canon-remote/canon-remote";
   * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
   * await using cam = await Camera.connect(new VirtualCamera());
   * const { capacity, free } = await cam.storage.info();
   * assert.ok(free > 0 && free <= capacity);
   * ```
   */
  async info(): Promise<StorageInfo> {
    return await this.#host.run(async () => {
      const drive = await this.#driveName();
      const reply = await this.#session.command(
        this.#host.spec("diskInfo"),
        encodeDiskInfo(drive, this.#newProtocol),
      );
      const raw = decodeDiskInfo(reply.data);
      // The G3 and the new-protocol cameras count in KiB; older bodies in bytes (§4.3.5).
      const unit = this.#traits.diskInfoUnit;
      return { drive, capacity: raw.capacity * unit, free: raw.free * unit };
    });
  }

  async #listRaw(segments: string[], depth: number): Promise<ListingEntry[]> {
    const drive = await this.#driveName();
    const parts: Uint8Array[] = [];
    let total = 0;
    await this.#session.longCommand(
      COMMANDS.getDirectory,
      encodeGetDirectory(toCameraPath(drive, segments), depth),
      (chunk) => {
        parts.push(chunk.slice());
        total += chunk.length;
      },
      { maxLength: depth === 0 ? SINGLE_LISTING_LIMIT : TREE_LISTING_LIMIT },
    );
    const data = new Uint8Array(total);
    let offset = 0;
    for (const part of parts) {
      data.set(part, offset);
      offset += part.length;
    }
    // A directory that does not exist lists as one all-zero entry (G3), or nothing.
    if (data.length < 11 || data.subarray(0, 11).every((b) => b === 0)) {
      throw new CardPathNotFoundError(toHostPath(segments), "directory");
    }
    return decodeListing(data, segments);
  }

  #entry(raw: ListingEntry): StorageEntry {
    return {
      name: raw.name,
      path: toHostPath([...raw.parent, raw.name]),
      size: raw.size,
      date: fromCameraTime(raw.time),
      isDirectory: raw.isDirectory,
      downloaded: (raw.attributes & ATTRIBUTE.NOT_DOWNLOADED) === 0,
      protected: (raw.attributes & ATTRIBUTE.PROTECTED) !== 0,
    };
  }

  /**
   * The contents of a directory on the card.
   *
   * @param path e.g. "/DCIM/100CANON" (default: the root)
   * @param options `recursive: true` for the whole tree below it
   * @returns the entries in the camera's order
   * @throws {CardPathNotFoundError} when the directory does not exist
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Camera } from "@canon-remote/canon-remote";
   * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
   * await using cam = await Camera.connect(new VirtualCamera());
   * const entries = await cam.storage.list("/DCIM", { recursive: true });
   * assert.ok(entries.some((e) => e.path === "/DCIM/100CANON/IMG_0001.JPG"));
   * ```
   */
  async list(path = "/", options: ListOptions = {}): Promise<StorageEntry[]> {
    const segments = splitCardPath(path);
    return await this.#host.run(async () => {
      const raw = await this.#listRaw(segments, options.recursive ? 0x0f : 0);
      return raw.map((e) => this.#entry(e));
    });
  }

  /**
   * Every file and directory below `path`, depth first, as an async iterator.
   *
   * @param path where to start (default: the root)
   * @returns the entries
   */
  async *walk(path = "/"): AsyncGenerator<StorageEntry> {
    for (const entry of await this.list(path, { recursive: true })) yield entry;
  }

  /** The entry at `segments`, found by listing its directory. */
  async #stat(segments: string[]): Promise<ListingEntry> {
    if (segments.length === 0) throw new RangeError("the root has no entry of its own");
    const parent = segments.slice(0, -1);
    const name = segments[segments.length - 1];
    const found = (await this.#listRaw(parent, 0)).find((e) => e.name === name);
    if (!found) throw new CardPathNotFoundError(toHostPath(segments));
    return found;
  }

  /**
   * Download a file from the card to a local file (or into a directory, or
   * to a `WritableStream`). A file is written under a temporary name beside
   * the destination and renamed only when complete; on error or abort the
   * temporary file is removed. An existing file is never replaced unless
   * `overwrite` is set. Memory stays bounded by one transfer chunk.
   *
   * @param path the file on the card, e.g. "/DCIM/100CANON/IMG_0001.JPG"
   * @param destination a file path, an existing directory, or a stream
   * @param options progress, abort signal, overwrite
   * @returns the path, the file written and its size
   * @example
   * ```ts ignore
   * await cam.storage.download("/DCIM/100CANON/IMG_0001.JPG", "./photos/", {
   *   onProgress: (done, total) => console.log(`${done}/${total}`),
   * });
   * ```
   */
  async download(
    path: string,
    destination: string | WritableStream<Uint8Array>,
    options: DownloadOptions = {},
  ): Promise<DownloadResult> {
    const segments = splitCardPath(path);
    if (segments.length === 0) throw new RangeError("the root of the card is not a file");
    const hostPath = toHostPath(segments);
    const name = segments[segments.length - 1];
    if (typeof destination !== "string") {
      const writer = destination.getWriter();
      try {
        const size = await this.#fetch(
          segments,
          false,
          (chunk) => writer.write(chunk.slice()),
          options,
        );
        await writer.close();
        return { path: hostPath, file: undefined, size };
      } catch (error) {
        await writer.abort(error).catch(() => undefined);
        throw error;
      } finally {
        writer.releaseLock();
      }
    }
    const target = await isDirectory(destination) ? join(destination, name) : destination;
    if (!options.overwrite && await pathExists(target)) {
      throw new Deno.errors.AlreadyExists(
        `${target} already exists; pass { overwrite: true } (CLI: --overwrite) to replace it`,
      );
    }
    const pending = await PendingFile.create(dirname(target), basename(target));
    try {
      const size = await this.#fetch(segments, false, (chunk) => pending.write(chunk), options);
      if (pending.size !== size) {
        throw new ProtocolError(
          `${hostPath}: wrote ${pending.size} bytes, the camera announced ${size}`,
        );
      }
      await pending.commit(target, options.overwrite ?? false, size);
      return { path: hostPath, file: target, size };
    } catch (error) {
      await pending.discard();
      throw error;
    }
  }

  /**
   * A file's whole content in memory (for small files; use
   * {@link Storage.download} for large ones).
   *
   * @param path the file on the card
   * @returns its bytes
   */
  async read(path: string): Promise<Uint8Array> {
    const segments = splitCardPath(path);
    const parts: Uint8Array[] = [];
    const size = await this.#fetch(segments, false, (chunk) => {
      parts.push(chunk.slice());
    }, {});
    const out = new Uint8Array(size);
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  async #fetch(
    segments: string[],
    thumbnail: boolean,
    sink: (chunk: Uint8Array) => unknown,
    options: DownloadOptions,
  ): Promise<number> {
    options.signal?.throwIfAborted();
    const hostPath = toHostPath(segments);
    return await this.#host.run(async () => {
      const drive = await this.#driveName();
      const cameraPath = toCameraPath(drive, segments);
      let total = 0;
      let done = 0;
      const limit = thumbnail
        ? Math.max(this.#host.modelInfo.maxThumbnailSize, 1024 * 1024)
        : this.#host.modelInfo.maxMovieSize;
      const size = await this.#session.longCommand(
        COMMANDS.getFile,
        encodeGetFile(cameraPath, thumbnail, this.#session.transferLength, this.#newProtocol),
        async (chunk) => {
          await sink(chunk);
          done += chunk.length;
          options.onProgress?.(done, total);
        },
        {
          maxLength: limit,
          signal: options.signal,
          label: thumbnail ? "GetThumbnail" : "GetFile",
          onLength: (n) => {
            total = n;
            options.onProgress?.(0, n);
          },
        },
      );
      if (size === 0) throw new CardPathNotFoundError(hostPath, "file");
      return size;
    });
  }

  /**
   * The thumbnail of a file as JPEG bytes: the EXIF thumbnail of a JPEG (or
   * CR2), the `.THM` sibling of a CRW or AVI.
   *
   * @param path the file on the card
   * @returns the thumbnail JPEG
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Camera } from "@canon-remote/canon-remote";
   * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
   * await using cam = await Camera.connect(new VirtualCamera());
   * const jpeg = await cam.storage.thumbnail("/DCIM/100CANON/IMG_0001.JPG");
   * assert.deepEqual([...jpeg.subarray(0, 2)], [0xff, 0xd8]);
   * ```
   */
  async thumbnail(path: string): Promise<Uint8Array> {
    const segments = splitCardPath(path);
    const name = segments[segments.length - 1] ?? "";
    if (EXTERNAL_THUMBNAIL.test(name) || name.endsWith(".THM")) {
      const thm = [...segments.slice(0, -1), name.replace(/\.[A-Z0-9]+$/, ".THM")];
      const bytes = await this.read(toHostPath(thm));
      if (bytes[0] !== 0xff || bytes[1] !== 0xd8) {
        throw new ProtocolError(`${toHostPath(thm)} is not a JPEG thumbnail`);
      }
      return bytes;
    }
    const parts: Uint8Array[] = [];
    const size = await this.#fetch(segments, true, (chunk) => {
      parts.push(chunk.slice());
    }, {});
    const blob = new Uint8Array(size);
    let offset = 0;
    for (const part of parts) {
      blob.set(part, offset);
      offset += part.length;
    }
    return extractThumbnail(blob).slice();
  }

  /**
   * Delete a file. For a CRW or AVI, its `.THM` thumbnail goes too.
   *
   * @param path the file on the card
   * @throws {CameraStatusError} status 0x02000029 for a protected file
   */
  async delete(path: string): Promise<void> {
    const segments = splitCardPath(path);
    if (segments.length === 0) throw new RangeError("the root of the card cannot be deleted");
    if (!this.#traits.canDelete) {
      return Promise.reject(
        new CanonError(`the ${this.#host.modelInfo.name} cannot delete files over USB`, {
          hint: "Delete them with the camera's own menu",
        }),
      );
    }
    return await this.#host.run(async () => {
      await this.#deleteOne(segments);
      const name = segments[segments.length - 1];
      if (EXTERNAL_THUMBNAIL.test(name)) {
        const thm = [...segments.slice(0, -1), name.replace(/\.[A-Z0-9]+$/, ".THM")];
        const siblings = await this.#listRaw(segments.slice(0, -1), 0);
        if (siblings.some((e) => e.name === thm[thm.length - 1])) await this.#deleteOne(thm);
      }
    });
  }

  async #deleteOne(segments: string[]): Promise<void> {
    const drive = await this.#driveName();
    const dir = toCameraPath(drive, segments.slice(0, -1));
    const name = segments[segments.length - 1];
    const reply = await this.#session.command(
      this.#host.spec("deleteFile"),
      encodeDeleteFile(dir, name, this.#newProtocol),
      { allowStatus: true },
    );
    if (reply.status === STATUS.OK) return;
    if (reply.status === STATUS.INVALID_PARAMETERS) {
      // G2, D30 and D60 answer a successful delete with this status: look.
      const still = (await this.#listRaw(segments.slice(0, -1), 0)).some((e) => e.name === name);
      if (!still) return;
    }
    if (reply.status === STATUS.FILE_NOT_FOUND) {
      throw new CardPathNotFoundError(toHostPath(segments), "file");
    }
    throw new CameraStatusError("DeleteFile", reply.status, {
      hint: reply.status === STATUS.FILE_PROTECTED
        ? `${toHostPath(segments)} is protected; unprotect it first (setProtected(path, false))`
        : undefined,
    });
  }

  async #setAttributes(segments: string[], change: (attributes: number) => number): Promise<void> {
    const entry = await this.#stat(segments);
    if (entry.isDirectory) throw new RangeError(`${toHostPath(segments)} is a directory`);
    const drive = await this.#driveName();
    const attributes = change(entry.attributes) & (ATTRIBUTE.PROTECTED | ATTRIBUTE.NOT_DOWNLOADED);
    await this.#session.command(
      this.#host.spec("setAttributes"),
      encodeSetAttributes(toCameraPath(drive, segments.slice(0, -1)), entry.name, attributes),
    );
  }

  /**
   * Protect a file against deletion, or remove the protection.
   *
   * @param path the file on the card
   * @param on true to protect
   */
  async setProtected(path: string, on: boolean): Promise<void> {
    const segments = splitCardPath(path);
    return await this.#host.run(() =>
      this.#setAttributes(
        segments,
        (a) => on ? a | ATTRIBUTE.PROTECTED : a & ~ATTRIBUTE.PROTECTED,
      )
    );
  }

  /**
   * Clear a file's "new" mark, as the camera's own transfer software does after a download.
   *
   * @param path the file on the card
   */
  async markDownloaded(path: string): Promise<void> {
    const segments = splitCardPath(path);
    return await this.#host.run(() =>
      this.#setAttributes(segments, (a) => a & ~ATTRIBUTE.NOT_DOWNLOADED)
    );
  }

  /**
   * Make a directory on the card.
   *
   * @param path e.g. "/DCIM/102CANON"
   */
  async mkdir(path: string): Promise<void> {
    return await this.#directoryCommand(COMMANDS.mkdir, path);
  }

  /**
   * Remove an empty directory from the card.
   *
   * @param path e.g. "/DCIM/102CANON"
   */
  async rmdir(path: string): Promise<void> {
    return await this.#directoryCommand(COMMANDS.rmdir, path);
  }

  #directoryCommand(spec: CommandSpec, path: string): Promise<void> {
    const segments = splitCardPath(path);
    if (segments.length === 0) return Promise.reject(new RangeError("the root cannot be changed"));
    return this.#host.run(async () => {
      const drive = await this.#driveName();
      const encoder = new TextEncoder();
      const cameraPath = toCameraPath(drive, segments);
      const payload = new Uint8Array(cameraPath.length + 1);
      payload.set(encoder.encode(cameraPath));
      await this.#session.command(spec, payload);
    });
  }

  /**
   * Upload a file to a directory on the card, then set its time and
   * attributes as the camera's software does.
   *
   * @param source a local file path, or the bytes
   * @param directory the directory on the card, e.g. "/DCIM/100CANON"
   * @param options the name on the card, progress
   * @returns the path of the new file on the card
   */
  async upload(
    source: string | Uint8Array,
    directory: string,
    options: UploadOptions = {},
  ): Promise<string> {
    const dirSegments = splitCardPath(directory);
    const name = checkName(
      (options.name ?? (typeof source === "string" ? basename(source) : "")).toUpperCase(),
      "user",
    );
    const bytes = typeof source === "string" ? await Deno.readFile(source) : source;
    const segments = [...dirSegments, name];
    return await this.#host.run(async () => {
      const drive = await this.#driveName();
      const cameraPath = toCameraPath(drive, segments);
      let offset = 0;
      do {
        const block = bytes.subarray(offset, offset + UPLOAD_BLOCK);
        const status = await this.#session.uploadBlock(cameraPath, offset, block);
        if (status !== 0) throw new CameraStatusError("UploadBlock", status);
        offset += block.length;
        options.onProgress?.(offset, bytes.length);
      } while (offset < bytes.length);
      await this.#session.command(
        COMMANDS.setFileTime,
        encodeSetFileTime(cameraPath, toCameraTime(new Date())),
      );
      await this.#session.command(
        this.#host.spec("setAttributes"),
        encodeSetAttributes(toCameraPath(drive, dirSegments), name, 0),
      ).catch((error) => log.warn(`setting attributes after upload failed: ${error}`));
      return toHostPath(segments);
    });
  }
}
