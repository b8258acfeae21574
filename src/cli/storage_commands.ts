/**
 * `canon ls`, `get`, `thumbs`, `rm`, `put`, `mkdir`, `rmdir` and `protect`:
 * the memory card from the shell.
 *
 * @module
 */

import { basename, dirname, join } from "../camera/host_path.ts";
import type { Camera } from "../camera/camera.ts";
import {
  CardFileExistsError,
  CardPathNotFoundError,
  type StorageEntry,
} from "../camera/storage.ts";
import { STATUS } from "../protocol/commands.ts";
import { CameraClosedError, CameraStatusError } from "../protocol/errors.ts";
import { splitCardPath, toHostPath } from "../protocol/storage_codec.ts";
import type { CommandContext, CommandDef } from "./command.ts";
import { errorMessage, EXIT, exitCodeOf, OutputClosedError, UsageError } from "./exit.ts";
import { freeSpace } from "./free_space.ts";
import type { TransferProgress } from "./progress.ts";
import { formatBytes, formatDate } from "./format.ts";
import { pathExists, writeFileSafely } from "../camera/pending_file.ts";
import { expandSelection, fileNumbers, numbersOf } from "./selection.ts";
import { downloadToStdout, fileOutput, outputIsFile } from "./download_target.ts";
import { afterDownload, EXEC_OPTION, MOVE_OPTION } from "./hooks.ts";
import { confirmRemoval, mkdirParents, planRemoval, type Removal } from "./card_tree.ts";
import {
  FILENAME_OPTIONS,
  filenameOption,
  type FilenamePattern,
  patternTarget,
} from "./filename_pattern.ts";

/** An entry as `--json` prints it. */
function entryJson(entry: StorageEntry): Record<string, unknown> {
  return {
    path: entry.path,
    name: entry.name,
    isDirectory: entry.isDirectory,
    size: entry.size,
    date: entry.date ? formatDate(entry.date) : null,
    downloaded: entry.downloaded,
    protected: entry.protected,
  };
}

function flags(entry: StorageEntry): string {
  return [entry.protected ? "protected" : "", entry.isDirectory || entry.downloaded ? "" : "new"]
    .filter(Boolean).join(", ");
}

/** Whether a card path names the root ("/", "", a drive). */
function isRoot(path: string): boolean {
  return splitCardPath(path).length === 0;
}

/** One row of a table whose column widths are known (the layout of `table` in format.ts). */
function alignedRow(cells: readonly string[], widths: readonly number[], right: number[]): string {
  return cells.map((cell, i) =>
    right.includes(i)
      ? cell.padStart(widths[i])
      : i === cells.length - 1
      ? cell
      : cell.padEnd(widths[i])
  ).join("  ").trimEnd();
}

/**
 * Every file `paths` name: files as they are, directories with everything below them.
 *
 * @param cam the camera
 * @param paths files and directories on the card
 * @returns the files, each once
 */
export async function filesOf(cam: Camera, paths: readonly string[]): Promise<StorageEntry[]> {
  const out: StorageEntry[] = [];
  const seen = new Set<string>();
  const add = (entry: StorageEntry) => {
    if (entry.isDirectory || seen.has(entry.path)) return;
    seen.add(entry.path);
    out.push(entry);
  };
  for (const path of paths) {
    const entry = await cam.storage.stat(path);
    if (entry.isDirectory) {
      for (const e of await cam.storage.list(entry.path, { recursive: true })) add(e);
    } else {
      add(entry);
    }
  }
  return out;
}

/** `canon ls [-R] [PATH]`. */
export const lsCommand: CommandDef = {
  name: "ls",
  usage: "[-R] [PATH]",
  summary: "list a directory of the card (default /) with sizes, dates and marks",
  options: {
    recursive: { type: "boolean", short: "R", help: "list everything below PATH" },
  },
  async run(context, args) {
    if (args.positionals.length > 1) throw new UsageError("ls takes one PATH", "ls");
    const path = args.positionals[0] ?? "/";
    const recursive = Boolean(args.values.recursive);
    const cam = await context.camera();
    let entries: StorageEntry[];
    try {
      entries = await cam.storage.list(path, { recursive });
    } catch (error) {
      if (!(error instanceof CardPathNotFoundError)) throw error;
      const entry = await cam.storage.stat(path); // a file: show it alone
      if (entry.isDirectory) throw error;
      entries = [entry];
    }
    // The numbers count the whole card's files: a recursive listing of the
    // root is that listing already, so the card is not listed twice.
    const numbers = recursive && isRoot(path) ? numbersOf(entries) : await fileNumbers(cam);
    if (context.json) {
      context.printJson(
        entries.map((e) => ({ ...entryJson(e), number: numbers.get(e.path) ?? null })),
      );
      return;
    }
    const files = entries.filter((e) => !e.isDirectory);
    const cells = (e: StorageEntry): string[] => [
      numbers.has(e.path) ? `#${numbers.get(e.path)}` : "",
      recursive ? e.path + (e.isDirectory ? "/" : "") : e.name + (e.isDirectory ? "/" : ""),
      e.isDirectory ? "-" : String(e.size),
      formatDate(e.date),
      flags(e),
    ];
    // One table for the whole listing (the widths of all its rows), printed a
    // folder at a time: the text of the rows is never all in memory at once.
    const widths = [0, 0, 0, 0];
    for (const e of entries) {
      cells(e).forEach((cell, i) => {
        if (i < widths.length) widths[i] = Math.max(widths[i], cell.length);
      });
    }
    let folder: string | undefined;
    let rows: string[] = [];
    for (const e of entries) {
      const parent = e.path.slice(0, e.path.lastIndexOf("/"));
      if (parent !== folder && rows.length > 0) {
        context.printLines(rows);
        rows = [];
      }
      folder = parent;
      rows.push(alignedRow(cells(e), widths, [2]));
    }
    context.printLines(rows);
    const bytes = files.reduce((n, e) => n + e.size, 0);
    const fresh = files.filter((e) => !e.downloaded).length;
    context.print(
      `${files.length} file${files.length === 1 ? "" : "s"}, ${formatBytes(bytes)}` +
        (fresh ? `, ${fresh} new` : ""),
    );
  },
};

