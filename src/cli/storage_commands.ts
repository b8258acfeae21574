/**
 * `canon ls`, `get`, `thumbs`, `rm`, `put`, `mkdir`, `rmdir` and `protect`:
 * the memory card from the shell.
 *
 * @module
 */

import { basename, join } from "node:path";
import type { Camera } from "../camera/camera.ts";
import { CardPathNotFoundError, type StorageEntry } from "../camera/storage.ts";
import { STATUS } from "../protocol/commands.ts";
import { CameraStatusError } from "../protocol/errors.ts";
import { splitCardPath, toHostPath } from "../protocol/storage_codec.ts";
import type { CommandContext, CommandDef } from "./command.ts";
import { EXIT, UsageError } from "./exit.ts";
import { formatBytes, formatDate, table } from "./format.ts";
import { pathExists } from "../camera/pending_file.ts";
import { expandSelection, fileNumbers } from "./selection.ts";
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

/** The entry at `path` (a file or a directory), found by listing its parent. */
async function stat(cam: Camera, path: string): Promise<StorageEntry> {
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
  const name = segments[segments.length - 1];
  const parent = toHostPath(segments.slice(0, -1));
  const found = (await cam.storage.list(parent)).find((e) => e.name === name);
  if (!found) throw new CardPathNotFoundError(toHostPath(segments));
  return found;
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
    const entry = await stat(cam, path);
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
      const entry = await stat(cam, path); // a file: show it alone
      if (entry.isDirectory) throw error;
      entries = [entry];
    }
    const numbers = await fileNumbers(cam);
    if (context.json) {
      context.printJson(
        entries.map((e) => ({ ...entryJson(e), number: numbers.get(e.path) ?? null })),
      );
      return;
    }
    const files = entries.filter((e) => !e.isDirectory);
    context.printLines(table(
      entries.map((e) => [
        numbers.has(e.path) ? `#${numbers.get(e.path)}` : "",
        recursive ? e.path + (e.isDirectory ? "/" : "") : e.name + (e.isDirectory ? "/" : ""),
        e.isDirectory ? "-" : String(e.size),
        formatDate(e.date),
        flags(e),
      ]),
      [2],
    ));
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
  /** Skip files that exist locally. */
  skipExisting: boolean;
  /** Replace files that exist locally. */
  overwrite: boolean;
  /** Clear the camera's "new" mark of each file downloaded (default true). */
  markDownloaded: boolean;
  /** Name each file by this gphoto2 `--filename` pattern (below `directory`). */
  filename?: { pattern: FilenamePattern; first: number };
  /** Called when a file is complete on disk (and marked): `--exec`, `--move`. */
  afterFile?: (done: { path: string; file: string; size: number }) => Promise<void>;
}

