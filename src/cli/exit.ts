/**
 * Exit codes of the `canon` command and how errors map to them and to the
 * one-line message the user sees.
 *
 * @module
 */

import { CardPathNotFoundError } from "../camera/storage.ts";
import { CameraNotFoundError, CanonError } from "../protocol/errors.ts";
import { UsbError } from "../usb/errors.ts";
import { commandMessage } from "./messages.ts";

/** The exit codes, as `canon --help` documents them. */
export const EXIT = {
  /** Done. */
  OK: 0,
  /** Anything else: a local file problem, libusb or umockdev missing, a bad capture file. */
  OTHER: 1,
  /** The command line is wrong (unknown command or option, bad value). */
  USAGE: 2,
  /** No camera: nothing connected, not the one asked for, or in the wrong USB mode. */
  NO_CAMERA: 3,
  /** The camera or the USB link failed: an error status, a timeout, a disconnect. */
  CAMERA: 4,
  /** A signal ended the command: 128 + its number (HUP 129, INT 130, TERM 143). */
  SIGHUP: 129,
  /** Ctrl+C. */
  SIGINT: 130,
  /** Standard output was closed by its reader (`canon ls | head`), as a program killed by SIGPIPE. */
  SIGPIPE: 141,
  /** `kill`. */
  SIGTERM: 143,
} as const;

/**
 * Standard output was closed by the program reading it (`canon ls | head`):
 * the command stops quietly with {@link EXIT.SIGPIPE}, as Unix tools do.
 */
export class OutputClosedError extends Error {
  /** Make the error. */
  constructor() {
    super("standard output was closed");
    this.name = "OutputClosedError";
  }
}

/** The command line is wrong: the message and the command's usage follow, exit code 2. */
export class UsageError extends Error {
  /** The sub-command whose usage to show, if any. */
  readonly command: string | undefined;
  /**
   * Make the error.
   *
   * @param message what is wrong
   * @param command the sub-command concerned
   */
  constructor(message: string, command?: string) {
    super(message);
    this.name = "UsageError";
    this.command = command;
  }
}

/**
 * The exit code for an error.
 *
 * @param error what was thrown
 * @returns one of {@link EXIT}
 */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT.USAGE;
  if (error instanceof OutputClosedError) return EXIT.SIGPIPE;
  if (error instanceof Error && error.name === "InterruptedError" && "exitCode" in error) {
    return error.exitCode as number;
  }
  if (error instanceof CameraNotFoundError) return EXIT.NO_CAMERA;
  // The camera answered fine: the path the user gave is not on its card.
  if (error instanceof CardPathNotFoundError) return EXIT.OTHER;
  // A capture file that cannot be read is the file's fault, not the camera's.
  if (error instanceof Error && /^(TraceFormatError|TraceDecodeError)$/.test(error.name)) {
    return EXIT.OTHER;
  }
  if (error instanceof CanonError || error instanceof UsbError) return EXIT.CAMERA;
  // Values the library refuses before anything is sent (an owner name too long, a bad path).
  if (error instanceof RangeError) return EXIT.USAGE;
  return EXIT.OTHER;
}

/**
 * The one-line message for an error (its hint included).
 *
 * @param error what was thrown
 * @returns the message, without a stack trace
 */
export function errorMessage(error: unknown): string {
  if (error instanceof Deno.errors.PermissionDenied) {
    return `${error.message} (run with --allow-all, or the --allow-* flag it names)`;
  }
  const ours = commandMessage(error);
  if (ours !== undefined) return ours;
  if (error instanceof Error) return inCommandTerms(error.message.replace(/\s*\n\s*/g, " "));
  return String(error);
}

/**
 * A library message said the command's way: `pass { overwrite: true } (CLI:
 * --overwrite)` becomes `use --overwrite`.
 */
function inCommandTerms(message: string): string {
  return message.replace(
    /\b([Pp])ass \{ [a-zA-Z]+: true \} \(CLI: (--[a-z-]+)\)/g,
    (_, p: string, flag: string) => `${p === "P" ? "U" : "u"}se ${flag}`,
  );
}
