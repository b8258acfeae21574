/**
 * What every sub-command of `canon` is made of, and the context it runs in:
 * standard output and error, the global options, the camera (connected on
 * first use, closed after the command), JSON output and progress.
 *
 * @module
 */

import type { Camera } from "../camera/camera.ts";
import type { CameraSelection, Connection } from "./connect.ts";
import { TransferProgress } from "./progress.ts";

/** Where the command's output goes. */
export interface CliIo {
  /** Write to standard output. */
  write(text: string): void;
  /** Write to standard error. */
  writeError(text: string): void;
  /** Whether standard error is a terminal (progress is drawn only then). */
  errorIsTerminal: boolean;
  /** Standard output for bytes (`get -o -`); default the process's. */
  stdout?: WritableStream<Uint8Array>;
  /**
   * Standard error for terminal control (the progress line's redraws); the
   * `canon` command escapes control characters in everything else it prints.
   */
  writeErrorRaw?(text: string): void;
}

/** C0 controls but newline and tab, DEL, and C1 controls: what a terminal would obey. */
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/**
 * Text with its control characters shown as `\u001b` (valid in JSON strings
 * too), so that a name from the camera cannot retitle or clear the terminal.
 *
 * @param text what to print
 * @returns it, safe to print
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * Output streams that print control characters escaped (see
 * {@link escapeControls}); `writeErrorRaw` passes terminal control through.
 *
 * @param io the streams
 * @returns the guarded streams
 */
export function guardedIo(io: CliIo): CliIo {
  return {
    write: (text) => io.write(escapeControls(text)),
    writeError: (text) => io.writeError(escapeControls(text)),
    writeErrorRaw: (text) => (io.writeErrorRaw ?? io.writeError)(text),
    errorIsTerminal: io.errorIsTerminal,
    stdout: io.stdout,
  };
}

/** The global options. */
export interface GlobalOptions extends CameraSelection {
  /** Trace commands and transfers (`CANON_LOG=info`). */
  trace: boolean;
  /** Trace with hex dumps, and show stack traces of errors. */
  debug: boolean;
  /** Machine-readable output. */
  json: boolean;
}

/** An option of a sub-command, as `parseCommandArgs` (args.ts) takes it, with its help text. */
export interface OptionSpec {
  /** "boolean" or "string". */
  type: "boolean" | "string";
  /** One-letter form. */
  short?: string;
  /** May be given more than once. */
  multiple?: boolean;
  /** The value's name in the help, e.g. "DIR". */
  value?: string;
  /** What it does. */
  help: string;
}

/** The parsed arguments of a sub-command. */
export interface CommandArgs {
  /** Option values by name. */
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  /** The positional arguments. */
  positionals: string[];
}

/** One sub-command. */
export interface CommandDef {
  /** Its name, e.g. "ls". */
  name: string;
  /** The arguments after the name in the usage line, e.g. "[-R] [PATH]". */
  usage: string;
  /** One line for the command list. */
  summary: string;
  /** More lines for `canon NAME --help`. */
  details?: string;
  /** Its own options. */
  options: Record<string, OptionSpec>;
  /** Run it; returns the exit code (default 0). */
  run(context: CommandContext, args: CommandArgs): Promise<number | void>;
}

/** What a sub-command runs with. */
export class CommandContext {
  /** Standard output and error. */
  readonly io: CliIo;
  /** The global options. */
  readonly options: GlobalOptions;
  /** Aborted when the command is to stop (Ctrl+C, SIGTERM, SIGHUP); pass it to transfers. */
  readonly signal: AbortSignal | undefined;
  #connect: (selection: CameraSelection) => Promise<Connection>;
  #connection: Connection | undefined;

  /**
   * Make the context.
   *
   * @param io output streams
   * @param options the global options
   * @param connect how to connect the camera
   * @param signal aborted when the command is to stop
   */
  constructor(
    io: CliIo,
    options: GlobalOptions,
    connect: (selection: CameraSelection) => Promise<Connection>,
    signal?: AbortSignal,
  ) {
    this.io = io;
    this.options = options;
    this.#connect = connect;
    this.signal = signal;
  }

  /** Whether output is JSON. */
  get json(): boolean {
    return this.options.json;
  }

  /**
   * Print a line on standard output.
   *
   * @param line the text (default: an empty line)
   */
  print(line = ""): void {
    this.io.write(`${line}\n`);
  }

  /**
   * Print lines on standard output.
   *
   * @param lines the lines
   */
  printLines(lines: readonly string[]): void {
    if (lines.length) this.io.write(lines.join("\n") + "\n");
  }

  /**
   * Print a value as JSON on standard output (dates as ISO strings).
   *
   * @param value what to print
   */
  printJson(value: unknown): void {
    this.io.write(JSON.stringify(value, null, 2) + "\n");
  }

  /**
   * A remark for people on standard error (not in JSON mode).
   *
   * @param line the text
   */
  note(line: string): void {
    if (!this.json) this.io.writeError(`${line}\n`);
  }

  /** The connection, once {@link CommandContext.camera} has made it. */
  get connection(): Connection | undefined {
    return this.#connection;
  }

  /**
   * The camera, connected on first use.
   *
   * @returns the camera
   */
  async camera(): Promise<Camera> {
    if (!this.#connection) {
      this.#connection = await this.#connect(this.options);
      if (this.#connection.virtual) this.note(`canon: using the ${this.#connection.label}`);
    }
    return this.#connection.camera;
  }

  /**
   * A progress line for a batch (drawn only on a terminal, never with --json).
   *
   * @param files files in the batch
   * @param bytes bytes in the batch (0 when unknown)
   * @param verb "get", "put", "thumb"
   * @returns the progress
   */
  progress(files: number, bytes: number, verb: string): TransferProgress {
    return new TransferProgress({
      write: (text) => (this.io.writeErrorRaw ?? this.io.writeError)(text),
      enabled: this.io.errorIsTerminal && !this.json,
      files,
      bytes,
      verb,
    });
  }

  /** Close the camera if one was connected. */
  async close(): Promise<void> {
    const connection = this.#connection;
    this.#connection = undefined;
    await connection?.close();
  }
}
