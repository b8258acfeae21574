/**
 * `deno task emulate`: run a command with a virtual Canon camera plugged in.
 *
 *     deno task emulate [--model NAME] [--record FILE] [--bus-model] [--timing] [--verbose] [--quiet] -- COMMAND [ARGS...]
 *
 * The camera ({@link VirtualCamera}) is put in front of the real libusb
 * through umockdev ({@link UmockdevTestbed}); COMMAND (gphoto2, a script of
 * this project, anything libusb-based) runs with the testbed in its
 * environment, its standard streams inherited. The exit code is COMMAND's
 * (128 + signal number when a signal killed it; 127 when it does not exist;
 * 2 for a usage error). SIGINT, SIGTERM and SIGHUP are passed on to COMMAND
 * (the third one as SIGKILL); the testbed directory is removed however the
 * run ends, short of SIGKILL.
 *
 * @example
 * ```sh
 * deno task emulate -- gphoto2 --auto-detect
 * deno task emulate --model "PowerShot G3" --verbose -- gphoto2 --summary
 * ```
 *
 * @module
 */

import { emulatedModel } from "../emulator/engine/emulated_models.ts";
import { UmockdevTestbed } from "../emulator/umockdev/testbed.ts";
import { VirtualCamera } from "../emulator/host/virtual_camera.ts";
import { G3_TIMING } from "../emulator/engine/timing.ts";
import { UsbRecorder } from "../trace/recorder.ts";
import { recordFunction } from "../emulator/umockdev/record_function.ts";

/** The parsed command line of `deno task emulate`. */
export interface EmulateOptions {
  /** Camera model (default: the virtual camera's default). */
  model?: string;
  /** Trace every USB request on stderr. */
  verbose: boolean;
  /** Say nothing of our own on stderr (errors excepted). */
  quiet: boolean;
  /** Record the USB conversation to this pcapng file. */
  record?: string;
  /** Deliver bulk data no faster than a USB 1.1 full-speed bus (`VirtualCamera`'s `busModel`). */
  busModel?: boolean;
  /**
   * Answer each command only after the processing delay a real PowerShot G3
   * takes (`VirtualCamera`'s `timing`: {@link G3_TIMING}).
   */
  timing?: boolean;
  /** Print the usage text and exit 0. */
  help: boolean;
  /** The command and its arguments. */
  command: string[];
}

/** A command-line mistake: the usage text follows, exit code 2. */
export class EmulateUsageError extends Error {
  /**
   * Make a usage error.
   *
   * @param message what is wrong
   */
  constructor(message: string) {
    super(message);
    this.name = "EmulateUsageError";
  }
}

/** The usage text. */
export function emulateUsage(): string {
  return [
    "Usage: deno task emulate [--model NAME] [--record FILE] [--bus-model] [--timing] [--verbose]",
    "                         [--quiet] -- COMMAND [ARGS...]",
    "",
    "Runs COMMAND with a virtual Canon camera plugged in. The camera is emulated through",
    "umockdev, so libusb in COMMAND (gphoto2, this project's tools) sees a real USB device.",
    "Exits with COMMAND's exit code.",
    "",
    "Options:",
    `  --model NAME   the camera to emulate, one of: ${VirtualCamera.models.join(", ")}`,
    "  --record FILE  record the USB conversation to FILE (pcapng: Wireshark, canon decode)",
    "  --bus-model    deliver bulk data no faster than a USB 1.1 full-speed bus (1,216,000 B/s)",
    "  --timing       answer each command after the delay a real PowerShot G3 takes to process",
    "                 it (e.g. 50 ms for disk info, 2.7 s to enter remote mode; measured from a",
    "                 real G3's gphoto2 log, docs/real-cameras/timing.md)",
    "  -v, --verbose  trace every USB request on stderr",
    "  -q, --quiet    do not say which camera is attached where",
    "  -h, --help     show this text",
    "",
    "Example: deno task emulate -- gphoto2 --auto-detect",
  ].join("\n");
}

/**
 * Parse the arguments of `deno task emulate`. Options come first; the
 * command starts after `--` or at the first argument that is not an option.
 *
 * @param args the arguments (without the program name)
 * @returns the options
 * @throws {EmulateUsageError} on an unknown option, a missing value, an unknown model or no command
 */
export function parseEmulateArgs(args: readonly string[]): EmulateOptions {
  const options: EmulateOptions = { verbose: false, quiet: false, help: false, command: [] };
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      i++;
      break;
    }
    if (!arg.startsWith("-") || arg === "-") break;
    if (arg === "-v" || arg === "--verbose") options.verbose = true;
    else if (arg === "-q" || arg === "--quiet") options.quiet = true;
    else if (arg === "-h" || arg === "--help") options.help = true;
    else if (arg === "--bus-model") options.busModel = true;
    else if (arg === "--timing") options.timing = true;
    else if (arg === "--model" || arg.startsWith("--model=")) {
      const value = arg === "--model" ? args[++i] : arg.slice("--model=".length);
      if (value === undefined || value === "") {
        throw new EmulateUsageError("--model needs a model name");
      }
      options.model = value;
    } else if (arg === "--record" || arg.startsWith("--record=")) {
      const value = arg === "--record" ? args[++i] : arg.slice("--record=".length);
      if (value === undefined || value === "") {
        throw new EmulateUsageError("--record needs a file name");
      }
      options.record = value;
    } else {
      throw new EmulateUsageError(`unknown option ${arg}`);
    }
  }
  options.command = args.slice(i);
  if (options.help) return options;
  if (options.model !== undefined) {
    try {
      options.model = emulatedModel(options.model).name;
    } catch {
      throw new EmulateUsageError(
        `unknown model "${options.model}"; known models: ${VirtualCamera.models.join(", ")}`,
      );
    }
  }
  if (options.command.length === 0) throw new EmulateUsageError("no command given");
  return options;
}

