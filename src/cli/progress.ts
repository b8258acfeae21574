/**
 * Progress of a batch of transfers on a terminal: the current file and the
 * whole batch, bytes per second and the time left, redrawn in place on one
 * line at most ten times a second. When standard error is not a terminal
 * (piped, redirected, `--json`), nothing is written.
 *
 * @module
 */

import { formatBytes, formatDuration } from "./format.ts";

/** Options of {@link TransferProgress}. */
export interface TransferProgressOptions {
  /** Where the progress line goes (standard error). */
  write: (text: string) => void;
  /** Draw at all (true when standard error is a terminal and output is for people). */
  enabled: boolean;
  /** Files in the batch. */
  files: number;
  /** Bytes in the batch (0 when unknown). */
  bytes: number;
  /** A verb for the line: "get", "put", "thumb". */
  verb?: string;
  /** Milliseconds between redraws (default 100). */
  interval?: number;
  /** Clock in milliseconds (for tests; default `performance.now`). */
  now?: () => number;
}

/** A progress line for a batch of files. */
export class TransferProgress {
  #options: TransferProgressOptions;
  #now: () => number;
  #start: number;
  #lastDraw = -Infinity;
  #fileIndex = 0;
  #fileName = "";
  #fileSize = 0;
  #fileDone = 0;
  #doneBefore = 0;
  #drawn = false;

  /**
   * Start the batch.
   *
   * @param options where to draw, whether to, and the batch's size
   */
  constructor(options: TransferProgressOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.#start = this.#now();
  }

  /** Bytes done in the whole batch. */
  get done(): number {
    return this.#doneBefore + this.#fileDone;
  }

  /**
   * A file starts.
   *
   * @param name its name
   * @param size its size in bytes (0 when unknown)
   */
  startFile(name: string, size: number): void {
    this.#fileIndex++;
    this.#fileName = name;
    this.#fileSize = size;
    this.#fileDone = 0;
    this.#draw(true);
  }

  /**
   * Bytes of the current file arrived.
   *
   * @param done bytes of the current file done so far
   * @param total the file's size, when it is known only now
   */
  update(done: number, total?: number): void {
    this.#fileDone = done;
    if (total) this.#fileSize = total;
    this.#draw(false);
  }

  /** The current file is done (or skipped). */
  endFile(): void {
    this.#doneBefore += Math.max(this.#fileDone, this.#fileSize);
    this.#fileDone = 0;
    this.#fileSize = 0;
  }

  /** The batch is over: clear the line. */
  finish(): void {
    if (this.#drawn) this.#options.write("\r\x1b[K");
    this.#drawn = false;
  }

  /**
   * The progress line as it would be drawn now.
   *
   * @returns the line, without control characters
   */
  line(): string {
    const o = this.#options;
    const elapsed = (this.#now() - this.#start) / 1000;
    const done = this.done;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const filePart = this.#fileSize > 0
      ? `${Math.floor((this.#fileDone / this.#fileSize) * 100)}% of ${formatBytes(this.#fileSize)}`
      : formatBytes(this.#fileDone);
    const total = o.bytes > 0
      ? ` | total ${Math.floor((done / o.bytes) * 100)}% ${formatBytes(done)}/${
        formatBytes(o.bytes)
      }`
      : ` | total ${formatBytes(done)}`;
    const eta = o.bytes > 0 && rate > 0 ? formatDuration((o.bytes - done) / rate) : "-:--";
    return `${o.verb ?? "get"} [${this.#fileIndex}/${o.files}] ${this.#fileName} ${filePart}` +
      `${total} ${formatBytes(Math.round(rate))}/s ETA ${eta}`;
  }

  #draw(force: boolean): void {
    if (!this.#options.enabled) return;
    const now = this.#now();
    if (!force && now - this.#lastDraw < (this.#options.interval ?? 100)) return;
    this.#lastDraw = now;
    this.#drawn = true;
    this.#options.write(`\r${this.line()}\x1b[K`);
  }
}
