/**
 * gphoto2's `--filename` patterns: where a downloaded file goes, made from
 * the camera's name for it, its folder, its date and a counter.
 *
 * The codes, as gphoto2's manual lists them (gphoto2(1), `--filename`):
 * `%f` the name without its extension, `%C` the extension, `%:` the whole
 * name in lower case, `%F` the camera folder (here without the leading "/",
 * e.g. `DCIM/100CANON`), `%n` a counter (`%03n`: zero-padded to 3 digits;
 * it starts at 1 or at `--filenumber`), `%%` a "%", and the date codes of
 * date(1) for the photo's date: `%a %A %b %B %d %H %k %I %l %j %m %M %S %y`,
 * and `%Y` (gphoto2 passes it to strftime too). A "/" in the pattern makes
 * directories: `%Y/%m/%d/%f.%C`.
 *
 * @module
 */

import { UsageError } from "./exit.ts";
import { MONTHS } from "./format.ts";

/** What a pattern is filled from. */
export interface PatternFile {
  /** The camera's file name, e.g. "IMG_0001.JPG". */
  name: string;
  /** The camera folder, e.g. "/DCIM/100CANON". */
  folder: string;
  /** The photo's date (camera wall-clock, read with local getters); now when unknown. */
  date?: Date;
}

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

const two = (n: number) => String(n).padStart(2, "0");

const DATE_CODES: Record<string, (d: Date) => string> = {
  a: (d) => DAYS[d.getDay()].slice(0, 3),
  A: (d) => DAYS[d.getDay()],
  b: (d) => MONTHS[d.getMonth()].slice(0, 3),
  B: (d) => MONTHS[d.getMonth()],
  d: (d) => two(d.getDate()),
  H: (d) => two(d.getHours()),
  k: (d) => String(d.getHours()).padStart(2, " "),
  I: (d) => two(d.getHours() % 12 || 12),
  l: (d) => String(d.getHours() % 12 || 12).padStart(2, " "),
  j: (d) => {
    const start = new Date(d.getFullYear(), 0, 1);
    const day = Math.round(
      (new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime() -
        start.getTime()) / 86_400_000,
    ) + 1;
    return String(day).padStart(3, "0");
  },
  m: (d) => two(d.getMonth() + 1),
  M: (d) => two(d.getMinutes()),
  S: (d) => two(d.getSeconds()),
  y: (d) => two(d.getFullYear() % 100),
  Y: (d) => String(d.getFullYear()),
};

type Piece =
  | { kind: "text"; text: string }
  | { kind: "code"; code: string }
  | { kind: "counter"; pad: string; width: number };

/** A name from the camera made safe as one path segment. */
function segment(text: string): string {
  const clean = text.replace(/[/\0]/g, "_");
  return clean === "." || clean === ".." ? clean.replace(/\./g, "_") : clean;
}

/** A parsed `--filename` pattern. */
export class FilenamePattern {
  readonly #pieces: Piece[];
  /** The pattern as given. */
  readonly source: string;

