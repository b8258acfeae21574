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