/** How {@link downloadFiles} works. */
export interface DownloadBatchOptions {
  /** The local directory. */
  directory: string;
  /** Mirror the card's directories below `directory` instead of putting every file in it. */
  tree: boolean;
  /**
   * Leave a local file that is the same photo (same size, same date) alone;
   * a same-named file that is another photo gets the camera's file under a
   * free name (IMG_0004-1.JPG).
   */
  skipExisting: boolean;
  /** Replace files that exist locally. */
  overwrite: boolean;
  /** Clear the camera's "new" mark of each file downloaded (default true). */
  markDownloaded: boolean;
  /** Name each file by this gphoto2 `--filename` pattern (below `directory`). */
  filename?: { pattern: FilenamePattern; first: number };
  /** Called when a file is complete on disk (and marked): `--exec`, `--move`. */
  afterFile?: (done: { path: string; file: string; size: number }) => Promise<void>;
  /** Go on with the next file when one fails (default: stop). */
  keepGoing?: boolean;
  /** Stop the batch (a signal): the file in progress is removed, its reason thrown. */
  signal?: AbortSignal;
}

/** A file of a batch that failed. */
export interface DownloadFailure {
  /** The camera path. */
  path: string;
  /** What went wrong. */
  error: string;
  /** The error itself (not in JSON). */
  cause: unknown;
}

/** What a batch download did. */
export interface DownloadBatchResult {
  /** Files written. */
  downloaded: { path: string; file: string; size: number; marked: boolean }[];
  /** Files skipped because the same photo is there locally. */
  skipped: { path: string; file: string }[];
  /** Files that failed (more than one only with `keepGoing`). */
  failed: DownloadFailure[];
  /** Bytes written. */
  bytes: number;
  /** Seconds it took. */
  seconds: number;
}

function targetOf(
  entry: StorageEntry,
  options: DownloadBatchOptions,
  rename?: (n: string) => string,
  index = 0,
): string {
  const segments = splitCardPath(entry.path);
  if (options.filename) {
    return join(options.directory, patternTarget(entry, options.filename, index));
  }
  const name = rename ? rename(entry.name) : entry.name;
  return options.tree
    ? join(options.directory, ...segments.slice(0, -1), name)
    : join(options.directory, name);
}

/** FAT keeps file times to 2 s; a copy that went through one may be off by that much. */
const SAME_TIME_MS = 2000;

/** Whether the local file `info` is the camera's `entry` already downloaded. */
function samePhoto(info: Deno.FileInfo, entry: StorageEntry): boolean {
  if (!info.isFile || info.size !== entry.size) return false;
  if (!entry.date || !info.mtime) return true;
  return Math.abs(info.mtime.getTime() - entry.date.getTime()) <= SAME_TIME_MS;
}

/** `IMG_0004.JPG` → `IMG_0004-N.JPG`. */
function numbered(target: string, n: number): string {
  const name = basename(target);
  const dot = name.lastIndexOf(".");
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot) : "";
  return join(dirname(target), `${stem}-${n}${ext}`);
}

async function lstatOrUndefined(path: string): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
}

/**
 * Where `entry` goes when `skipExisting`: its own name if free; the file
 * that is the same photo (under its name or an earlier free name), to skip;
 * else the first free `NAME-N.EXT`.
 */
