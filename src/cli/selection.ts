/**
 * Which card files a command line names: paths, gphoto2's file numbers and
 * ranges (`get 1-5,9`, `rm 3`), and shell-style wildcards on card paths
 * (`'/DCIM/*\/IMG_00*.JPG'`).
 *
 * Numbers are the ones `gphoto2 --list-files` prints (checked against
 * gphoto2 2.5 in tests/cli_features_selection_test.ts): folders are walked
 * depth first, a folder's files before its subfolders, folders and files in
 * name order, and only the files gphoto2's canon driver lists are counted
 * (pictures, raw files, movies, sounds; no .THM, .CTG or .MRK housekeeping
 * files). Numbering starts at 1 and runs over the whole card, as
 * `gphoto2 --list-files` prints it (gphoto2's own `--get-file N` counts in
 * one `--folder` instead).
 *
 * @module
 */

import type { Camera } from "../camera/camera.ts";
import type { StorageEntry } from "../camera/storage.ts";
import { UsageError } from "./exit.ts";

/** The files gphoto2's canon driver lists (and numbers). */
const LISTED = /\.(JPE?G|CRW|CR2|AVI|MOV|MP4|WAV)$/i;

/** Whether gphoto2 lists (and numbers) a file of this name. */
export function isNumbered(name: string): boolean {
  return LISTED.test(name);
}

/** Whether an argument is a list of numbers and ranges: "3", "1-5,9". */
export function isRangeList(text: string): boolean {
  return /^\d+(-\d+)?(,\d+(-\d+)?)*$/.test(text);
}

/**
 * The numbers of "1-5,9" in order, each once.
 *
 * @param text the list
 * @returns the numbers
 * @throws {UsageError} for 0 or a range that runs backwards
 */
export function parseRanges(text: string): number[] {
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const [a, b = a] = part.split("-").map(Number);
    if (a < 1 || b < 1) throw new UsageError(`file numbers start at 1: ${text}`);
    if (b < a) throw new UsageError(`${part} runs backwards; write ${b}-${a}`);
    if (b - a > 100_000) throw new UsageError(`${part} is too long a range`);
    for (let n = a; n <= b; n++) out.add(n);
  }
  return [...out];
}

