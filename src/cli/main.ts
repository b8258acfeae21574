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

import denoJson from "../../deno.json" with { type: "json" };
import { setLogLevel } from "../protocol/log.ts";
import { ArgsError, type ArgSpec, parseCommandArgs, type ParsedArgs } from "./args.ts";
import {
  type CliIo,
  CommandContext,
  type CommandDef,
  type GlobalOptions,
  guardedIo,
} from "./command.ts";
import type { CameraSelection, Connection } from "./connect.ts";
import { errorMessage, EXIT, exitCodeOf, OutputClosedError, UsageError } from "./exit.ts";
import { MAX_TIMEOUT_MS, parseCount, parsePort } from "./numbers.ts";
import { startLibusbEarly } from "../usb/libusb_context.ts";
import { handleSignals } from "./signals.ts";
import { PendingFile } from "../camera/pending_file.ts";

// Each sub-command's module is loaded only when that command runs (or for
// the help, which lists them all): `canon info` does not load the capture,
// storage, watch or trace code. Static specifiers, so that `deno bundle` and
// `deno compile` still take every module in.
const camera = () => import("./camera_commands.ts");
const capture = () => import("./capture_commands.ts");
const storage = () => import("./storage_commands.ts");
const tools = () => import("./tool_commands.ts");
// How a command reaches its camera (which loads the camera and protocol
// layers), loaded once the command line is read.
const connecting = () => import("./connect.ts");

/** Every sub-command by name, in the order `canon --help` lists them, with its loader. */
const COMMANDS: Readonly<Record<string, () => Promise<CommandDef>>> = {
  cameras: async () => (await camera()).camerasCommand,
  info: async () => (await camera()).infoCommand,
  ls: async () => (await storage()).lsCommand,
  get: async () => (await storage()).getCommand,
  thumbs: async () => (await storage()).thumbsCommand,
  rm: async () => (await storage()).rmCommand,
  put: async () => (await storage()).putCommand,
  mkdir: async () => (await storage()).mkdirCommand,
  rmdir: async () => (await storage()).rmdirCommand,
  protect: async () => (await storage()).protectCommand,
  owner: async () => (await camera()).ownerCommand,
  clock: async () => (await camera()).clockCommand,
  capture: async () => (await capture()).captureCommand,
  settings: async () => (await capture()).settingsCommand,
  preview: async () => (await capture()).previewCommand,
  watch: async () => (await import("./watch_command.ts")).watchCommand,
  web: async () => (await import("./web_command.ts")).webCommand,
  decode: async () => (await tools()).decodeCommand,
  "udev-rules": async () => (await tools()).udevRulesCommand,
};

/**
 * Every sub-command, in the order `canon --help` lists them (loads them all).
 *
 * @returns the command definitions
 */
export function commandTable(): Promise<CommandDef[]> {
  return Promise.all(Object.values(COMMANDS).map((load) => load()));
}

const GLOBAL_HELP: readonly [string, string][] = [
  [
    "--emulate [MODEL]",
    "use the virtual camera, in this process (no camera, libusb or root needed)",
  ],
  ["--emulate-usb [MODEL]", "use the virtual camera through the real libusb and umockdev"],
  ["--bus-model", "the virtual camera sends no faster than USB 1.1 full speed, as cameras do"],
  ["--card DIR", "the virtual camera's card serves the photos in DIR (with --emulate...)"],
  ["--card-persist", "keep the virtual card's changes in DIR (.canon-card.json, new pictures)"],
  ["--camera MODEL|ID", "the camera with this model name or USB product id (e.g. 306e)"],
  ["--port usb:BUS,ADDR", "the camera at this USB port (as `canon cameras` shows it)"],
  ["--record FILE", "record the USB conversation to FILE (pcapng; Wireshark, canon decode)"],
  ["--trace", "trace every command and transfer on stderr (CANON_LOG=info)"],
  ["--debug", "trace with hex dumps, and show stack traces of errors"],
  ["--json", "machine-readable output on stdout"],
  ["--timeout MS", "timeout of one USB transfer (default 5000, at most 3600000)"],
  ["--allow-unknown", "try a Canon product id the model table does not know"],
  ["-h, --help", "show help (canon COMMAND --help: the command's)"],
  ["--version", "show the version"],
];