async function freeTarget(
  target: string,
  entry: StorageEntry,
  taken: ReadonlySet<string>,
  same: (info: Deno.FileInfo, entry: StorageEntry) => boolean,
): Promise<{ path: string; same: boolean }> {
  for (let n = 0; n < 10000; n++) {
    const candidate = n === 0 ? target : numbered(target, n);
    if (taken.has(candidate)) continue;
    const info = await lstatOrUndefined(candidate);
    if (!info) return { path: candidate, same: false };
    if (same(info, entry)) return { path: candidate, same: true };
  }
  throw new Deno.errors.AlreadyExists(`${target}: no free name from -1 to -9999`);
}

interface PlannedFile {
  entry: StorageEntry;
  target: string;
  skip: boolean;
}

/** Decide where each file goes; refuse clashes before anything is transferred. */
async function plan(
  entries: readonly StorageEntry[],
  options: DownloadBatchOptions,
  rename?: (name: string) => string,
  same: (info: Deno.FileInfo, entry: StorageEntry) => boolean = samePhoto,
): Promise<PlannedFile[]> {
  const targets = new Map<string, string>();
  const out: PlannedFile[] = [];
  for (const [index, entry] of entries.entries()) {
    let target = targetOf(entry, options, rename, index);
    let skip = false;
    if (options.skipExisting) {
      const free = await freeTarget(target, entry, new Set(targets.keys()), same);
      target = free.path;
      skip = free.same;
    } else {
      const clash = targets.get(target);
      if (clash) {
        throw new UsageError(
          `${clash} and ${entry.path} would both be written to ${target}; use --tree to keep the card's directories`,
        );
      }
      if (!options.overwrite && await pathExists(target)) {
        throw new Deno.errors.AlreadyExists(
          `${target} already exists; use --skip-existing to leave it, or --overwrite to replace it`,
        );
      }
    }
    if (!skip) targets.set(target, entry.path);
    out.push({ entry, target, skip });
  }
  return out;
}

/** Errors after which no further file of the batch can succeed. */
function ends(error: unknown): boolean {
  return error instanceof CameraClosedError || error instanceof UsageError ||
    error instanceof OutputClosedError || error instanceof Deno.errors.PermissionDenied ||
    error instanceof NotEnoughSpaceError;
}

/** Refuse a batch that cannot fit where it goes (when the free space can be known). */
function checkRoom(directory: string, bytes: number): void {
  const free = freeSpace(directory);
  if (free === undefined || bytes <= free) return;
  throw new NotEnoughSpaceError(
    `${formatBytes(bytes)} to download, ${
      formatBytes(free)
    } free in ${directory}; nothing was downloaded`,
  );
}

/** The batch does not fit on the local disk. */
export class NotEnoughSpaceError extends Error {
  /**
   * Make the error.
   *
   * @param message what does not fit where
   */
  constructor(message: string) {
    super(message);
    this.name = "NotEnoughSpaceError";
  }
}

/**
 * Download files into a directory with progress, marking them downloaded,
 * reporting each file as it completes (a line, or a JSON line with --json).
 *
 * @param context the command's context (progress, notes)
 * @param cam the camera
 * @param entries the files
 * @param options where and how
 * @returns what was written, skipped and failed
 */
export async function downloadFiles(
  context: CommandContext,
  cam: Camera,
  entries: readonly StorageEntry[],
  options: DownloadBatchOptions,
): Promise<DownloadBatchResult> {
  const start = performance.now();
  const work = await plan(entries, options);
  const result: DownloadBatchResult = {
    downloaded: [],
    skipped: [],
    failed: [],
    bytes: 0,
    seconds: 0,
  };
  const todo = work.filter((w) => !w.skip);
  const total = todo.reduce((n, w) => n + w.entry.size, 0);
  if (todo.length) checkRoom(options.directory, total);
  const progress = context.progress(todo.length, total, "get");
  const report = (event: Record<string, unknown>, line: string) => {
    progress.finish();
    if (context.json) context.io.write(JSON.stringify(event) + "\n");
    else context.print(line);
  };
  try {
    for (const planned of work) {
      const { entry } = planned;
      if (planned.skip) {
        result.skipped.push({ path: entry.path, file: planned.target });
        report(
          { event: "skipped", path: entry.path, file: planned.target },
          `${entry.path}: skipped, ${planned.target} is the same photo`,
        );
        continue;
      }
      try {
        const done = await downloadOne(cam, planned, options, progress);
        let marked = false;
        if (options.markDownloaded && !entry.downloaded) {
          marked = await cam.storage.markDownloaded(entry.path, entry);
        }
        result.downloaded.push({ path: entry.path, file: done.file, size: done.size, marked });
        result.bytes += done.size;
        report(
          { event: "downloaded", path: entry.path, file: done.file, size: done.size, marked },
          `${entry.path} -> ${done.file} (${formatBytes(done.size)})`,
        );
        await options.afterFile?.({ path: entry.path, file: done.file, size: done.size });
      } catch (error) {
        progress.endFile();
        if (options.signal?.aborted) throw options.signal.reason;
        const message = errorMessage(error);
        result.failed.push({ path: entry.path, error: message, cause: error });
        if (!options.keepGoing || ends(error)) break;
        report(
          { event: "failed", path: entry.path, error: message },
          `${entry.path}: failed: ${message}`,
        );
      }
    }
  } finally {
    progress.finish();
  }
  result.seconds = (performance.now() - start) / 1000;
  return result;
}

