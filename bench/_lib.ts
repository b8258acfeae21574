// Helpers shared by the benchmarks (bench/storage_bench.ts, bench/compare.ts):
// a card with big files, timing, medians, and child processes timed with
// their CPU use.
import process from "node:process";
import { MemoryCard } from "../src/emulator/card/memory_card.ts";

/** Bytes in a mebibyte. */
export const MIB = 1024 * 1024;

/** A memory card holding files of the given sizes (their bytes are made on demand). */
export function benchCard(files: readonly { path: string; size: number }[]): MemoryCard {
  return new MemoryCard({ content: files.map((f) => ({ ...f })), capacity: 0xfff00000 });
}

/** Decimal megabytes per second. */
export function mbps(bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1000);
}

/** The median (the upper one of an even count). */
export function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

/** Milliseconds `body` takes. */
export async function timeIt(body: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await body();
  return performance.now() - start;
}

/** A sink that throws the bytes away. */
export function nullSink(): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({ write() {} });
}

/** CPU seconds this process has used so far (all its threads: user + system). */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/** What {@link runMeasured} found. */
export interface ChildRun {
  /** Wall time of the whole command, ms. */
  ms: number;
  /** CPU seconds the command used (user + system, its own children included). */
  cpu: number;
  /** Its standard output. */
  stdout: string;
  /** Its standard error (without the CPU report). */
  stderr: string;
}

/**
 * Run a command to its end, measuring wall time and CPU time. The CPU time
 * comes from bash's `times` builtin, run after the command in the same
 * shell: its second line is the user and system time of the shell's
 * finished children, the command (and whatever it spawned) alone.
 *
 * @param command program
 * @param args its arguments
 * @param options environment additions and working directory
 * @returns wall ms, CPU seconds and output
 * @throws Error when the command fails
 */
export async function runMeasured(
  command: string,
  args: readonly string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<ChildRun> {
  const script = '"$@"; rc=$?; echo "@@times" >&2; times >&2; exit $rc';
  const start = performance.now();
  const out = await new Deno.Command("bash", {
    args: ["-c", script, "bash", command, ...args],
    env: options.env,
    cwd: options.cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - start;
  const stdout = new TextDecoder().decode(out.stdout);
  const text = new TextDecoder().decode(out.stderr);
  const [stderr, report = ""] = text.split("@@times\n");
  if (!out.success) {
    throw new Error(`${command} ${args.join(" ")} failed (exit ${out.code}): ${stderr.trim()}`);
  }
  // "0m0.012s 0m0.004s" (the shell) then the same for its children.
  const children = report.trim().split("\n")[1] ?? "";
  const times = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) =>
    Number(m[1]) * 60 + Number(m[2])
  );
  return { ms, cpu: times.length === 2 ? times[0] + times[1] : NaN, stdout, stderr };
}

/** Whether a command runs (`command --version`). */
export async function hasCommand(command: string): Promise<boolean> {
  try {
    const out = await new Deno.Command(command, {
      args: ["--version"],
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

/** Format a number with `digits` decimals, or "n/a". */
export function fmt(value: number | undefined, digits = 1): string {
  return value === undefined || !Number.isFinite(value) ? "n/a" : value.toFixed(digits);
}
