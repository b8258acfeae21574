/**
 * Ctrl+C, SIGTERM and SIGHUP for the `canon` command: the first one aborts
 * the running command (transfers stop, partial files are removed, the
 * camera is closed, which leaves remote mode and unlocks its keys), and the
 * program exits with 128 + the signal's number. A second signal more than a
 * second later exits at once, still removing partial files. (A terminal
 * sends Ctrl+C to every process of the job, and `--emulate-usb`'s parent
 * forwards what it gets to its child: repeats within that second are the
 * same interruption.)
 *
 * @module
 */

import { PendingFile } from "../camera/pending_file.ts";
import { EXIT } from "./exit.ts";

/** The signals handled, and their exit codes. */
export const HANDLED_SIGNALS: readonly (readonly [Deno.Signal, number])[] = [
  ["SIGINT", EXIT.SIGINT],
  ["SIGTERM", EXIT.SIGTERM],
  ["SIGHUP", EXIT.SIGHUP],
];

/** Repeats of a signal within this many milliseconds are the same interruption. */
const SAME_INTERRUPTION_MS = 1000;

/** The command was interrupted by a signal. */
export class InterruptedError extends Error {
  /** The signal, e.g. "SIGINT". */
  readonly signal: Deno.Signal;
  /** The exit code: 128 + the signal's number. */
  readonly exitCode: number;
  /**
   * Make the error.
   *
   * @param signal the signal
   * @param exitCode its exit code
   */
  constructor(signal: Deno.Signal, exitCode: number) {
    super(`interrupted by ${signal === "SIGINT" ? "Ctrl+C (SIGINT)" : signal}`);
    this.name = "InterruptedError";
    this.signal = signal;
    this.exitCode = exitCode;
  }
}

/** Handlers installed by {@link handleSignals}; remove them with `dispose`. */
export interface SignalHandling extends Disposable {
  /** Aborted, with an {@link InterruptedError} as reason, at the first signal. */
  readonly signal: AbortSignal;
}

/**
 * Install the handlers (where the platform has the signals).
 *
 * @param onSignal also called for each signal (`--emulate-usb` forwards it to its child)
 * @returns the abort signal and how to remove the handlers
 */
export function handleSignals(onSignal?: (signal: Deno.Signal) => void): SignalHandling {
  const controller = new AbortController();
  let first = 0;
  const installed: [Deno.Signal, () => void][] = [];
  for (const [name, code] of HANDLED_SIGNALS) {
    const listener = () => {
      onSignal?.(name);
      if (!controller.signal.aborted) {
        first = performance.now();
        controller.abort(new InterruptedError(name, code));
        return;
      }
      if (performance.now() - first < SAME_INTERRUPTION_MS) return;
      PendingFile.discardAllSync();
      Deno.exit(code);
    };
    try {
      Deno.addSignalListener(name, listener);
      installed.push([name, listener]);
    } catch {
      // Not on this platform (Windows has SIGINT and SIGBREAK only).
    }
  }
  return {
    signal: controller.signal,
    [Symbol.dispose]() {
      for (const [name, listener] of installed) Deno.removeSignalListener(name, listener);
    },
  };
}