/** One file of a batch; with skipExisting, a name taken meanwhile moves it to the next free one. */
async function downloadOne(
  cam: Camera,
  planned: PlannedFile,
  options: DownloadBatchOptions,
  progress: TransferProgress,
): Promise<{ file: string; size: number }> {
  const { entry } = planned;
  let target = planned.target;
  for (let attempt = 0;; attempt++) {
    await Deno.mkdir(dirname(target), { recursive: true });
    progress.startFile(entry.name, entry.size);
    try {
      const done = await cam.storage.download(entry.path, target, {
        overwrite: options.overwrite,
        entry,
        signal: options.signal,
        onProgress: (bytes, total) => progress.update(bytes, total),
      });
      progress.endFile();
      return { file: target, size: done.size };
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists) || !options.skipExisting || attempt > 3) {
        throw error;
      }
      const next = await freeTarget(target, entry, new Set(), samePhoto);
      if (next.same) throw error;
      target = next.path;
    }
  }
}

/**
 * Print the summary of a batch download (each file was reported as it
 * completed): a line, or with --json one line `{"event":"summary",...}`.
 *
 * @param context the command's context
 * @param result the batch's result
 * @param what the noun for the summary line
 */
export function printDownloads(
  context: CommandContext,
  result: DownloadBatchResult,
  what = "file",
): void {
  if (context.json) {
    context.io.write(JSON.stringify({ event: "summary", ...batchJson(result) }) + "\n");
    return;
  }
  const n = result.downloaded.length;
  const rate = result.seconds > 0
    ? ` in ${result.seconds.toFixed(1)} s, ${
      formatBytes(Math.round(result.bytes / result.seconds))
    }/s`
    : "";
  context.print(
    `${n} ${what}${n === 1 ? "" : "s"} downloaded (${formatBytes(result.bytes)})${n ? rate : ""}` +
      (result.skipped.length ? `, ${result.skipped.length} skipped` : "") +
      (result.failed.length ? `, ${result.failed.length} failed` : ""),
  );
}

/**
 * A batch's result as JSON prints it (errors as their messages).
 *
 * @param result the batch's result
 * @returns the plain object
 */
export function batchJson(result: DownloadBatchResult): Record<string, unknown> {
  return {
    downloaded: result.downloaded,
    skipped: result.skipped,
    failed: result.failed.map(({ path, error }) => ({ path, error })),
    bytes: result.bytes,
    seconds: result.seconds,
  };
}

/**
 * The exit code of a batch: 0, or that of its first failure (after the
 * summary is printed, a batch stopped by a failure rethrows it so the
 * message says what went wrong).
 *
 * @param result the batch's result
 * @param keepGoing whether the batch went on past failures
 * @returns the exit code
 */
export function batchExit(result: DownloadBatchResult, keepGoing: boolean): number {
  const first = result.failed[0];
  if (!first) return EXIT.OK;
  if (!keepGoing || ends(first.cause)) throw first.cause;
  return exitCodeOf(first.cause);
}

/** Card files that are the camera's housekeeping, not photos: gphoto2 does not list them. */
const HOUSEKEEPING = /\.(CTG|MRK|THM)$/i;

/**
 * Whether a file is camera housekeeping (`CANONMSC/*.CTG` catalogs,
 * `MISC/AUTPRINT.MRK` print orders, `.THM` thumbnails of CRW and AVI files),
 * which `gphoto2 --list-files` hides and `get` skips unless `--all-files`.
 *
 * @param entry the file
 * @returns true for housekeeping
 */
export function isHousekeeping(entry: StorageEntry): boolean {
  return HOUSEKEEPING.test(entry.name);
}

const DOWNLOAD_OPTIONS = {
  output: {
    type: "string",
    short: "o",
    value: "DIR",
    help: "where to put the files (default: .); for one file also FILE, or - (standard output)",
  },
  "skip-existing": {
    type: "boolean",
    help: "leave a local file that is the same photo; another of that name: NAME-1.EXT",
  },
  overwrite: { type: "boolean", help: "replace files that exist locally" },
  tree: { type: "boolean", help: "keep the card's directories below DIR" },
  "keep-going": { type: "boolean", help: "go on with the next file when one fails" },
} as const;

