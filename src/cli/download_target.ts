/**
 * `get -o`: a directory (the default), a file name when one file is
 * fetched (`get IMG_0001.JPG -o first.jpg`), or `-` for standard output
 * (`get IMG_0001.JPG -o - | exiftool -`).
 *
 * @module
 */

import { basename, dirname } from "../camera/host_path.ts";
import type { Camera } from "../camera/camera.ts";
import type { StorageEntry } from "../camera/storage.ts";
import type { CommandContext } from "./command.ts";
import { OutputClosedError, UsageError } from "./exit.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { FilenamePattern } from "./filename_pattern.ts";

/** Whether `-o PATH` names a file: one file fetched, PATH no directory, with an extension. */
export async function outputIsFile(
  output: string | undefined,
  files: readonly StorageEntry[],
): Promise<boolean> {
  if (output === undefined || output === "-" || files.length !== 1) return false;
  if (output.endsWith("/") || !/\.[^./]+$/.test(basename(output))) return false;
  try {
    return !(await Deno.stat(output)).isDirectory;
  } catch {
    return true;
  }
}

/**
 * `-o FILE` for one file: the directory and a pattern that is the name itself.
 *
 * @param output the path given
 * @returns the directory and the `--filename` value for it
 */
export function fileOutput(
  output: string,
): { directory: string; filename: { pattern: FilenamePattern; first: number } } {
  return {
    directory: dirname(output),
    filename: { pattern: new FilenamePattern(basename(output).replaceAll("%", "%%")), first: 1 },
  };
}

/**
 * `-o -`: one file to standard output, then marked downloaded (unless
 * `--keep-new`); messages stay on standard error.
 *
 * @param context the command's context
 * @param cam the camera
 * @param files what was selected (exactly one)
 * @param markDownloaded clear its "new" mark afterwards
 * @param write where the bytes go (default: this process's standard output)
 * @returns the bytes written
 */
export async function downloadToStdout(
  context: CommandContext,
  cam: Camera,
  files: readonly StorageEntry[],
  markDownloaded: boolean,
  write?: (bytes: Uint8Array) => Promise<void>,
): Promise<number> {
  if (files.length !== 1) {
    throw new UsageError(
      `-o - writes one file to standard output; ${files.length} are selected`,
      "get",
    );
  }
  if (context.json) throw new UsageError("-o - and --json both want standard output", "get");
  const [entry] = files;
  if (entry.isDirectory) {
    throw new UsageError(`${entry.path} is a directory; -o - takes one file`, "get");
  }
  const sink = write ?? (async (bytes: Uint8Array) => {
    let offset = 0;
    while (offset < bytes.length) offset += await Deno.stdout.write(bytes.subarray(offset));
  });
  const target = write || !context.io.stdout
    ? new WritableStream<Uint8Array>({ write: (chunk) => sink(chunk) })
    : context.io.stdout;
  const progress = context.progress(1, entry.size, "get");
  let result;
  try {
    progress.startFile(entry.name, entry.size);
    result = await cam.storage.download(entry.path, target, {
      onProgress: (done, total) => progress.update(done, total),
    });
  } catch (error) {
    if (error instanceof Deno.errors.BrokenPipe) throw new OutputClosedError();
    throw error;
  } finally {
    progress.finish();
  }
  if (result.size !== entry.size) {
    throw new ProtocolError(
      `${entry.path}: the camera sent ${result.size} bytes, its card lists the file with ${entry.size}`,
    );
  }
  if (markDownloaded && !entry.downloaded) await cam.storage.markDownloaded(entry.path);
  context.io.writeError(`${entry.path} -> standard output (${result.size} bytes)\n`);
  return result.size;
}
