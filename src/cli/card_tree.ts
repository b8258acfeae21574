/**
 * Whole trees on the card: `rm -R DIR`, `rm --all` (both asking first unless
 * `--yes`) and `mkdir -p`.
 *
 * @module
 */

import type { Camera } from "../camera/camera.ts";
import type { StorageEntry } from "../camera/storage.ts";
import { splitCardPath, toHostPath } from "../protocol/storage_codec.ts";
import type { CommandArgs, CommandContext } from "./command.ts";
import { UsageError } from "./exit.ts";
import { formatBytes } from "./format.ts";

/** What `rm -R` / `rm --all` will remove. */
export interface Removal {
  /** Files, deepest first. */
  files: StorageEntry[];
  /** Directories to remove after their files, deepest first (none for --all). */
  directories: string[];
  /** Protected files, which stay (with the directories holding them). */
  kept: StorageEntry[];
}

/**
 * The files (and, for `rm -R DIR`, directories) to remove.
 *
 * @param cam the camera
 * @param directories the directories of `rm -R` (empty with `all`)
 * @param all every file on the card (`rm --all`: files only, directories stay)
 * @returns what to remove, in an order that empties each directory before it goes
 */
export async function planRemoval(
  cam: Camera,
  directories: readonly string[],
  all: boolean,
): Promise<Removal> {
  const files: StorageEntry[] = [];
  const dirs: string[] = [];
  const depth = (p: string) => p.split("/").length;
  for (const top of all ? ["/"] : directories) {
    const entries = await cam.storage.list(top, { recursive: true });
    files.push(...entries.filter((e) => !e.isDirectory));
    if (!all) {
      dirs.push(...entries.filter((e) => e.isDirectory).map((e) => e.path));
      dirs.push(toHostPath(splitCardPath(top)));
    }
  }
  files.sort((a, b) => depth(b.path) - depth(a.path));
  dirs.sort((a, b) => depth(b) - depth(a));
  const kept = files.filter((f) => f.protected);
  const holds = (dir: string) => kept.some((f) => f.path.startsWith(`${dir}/`));
  return {
    files: files.filter((f) => !f.protected),
    directories: [...new Set(dirs)].filter((d) => d !== "/" && !holds(d)),
    kept,
  };
}

async function readLine(): Promise<string> {
  const buffer = new Uint8Array(256);
  let text = "";
  for (;;) {
    const n = await Deno.stdin.read(buffer);
    if (n === null) return text;
    text += new TextDecoder().decode(buffer.subarray(0, n));
    if (text.includes("\n")) return text.slice(0, text.indexOf("\n"));
  }
}

/**
 * Ask before deleting many files: on a terminal, "[y/N]"; otherwise refuse
 * (the command names --yes).
 *
 * @param context the command's context
 * @param removal what would go
 * @param yes `--yes` was given
 * @throws {UsageError} when there is nobody to ask
 * @returns true to go ahead
 */
export async function confirmRemoval(
  context: CommandContext,
  removal: Removal,
  yes: boolean,
): Promise<boolean> {
  if (yes) return true;
  const bytes = removal.files.reduce((n, e) => n + e.size, 0);
  const what = `${removal.files.length} file${removal.files.length === 1 ? "" : "s"} ` +
    `(${formatBytes(bytes)})` +
    (removal.directories.length
      ? ` and ${removal.directories.length} director${
        removal.directories.length === 1 ? "y" : "ies"
      }`
      : "");
  if (!Deno.stdin.isTerminal()) {
    throw new UsageError(`this deletes ${what} from the card; add --yes to go ahead`, "rm");
  }
  context.io.writeError(`Delete ${what} from the card? [y/N] `);
  const answer = (await readLine()).trim().toLowerCase();
  return answer === "y" || answer === "yes";
}

/**
 * `mkdir -p`: make each directory and its missing parents; one that exists is fine.
 *
 * @param context the command's context
 * @param args the paths
 */
export async function mkdirParents(context: CommandContext, args: CommandArgs): Promise<void> {
  if (args.positionals.length === 0) throw new UsageError("mkdir needs a PATH", "mkdir");
  const cam = await context.camera();
  const created: string[] = [];
  for (const path of args.positionals) {
    const segments = splitCardPath(path);
    for (let i = 1; i <= segments.length; i++) {
      const parent = toHostPath(segments.slice(0, i - 1));
      const here = (await cam.storage.list(parent)).find((e) =>
        e.name.toUpperCase() === segments[i - 1].toUpperCase()
      );
      const target = toHostPath(segments.slice(0, i));
      if (here && !here.isDirectory) {
        throw new UsageError(`${target} is a file, not a directory`, "mkdir");
      }
      if (here) continue;
      await cam.storage.mkdir(target);
      created.push(target);
      if (!context.json) context.print(`created ${target}`);
    }
  }
  if (context.json) context.printJson({ created });
}
