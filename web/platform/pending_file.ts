/**
 * The browser build's stand-in for `src/camera/pending_file.ts`: a page has
 * no host file system to write a download or a capture into, so every host
 * path is refused with an error that names the browser way (a
 * `WritableStream`, or the bytes returned). The browser build maps
 * `src/camera/pending_file.ts` here (`web/import_map.json`).
 *
 * @module
 */

/** A host path was given where only a browser's streams and bytes exist. */
export class HostPathUnavailableError extends Error {
  /** The host path that was asked for. */
  readonly path: string;

  /**
   * @param path the host path
   * @param reading whether it was to be read (an upload) rather than written
   */
  constructor(path: string, reading = false) {
    super(
      reading
        ? `${path}: a page cannot read host files; upload the bytes instead ` +
          "(`new Uint8Array(await file.arrayBuffer())` of a File the user picked)"
        : `${path}: a page cannot write host files; download to a WritableStream ` +
          "(a FileSystemWritableFileStream, or a stream into a Blob) or take the bytes instead",
    );
    this.name = "HostPathUnavailableError";
    this.path = path;
  }
}

/**
 * Refuses: there are no host paths in a browser.
 *
 * @param path the host path
 * @returns never
 */
export function pathExists(path: string): Promise<boolean> {
  return Promise.reject(new HostPathUnavailableError(path));
}

/**
 * Refuses: there are no host files in a browser.
 *
 * @param path the host path
 * @returns never
 */
export function readHostFile(path: string): Promise<Uint8Array> {
  return Promise.reject(new HostPathUnavailableError(path, true));
}

/**
 * Refuses: there are no host paths in a browser.
 *
 * @param path the host path
 * @returns never
 */
export function isDirectory(path: string): Promise<boolean> {
  return Promise.reject(new HostPathUnavailableError(path));
}

/** Has no instances in a browser: {@link PendingFile.create} refuses. */
export class PendingFile {
  /** The temporary file's path. */
  readonly temporary: string = "";
  /** The first 16 bytes written. */
  head: Uint8Array = new Uint8Array(0);
  /** Bytes written so far. */
  size = 0;

  private constructor() {}

  /**
   * Refuses: there are no host paths in a browser.
   *
   * @param directory where the target would be
   * @param _label unused
   * @returns never
   */
  static create(directory: string, _label: string): Promise<PendingFile> {
    return Promise.reject(new HostPathUnavailableError(directory));
  }

  /** Never reached (no instances). */
  write(_chunk: Uint8Array): Promise<void> {
    return Promise.reject(new HostPathUnavailableError(this.temporary));
  }

  /** Never reached (no instances). */
  commit(target: string, _overwrite: boolean, _size?: number): Promise<void> {
    return Promise.reject(new HostPathUnavailableError(target));
  }

  /** Never reached (no instances). */
  discard(): Promise<void> {
    return Promise.resolve();
  }
}