/** Whether a card path has wildcards (`*`, `?`, `[...]`). */
export function isPattern(path: string): boolean {
  return /[*?[]/.test(path);
}

/**
 * A wildcard card path as a regular expression over whole paths: `*` and `?`
 * do not match "/", `[...]` is a set (`[!...]` its complement); names match
 * without regard to case, as on the camera's FAT card.
 *
 * @param pattern e.g. "/DCIM/*\/IMG_00*.JPG"
 * @returns the expression
 */
export function patternRegExp(pattern: string): RegExp {
  const absolute = pattern.startsWith("/") ? pattern : `/${pattern}`;
  let out = "";
  for (let i = 0; i < absolute.length; i++) {
    const c = absolute[i];
    if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else if (c === "[") {
      const end = absolute.indexOf("]", i + 2);
      if (end < 0) {
        out += "\\[";
        continue;
      }
      let set = absolute.slice(i + 1, end);
      const negate = set.startsWith("!") || set.startsWith("^");
      if (negate) set = set.slice(1);
      out += `[${negate ? "^/" : ""}${set.replace(/[\\\]]/g, "\\$&")}]`;
      i = end;
    } else out += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${out.replace(/\/+$/, "")}$`, "i");
}

/**
 * The files gphoto2 numbers below `folder`, in its order.
 *
 * @param cam the camera
 * @param folder where numbering starts (default "/")
 * @returns the files; the file numbered N is at index N − 1
 */
export async function numberedFiles(cam: Camera, folder = "/"): Promise<StorageEntry[]> {
  const entries = await cam.storage.list(folder, { recursive: true });
  return inGphoto2Order(entries, folder);
}

/**
 * Entries of a recursive listing in gphoto2's order, numbered files only.
 *
 * @param entries a recursive listing
 * @param folder the folder it is of
 * @returns the numbered files in order
 */
export function inGphoto2Order(entries: readonly StorageEntry[], folder = "/"): StorageEntry[] {
  const byFolder = new Map<string, StorageEntry[]>();
  const folders = new Map<string, string[]>();
  const parentOf = (path: string) => path.slice(0, path.lastIndexOf("/")) || "/";
  for (const e of entries) {
    const parent = parentOf(e.path);
    if (e.isDirectory) {
      const list = folders.get(parent);
      if (list) list.push(e.path);
      else folders.set(parent, [e.path]);
    } else if (isNumbered(e.name)) {
      const list = byFolder.get(parent);
      if (list) list.push(e);
      else byFolder.set(parent, [e]);
    }
  }
  const out: StorageEntry[] = [];
  const walk = (dir: string) => {
    out.push(...(byFolder.get(dir) ?? []).sort((a, b) => compare(a.name, b.name)));
    for (const sub of (folders.get(dir) ?? []).sort(compare)) walk(sub);
  };
  const root = folder === "/" ? "/" : folder.replace(/\/+$/, "").toUpperCase();
  walk(entries.length ? matchCase(root, entries) : root);
  return out;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The folder as the listing spells it. */
function matchCase(folder: string, entries: readonly StorageEntry[]): string {
  if (folder === "/") return "/";
  const first = entries[0].path;
  const prefix = first.slice(0, folder.length);
  return prefix.toUpperCase() === folder.toUpperCase() ? prefix : folder;
}

/**
 * Turn the arguments into card paths: numbers and ranges into the files of
 * those numbers, wildcards into the files they match (at least one each);
 * other arguments are left as they are.
 *
 * @param cam the camera
 * @param args the command's arguments
 * @param command the sub-command, for usage errors
 * @returns card paths (files and directories)
 * @throws {UsageError} for a number past the last file or a pattern that matches nothing
 */
export async function expandSelection(
  cam: Camera,
  args: readonly string[],
  command?: string,
): Promise<string[]> {
  try {
    return await expand(cam, args);
  } catch (error) {
    throw error instanceof UsageError ? new UsageError(error.message, command) : error;
  }
}

async function expand(cam: Camera, args: readonly string[], folder = "/"): Promise<string[]> {
  let numbered: StorageEntry[] | undefined;
  let everything: StorageEntry[] | undefined;
  const out: string[] = [];
  for (const arg of args) {
    if (isRangeList(arg)) {
      numbered ??= await numberedFiles(cam, folder);
      for (const n of parseRanges(arg)) {
        const entry = numbered[n - 1];
        if (!entry) {
          throw new UsageError(
            `there is no file number ${n}: ${
              folder === "/" ? "the card" : folder
            } has ${numbered.length}` +
              " (canon ls -R shows the numbers)",
          );
        }
        out.push(entry.path);
      }
    } else if (isPattern(arg)) {
      everything ??= await cam.storage.list("/", { recursive: true });
      const re = patternRegExp(arg);
      const matched = everything.filter((e) => re.test(e.path));
      if (matched.length === 0) throw new UsageError(`nothing on the card matches ${arg}`);
      out.push(...matched.map((e) => e.path));
    } else {
      out.push(arg);
    }
  }
  return out;
}

/**
 * Each numbered file's number, by path.
 *
 * @param cam the camera
 * @returns numbers by card path
 */
export async function fileNumbers(cam: Camera): Promise<Map<string, number>> {
  return numbersOf(await cam.storage.list("/", { recursive: true }));
}

/**
 * Each numbered file's number, by path, from a recursive listing of the whole card.
 *
 * @param entries `list("/", { recursive: true })`
 * @returns numbers by card path
 */
export function numbersOf(entries: readonly StorageEntry[]): Map<string, number> {
  return new Map(inGphoto2Order(entries, "/").map((e, i) => [e.path, i + 1]));
}