// Linux signal numbers, for the 128 + n exit code of a command killed by a signal.
const SIGNAL_NUMBERS: Readonly<Record<string, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGBUS: 7,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGSEGV: 11,
  SIGUSR2: 12,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
  SIGXCPU: 24,
  SIGXFSZ: 25,
  SIGVTALRM: 26,
  SIGPROF: 27,
  SIGSYS: 31,
};

const FORWARDED_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** The shell-style exit code of a finished command. */
function exitCodeOf(status: Deno.CommandStatus): number {
  if (status.signal) return 128 + (SIGNAL_NUMBERS[status.signal] ?? 0);
  return status.code;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Run `deno task emulate` with `args`: plug the virtual camera in, run the
 * command, clean up.
 *
 * @param args the command line (without the program name)
 * @returns the exit code for the process
 */
export async function emulate(args: readonly string[]): Promise<number> {
  let options: EmulateOptions;
  try {
    options = parseEmulateArgs(args);
  } catch (error) {
    if (!(error instanceof EmulateUsageError)) throw error;
    console.error(`emulate: ${error.message}\n\n${emulateUsage()}`);
    return 2;
  }
  if (options.help) {
    console.log(emulateUsage());
    return 0;
  }

  // Listen before anything exists to clean up: a signal must never find the
  // default action (death without cleanup) once the testbed is there.
  using signals = new SignalRelay();
  const camera = new VirtualCamera({
    ...(options.model === undefined ? {} : { model: options.model }),
    ...(options.busModel ? { busModel: true } : {}),
    ...(options.timing ? { timing: G3_TIMING } : {}),
  });
  let testbed: UmockdevTestbed | undefined;
  let recorder: UsbRecorder | undefined;
  // Deno.exit() anywhere (and an uncaught error) still removes the testbed.
  const onUnload = (): void => testbed?.close();
  globalThis.addEventListener("unload", onUnload);
  try {
    testbed = UmockdevTestbed.open(
      options.verbose ? { log: (line) => console.error(line) } : {},
    );
    recorder = options.record === undefined ? undefined : UsbRecorder.create(options.record);
    const device = testbed.attach(
      recorder ? recordFunction(camera.usbFunction, recorder) : camera.usbFunction,
    );
    if (recorder) {
      recorder.bus = device.bus;
      recorder.device = device.address;
    }
    if (!options.quiet) {
      const id = `${hex4(camera.vendorId)}:${hex4(camera.productId)}`;
      console.error(
        `emulate: virtual Canon ${camera.model} (${id}) on bus ${pad3(device.bus)} device ` +
          `${pad3(device.address)} (${device.devnode}), umockdev testbed ${testbed.root}`,
      );
    }
    return await run(options.command, testbed.env(), signals);
  } catch (error) {
    console.error(`emulate: ${message(error)}`);
    return 1;
  } finally {
    testbed?.close();
    recorder?.close();
    globalThis.removeEventListener("unload", onUnload);
    await camera[Symbol.asyncDispose]();
  }
}

/**
 * Catches SIGINT, SIGTERM and SIGHUP for as long as it is not disposed, and
 * passes them on to the command once there is one (the third as SIGKILL).
 */
class SignalRelay implements Disposable {
  #child: Deno.ChildProcess | undefined;
  #received: Deno.Signal[] = [];
  #listeners = FORWARDED_SIGNALS.map((signal) => [signal, () => this.#on(signal)] as const);

  constructor() {
    for (const [signal, listener] of this.#listeners) Deno.addSignalListener(signal, listener);
  }

  /** The first signal received, if any. */
  get first(): Deno.Signal | undefined {
    return this.#received[0];
  }

  /** From now on, signals go to `child`. */
  relayTo(child: Deno.ChildProcess): void {
    this.#child = child;
    for (const signal of this.#received) this.#send(signal);
  }

  [Symbol.dispose](): void {
    for (const [signal, listener] of this.#listeners) Deno.removeSignalListener(signal, listener);
  }

  #on(signal: Deno.Signal): void {
    this.#received.push(signal);
    if (this.#child) this.#send(signal);
  }

  #send(signal: Deno.Signal): void {
    try {
      this.#child?.kill(this.#received.length >= 3 ? "SIGKILL" : signal);
    } catch {
      // Already gone.
    }
  }
}

/** Spawn the command, pass signals on to it, and return its exit code. */
async function run(
  command: readonly string[],
  env: Record<string, string>,
  signals: SignalRelay,
): Promise<number> {
  // Told to stop before the command started: do not start it.
  if (signals.first) return 128 + (SIGNAL_NUMBERS[signals.first] ?? 0);
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command[0], {
      args: command.slice(1),
      env,
      stdin: "inherit",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      console.error(`emulate: ${command[0]}: command not found`);
      return 127;
    }
    if (error instanceof Deno.errors.PermissionDenied) {
      console.error(`emulate: ${command[0]}: permission denied`);
      return 126;
    }
    throw error;
  }
  signals.relayTo(child);
  return exitCodeOf(await child.status);
}

const hex4 = (n: number): string => n.toString(16).padStart(4, "0");
const pad3 = (n: number): string => String(n).padStart(3, "0");

if (import.meta.main) {
  Deno.exit(await emulate(Deno.args));
}
