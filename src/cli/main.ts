/**
 * The `canon` command: every job of a Canon camera from the shell.
 *
 *     deno task canon -- [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]
 *     deno run --allow-all src/cli/main.ts --emulate info
 *
 * `canon --help` lists the commands, `canon COMMAND --help` explains one.
 *
 * @module
 */

import { parseArgs } from "node:util";
import denoJson from "../../deno.json" with { type: "json" };
import { emulatedModel } from "../emulator/emulated_models.ts";
import { setLogLevel } from "../protocol/log.ts";
import { camerasCommand, clockCommand, infoCommand, ownerCommand } from "./camera_commands.ts";
import { captureCommand, previewCommand, settingsCommand } from "./capture_commands.ts";
import { type CliIo, CommandContext, type CommandDef, type GlobalOptions } from "./command.ts";
import {
  type CameraSelection,
  connectCamera,
  type Connection,
  parsePort,
  virtualModel,
} from "./connect.ts";
import { errorMessage, EXIT, exitCodeOf, UsageError } from "./exit.ts";
import {
  getCommand,
  lsCommand,
  mkdirCommand,
  protectCommand,
  putCommand,
  rmCommand,
  rmdirCommand,
  thumbsCommand,
} from "./storage_commands.ts";
import { decodeCommand, udevRulesCommand } from "./tool_commands.ts";
import { watchCommand } from "./watch_command.ts";
import { webCommand } from "./web_command.ts";

/** Every sub-command, in the order `canon --help` lists them. */
export const COMMAND_TABLE: readonly CommandDef[] = [
  camerasCommand,
  infoCommand,
  lsCommand,
  getCommand,
  thumbsCommand,
  rmCommand,
  putCommand,
  mkdirCommand,
  rmdirCommand,
  protectCommand,
  ownerCommand,
  clockCommand,
  captureCommand,
  settingsCommand,
  previewCommand,
  watchCommand,
  webCommand,
  decodeCommand,
  udevRulesCommand,
];

const GLOBAL_HELP: readonly [string, string][] = [
  [
    "--emulate [MODEL]",
    "use the virtual camera, in this process (no camera, libusb or root needed)",
  ],
  ["--emulate-usb [MODEL]", "use the virtual camera through the real libusb and umockdev"],
  ["--camera MODEL|ID", "the camera with this model name or USB product id (e.g. 306e)"],
  ["--port usb:BUS,ADDR", "the camera at this USB port (as `canon cameras` shows it)"],
  ["--record FILE", "record the USB conversation to FILE (pcapng; Wireshark, canon decode)"],
  ["--trace", "trace every command and transfer on stderr (CANON_LOG=info)"],
  ["--debug", "trace with hex dumps, and show stack traces of errors"],
  ["--json", "machine-readable output on stdout"],
  ["--timeout MS", "timeout of one USB transfer (default 5000)"],
  ["--allow-unknown", "try a Canon product id the model table does not know"],
  ["-h, --help", "show help (canon COMMAND --help: the command's)"],
  ["--version", "show the version"],
];

