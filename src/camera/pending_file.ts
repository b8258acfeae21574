/**
 * Writing a file so that nothing is lost: the data goes to a temporary file
 * beside the target (created exclusively, so a planted symlink is never
 * followed), which gets the target's name only when complete; an existing
 * target is never replaced unless asked, even by a download of the same name
 * running at the same time (the final name is taken with a hard link, which
 * fails when the name exists, instead of a check and a rename); on failure the
 * temporary file is removed.
 *
 * @module
 */

import { basename, dirname, join } from "./host_path.ts";

/**
 * Whether anything (a file, a directory, a symlink, even a dangling one) is at `path`.
 *
 * @param path the path
 * @returns true when something is there
 */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/**
 * The whole of a host file (what `storage.upload(path)` sends).
 *
 * @param path the path
 * @returns its bytes
 */
export function readHostFile(path: string): Promise<Uint8Array> {
  return Deno.readFile(path);
}

/**
 * Whether `path` is a directory (following symlinks).
 *
 * @param path the path
 * @returns true for a directory
 */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** The longest file name (in bytes) Linux, macOS and Windows file systems take. */
const NAME_MAX = 255;

/**
 * The temporary name for a target named `label`: `.<label>.<random>.partial`,
 * the label cut (at a character boundary) so that the whole fits in
 * {@link NAME_MAX} bytes whatever the target's name is.
 *
 * @param label the target's name
 * @returns a name of at most 255 bytes
 */
export function temporaryName(label: string): string {
  const suffix = `.${crypto.randomUUID().slice(0, 8)}.partial`;
  const room = NAME_MAX - 1 - suffix.length;
  const encoder = new TextEncoder();
  let cut = "";
  let bytes = 0;
  for (const char of label) {
    const n = encoder.encode(char).length;
    if (bytes + n > room) break;
    cut += char;
    bytes += n;
  }
  return `.${cut}${suffix}`;
}

/**
 * Give `temporary` the name `target` only if nothing has that name, in one
 * step: a hard link fails when the name exists, so two writers of one name
 * cannot both succeed. Where the file system has no hard links (FAT, some
 * network mounts), fall back to a check and a rename.
 */
async function claimName(temporary: string, target: string): Promise<void> {
  const exists = () =>
    new Deno.errors.AlreadyExists(
      `${target} already exists; pass { overwrite: true } (CLI: --overwrite) to replace it`,
    );
  try {
    await Deno.link(temporary, target);
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) throw exists();
    if (error instanceof Deno.errors.NotFound) throw error;
    // No hard links here: the best that is left.
    if (await pathExists(target)) throw exists();
    await Deno.rename(temporary, target);
    return;
  }
  // The photo is complete under its name; a second link left behind is harmless.
  await Deno.remove(temporary).catch(() => undefined);
}

/** The temporary files not yet committed or discarded, for {@link PendingFile.discardAllSync}. */
const open = new Set<PendingFile>();

/** A file written under a temporary name beside its target and renamed when complete. */
export class PendingFile {
  #file: Deno.FsFile;
  #closed = false;
  /** The temporary file's path. */
  readonly temporary: string;
  /** The first 16 bytes written (to tell the file type). */
  head: Uint8Array = new Uint8Array(0);
  /** Bytes written so far. */
  size = 0;

  private constructor(file: Deno.FsFile, temporary: string) {
    this.#file = file;
    this.temporary = temporary;
    open.add(this);
  }

  /**
   * Remove every temporary file of this process not yet committed or
   * discarded: for a program about to exit on a signal, so that no
   * `.partial` file stays behind whatever the interrupted code was doing.
   *
   * @returns the paths removed
   */
  static discardAllSync(): string[] {
    const removed: string[] = [];
    for (const pending of open) {
      open.delete(pending);
      pending.close();
      try {
        Deno.removeSync(pending.temporary);
        removed.push(pending.temporary);
      } catch {
        // Already gone (committed by a link, or removed meanwhile).
      }
    }
    return removed;
  }

  /**
   * Start a file in `directory`, named `.<label>.<random>.partial` until committed.
   *
   * @param directory where the target will be
   * @param label part of the temporary name (the target's name when known)
   * @returns the pending file
   */
  static async create(directory: string, label: string): Promise<PendingFile> {
    const temporary = join(directory, temporaryName(label));
    const file = await Deno.open(temporary, { write: true, createNew: true });
    return new PendingFile(file, temporary);
  }

  /**
   * Append a chunk.
   *
   * @param chunk the bytes
   */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.head.length < 16) {
      const head = new Uint8Array(Math.min(16, this.head.length + chunk.length));
      head.set(this.head);
      head.set(chunk.subarray(0, head.length - this.head.length), this.head.length);
      this.head = head;
    }
    let offset = 0;
    while (offset < chunk.length) offset += await this.#file.write(chunk.subarray(offset));
    this.size += chunk.length;
  }

  /** Close the temporary file (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#file.close();
  }

  /**
   * Give the file its final name.
   *
   * @param target the final path
   * @param overwrite replace what is at `target`; otherwise refuse
   * @param expectedSize when given, the size on disk must be this
   * @param mtime when given, the file's modification time (the camera's date of the photo)
   * @throws {Deno.errors.AlreadyExists} when `target` exists and `overwrite` is not set
   */
  async commit(
    target: string,
    overwrite: boolean,
    expectedSize?: number,
    mtime?: Date,
  ): Promise<void> {
    this.close();
    if (expectedSize !== undefined) {
      const written = (await Deno.stat(this.temporary)).size;
      if (written !== expectedSize) {
        throw new Error(`${target}: wrote ${written} bytes where ${expectedSize} were expected`);
      }
    }
    if (mtime !== undefined && Number.isFinite(mtime.getTime())) {
      await Deno.utime(this.temporary, new Date(), mtime);
    }
    if (overwrite) {
      await Deno.rename(this.temporary, target);
    } else {
      await claimName(this.temporary, target);
    }
    open.delete(this);
  }

  /** Remove the temporary file (after a failure). */
  async discard(): Promise<void> {
    this.close();
    await Deno.remove(this.temporary).catch(() => undefined);
    open.delete(this);
  }
}

/**
 * Write `bytes` to `target` the safe way: under a temporary name beside it
 * (created exclusively, so no planted symlink is followed), given the final
 * name only when complete (never a truncated file under it, on a full disk
 * either), an existing `target` replaced only with `overwrite`.
 *
 * @param target the final path
 * @param bytes the content
 * @param options `overwrite` to replace what is at `target`; `mtime` the file's date
 * @throws {Deno.errors.AlreadyExists} when `target` exists and `overwrite` is not set
 */
export async function writeFileSafely(
  target: string,
  bytes: Uint8Array,
  options: { overwrite?: boolean; mtime?: Date } = {},
): Promise<void> {
  if (!options.overwrite && await pathExists(target)) {
    throw new Deno.errors.AlreadyExists(
      `${target} already exists; pass { overwrite: true } (CLI: --overwrite) to replace it`,
    );
  }
  const pending = await PendingFile.create(dirname(target), basename(target));
  try {
    await pending.write(bytes);
    await pending.commit(target, options.overwrite ?? false, bytes.length, options.mtime);
  } catch (error) {
    await pending.discard();
    throw error;
  }
}