function batchOptions(
  values: Record<string, unknown>,
  command: string,
  skipByDefault = false,
): DownloadBatchOptions {
  if (values["skip-existing"] && values.overwrite) {
    throw new UsageError("give --skip-existing or --overwrite, not both", command);
  }
  return {
    directory: (values.output as string | undefined) ?? ".",
    tree: Boolean(values.tree),
    skipExisting: Boolean(values["skip-existing"]) || (skipByDefault && !values.overwrite),
    overwrite: Boolean(values.overwrite),
    markDownloaded: !values["keep-new"],
    keepGoing: Boolean(values["keep-going"]),
    filename: withPattern(values, command),
  };
}

function withPattern(values: Record<string, unknown>, command: string) {
  try {
    const filename = filenameOption(values);
    if (filename && values.tree) throw new UsageError("give --filename or --tree, not both");
    return filename;
  } catch (error) {
    throw error instanceof UsageError ? new UsageError(error.message, command) : error;
  }
}

/** `canon get PATH... | --all | --new [-o DIR]`. */
export const getCommand: CommandDef = {
  name: "get",
  usage: "PATH... | --all | --new [-o DIR] [--skip-existing | --overwrite] [--tree]",
  summary: "download files or directories; --new: what is not downloaded yet",
  details:
    "Files are written under a temporary name and renamed when complete, with the camera's\n" +
    "date. Each file the camera marked as new is marked downloaded afterwards (as Canon's own\n" +
    "software does), unless --keep-new is given; `get --new` therefore fetches each picture\n" +
    "once, and (as --skip-existing) leaves a local copy of the same photo alone and saves\n" +
    "another photo of the same name as NAME-1.EXT. Each file is reported as it completes.\n" +
    "The camera's housekeeping files (CANONMSC/*.CTG, MISC/AUTPRINT.MRK, .THM thumbnails),\n" +
    "which gphoto2 does not list either, are left out unless --all-files or named.\n" +
    "A PATH may also be a number as `canon ls` shows it (3, 1-5,9) or a pattern\n" +
    "('/DCIM/*/IMG_00*.JPG'). -o - with one file writes it to standard output.",
  options: {
    ...DOWNLOAD_OPTIONS,
    ...FILENAME_OPTIONS,
    ...EXEC_OPTION,
    ...MOVE_OPTION,
    "all-files": {
      type: "boolean",
      help: "include the camera's housekeeping files (.CTG, .MRK, .THM)",
    },
    all: { type: "boolean", short: "a", help: "every file on the card" },
    new: {
      type: "boolean",
      short: "n",
      help: "the files the camera marks as new (below PATH, if given)",
    },
    "keep-new": { type: "boolean", help: "do not clear the camera's new mark after downloading" },
  },
  async run(context, args) {
    const { values, positionals } = args;
    if (values.all && (values.new || positionals.length)) {
      throw new UsageError("--all takes no PATH and no --new", "get");
    }
    if (!values.all && !values.new && positionals.length === 0) {
      throw new UsageError("say what to get: PATH..., --all or --new", "get");
    }
    let options = batchOptions(values, "get", Boolean(values.new));
    const cam = await context.camera();
    const paths = positionals.length ? await expandSelection(cam, positionals, "get") : ["/"];
    const named = new Set(paths.map((p) => toHostPath(splitCardPath(p))));
    let files = await filesOf(cam, values.all ? ["/"] : paths);
    if (!values["all-files"]) files = files.filter((f) => named.has(f.path) || !isHousekeeping(f));
    if (values.new) files = files.filter((f) => !f.downloaded);
    if (files.length === 0 && !context.json) {
      context.print(values.new ? "No new files." : "No files.");
      return;
    }
    const output = values.output as string | undefined;
    if (output === "-") {
      await downloadToStdout(context, cam, files, options.markDownloaded);
      return;
    }
    if (!options.filename && await outputIsFile(output, files)) {
      options = { ...options, ...fileOutput(output!) };
    }
    await Deno.mkdir(options.directory, { recursive: true });
    const after = afterDownload(context, cam, values);
    const result = await downloadFiles(context, cam, files, {
      ...options,
      afterFile: after.afterFile,
      signal: context.signal,
    });
    printDownloads(context, result);
    // --move deletes the files that are complete here even when a later one failed.
    let code: number;
    try {
      code = batchExit(result, options.keepGoing ?? false);
    } catch (error) {
      await after.finish().catch(() => {});
      throw error;
    }
    const hookCode = await after.finish();
    return code || hookCode;
  },
};

const HAS_THUMBNAIL = /\.(JPG|JPEG|CRW|CR2|AVI)$/i;

