/**
 * `cam.storage`: the memory card — browse, download with thumbnails, delete,
 * protect, make and remove directories, upload.
 *
 * @module
 */

import { basename, dirname, join } from "./host_path.ts";
import { type CommandPurpose, COMMANDS, type CommandSpec, STATUS } from "../protocol/commands.ts";
import {
  CameraClosedError,
  CameraStatusError,
  CanonError,
  ProtocolError,
} from "../protocol/errors.ts";
import { extractThumbnail } from "../protocol/exif.ts";
import { log } from "../protocol/log.ts";
import { replyBytes, replyStream } from "../protocol/reply_stream.ts";
import type { Session } from "../protocol/session.ts";
import {
  ATTRIBUTE,
  checkName,
  decodeDiskInfo,
  decodeDriveName,
  encodeDeleteFile,
  encodeDiskInfo,
  encodeGetDirectory,
  encodeGetFile,
  encodeMakeDirectory,
  encodeRemoveDirectory,
  encodeSetAttributes,
  encodeSetFileTime,
  ListingDecoder,
  type ListingEntry,
  MAX_DIRECTORY_ENTRIES,
  MAX_LISTING_DEPTH,
  MAX_TREE_ENTRIES,
  splitCardPath,
  toCameraPath,
  toHostPath,
  UPLOAD_BLOCK,
} from "../protocol/storage_codec.ts";
import { fromCameraTime, toCameraTime } from "../protocol/clock.ts";
import type { CameraModel } from "../protocol/models.ts";
import { isDirectory, pathExists, PendingFile, readHostFile } from "./pending_file.ts";
import { type CameraTraits, diskInfoUnitEvidence, traitsOf } from "../protocol/traits.ts";

/** What the EOS 350D answers to delete and set-attributes (gphoto2 issue #92, pibooth #613). */
const NEW_PROTOCOL_REFUSED = 0x00000086;

/**
 * The camera body does not do this over USB: it refused, or it answered
 * "done" and nothing changed on the card.
 */
export class UnsupportedByCameraError extends CanonError {
  /** The camera's status word, when it refused. */
  readonly status: number | undefined;

  /**
   * Make the error.
   *
   * @param model the model name
   * @param what what it does not do, e.g. "deleting files"
   * @param how its status word, or what was seen instead
   */
  constructor(model: string, what: string, how: { status?: number; detail?: string }) {
    super(
      `the ${model} does not support ${what} over USB (${
        how.status !== undefined
          ? `it answers 0x${how.status.toString(16).padStart(8, "0")}`
          : how.detail
      })`,
      { hint: "Do it with the camera's own menu" },
    );
    this.name = "UnsupportedByCameraError";
    this.status = how.status;
  }
}

/** The smallest card a Canon camera takes (CompactFlash and SD started at 2 MB; 1 MiB leaves room). */
const MIN_CARD_BYTES = 1024 * 1024;
/** The largest card the file systems of these bodies can address (FAT32, 2 TiB). */
const MAX_CARD_BYTES = 2 * 1024 ** 4;

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
  /**
   * The file's entry from a listing, when the caller has it: its size is the
   * byte count the download must reach and its date the local file's
   * modification time. Without it a download to a file lists the file's
   * directory to learn them.
   */
  entry?: Pick<StorageEntry, "size" | "date">;
}

/** Options of {@link Storage.open}. */
export interface OpenOptions {
  /** Abort the transfer: the stream errors with the signal's reason. */
  signal?: AbortSignal;
}

/** Bytes gathered before one write to the file, in {@link Storage.download}. */
const WRITE_BLOCK = 256 * 1024;

/**
 * A download's chunks gathered into one reused buffer and appended to the
 * file a block at a time (a chunk as large as the block goes straight through).
 */
class WriteBlock {
  readonly #file: PendingFile;
  readonly #buffer = new Uint8Array(WRITE_BLOCK);
  #used = 0;

  constructor(file: PendingFile) {
    this.#file = file;
  }

  /**
   * Take a chunk (lent: copied, or written before the promise settles).
   * Nothing to wait for (no promise) while the chunk only joins the block.
   */
  add(chunk: Uint8Array): Promise<void> | undefined {
    if (this.#used + chunk.length <= WRITE_BLOCK && chunk.length < WRITE_BLOCK) {
      this.#buffer.set(chunk, this.#used);
      this.#used += chunk.length;
      return undefined;
    }
    return this.#addAfterFlush(chunk);
  }