  /**
   * Parse a pattern.
   *
   * @param pattern e.g. "%Y/%m/%d/%f.%C"
   * @throws {UsageError} for an unknown code, an empty pattern or one ending in "/"
   */
  constructor(pattern: string) {
    this.source = pattern;
    if (pattern === "" || pattern.endsWith("/")) {
      throw new UsageError(
        `--filename ${JSON.stringify(pattern)} names no file (e.g. %Y/%m/%d/%f.%C)`,
      );
    }
    const pieces: Piece[] = [];
    let text = "";
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i];
      if (c !== "%") {
        text += c;
        continue;
      }
      const rest = /^(0?)(\d*)n/.exec(pattern.slice(i + 1));
      const code = pattern[i + 1];
      if (text) pieces.push({ kind: "text", text }), text = "";
      if (rest && (rest[1] || rest[2])) {
        pieces.push({ kind: "counter", pad: "0", width: Number(rest[2] || 0) });
        i += rest[0].length;
      } else if (code === "n") {
        pieces.push({ kind: "counter", pad: "0", width: 0 });
        i++;
      } else if (code === "%") {
        text += "%";
        i++;
      } else if (code !== undefined && (code in DATE_CODES || "fCF:".includes(code))) {
        pieces.push({ kind: "code", code });
        i++;
      } else {
        throw new UsageError(
          `--filename: %${code ?? ""} is not a code; codes: %f %C %: %F %n %03n %Y %y %m %d ` +
            "%H %M %S %a %A %b %B %j %k %I %l %%",
        );
      }
    }
    if (text) pieces.push({ kind: "text", text });
    this.#pieces = pieces;
  }

  /** Whether the pattern has `%n` (each file then gets its own number). */
  get counts(): boolean {
    return this.#pieces.some((p) => p.kind === "counter");
  }

  /**
   * The relative path for a file.
   *
   * @param file the camera's name, folder and date
   * @param number the counter's value for this file
   * @returns e.g. "2024/05/17/IMG_0001.JPG"
   */
  expand(file: PatternFile, number: number): string {
    const dot = file.name.lastIndexOf(".");
    const stem = dot > 0 ? file.name.slice(0, dot) : file.name;
    const extension = dot > 0 ? file.name.slice(dot + 1) : "";
    const date = file.date ?? new Date();
    let out = "";
    for (const piece of this.#pieces) {
      if (piece.kind === "text") out += piece.text;
      else if (piece.kind === "counter") out += String(number).padStart(piece.width, piece.pad);
      else if (piece.code === "f") out += segment(stem);
      else if (piece.code === "C") out += segment(extension);
      else if (piece.code === ":") out += segment(file.name.toLowerCase());
      else if (piece.code === "F") {
        out += file.folder.split("/").filter((s) => s !== "").map(segment).join("/");
      } else out += DATE_CODES[piece.code](date);
    }
    return out;
  }
}

/**
 * Parse `--filename` and `--filenumber` from a command's option values.
 *
 * @param values the option values
 * @returns the pattern and the counter's first value, or undefined without `--filename`
 * @throws {UsageError} for a bad pattern or number
 */
export function filenameOption(
  values: Record<string, unknown>,
): { pattern: FilenamePattern; first: number } | undefined {
  const text = values.filename as string | undefined;
  const number = values.filenumber as string | undefined;
  if (text === undefined) {
    if (number !== undefined) throw new UsageError("--filenumber needs --filename with %n");
    return undefined;
  }
  const first = number === undefined ? 1 : Number(number);
  if (!Number.isSafeInteger(first) || first < 0) {
    throw new UsageError(`--filenumber wants a whole number, not ${JSON.stringify(number)}`);
  }
  return { pattern: new FilenamePattern(text), first };
}

/** The `--filename` and `--filenumber` options, for a command's option table. */
export const FILENAME_OPTIONS = {
  filename: {
    type: "string",
    value: "PATTERN",
    help: "name files as gphoto2 does: %f name, %C extension, %Y%m%d %H%M%S date, %n number",
  },
  filenumber: { type: "string", value: "N", help: "the first %n (default 1)" },
} as const;

/**
 * Where a card file goes by a pattern: the pattern filled from the file's
 * name, folder and date, and the counter `first + index`.
 *
 * @param entry the card file
 * @param filename the pattern and its first number
 * @param index the file's place in the batch (0 for the first)
 * @returns the relative path
 */
export function patternTarget(
  entry: { name: string; path: string; date?: Date },
  filename: { pattern: FilenamePattern; first: number },
  index: number,
): string {
  const folder = entry.path.slice(0, entry.path.length - entry.name.length).replace(/\/$/, "");
  return filename.pattern.expand(
    { name: entry.name, folder, date: entry.date },
    filename.first + index,
  );
}