/** `canon thumbs [PATH...] [-o DIR]`. */
export const thumbsCommand: CommandDef = {
  name: "thumbs",
  usage: "[PATH...] [-o DIR] [--skip-existing | --overwrite] [--tree]",
  summary: "save thumbnails (JPEG) as thumb_NAME.jpg, of PATH... or of every picture",
  options: {
    output: DOWNLOAD_OPTIONS.output,
    "skip-existing": { type: "boolean", help: "leave thumbnail files that exist locally alone" },
    overwrite: DOWNLOAD_OPTIONS.overwrite,
    tree: DOWNLOAD_OPTIONS.tree,
  },
  async run(context, args) {
    const options = batchOptions(args.values, "thumbs");
    const cam = await context.camera();
    const files = (await filesOf(cam, args.positionals.length ? args.positionals : ["/"]))
      .filter((f) => HAS_THUMBNAIL.test(f.name));
    if (files.length === 0) {
      if (context.json) context.printJson({ written: [], skipped: [] });
      else context.print("No pictures with thumbnails.");
      return;
    }
    await Deno.mkdir(options.directory, { recursive: true });
    const rename = (name: string) => `thumb_${name.replace(/\.[^.]+$/, "")}.jpg`;
    // A thumbnail file already there is kept (its size says nothing about the photo's).
    const work = await plan(files, options, rename, (info) => info.isFile && info.size > 0);
    const progress = context.progress(work.filter((w) => !w.skip).length, 0, "thumb");
    const written: { path: string; file: string; size: number }[] = [];
    const skipped: { path: string; file: string }[] = [];
    for (const { entry, target, skip } of work) {
      if (skip) skipped.push({ path: entry.path, file: target });
    }
    const todo = work.filter((w) => !w.skip);
    // The camera fetches thumbnail N+1 while thumbnail N is written here: its
    // processing delay per command (17 ms on a G3) hides the host's writing.
    const fetch = (i: number) => {
      if (i >= todo.length) return undefined;
      context.signal?.throwIfAborted();
      const fetching = cam.storage.thumbnail(todo[i].entry.path);
      fetching.catch(() => undefined); // awaited below, or dropped after another failure
      return fetching;
    };
    let fetching: Promise<Uint8Array> | undefined;
    try {
      fetching = fetch(0);
      for (let i = 0; i < todo.length; i++) {
        const { entry, target } = todo[i];
        progress.startFile(entry.name, 0);
        const jpeg = await fetching!;
        fetching = fetch(i + 1);
        await Deno.mkdir(dirname(target), { recursive: true });
        await writeFileSafely(target, jpeg, { overwrite: options.overwrite, mtime: entry.date });
        progress.update(jpeg.length, jpeg.length);
        progress.endFile();
        written.push({ path: entry.path, file: target, size: jpeg.length });
      }
    } finally {
      // A failure here: the camera's thumbnail in flight ends before the camera is closed.
      await fetching?.catch(() => undefined);
      progress.finish();
    }
    if (context.json) {
      context.printJson({ written, skipped });
      return;
    }
    for (const w of written) context.print(`${w.path} -> ${w.file} (${formatBytes(w.size)})`);
    for (const s of skipped) context.print(`${s.path}: skipped, ${s.file} exists`);
    context.print(
      `${written.length} thumbnail${written.length === 1 ? "" : "s"} written` +
        (skipped.length ? `, ${skipped.length} skipped` : ""),
    );
  },
};

function needPaths(positionals: string[], command: string): string[] {
  if (positionals.length === 0) throw new UsageError(`${command} needs a PATH`, command);
  return positionals;
}

/** `canon rm PATH...`. */
export const rmCommand: CommandDef = {
  name: "rm",
  usage: "PATH|N|PATTERN... | -R DIR... | --all [--yes]",
  summary: "delete files (with the .THM of a CRW or AVI; protected files are refused)",
  details: "Files are named by path, by the number `canon ls` shows (3, 1-5,9) or by a pattern\n" +
    "('/DCIM/*/IMG_00*.JPG'). -R DIR deletes DIR and everything below it; --all every file\n" +
    "(directories stay). Both ask first, unless --yes.",
  options: {
    recursive: { type: "boolean", short: "R", help: "delete directories and all below them" },
    all: { type: "boolean", short: "a", help: "delete every file on the card" },
    yes: { type: "boolean", short: "y", help: "do not ask before -R or --all" },
  },
  async run(context, args) {
    const { values } = args;
    if (values.all && args.positionals.length) {
      throw new UsageError("--all takes no PATH", "rm");
    }
    const cam = await context.camera();
    const paths = values.all
      ? []
      : await expandSelection(cam, needPaths(args.positionals, "rm"), "rm");
    let removal: Removal | undefined;
    if (values.all || values.recursive) {
      const dirs: string[] = [];
      const files: StorageEntry[] = [];
      for (const path of paths) {
        const entry = await cam.storage.stat(path);
        if (entry.isDirectory) dirs.push(entry.path);
        else files.push(entry);
      }
      removal = await planRemoval(cam, dirs, Boolean(values.all));
      removal.files.unshift(...files);
      for (const f of removal.kept) context.note(`${f.path} is protected: it stays`);
      if (!(await confirmRemoval(context, removal, Boolean(values.yes)))) {
        context.note("Nothing deleted.");
        return EXIT.OTHER;
      }
    }
    const deleted: string[] = [];
    const gone = new Set<string>();
    for (const path of removal ? removal.files.map((f) => f.path) : paths) {
      let entry;
      try {
        entry = await cam.storage.stat(path);
      } catch (error) {
        // A .THM deleted with its CRW or AVI a moment ago.
        if (removal && error instanceof CardPathNotFoundError) continue;
        throw error;
      }
      if (entry.isDirectory) {
        throw new UsageError(
          `${entry.path} is a directory; remove it with rmdir once empty (rm -R: with all below it)`,
          "rm",
        );
      }
      if (gone.has(entry.path)) continue;
      gone.add(entry.path);
      try {
        await cam.storage.delete(entry.path);
      } catch (error) {
        if (error instanceof CameraStatusError && error.status === STATUS.FILE_PROTECTED) {
          throw new CameraStatusError(error.command, error.status, {
            hint: `${entry.path} is protected; \`canon protect --off ${entry.path}\` unprotects it`,
          });
        }
        throw error;
      }
      deleted.push(entry.path);
      if (!context.json) context.print(`deleted ${entry.path}`);
    }
    for (const dir of removal?.directories ?? []) {
      await cam.storage.rmdir(dir);
      deleted.push(`${dir}/`);
      if (!context.json) context.print(`removed ${dir}`);
    }
    if (context.json) context.printJson({ deleted });
  },
};