const GLOBAL_OPTIONS = {
  emulate: { type: "string" },
  "emulate-usb": { type: "string" },
  "bus-model": { type: "boolean" },
  card: { type: "string" },
  "card-persist": { type: "boolean" },
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
const VALUED = new Set(["--camera", "--port", "--record", "--timeout", "--card"]);

function isCommand(name: string): boolean {
  return Object.hasOwn(COMMANDS, name);
}

function commandByName(name: string): Promise<CommandDef | undefined> {
  return isCommand(name) ? COMMANDS[name]() : Promise.resolve(undefined);
}

/** The virtual camera's model lookup, or undefined when the command line has no --emulate. */
type ModelCheck = ((text: string) => boolean) | undefined;

/** How `--emulate MODEL` tells a model from a command: loads the model table only for --emulate. */
async function modelCheck(args: readonly string[]): Promise<ModelCheck> {
  if (!args.some((a) => a === "--emulate" || a === "--emulate-usb")) return undefined;
  const { emulatedModel } = await (await connecting()).emulatedModels();
  return (text) => {
    try {
      emulatedModel(text);
      return true;
    } catch {
      return false;
    }
  };
}

/**
 * Split the command line: the sub-command's name, and the other arguments
 * with `--emulate [MODEL]` turned into `--emulate=MODEL` (an option's value
 * is never optional to the parser).
 */
function splitCommandLine(
  args: readonly string[],
  isModel: ModelCheck,
): { name: string | undefined; rest: string[] } {
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
      const model = next !== undefined && !isCommand(next) && isModel?.(next) === true;
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

/**
 * The command line without a leading `--`: `deno task canon -- info` passes
 * the `--` on to the program (current Deno does), and it is no end of options
 * there.
 *
 * @param args the command line
 * @returns it, without a first `--`
 */
export function withoutLeadingDashes(args: readonly string[]): readonly string[] {
  return args[0] === "--" ? args.slice(1) : args;
}

function optionLine(flag: string, text: string): string {
  return `  ${flag.padEnd(24)}${text}`;
}

/**
 * The text of `canon --help`.
 *
 * @returns the usage text
 */
export async function mainHelp(): Promise<string> {
  const commands = await commandTable();
  return [
    "canon: drive a Canon PowerShot, IXUS or early EOS camera over USB (native protocol)",
    "",
    "Usage: canon [GLOBAL OPTIONS] COMMAND [OPTIONS] [ARGS]",
    "",
    "Commands:",
    ...commands.map((c) => optionLine(c.name, c.summary)),
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
    "  129, 130, 143  ended by SIGHUP, Ctrl+C (SIGINT), SIGTERM (cleanly: no partial file left)",
    "  141  standard output closed by its reader (canon ls | head), quietly",
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
    "Global options: --emulate [MODEL], --emulate-usb [MODEL], --bus-model, --camera, --port,",
    "--record FILE, --trace, --debug, --json, --timeout MS, --allow-unknown, --card DIR,",
    "--card-persist (canon --help explains them).",
  ].join("\n");
}

function globalOptions(values: Record<string, unknown>): GlobalOptions {
  const timeout = values.timeout === undefined
    ? undefined
    : parseCount(values.timeout as string, "--timeout", {
      min: 1,
      max: MAX_TIMEOUT_MS,
      unit: "ms",
    });
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
    busModel: Boolean(values["bus-model"]),
    ...cardOptions(values),
    trace: Boolean(values.trace),
    debug: Boolean(values.debug),
    json: Boolean(values.json),
  };
  return options;
}

/** `--card DIR` and `--card-persist`, which only the virtual camera takes. */
function cardOptions(values: Record<string, unknown>): { card?: string; cardPersist?: boolean } {
  const card = values.card as string | undefined;
  if (card === undefined && !values["card-persist"]) return {};
  if (card === undefined) throw new UsageError("--card-persist needs --card DIR");
  if (values.emulate === undefined && values["emulate-usb"] === undefined) {
    throw new UsageError("--card DIR is the virtual camera's card: add --emulate or --emulate-usb");
  }
  return { card, cardPersist: Boolean(values["card-persist"]) };
}

/** How {@link main} runs (for tests and embedding). */
export interface MainOptions {
  /** Output streams (default: the process's). */
  io?: CliIo;
  /** How to connect the camera (default: by the global options). */
  connect?: (selection: CameraSelection) => Promise<Connection>;
  /**
   * Aborted when the command is to stop (a signal): its reason is what is
   * thrown, and its `exitCode` the exit code.
   */
  signal?: AbortSignal;
}

/** How long an interrupted command has to stop (remove its partial files) before it is left. */
const STOP_GRACE_MS = 5000;

/**
 * The command's result, or, once `signal` aborts, its reason as soon as the
 * command has stopped (or after {@link STOP_GRACE_MS}).
 */
async function untilInterrupted<T>(
  running: Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  if (!signal) return await running;
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([running, aborted]);
  } catch (error) {
    if (!signal.aborted) throw error;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      running.catch(() => undefined),
      new Promise((resolve) => timer = setTimeout(resolve, STOP_GRACE_MS)),
    ]);
    clearTimeout(timer);
    throw signal.reason;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

const encoder = new TextEncoder();