const GLOBAL_OPTIONS = {
  emulate: { type: "string" },
  "emulate-usb": { type: "string" },
  camera: { type: "string" },
  port: { type: "string" },
  record: { type: "string" },
  trace: { type: "boolean" },
  debug: { type: "boolean" },
  json: { type: "boolean" },
  timeout: { type: "string" },
  "allow-unknown": { type: "boolean" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

/** Global options that take a value (the value is not the sub-command). */
const VALUED = new Set(["--camera", "--port", "--record", "--timeout"]);

function commandByName(name: string): CommandDef | undefined {
  return COMMAND_TABLE.find((c) => c.name === name);
}

function isModel(text: string): boolean {
  try {
    emulatedModel(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Split the command line: the sub-command's name, and the other arguments
 * with `--emulate [MODEL]` turned into `--emulate=MODEL` (parseArgs has no
 * optional values).
 */
function splitCommandLine(args: readonly string[]): { name: string | undefined; rest: string[] } {
  let name: string | undefined;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      rest.push(...args.slice(i));
      break;
    }
    if (arg === "--emulate" || arg === "--emulate-usb") {
      const next = args[i + 1];
      const model = next !== undefined && !commandByName(next) && isModel(next);
      rest.push(`${arg}=${model ? next : ""}`);
      if (model) i++;
      continue;
    }
    if (VALUED.has(arg)) {
      rest.push(arg);
      if (i + 1 < args.length) rest.push(args[++i]);
      continue;
    }
    if (name === undefined && !arg.startsWith("-")) {
      name = arg;
      continue;
    }
    rest.push(arg);
  }
  return { name, rest };
}

function optionLine(flag: string, text: string): string {
  return `  ${flag.padEnd(24)}${text}`;
}

/**
 * The text of `canon --help`.
 *
 * @returns the usage text
 */
export function mainHelp(): string {
  return [
    "canon: drive a Canon PowerShot, IXUS or early EOS camera over USB (native protocol)",
    "",
    "Usage: canon [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]",
    "",
    "Commands:",
    ...COMMAND_TABLE.map((c) => optionLine(c.name, c.summary)),
    "",
    "Global options (before or after the command):",
    ...GLOBAL_HELP.map(([flag, text]) => optionLine(flag, text)),
    "",
    "Exit codes:",
    "  0  done",
    "  1  other failure (a local file, libusb or umockdev missing, a bad capture file)",
    "  2  usage error (unknown command or option, bad value)",
    "  3  no camera (nothing connected, not the one asked for, PTP mode)",
    "  4  the camera or USB failed (error status, timeout, disconnect)",
    "",
    "Examples:",
    "  canon --emulate info                 try it with the virtual camera",
    "  canon ls -R /DCIM",
    "  canon get --new -o ~/Pictures        download what is new, mark it downloaded",
    "  canon --record s.pcapng info; canon decode s.pcapng",
    "",
    "Paths on the card look like /DCIM/100CANON/IMG_0001.JPG. CANON_LOG=info traces too.",
  ].join("\n");
}

/**
 * The text of `canon COMMAND --help`.
 *
 * @param command the sub-command
 * @returns its usage text
 */
export function commandHelp(command: CommandDef): string {
  const options = Object.entries(command.options).map(([name, spec]) =>
    optionLine(
      `${spec.short ? `-${spec.short}, ` : ""}--${name}${spec.value ? ` ${spec.value}` : ""}`,
      spec.help,
    )
  );
  return [
    `Usage: canon ${command.name}${command.usage ? ` ${command.usage}` : ""}`,
    "",
    `${command.summary[0].toUpperCase()}${command.summary.slice(1)}.`,
    ...(command.details ? ["", command.details] : []),
    ...(options.length ? ["", "Options:", ...options] : []),
    "",
    "Global options: --emulate [MODEL], --emulate-usb [MODEL], --camera, --port, --record FILE,",
    "--trace, --debug, --json, --timeout MS, --allow-unknown (canon --help explains them).",
  ].join("\n");
}

function globalOptions(values: Record<string, unknown>): GlobalOptions {
  let timeout: number | undefined;
  if (values.timeout !== undefined) {
    timeout = Number(values.timeout);
    if (!Number.isInteger(timeout) || timeout <= 0) {
      throw new UsageError(
        `--timeout wants milliseconds (a positive integer), not ${values.timeout}`,
      );
    }
  }
  if (values.emulate !== undefined && values["emulate-usb"] !== undefined) {
    throw new UsageError("give --emulate or --emulate-usb, not both");
  }
  const options: GlobalOptions = {
    emulate: values.emulate as string | undefined,
    emulateUsb: values["emulate-usb"] as string | undefined,
    camera: values.camera as string | undefined,
    port: values.port === undefined ? undefined : parsePort(values.port as string),
    record: values.record as string | undefined,
    timeout,
    allowUnknown: Boolean(values["allow-unknown"]),
    trace: Boolean(values.trace),
    debug: Boolean(values.debug),
    json: Boolean(values.json),
  };
  return options;
}

/** How {@link main} runs (for tests and embedding). */
export interface MainOptions {
  /** Output streams (default: the process's). */
  io?: CliIo;
  /** How to connect the camera (default: by the global options). */
  connect?: (selection: CameraSelection) => Promise<Connection>;
}

const encoder = new TextEncoder();

function processIo(): CliIo {
  const write = (file: typeof Deno.stdout, text: string) => {
    const bytes = encoder.encode(text);
    let offset = 0;
    while (offset < bytes.length) offset += file.writeSync(bytes.subarray(offset));
  };
  return {
    write: (text) => write(Deno.stdout, text),
    writeError: (text) => write(Deno.stderr, text),
    errorIsTerminal: Deno.stderr.isTerminal(),
  };
}

/**
 * Run the `canon` command.
 *
 * @param args the command line, without the program name
 * @param options output streams and camera connection (defaults: the process's)
 * @returns the exit code
 */
export async function main(args: readonly string[], options: MainOptions = {}): Promise<number> {
  const io = options.io ?? processIo();
  const { name, rest } = splitCommandLine(args);
  const command = name === undefined || name === "help" ? undefined : commandByName(name);
  let debug = rest.includes("--debug");
  let json = rest.includes("--json");
  let context: CommandContext | undefined;
  let logBefore: ReturnType<typeof setLogLevel> | undefined;
  try {
    if (name !== undefined && name !== "help" && !command) {
      const before = args[args.indexOf(name) - 1];
      if (before === "--emulate" || before === "--emulate-usb") virtualModel(name); // says which exist
      throw new UsageError(`unknown command ${JSON.stringify(name)}`);
    }
    if (name === "help") {
      const topic = rest.find((a) => !a.startsWith("-"));
      const about = topic === undefined ? undefined : commandByName(topic);
      if (topic !== undefined && !about) {
        throw new UsageError(`unknown command ${JSON.stringify(topic)}`);
      }
      io.write((about ? commandHelp(about) : mainHelp()) + "\n");
      return EXIT.OK;
    }
    const spec: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> =
      {
        ...GLOBAL_OPTIONS,
      };
    for (const [key, option] of Object.entries(command?.options ?? {})) {
      spec[key] = {
        type: option.type,
        ...(option.short ? { short: option.short } : {}),
        ...(option.multiple ? { multiple: true } : {}),
      };
    }
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: spec, allowPositionals: true, strict: true });
    } catch (error) {
      // node:util's messages go on about '--'; the first sentence says it.
      const message = error instanceof Error ? error.message : String(error);
      let text = message.split(/\.\s/)[0].replace(/\.$/, "");
      const ambiguous = /Option '(-[^']+)' argument is ambiguous/.exec(text);
      if (ambiguous) text += `: a value starting with "-" is written ${ambiguous[1]}=VALUE`;
      throw new UsageError(text, command?.name);
    }
    const values = parsed.values as Record<string, unknown>;
    if (values.version) {
      io.write(`canon ${denoJson.version} (canon-remote, Deno ${Deno.version.deno})\n`);
      return EXIT.OK;
    }
    if (values.help || !command) {
      if (!command && !values.help) {
        io.writeError(`${mainHelp()}\n`);
        return EXIT.USAGE;
      }
      io.write((command ? commandHelp(command) : mainHelp()) + "\n");
      return EXIT.OK;
    }
    const global = globalOptions(values);
    debug = global.debug;
    json = global.json;
    if (global.debug) logBefore = setLogLevel("debug");
    else if (global.trace) logBefore = setLogLevel("info");
    context = new CommandContext(io, global, options.connect ?? connectCamera);
    const code = await command.run(context, {
      values: values as Record<string, string | boolean | (string | boolean)[] | undefined>,
      positionals: parsed.positionals,
    });
    return code ?? EXIT.OK;
  } catch (error) {
    const code = exitCodeOf(error);
    if (json) {
      io.writeError(
        JSON.stringify({
          error: errorMessage(error),
          type: error instanceof Error ? error.name : typeof error,
          exitCode: code,
        }) + "\n",
      );
    } else {
      io.writeError(`canon${name && command ? ` ${name}` : ""}: ${errorMessage(error)}\n`);
      if (error instanceof UsageError) {
        const about = error.command === undefined ? undefined : commandByName(error.command);
        io.writeError(
          about
            ? `Usage: canon ${about.name} ${about.usage} (canon ${about.name} --help for more)\n`
            : "Run canon --help for the commands and options.\n",
        );
      }
      if (debug && error instanceof Error && error.stack) io.writeError(`${error.stack}\n`);
    }
    return code;
  } finally {
    try {
      await context?.close();
    } catch (error) {
      io.writeError(`canon: closing the camera: ${errorMessage(error)}\n`);
    }
    if (logBefore !== undefined) setLogLevel(logBefore);
  }
}

/** Whether libusb in this process can see umockdev's testbeds. */
function preloaded(): boolean {
  return (Deno.env.get("LD_PRELOAD") ?? "").includes("libumockdev-preload");
}

/**
 * `--emulate-usb` needs umockdev's preload library from the start: run this
 * program again with it (the same script under `deno run`, or the same
 * compiled executable).
 */
async function restartPreloaded(args: readonly string[]): Promise<number> {
  const exec = Deno.execPath();
  const isDeno = /(^|\/)deno(\.exe)?$/.test(exec);
  const child = new Deno.Command(exec, {
    args: isDeno ? ["run", "--allow-all", new URL(Deno.mainModule).href, ...args] : [...args],
    env: {
      LD_PRELOAD: ["libumockdev-preload.so.0", Deno.env.get("LD_PRELOAD")].filter(Boolean).join(
        ":",
      ),
    },
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const status = await child.status;
  return status.code;
}

if (import.meta.main) {
  const args = Deno.args;
  const wantsUsb = args.some((a) => a === "--emulate-usb" || a.startsWith("--emulate-usb="));
  Deno.exit(wantsUsb && !preloaded() ? await restartPreloaded(args) : await main(args));
}