/** `canon put FILE... [DIR]`. */
export const putCommand: CommandDef = {
  name: "put",
  usage: "FILE... [DIR]",
  summary: "upload files to a directory of the card (default: the newest in /DCIM)",
  details:
    "The last argument is the directory on the card when it is not a local file. Names are\n" +
    "upper-cased, as the camera's FAT file system has them, and must be 8.3 names\n" +
    "(IMG_0001.JPG). A file of the same name on the card is refused unless --overwrite; an\n" +
    "upload that fails or is interrupted deletes what it wrote of the file.",
  options: {
    name: { type: "string", value: "NAME", help: "the name on the card (one FILE only)" },
    overwrite: { type: "boolean", help: "replace a file of the same name on the card" },
  },
  async run(context, args) {
    const positionals = needPaths(args.positionals, "put");
    let files = positionals;
    let directory: string | undefined;
    if (positionals.length >= 2) {
      const last = positionals[positionals.length - 1];
      if (!(await pathExists(last))) {
        directory = last;
        files = positionals.slice(0, -1);
      }
    }
    const name = args.values.name as string | undefined;
    if (name !== undefined && files.length !== 1) {
      throw new UsageError("--name works with one FILE", "put");
    }
    const sizes: number[] = [];
    for (const file of files) {
      const info = await Deno.stat(file);
      if (!info.isFile) throw new UsageError(`${file} is not a file`, "put");
      sizes.push(info.size);
    }
    const cam = await context.camera();
    directory ??= await newestDirectory(cam);
    const progress = context.progress(files.length, sizes.reduce((a, b) => a + b, 0), "put");
    const uploaded: { file: string; path: string; size: number }[] = [];
    try {
      for (const [i, file] of files.entries()) {
        progress.startFile(basename(file), sizes[i]);
        const onCard = toHostPath([...splitCardPath(directory), name ?? basename(file)]);
        let path: string;
        try {
          path = await cam.storage.upload(file, directory, {
            name,
            overwrite: Boolean(args.values.overwrite),
            signal: context.signal,
            onProgress: (done, total) => progress.update(done, total),
          });
        } catch (error) {
          if (context.signal?.aborted) throw context.signal.reason;
          if (error instanceof CardFileExistsError) {
            throw new Deno.errors.AlreadyExists(
              `${error.path} is already on the card; use --overwrite to replace it, or --name to upload it under another name`,
            );
          }
          throw await explainRefusal(cam, error, "put", onCard.toUpperCase());
        }
        progress.endFile();
        uploaded.push({ file, path, size: sizes[i] });
        progress.finish();
        if (!context.json) context.print(`${file} -> ${path} (${formatBytes(sizes[i])})`);
      }
    } finally {
      progress.finish();
    }
    if (context.json) context.printJson({ uploaded });
  },
};