  async #addAfterFlush(chunk: Uint8Array): Promise<void> {
    await this.flush();
    if (chunk.length >= WRITE_BLOCK) {
      await this.#file.write(chunk);
      return;
    }
    this.#buffer.set(chunk, this.#used);
    this.#used += chunk.length;
  }

  /** Write what is gathered. */
  async flush(): Promise<void> {
    if (this.#used === 0) return;
    const used = this.#used;
    this.#used = 0;
    await this.#file.write(this.#buffer.subarray(0, used));
  }
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
  /** Replace a file of the same name in the directory (default: refuse). */
  overwrite?: boolean;
  /** Abort the upload between blocks; what was written of the file is deleted. */
  signal?: AbortSignal;
}

/** A file of that name is on the card already, and replacing it was not asked for. */
export class CardFileExistsError extends CanonError {
  /** The path on the card. */
  readonly path: string;
  /**
   * Make the error.
   *
   * @param path the host-style path on the card
   */
  constructor(path: string) {
    super(`${path} is already on the camera's card`, {
      hint: "Pass { overwrite: true } (CLI: --overwrite) to replace it, or give another name",
    });
    this.name = "CardFileExistsError";
    this.path = path;
  }
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
/** GetDirectory depth of a recursive listing: the levels below the listed directory. */
const TREE_DEPTH = 0x0f;
/**
 * The largest `.THM` file read as a thumbnail: a 160×120 JPEG of a few KiB
 * (the DCF thumbnail of a CRW or a movie); 1 MiB leaves ample room.
 */
const THM_LIMIT = 1024 * 1024;
const EXTERNAL_THUMBNAIL = /\.(CRW|AVI|WAV)$/;

/** The memory card of a camera. Reached as `cam.storage`. */
export class Storage {
  #host: StorageHost;
  #drive: string | undefined;
  #parent: readonly string[] | undefined;
  #parentPath = "";
  /** This body was seen to apply a SetFileAttributes it answered "done" to. */
  #attributesApply = false;

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
    const reply = await this.#session.longReplyBytes(
      this.#host.spec("flashDeviceIdent"),
      new Uint8Array(0),
      { maxLength: 1024 },
    );
    this.#drive = decodeDriveName(reply);
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
    const { drive, raw } = await this.#host.run(async () => {
      const drive = await this.#driveName();
      const reply = await this.#session.command(
        this.#host.spec("diskInfo"),
        encodeDiskInfo(drive, this.#newProtocol),
      );
      return { drive, raw: decodeDiskInfo(reply.data) };
    });
    const evidence = diskInfoUnitEvidence(this.#host.modelInfo);
    const unit = evidence.proof === "real bytes"
      ? evidence.unit
      : await this.#plausibleUnit(raw.capacity, raw.free, evidence.unit);
    return { drive, capacity: raw.capacity * unit, free: raw.free * unit };
  }

  /**
   * The disk-info unit of a body whose unit no real reply proves: the
   * reading that gives a card that exists (at least 1 MiB, at most 2 TiB),
   * and when both do, the one whose used space (capacity − free) fits the
   * files the card holds. A card is never reported 1024 times off because
   * the class guessed wrong.
   */
  async #plausibleUnit(capacity: number, free: number, guess: number): Promise<number> {
    const exists = (bytes: number) => bytes >= MIN_CARD_BYTES && bytes <= MAX_CARD_BYTES;
    const asBytes = exists(capacity);
    const asKib = exists(capacity * 1024);
    if (asBytes !== asKib) {
      const unit = asBytes ? 1 : 1024;
      if (unit !== guess) {
        log.info(`disk info read in ${unit === 1 ? "bytes" : "KiB"} (plausible card size)`);
      }
      return unit;
    }
    if (!asBytes) return guess;
    let files = 0;
    for await (const entry of this.walk("/")) files += entry.size;
    const used = Math.max(0, capacity - free);
    // Used space holds the files plus the file system; a reading with less
    // used than the files, or more than 64 times them (and 64 MiB), is not it.
    const fits = (unit: number) =>
      used * unit >= files * 0.95 && used * unit <= Math.max(files * 64, 64 * 1024 * 1024);
    const bytesFit = fits(1);
    const kibFit = fits(1024);
    if (bytesFit !== kibFit) {
      const unit = bytesFit ? 1 : 1024;
      if (unit !== guess) {
        log.info(
          `disk info read in ${unit === 1 ? "bytes" : "KiB"}: it fits the ${files} bytes of files`,
        );
      }
      return unit;
    }
    return guess;
  }

  /**
   * List with one GetDirectory, handing each entry to `take` as soon as its
   * bytes are in: nothing but the entries taken grows with the listing.
   */
  async #listing(
    segments: string[],
    depth: number,
    take: (entry: ListingEntry) => void,
  ): Promise<void> {
    const drive = await this.#driveName();
    const decoder = new ListingDecoder(
      segments,
      depth === 0 ? MAX_DIRECTORY_ENTRIES : MAX_TREE_ENTRIES,
    );
    await this.#session.longCommand(
      COMMANDS.getDirectory,
      encodeGetDirectory(toCameraPath(drive, segments), depth),
      (chunk) => {
        for (const entry of decoder.push(chunk)) take(entry);
      },
      { maxLength: depth === 0 ? SINGLE_LISTING_LIMIT : TREE_LISTING_LIMIT },
    );
    // A directory that does not exist lists as one all-zero entry (G3), or nothing.
    if (decoder.missing) throw new CardPathNotFoundError(toHostPath(segments), "directory");
    decoder.finish();
  }

  async #listRaw(segments: string[], depth: number): Promise<ListingEntry[]> {
    const entries: ListingEntry[] = [];
    await this.#listing(segments, depth, (entry) => entries.push(entry));
    return entries;
  }

  /** One directory's listing bytes (at most 1 MiB), for {@link Storage.walk}. */
  #directoryBytes(segments: string[]): Promise<Uint8Array> {
    return this.#host.run(async () => {
      const drive = await this.#driveName();
      const data = await this.#session.longReplyBytes(
        COMMANDS.getDirectory,
        encodeGetDirectory(toCameraPath(drive, segments), 0),
        { maxLength: SINGLE_LISTING_LIMIT },
      );
      if (data.length < 11 || data.subarray(0, 11).every((b) => b === 0)) {
        throw new CardPathNotFoundError(toHostPath(segments), "directory");
      }
      return data;
    });
  }

  #entry(raw: ListingEntry): StorageEntry {
    // The entries of a directory share its segments: its path is made once.
    if (raw.parent !== this.#parent) {
      this.#parent = raw.parent;
      this.#parentPath = raw.parent.length === 0 ? "" : toHostPath(raw.parent);
    }
    return {
      name: raw.name,
      path: `${this.#parentPath}/${raw.name}`,
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
      const entries: StorageEntry[] = [];
      await this.#listing(
        segments,
        options.recursive ? TREE_DEPTH : 0,
        (entry) => entries.push(this.#entry(entry)),
      );
      return entries;
    });
  }

  /**
   * Every file and directory below `path`, depth first (the order of
   * `list(path, { recursive: true })`), as an async iterator that streams:
   * each directory is listed when the walk reaches it, and the camera is free
   * for other calls between two directories (the loop body may download what
   * it finds). Memory stays that of one listing per open level, whatever the
   * size of the card; more than {@link MAX_TREE_ENTRIES} entries is refused.
   *
   * @param path where to start (default: the root)
   * @returns the entries
   * @throws {CardPathNotFoundError} when `path` is not a directory
   * @throws {ProtocolError} for a tree larger than a card holds
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Camera } from "@canon-remote/canon-remote";
   * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
   * await using cam = await Camera.connect(new VirtualCamera());
   * const paths: string[] = [];
   * for await (const entry of cam.storage.walk("/DCIM")) paths.push(entry.path);
   * assert.ok(paths.includes("/DCIM/100CANON/IMG_0001.JPG"));
   * ```
   */
  async *walk(path = "/"): AsyncGenerator<StorageEntry> {
    const start = splitCardPath(path);
    // One lazily decoded listing per level being walked.
    const levels = [entriesOf(await this.#directoryBytes(start), start)];
    let count = 0;
    while (levels.length > 0) {
      const next = levels[levels.length - 1].next();
      if (next.done) {
        levels.pop();
        continue;
      }
      const raw = next.value;
      if (++count > MAX_TREE_ENTRIES) {
        throw new ProtocolError(
          `${
            toHostPath(start)
          }: more than ${MAX_TREE_ENTRIES} entries, more than a camera's card holds`,
        );
      }
      yield this.#entry(raw);
      // As deep as a recursive listing goes (GetDirectory depth 0x0F).
      if (raw.isDirectory && levels.length <= Math.min(TREE_DEPTH, MAX_LISTING_DEPTH)) {
        const below = [...raw.parent, raw.name];
        levels.push(entriesOf(await this.#directoryBytes(below), below));
      }
    }
  }

  /**
   * The entry of one file or directory, found by listing the directory that
   * holds it. The root is a directory entry of its own (name "", path "/").
   *
   * @param path e.g. "/DCIM/100CANON/IMG_0001.JPG"
   * @returns its entry, as {@link Storage.list} gives it
   * @throws {CardPathNotFoundError} when nothing of that name is there
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Camera } from "@canon-remote/canon-remote";
   * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
   * await using cam = await Camera.connect(new VirtualCamera());
   * const entry = await cam.storage.stat("/DCIM/100CANON/IMG_0001.JPG");
   * assert.ok(!entry.isDirectory && entry.size > 0);
   * ```
   */
  async stat(path: string): Promise<StorageEntry> {
    const segments = splitCardPath(path);
    if (segments.length === 0) {
      return {
        name: "",
        path: "/",
        size: 0,
        date: undefined,
        isDirectory: true,
        downloaded: true,
        protected: false,
      };
    }
    return this.#entry(await this.#host.run(() => this.#stat(segments)));
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
   * temporary file is removed. A download whose byte count differs from the
   * card's listing is an error, and the file keeps the camera's date as its
   * modification time. An existing file is never replaced unless `overwrite`
   * is set. A destination ending in `/` is a directory, made when missing.
   * Memory stays bounded by one transfer chunk.
   *
   * @param path the file on the card, e.g. "/DCIM/100CANON/IMG_0001.JPG"
   * @param destination a file path, a directory (existing, or ending in `/`), or a stream
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
    let size = 0;
    const onLength = (n: number) => size = n;
    if (typeof destination !== "string") {
      // Closed at the end, aborted with the error (pipeTo's defaults).
      await this.#reply(segments, false, options, onLength).pipeTo(destination);
      return { path: hostPath, file: undefined, size };
    }
    const asDirectory = /[/\\]$/.test(destination);
    if (asDirectory) await Deno.mkdir(destination, { recursive: true });
    const target = asDirectory || await isDirectory(destination)
      ? join(destination, name)
      : destination;
    if (!options.overwrite && await pathExists(target)) {
      throw new Deno.errors.AlreadyExists(
        `${target} already exists; pass { overwrite: true } (CLI: --overwrite) to replace it`,
      );
    }
    const listed = options.entry ?? await this.#host.run(async () => {
      const found = await this.#stat(segments);
      if (found.isDirectory) throw new RangeError(`${hostPath} is a directory, not a file`);
      return { size: found.size, date: fromCameraTime(found.time) };
    });
    const pending = await PendingFile.create(dirname(target), basename(target));
    try {
      // Straight from the reply to the file (the producer behind open()): piping
      // through a ReadableStream measured 2.5 MB more resident memory for an
      // 8 MiB download in the soak (bench/soak.ts --quick), over its bound.
      // The camera's chunks (0x1400 bytes on most models) are gathered into
      // one reused block and written a block at a time: one write per chunk
      // was an async file operation, its promise and a view every 5 KiB.
      const block = new WriteBlock(pending);
      await this.#produce(
        segments,
        false,
        (chunk) => block.add(chunk),
        options,
        undefined,
        onLength,
      );
      await block.flush();
      if (pending.size !== size) {
        throw new ProtocolError(
          `${hostPath}: wrote ${pending.size} bytes, the camera announced ${size}`,
        );
      }
      if (size !== listed.size) {
        throw new ProtocolError(
          `${hostPath}: the camera sent ${size} bytes, its card lists the file with ${listed.size}; nothing was saved`,
        );
      }
      await pending.commit(target, options.overwrite ?? false, size, listed.date);
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
    return await this.#replyBytes(splitCardPath(path), false);
  }

  /**
   * A file on the card as a stream of its bytes, read from the camera as the
   * stream is read (memory stays that of a chunk or two, whatever the file's
   * size). The camera is busy with this file until the stream has ended:
   * read it to the end or cancel it; cancelling midway stops the transfer,
   * and the camera takes the next command as usual. A bad path, a missing
   * file or a failed transfer errors the stream.
   *
   * @param path the file on the card, e.g. "/DCIM/100CANON/IMG_0001.JPG"
   * @param options an abort signal, which errors the stream with its reason
   * @returns the file's bytes, chunk by chunk
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Camera } from "@canon-remote/canon-remote";
   * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
   * await using cam = await Camera.connect(new VirtualCamera());
   * let size = 0;
   * for await (const chunk of cam.storage.open("/DCIM/100CANON/IMG_0001.JPG")) {
   *   size += chunk.length;
   * }
   * assert.equal(size, (await cam.storage.stat("/DCIM/100CANON/IMG_0001.JPG")).size);
   * ```
   */
  open(path: string, options: OpenOptions = {}): ReadableStream<Uint8Array> {
    return replyStream(async (sink, stop) => {
      const segments = splitCardPath(path);
      if (segments.length === 0) throw new RangeError("the root of the card is not a file");
      await this.#produce(segments, false, sink, { signal: options.signal }, stop);
    });
  }

  /** A file's (or its thumbnail's) reply as a stream; see {@link Storage.open}. */
  #reply(
    segments: string[],
    thumbnail: boolean,
    options: DownloadOptions,
    onLength?: (size: number) => void,
    maxLength?: number,
  ): ReadableStream<Uint8Array> {
    return replyStream((sink, stop) =>
      this.#produce(segments, thumbnail, sink, options, stop, onLength, maxLength)
    );
  }

  /** A file's or thumbnail's whole reply, in one buffer (no stream: see `replyBytes`). */
  #replyBytes(segments: string[], thumbnail: boolean, maxLength?: number): Promise<Uint8Array> {
    return replyBytes((sink, stop) =>
      this.#produce(segments, thumbnail, sink, {}, stop, undefined, maxLength)
    );
  }

  /** GetFile to `sink`, with the camera to itself; a reply of no bytes is a missing file. */
  async #produce(
    segments: string[],
    thumbnail: boolean,
    sink: (chunk: Uint8Array) => Promise<void> | undefined,
    options: DownloadOptions,
    stop: AbortSignal | undefined,
    onLength?: (size: number) => void,
    maxLength?: number,
  ): Promise<number> {
    options.signal?.throwIfAborted();
    const signal = options.signal && stop
      ? AbortSignal.any([options.signal, stop])
      : options.signal ?? stop;
    const hostPath = toHostPath(segments);
    return await this.#host.run(async () => {
      const drive = await this.#driveName();
      const cameraPath = toCameraPath(drive, segments);
      let total = 0;
      let done = 0;
      const delivered = (n: number) => {
        done += n;
        options.onProgress?.(done, total);
      };
      const limit = maxLength ??
        (thumbnail
          ? Math.max(this.#host.modelInfo.maxThumbnailSize, 1024 * 1024)
          : this.#host.modelInfo.maxMovieSize);
      const size = await this.#session.longCommand(
        COMMANDS.getFile,
        encodeGetFile(cameraPath, thumbnail, this.#session.transferLength, this.#newProtocol),
        // No promise of its own per chunk (a download's chunks are 0x1400 bytes):
        // the sink's, when it has one, and progress once it has taken the chunk.
        (chunk) => {
          const taken = sink(chunk);
          if (taken === undefined) return delivered(chunk.length);
          return taken.then(() => delivered(chunk.length));
        },
        {
          maxLength: limit,
          signal,
          label: thumbnail ? "GetThumbnail" : "GetFile",
          onLength: (n) => {
            total = n;
            onLength?.(n);
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
      const bytes = await this.#readWhole(thm, THM_LIMIT);
      if (bytes[0] !== 0xff || bytes[1] !== 0xd8) {
        throw new ProtocolError(`${toHostPath(thm)} is not a JPEG thumbnail`);
      }
      return bytes;
    }
    return extractThumbnail(await this.#replyBytes(segments, true)).slice();
  }

  /** A small file's bytes, refused before any data when the camera announces more than `limit`. */
  async #readWhole(segments: string[], limit: number): Promise<Uint8Array> {
    return await this.#replyBytes(segments, false, limit);
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
    if (reply.status === STATUS.OK || reply.status === STATUS.INVALID_PARAMETERS) {
      // G2, D30 and D60 answer a successful delete with 0x02000086; whatever the
      // answer, the file must be gone: look.
      const still = (await this.#listRaw(segments.slice(0, -1), 0)).some((e) => e.name === name);
      if (!still) return;
      if (reply.status === STATUS.OK) {
        throw new UnsupportedByCameraError(this.#host.modelInfo.name, "deleting files", {
          detail: `it answered "done", but ${toHostPath(segments)} is still there`,
        });
      }
    }
    if (reply.status === NEW_PROTOCOL_REFUSED) {
      throw new UnsupportedByCameraError(this.#host.modelInfo.name, "deleting files", {
        status: reply.status,
      });
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

  /**
   * Set a file's attributes and look whether they changed: the EOS 20D
   * answers "done" and changes nothing, the 350D refuses with 0x00000086
   * (Protocol.xml; gphoto2 issue #92). Success is never reported for a file
   * that did not change on a body not yet seen to apply the command: the
   * first change of a connection is checked with a listing of its directory,
   * later ones (a batch marking each file it downloaded) trust the body's
   * "done", as gphoto2 does for every file. `known` (the file's entry from a
   * listing the caller holds) saves the listing that reads the attributes.
   */
  async #setAttributes(
    segments: string[],
    change: (attributes: number) => number,
    known?: Pick<StorageEntry, "isDirectory" | "downloaded" | "protected">,
  ): Promise<void> {
    const entry = known ? undefined : await this.#stat(segments);
    if (known?.isDirectory ?? entry!.isDirectory) {
      throw new RangeError(`${toHostPath(segments)} is a directory`);
    }
    const mask = ATTRIBUTE.PROTECTED | ATTRIBUTE.NOT_DOWNLOADED;
    const before = known
      ? (known.protected ? ATTRIBUTE.PROTECTED : 0) |
        (known.downloaded ? 0 : ATTRIBUTE.NOT_DOWNLOADED)
      : entry!.attributes & mask;
    const attributes = change(before) & mask;
    if (before === attributes) return;
    const drive = await this.#driveName();
    const reply = await this.#session.command(
      this.#host.spec("setAttributes"),
      encodeSetAttributes(
        toCameraPath(drive, segments.slice(0, -1)),
        segments[segments.length - 1],
        attributes,
      ),
      { allowStatus: true },
    );
    if (reply.status === NEW_PROTOCOL_REFUSED) {
      throw new UnsupportedByCameraError(this.#host.modelInfo.name, "changing file attributes", {
        status: reply.status,
      });
    }
    if (reply.status !== STATUS.OK) throw new CameraStatusError("SetFileAttributes", reply.status);
    // One listing proves this body applies the command; later ones are taken at its word.
    if (this.#attributesApply) return;
    const after = await this.#stat(segments);
    if ((after.attributes & mask) !== attributes) {
      throw new UnsupportedByCameraError(this.#host.modelInfo.name, "changing file attributes", {
        detail: `it answered "done", but ${toHostPath(segments)} did not change`,
      });
    }
    this.#attributesApply = true;
  }

  /**
   * Protect a file against deletion, or remove the protection.
   *
   * @param path the file on the card
   * @param on true to protect
   * @throws {UnsupportedByCameraError} when the body cannot change it (EOS 20D, 350D)
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
   * @param entry its entry from a listing the caller holds (saves listing
   *   its directory to read its marks; they must be the card's current ones)
   * @returns true when the mark is cleared (or was not set); false when the
   * body cannot change it over USB (the EOS 20D and 350D), said in the log
   */
  async markDownloaded(
    path: string,
    entry?: Pick<StorageEntry, "isDirectory" | "downloaded" | "protected">,
  ): Promise<boolean> {
    const segments = splitCardPath(path);
    return await this.#host.run(async () => {
      try {
        await this.#setAttributes(segments, (a) => a & ~ATTRIBUTE.NOT_DOWNLOADED, entry);
        return true;
      } catch (error) {
        if (!(error instanceof UnsupportedByCameraError)) throw error;
        log.warn(`${path} stays marked new: ${error.message}`);
        return false;
      }
    });
  }

  /**
   * Make a directory on the card.
   *
   * @param path e.g. "/DCIM/102CANON"
   */
  async mkdir(path: string): Promise<void> {
    return await this.#directoryCommand(COMMANDS.mkdir, encodeMakeDirectory, path);
  }

  /**
   * Remove an empty directory from the card.
   *
   * @param path e.g. "/DCIM/102CANON"
   */
  async rmdir(path: string): Promise<void> {
    return await this.#directoryCommand(COMMANDS.rmdir, encodeRemoveDirectory, path);
  }

  #directoryCommand(
    spec: CommandSpec,
    encode: (cameraPath: string) => Uint8Array,
    path: string,
  ): Promise<void> {
    const segments = splitCardPath(path);
    if (segments.length === 0) return Promise.reject(new RangeError("the root cannot be changed"));
    return this.#host.run(async () => {
      const drive = await this.#driveName();
      await this.#session.command(spec, encode(toCameraPath(drive, segments)));
    });
  }

  /**
   * Upload a file to a directory on the card, then set its time and
   * attributes as the camera's software does. A file of the same name is
   * refused unless `overwrite`; an upload that fails or is aborted after its
   * first block deletes what it wrote, so no truncated file stays on the card.
   *
   * @param source a local file path, or the bytes
   * @param directory the directory on the card, e.g. "/DCIM/100CANON"
   * @param options the name on the card, progress, overwrite, abort signal
   * @returns the path of the new file on the card
   * @throws {CardFileExistsError} when the name is taken and `overwrite` is not set
   * @throws {CardPathNotFoundError} when the directory does not exist
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
    options.signal?.throwIfAborted();
    const bytes = typeof source === "string" ? await readHostFile(source) : source;
    const segments = [...dirSegments, name];
    return await this.#host.run(async () => {
      const siblings = await this.#listRaw(dirSegments, 0);
      const existing = siblings.find((e) => e.name === name);
      if (existing?.isDirectory) {
        throw new RangeError(`${toHostPath(segments)} is a directory on the card`);
      }
      if (existing && !options.overwrite) throw new CardFileExistsError(toHostPath(segments));
      const drive = await this.#driveName();
      const cameraPath = toCameraPath(drive, segments);
      let offset = 0;
      try {
        do {
          options.signal?.throwIfAborted();
          const block = bytes.subarray(offset, offset + UPLOAD_BLOCK);
          const status = await this.#session.uploadBlock(cameraPath, offset, block);
          if (status !== 0) throw new CameraStatusError("UploadBlock", status);
          offset += block.length;
          options.onProgress?.(offset, bytes.length);
        } while (offset < bytes.length);
      } catch (error) {
        // A first block the camera refused created nothing; anything else may have left a part.
        const wrote = offset > 0 || !(error instanceof CameraStatusError);
        if (wrote && !(error instanceof CameraClosedError)) {
          await this.#deleteOne(segments).catch((e) => {
            if (!(e instanceof CardPathNotFoundError)) {
              log.warn(`deleting the partial upload ${toHostPath(segments)} failed: ${e}`);
            }
          });
        }
        throw error;
      }
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

/** The entries of one directory's listing bytes, decoded as they are asked for. */
function* entriesOf(bytes: Uint8Array, segments: string[]): Generator<ListingEntry> {
  const decoder = new ListingDecoder(segments, MAX_DIRECTORY_ENTRIES);
  for (let offset = 0; offset < bytes.length; offset += 0x1000) {
    yield* decoder.push(bytes.subarray(offset, offset + 0x1000));
  }
  decoder.finish();
}