function processIo(): CliIo {
  const write = (file: typeof Deno.stdout, text: string) => {
    const bytes = encoder.encode(text);
    let offset = 0;
    try {
      while (offset < bytes.length) offset += file.writeSync(bytes.subarray(offset));
    } catch (error) {
      if (error instanceof Deno.errors.BrokenPipe) throw new OutputClosedError();
      throw error;
    }
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
export async function main(
  commandLine: readonly string[],
  options: MainOptions = {},
): Promise<number> {
  const io = guardedIo(options.io ?? processIo());
  const args = withoutLeadingDashes(commandLine);
  const { name, rest } = splitCommandLine(args, await modelCheck(args));
  const command = name === undefined || name === "help" ? undefined : await commandByName(name);
  let debug = rest.includes("--debug");
  let json = rest.includes("--json");
  let context: CommandContext | undefined;
  let logBefore: ReturnType<typeof setLogLevel> | undefined;
  try {
    if (name !== undefined && name !== "help" && !command) {
      const before = args[args.indexOf(name) - 1];
      if (before === "--emulate" || before === "--emulate-usb") {
        await (await connecting()).virtualModel(name); // says which exist
      }
      throw new UsageError(`unknown command ${JSON.stringify(name)}`);
    }
    if (name === "help") {
      const topic = rest.find((a) => !a.startsWith("-"));
      const about = topic === undefined ? undefined : await commandByName(topic);
      if (topic !== undefined && !about) {
        throw new UsageError(`unknown command ${JSON.stringify(topic)}`);
      }
      io.write((about ? commandHelp(about) : await mainHelp()) + "\n");
      return EXIT.OK;
    }
    const spec: Record<string, ArgSpec> = { ...GLOBAL_OPTIONS };
    for (const [key, option] of Object.entries(command?.options ?? {})) {
      spec[key] = {
        type: option.type,
        ...(option.short ? { short: option.short } : {}),
        ...(option.multiple ? { multiple: true } : {}),
      };
    }
    let parsed: ParsedArgs;
    try {
      parsed = parseCommandArgs(rest, spec);
    } catch (error) {
      if (!(error instanceof ArgsError)) throw error;
      let text = error.message;
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
        io.writeError(`${await mainHelp()}\n`);
        return EXIT.USAGE;
      }
      io.write((command ? commandHelp(command) : await mainHelp()) + "\n");
      return EXIT.OK;
    }
    const global = globalOptions(values);
    debug = global.debug;
    json = global.json;
    if (global.debug) logBefore = setLogLevel("debug");
    else if (global.trace) logBefore = setLogLevel("info");
    context = new CommandContext(
      io,
      global,
      options.connect ?? (async (selection) => (await connecting()).connectCamera(selection)),
      options.signal,
    );
    const code = await untilInterrupted(
      command.run(context, {
        values: parsed.values,
        positionals: parsed.positionals,
      }),
      options.signal,
    );
    return code ?? EXIT.OK;
  } catch (error) {
    const code = exitCodeOf(error);
    if (error instanceof OutputClosedError) return code; // the reader has what it wanted
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
        const about = error.command === undefined ? undefined : await commandByName(error.command);
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
    if (options.signal?.aborted) PendingFile.discardAllSync();
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
  // The child cleans up on a signal; this process passes on what it gets and waits for it.
  using _signals = handleSignals((signal) => {
    try {
      child.kill(signal);
    } catch {
      // Already ended.
    }
  });
  const status = await child.status;
  return status.signal ? 128 + signalNumber(status.signal) : status.code;
}

function signalNumber(signal: Deno.Signal): number {
  const numbers: Partial<Record<Deno.Signal, number>> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGKILL: 9,
    SIGPIPE: 13,
    SIGTERM: 15,
  };
  return numbers[signal] ?? 0;
}

/**
 * The commands that do not open a camera as soon as they start: `watch`
 * waits for cameras to come, the others need none.
 */
const NO_CAMERA_AT_ONCE: ReadonlySet<string> = new Set(["watch", "web", "decode", "udev-rules"]);

/**
 * Whether this command line goes to a real camera through libusb as soon as
 * it starts: then libusb is started before the command's modules load
 * (`startLibusbEarly`). Not for the virtual cameras (`--emulate-usb` puts
 * its device on the bus after start-up), nor for help, nor for `watch`,
 * which waits for cameras to come.
 */
export function opensCameraAtOnce(args: readonly string[]): boolean {
  for (const arg of args) {
    if (arg === "--") break;
    if (/^--(emulate|emulate-usb|card|help|version)(=|$)|^-h$/.test(arg)) return false;
  }
  const { name } = splitCommandLine(args, undefined);
  return name !== undefined && isCommand(name) && !NO_CAMERA_AT_ONCE.has(name);
}

if (import.meta.main) {
  const args = withoutLeadingDashes(Deno.args);
  const wantsUsb = args.some((a) => a === "--emulate-usb" || a.startsWith("--emulate-usb="));
  if (wantsUsb && !preloaded()) Deno.exit(await restartPreloaded(args));
  if (opensCameraAtOnce(args)) startLibusbEarly();
  const signals = handleSignals();
  const code = await main(args, { signal: signals.signal });
  signals[Symbol.dispose]();
  Deno.exit(code);
}
