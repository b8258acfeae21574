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
  /**
   * The terminal's width in columns, asked at each redraw (it may change);
   * default: the console's. 0 or less: unknown, the line is not cut.
   */
  columns?: () => number;
}

function consoleColumns(): number {
  try {
    return Deno.consoleSize().columns;
  } catch {
    return 0;
  }
}

/** `text` cut to `width` characters with "…" in the middle (a file name's end says most). */
function elide(text: string, width: number): string {
  const chars = Array.from(text);
  if (chars.length <= width) return text;
  if (width <= 1) return chars.slice(0, width).join("");
  const tail = Math.ceil((width - 1) / 2);
  return chars.slice(0, width - 1 - tail).join("") + "…" +
    chars.slice(chars.length - tail).join("");
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
   * @param width at most this many characters: the file name is shortened,
   *   then the rate, the batch's bytes and its total are left out, as needed
   * @returns the line, without control characters
   */
  line(width = Infinity): string {
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
    const head = `${o.verb ?? "get"} [${this.#fileIndex}/${o.files}]`;
    const speed = ` ${formatBytes(Math.round(rate))}/s`;
    const shortTotal = o.bytes > 0 ? ` | ${Math.floor((done / o.bytes) * 100)}%` : "";
    // Narrower and narrower forms; the first that fits is drawn.
    const forms = [
      (name: string) => `${head} ${name} ${filePart}${total}${speed} ETA ${eta}`,
      (name: string) => `${head} ${name} ${filePart}${total} ETA ${eta}`,
      (name: string) => `${head} ${name} ${filePart}${shortTotal} ETA ${eta}`,
      (name: string) => `${head} ${name} ${filePart}`,
    ];
    const name = this.#fileName;
    for (const form of forms) {
      const full = form(name);
      if (Array.from(full).length <= width) return full;
      const room = width - (Array.from(full).length - Array.from(name).length);
      if (room >= Math.min(8, Array.from(name).length)) return form(elide(name, room));
    }
    return Array.from(forms[forms.length - 1](name)).slice(0, Math.max(0, width)).join("");
  }

  #draw(force: boolean): void {
    if (!this.#options.enabled) return;
    const now = this.#now();
    if (!force && now - this.#lastDraw < (this.#options.interval ?? 100)) return;
    this.#lastDraw = now;
    this.#drawn = true;
    // One column short of the width: a line that fills it would wrap on some terminals.
    const columns = (this.#options.columns ?? consoleColumns)();
    const width = columns > 0 ? columns - 1 : Infinity;
    this.#options.write(`\r${this.line(width)}\x1b[K`);
  }
}