/** What a batch download did. */
export interface DownloadBatchResult {
  /** Files written. */
  downloaded: { path: string; file: string; size: number; marked: boolean }[];
  /** Files skipped because they existed locally. */
  skipped: { path: string; file: string }[];
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

/** Decide where each file goes; refuse clashes before anything is transferred. */
async function plan(
  entries: readonly StorageEntry[],
  options: DownloadBatchOptions,
  rename?: (name: string) => string,
): Promise<{ entry: StorageEntry; target: string; skip: boolean }[]> {
  const targets = new Map<string, string>();
  const out: { entry: StorageEntry; target: string; skip: boolean }[] = [];
  for (const [index, entry] of entries.entries()) {
    const target = targetOf(entry, options, rename, index);
    const clash = targets.get(target);
    if (clash) {
      throw new UsageError(
        `${clash} and ${entry.path} would both be written to ${target}; use --tree to keep the card's directories`,
      );
    }
    targets.set(target, entry.path);
    let skip = false;
    if (!options.overwrite && await pathExists(target)) {
      if (!options.skipExisting) {
        throw new Deno.errors.AlreadyExists(
          `${target} already exists; use --skip-existing to leave it, or --overwrite to replace it`,
        );
      }
      skip = true;
    }
    out.push({ entry, target, skip });
  }
  return out;
}

/**
 * Download files into a directory with progress, marking them downloaded.
 *
 * @param context the command's context (progress, notes)
 * @param cam the camera
 * @param entries the files
 * @param options where and how
 * @returns what was written and skipped
 */
export async function downloadFiles(
  context: CommandContext,
  cam: Camera,
  entries: readonly StorageEntry[],
  options: DownloadBatchOptions,
): Promise<DownloadBatchResult> {
  const start = performance.now();
  const work = await plan(entries, options);
  const result: DownloadBatchResult = { downloaded: [], skipped: [], bytes: 0, seconds: 0 };
  const todo = work.filter((w) => !w.skip);
  const progress = context.progress(
    todo.length,
    todo.reduce((n, w) => n + w.entry.size, 0),
    "get",
  );
  try {
    for (const { entry, target, skip } of work) {
      if (skip) {
        result.skipped.push({ path: entry.path, file: target });
        continue;
      }
      await Deno.mkdir(join(target, ".."), { recursive: true });
      progress.startFile(entry.name, entry.size);
      const done = await cam.storage.download(entry.path, target, {
        overwrite: options.overwrite,
        onProgress: (bytes, total) => progress.update(bytes, total),
      });
      progress.endFile();
      let marked = false;
      if (options.markDownloaded && !entry.downloaded) {
        await cam.storage.markDownloaded(entry.path);
        marked = true;
      }
      result.downloaded.push({ path: entry.path, file: target, size: done.size, marked });
      result.bytes += done.size;
      await options.afterFile?.({ path: entry.path, file: target, size: done.size });
    }
  } finally {
    progress.finish();
  }
  result.seconds = (performance.now() - start) / 1000;
  return result;
}

/**
 * Print what a batch download did (JSON with --json).
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
    context.printJson(result);
    return;
  }
  for (const d of result.downloaded) {
    context.print(`${d.path} -> ${d.file} (${formatBytes(d.size)})`);
  }
  for (const s of result.skipped) context.print(`${s.path}: skipped, ${s.file} exists`);
  const n = result.downloaded.length;
  const rate = result.seconds > 0
    ? ` in ${result.seconds.toFixed(1)} s, ${
      formatBytes(Math.round(result.bytes / result.seconds))
    }/s`
    : "";
  context.print(
    `${n} ${what}${n === 1 ? "" : "s"} downloaded (${formatBytes(result.bytes)})${n ? rate : ""}` +
      (result.skipped.length ? `, ${result.skipped.length} skipped` : ""),
  );
}

const DOWNLOAD_OPTIONS = {
  output: {
    type: "string",
    short: "o",
    value: "DIR",
    help: "where to put the files (default: .); for one file also FILE, or - (standard output)",
  },
  "skip-existing": { type: "boolean", help: "leave files that exist locally alone" },
  overwrite: { type: "boolean", help: "replace files that exist locally" },
  tree: { type: "boolean", help: "keep the card's directories below DIR" },
} as const;

function batchOptions(values: Record<string, unknown>, command: string): DownloadBatchOptions {
  if (values["skip-existing"] && values.overwrite) {
    throw new UsageError("give --skip-existing or --overwrite, not both", command);
  }
  return {
    directory: (values.output as string | undefined) ?? ".",
    tree: Boolean(values.tree),
    skipExisting: Boolean(values["skip-existing"]),
    overwrite: Boolean(values.overwrite),
    markDownloaded: !values["keep-new"],
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
    "Files are written under a temporary name and renamed when complete. Each file the camera\n" +
    "marked as new is marked downloaded afterwards (as Canon's own software does), unless\n" +
    "--keep-new is given; `get --new` therefore fetches each picture once. A PATH may also be\n" +
    "a number as `canon ls` shows it (3, 1-5,9) or a pattern ('/DCIM/*/IMG_00*.JPG').",
  options: {
    ...DOWNLOAD_OPTIONS,
    ...FILENAME_OPTIONS,
    ...EXEC_OPTION,
    ...MOVE_OPTION,
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
    let options = batchOptions(values, "get");
    const cam = await context.camera();
    const paths = positionals.length ? await expandSelection(cam, positionals, "get") : ["/"];
    let files = await filesOf(cam, values.all ? ["/"] : paths);
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
    });
    printDownloads(context, result);
    return await after.finish();
  },
};

const HAS_THUMBNAIL = /\.(JPG|JPEG|CRW|CR2|AVI)$/i;

/** `canon thumbs [PATH...] [-o DIR]`. */
export const thumbsCommand: CommandDef = {
  name: "thumbs",
  usage: "[PATH...] [-o DIR] [--skip-existing | --overwrite] [--tree]",
  summary: "save thumbnails (JPEG) as thumb_NAME.jpg, of PATH... or of every picture",
  options: { ...DOWNLOAD_OPTIONS },
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
    const work = await plan(files, options, rename);
    const progress = context.progress(work.filter((w) => !w.skip).length, 0, "thumb");
    const written: { path: string; file: string; size: number }[] = [];
    const skipped: { path: string; file: string }[] = [];
    try {
      for (const { entry, target, skip } of work) {
        if (skip) {
          skipped.push({ path: entry.path, file: target });
          continue;
        }
        progress.startFile(entry.name, 0);
        const jpeg = await cam.storage.thumbnail(entry.path);
        await Deno.mkdir(join(target, ".."), { recursive: true });
        await Deno.writeFile(target, jpeg, { createNew: !options.overwrite });
        progress.update(jpeg.length, jpeg.length);
        progress.endFile();
        written.push({ path: entry.path, file: target, size: jpeg.length });
      }
    } finally {
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
        const entry = await stat(cam, path);
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
        entry = await stat(cam, path);
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
    "upper-cased, as the camera's FAT file system has them.",
  options: {
    name: { type: "string", value: "NAME", help: "the name on the card (one FILE only)" },
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
        const path = await cam.storage.upload(file, directory, {
          name,
          onProgress: (done, total) => progress.update(done, total),
        });
        progress.endFile();
        uploaded.push({ file, path, size: sizes[i] });
      }
    } finally {
      progress.finish();
    }
    if (context.json) {
      context.printJson({ uploaded });
      return;
    }
    for (const u of uploaded) context.print(`${u.file} -> ${u.path} (${formatBytes(u.size)})`);
  },
};

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
        await act(cam, normal);
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