/** Characters of an 8.3 name part besides letters and digits (FAT short names). */
const SHORT_NAME_PART = /^[A-Z0-9_$~!#%&'(){}@^`-]+$/;

/**
 * Whether `name` is an 8.3 name as the camera's FAT card takes them: 1-8
 * characters, then optionally a dot and 1-3 (the memory card model and the
 * protocol reference's listings agree).
 */
function isShortName(name: string): boolean {
  const [base, ext, more] = name.split(".");
  if (more !== undefined || base.length < 1 || base.length > 8) return false;
  if (!SHORT_NAME_PART.test(base)) return false;
  return ext === undefined || (ext.length >= 1 && ext.length <= 3 && SHORT_NAME_PART.test(ext));
}

/**
 * The camera answers most refusals of mkdir, rmdir and upload with one status,
 * 0x02000086 ("invalid parameters or path not found"): look at the card and
 * say which it was, in the command's terms.
 */
async function explainRefusal(
  cam: Camera,
  error: unknown,
  command: "mkdir" | "rmdir" | "put",
  path: string,
): Promise<unknown> {
  if (!(error instanceof CameraStatusError) || error.status !== STATUS.INVALID_PARAMETERS) {
    return error;
  }
  const segments = splitCardPath(path);
  const name = segments[segments.length - 1];
  const parent = toHostPath(segments.slice(0, -1));
  let siblings: StorageEntry[];
  try {
    siblings = await cam.storage.list(parent);
  } catch (listing) {
    if (!(listing instanceof CardPathNotFoundError)) return error;
    return new Deno.errors.NotFound(
      `no directory ${parent} on the card${
        command === "rmdir" ? "" : "; make it first with canon mkdir"
      }`,
    );
  }
  const found = siblings.find((e) => e.name === name);
  if (command === "mkdir" && found) {
    return new Deno.errors.AlreadyExists(`${path} already exists on the card`);
  }
  if (command === "rmdir") {
    if (!found) return new Deno.errors.NotFound(`no directory ${path} on the card`);
    if (!found.isDirectory) {
      return new UsageError(`${path} is a file; canon rm deletes files`, "rmdir");
    }
    const inside = await cam.storage.list(path);
    if (inside.length) {
      return new Error(
        `${path} is not empty (${inside.length} entr${inside.length === 1 ? "y" : "ies"}); ` +
          "delete what is in it first",
      );
    }
  }
  if (!isShortName(name)) {
    return new UsageError(
      `the card takes 8.3 names (up to 8 characters, a dot, up to 3, like ${
        command === "put" ? "IMG_0001.JPG" : "102CANON"
      }), not ${name}${command === "put" ? "; give one with --name" : ""}`,
      command,
    );
  }
  return error;
}

/** The directory the camera writes new pictures to: the highest-numbered one in /DCIM. */
async function newestDirectory(cam: Camera): Promise<string> {
  const dirs = (await cam.storage.list("/DCIM")).filter((e) =>
    e.isDirectory && /^\d{3}/.test(e.name)
  )
    .sort((a, b) => a.name.localeCompare(b.name));
  if (dirs.length === 0) {
    throw new UsageError("the card has no picture directory in /DCIM; name the directory", "put");
  }
  return dirs[dirs.length - 1].path;
}

function pathCommand(
  name: string,
  summary: string,
  act: (cam: Camera, path: string) => Promise<void>,
  verb: string,
): CommandDef {
  return {
    name,
    usage: "PATH...",
    summary,
    options: {},
    async run(context, args) {
      const paths = needPaths(args.positionals, name);
      const cam = await context.camera();
      const done: string[] = [];
      for (const path of paths) {
        const normal = toHostPath(splitCardPath(path));
        try {
          await act(cam, normal);
        } catch (error) {
          throw await explainRefusal(cam, error, name as "mkdir" | "rmdir", normal);
        }
        done.push(normal);
        if (!context.json) context.print(`${verb} ${normal}`);
      }
      if (context.json) context.printJson({ [verb]: done });
    },
  };
}

const plainMkdir = pathCommand(
  "mkdir",
  "make directories on the card (-p: and missing parents)",
  (cam, path) => cam.storage.mkdir(path),
  "created",
);

/** `canon mkdir [-p] PATH...`. */
export const mkdirCommand: CommandDef = {
  ...plainMkdir,
  usage: "[-p] PATH...",
  options: {
    parents: {
      type: "boolean",
      short: "p",
      help: "make missing parent directories too; one that exists is no error",
    },
  },
  run: (context, args) =>
    args.values.parents ? mkdirParents(context, args) : plainMkdir.run(context, args),
};

/** `canon rmdir PATH...`. */
export const rmdirCommand: CommandDef = pathCommand(
  "rmdir",
  "remove empty directories from the card",
  (cam, path) => cam.storage.rmdir(path),
  "removed",
);

/** `canon protect PATH... [--off]`. */
export const protectCommand: CommandDef = {
  name: "protect",
  usage: "PATH... [--off]",
  summary: "protect files against deletion (--off: remove the protection)",
  options: { off: { type: "boolean", help: "remove the protection" } },
  async run(context, args) {
    const paths = needPaths(args.positionals, "protect");
    const on = !args.values.off;
    const cam = await context.camera();
    const done: string[] = [];
    for (const path of paths) {
      const normal = toHostPath(splitCardPath(path));
      await cam.storage.setProtected(normal, on);
      done.push(normal);
      if (!context.json) context.print(`${on ? "protected" : "unprotected"} ${normal}`);
    }
    if (context.json) context.printJson({ [on ? "protected" : "unprotected"]: done });
  },
};
