// Shared by the test files: whether an external tool is there. On CI every
// tool is installed by run.sh, so a missing one fails the run instead of
// quietly skipping tests.

/** True when running under CI. */
export const CI: boolean = Deno.env.get("CI") === "true";

/** True when this process was started with umockdev's preload library. */
export const underUmockdev: boolean = (Deno.env.get("LD_PRELOAD") ?? "").includes(
  "libumockdev-preload",
);

/**
 * Whether tests needing `what` must be skipped: never on CI (a missing tool
 * there is an error), otherwise when it is unavailable.
 */
export function skipWithout(available: boolean, what: string): boolean {
  if (!available && CI) throw new Error(`${what} is required on CI but is not available`);
  return !available;
}

/** Whether `command --version` (or `args`) runs. */
export async function hasCommand(command: string, args = ["--version"]): Promise<boolean> {
  try {
    const out = await new Deno.Command(command, { args, stdout: "null", stderr: "null" }).output();
    return out.success;
  } catch {
    return false;
  }
}

/** What a gphoto2 run printed (stdout then stderr) and how it ended. */
export interface Gphoto2Run {
  /** Exit code. */
  code: number;
  /** Standard output followed by standard error. */
  out: string;
}

/**
 * Run gphoto2 in its own process against the devices of `testbed` (a
 * UmockdevTestbed); `cwd` receives downloads.
 */
export async function gphoto2(
  testbed: { env(): Record<string, string> },
  args: string[],
  cwd?: string,
): Promise<Gphoto2Run> {
  const out = await new Deno.Command("gphoto2", {
    args,
    env: { ...testbed.env(), LANG: "C" },
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    out: new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr),
  };
}
