/**
 * `--exec 'CMD {}'`: a shell command run for each file as soon as it is
 * complete on this computer, like gphoto2's `--hook-script`.
 *
 * `{}` is replaced by the local file's path, quoted for the shell; the
 * command runs under `sh -c` with, in its environment, `CANON_FILE` (the
 * local path), `CANON_CAMERA_PATH` (the path on the card, empty for a picture
 * that never was on it) and, as gphoto2 gives its hook scripts,
 * `ACTION=download` and `ARGUMENT` (the local path). Its output goes to the
 * command's standard error, so that `--json` output stays clean. A command
 * that fails is reported; the file stays where it is.
 *
 * @module
 */

import type { Camera } from "../camera/camera.ts";
import { CardPathNotFoundError } from "../camera/storage.ts";
import type { CommandContext } from "./command.ts";
import { errorMessage, EXIT, UsageError } from "./exit.ts";

/** A file just written. */
export interface HookFile {
  /** The local path. */
  file: string;
  /** The path on the card ("" when the picture was never on it). */
  path: string;
}

/**
 * A path quoted for `sh`.
 *
 * @param text any text
 * @returns it in single quotes, with its single quotes escaped
 */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/** A parsed `--exec` command. */
export class ExecHook {
  /** The command as given. */
  readonly command: string;
  readonly #write: (text: string) => void;

  /**
   * @param command the shell command; `{}` stands for the file
   * @param writeError where the command's output and failures go (standard error)
   * @throws {UsageError} for an empty command
   */
  constructor(command: string, writeError: (text: string) => void) {
    if (command.trim() === "") throw new UsageError("--exec wants a command, e.g. 'ls -l {}'");
    this.command = command;
    this.#write = writeError;
  }

  /**
   * Run the command for one file and wait for it.
   *
   * @param file the file
   * @returns its exit code (0: it worked)
   */
  async run(file: HookFile): Promise<number> {
    const script = this.command.includes("{}")
      ? this.command.replaceAll("{}", shellQuote(file.file))
      : this.command;
    const child = new Deno.Command("sh", {
      args: ["-c", script],
      env: {
        CANON_FILE: file.file,
        CANON_CAMERA_PATH: file.path,
        ACTION: "download",
        ARGUMENT: file.file,
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
    const out = await child.output();
    const decoder = new TextDecoder();
    const text = decoder.decode(out.stdout) + decoder.decode(out.stderr);
    if (text) this.#write(text.endsWith("\n") ? text : `${text}\n`);
    if (!out.success) {
      this.#write(
        `canon: --exec for ${file.file} ${
          out.signal ? `was killed by ${out.signal}` : `exited with ${out.code}`
        }; the file stays\n`,
      );
    }
    return out.code;
  }
}

/** The `--exec` option, for a command's option table. */
export const EXEC_OPTION = {
  exec: {
    type: "string",
    value: "CMD",
    help: "run CMD for each file written ({} is its path; $CANON_FILE, $CANON_CAMERA_PATH)",
  },
} as const;

/** What `get` and `watch` do after each file: `--exec`, and `--move`'s deletions. */
export interface AfterDownload {
  /** Run for each file complete on disk. */
  afterFile: (done: { path: string; file: string; size: number }) => Promise<void>;
  /**
   * After the batch: delete the moved files from the card (each only once its
   * local copy is complete), report what failed.
   *
   * @returns the exit code: 0, or 1 when a command or a deletion failed
   */
  finish(): Promise<number>;
}

/**
 * `--exec` and `--move` for a batch download.
 *
 * @param context the command's context (messages)
 * @param cam the camera (`--move` deletes from its card)
 * @param values the command's option values
 * @returns the hooks to pass to the batch and call after it
 */
export function afterDownload(
  context: CommandContext,
  cam: Camera,
  values: Record<string, unknown>,
): AfterDownload {
  // On a terminal the command's output starts on a line of its own, not after the progress line.
  const clear = context.io.errorIsTerminal && !context.json ? "\r\x1b[K" : "";
  const hook = values.exec === undefined
    ? undefined
    : new ExecHook(values.exec as string, (t) => context.io.writeError(clear + t));
  const move = Boolean(values.move);
  const moved: string[] = [];
  let failures = 0;
  return {
    async afterFile(done) {
      if (hook && await hook.run({ file: done.file, path: done.path }) !== 0) failures++;
      if (move) moved.push(done.path);
    },
    async finish() {
      const deleted: string[] = [];
      const downloaded = new Set(moved.map((p) => p.toUpperCase()));
      for (const path of moved) {
        const sidecar = path.replace(/\.(CRW|AVI)$/i, ".THM");
        if (sidecar !== path && !downloaded.has(sidecar.toUpperCase())) {
          const folder = path.slice(0, path.lastIndexOf("/")) || "/";
          const name = sidecar.slice(sidecar.lastIndexOf("/") + 1).toUpperCase();
          if ((await cam.storage.list(folder)).some((e) => e.name.toUpperCase() === name)) {
            failures++;
            context.io.writeError(
              `canon: ${path} stays on the card: deleting it deletes ${sidecar}, which was not ` +
                "downloaded (get both)\n",
            );
            continue;
          }
        }
        try {
          // A CRW's or AVI's .THM goes with it; it may have been moved already.
          await cam.storage.delete(path);
          deleted.push(path);
        } catch (error) {
          if (error instanceof CardPathNotFoundError) continue;
          failures++;
          context.io.writeError(
            `canon: ${path} was downloaded but stays on the card: ${errorMessage(error)}\n`,
          );
        }
      }
      if (move && !context.json) {
        context.print(
          `${deleted.length} file${deleted.length === 1 ? "" : "s"} deleted from the card`,
        );
      }
      return failures ? EXIT.OTHER : EXIT.OK;
    },
  };
}

/** `--move`, for the option table of `get`. */
export const MOVE_OPTION = {
  move: {
    type: "boolean",
    help: "delete each file from the card once it is complete here",
  },
} as const;
