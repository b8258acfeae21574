// Shared by the test files: whether an external tool is there. On CI every
// tool is installed by run.sh, so a missing one fails the run instead of
// quietly skipping tests.
import { libusbContextUsers } from "../src/usb/libusb_context.ts";
import { libusbTransfersInUse } from "../src/usb/libusb_pipeline.ts";

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

// ---- the tier-3 harness ----------------------------------------------------

/** What a tier-3 test may leave behind, counted before and after it. */
interface Leftovers {
  /** libusb transfers allocated and not freed. */
  transfers: number;
  /** Holds on the libusb context: open device handles and listings. */
  handles: number;
  /** `UMOCKDEV_DIR`: set while a testbed is open in this process. */
  testbed: string | undefined;
}

function leftoversNow(): Leftovers {
  return {
    transfers: libusbTransfersInUse(),
    handles: libusbContextUsers(),
    testbed: Deno.env.get("UMOCKDEV_DIR"),
  };
}

/**
 * What is still held now that was not before `before`: a libusb transfer, a
 * device handle (a hold on the libusb context), or an open umockdev testbed.
 * Waits up to `graceMs` for transfers and handles released asynchronously
 * (a cancelled transfer is freed by libusb's event handling).
 */
export async function leftoversSince(before: Leftovers, graceMs = 1000): Promise<string[]> {
  const deadline = performance.now() + graceMs;
  let now = leftoversNow();
  while (
    (now.transfers > before.transfers || now.handles > before.handles) &&
    performance.now() < deadline
  ) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    now = leftoversNow();
  }
  const left: string[] = [];
  if (now.transfers > before.transfers) {
    left.push(`${now.transfers - before.transfers} libusb transfer(s) not freed`);
  }
  if (now.handles > before.handles) {
    left.push(`${now.handles - before.handles} libusb device handle(s) or listing(s) not closed`);
  }
  if (now.testbed !== before.testbed) {
    left.push(`a umockdev testbed is still open (${now.testbed})`);
  }
  return left;
}

/** The state {@link leftoversSince} compares with. */
export function leftoversBefore(): Leftovers {
  return leftoversNow();
}

/** A tier-3 (or tier-4) test: as `Deno.test`'s definition, without the sanitizer switches. */
export interface Tier3Definition {
  /** The test's name. */
  name: string;
  /** Skip it (default: skipped when not running under libumockdev-preload, an error on CI). */
  ignore?: boolean;
  /** The test. */
  fn: (t: Deno.TestContext) => void | Promise<void>;
}

/**
 * Register a test that drives libusb and umockdev in this process.
 *
 * Deno's op and resource sanitizers cannot judge these tests: libusb's
 * nonblocking FFI calls and umockdev's dispatcher outlive a test by design,
 * so they are switched off here, once, and replaced by the checks that
 * matter: after the test, no libusb transfer is left allocated, no device
 * handle open (no hold on the libusb context) and no testbed open. A test
 * that leaves one fails, naming it (a failure of the test itself is reported
 * first, unmasked).
 */
export function tier3Test(definition: Tier3Definition): void {
  Deno.test({
    name: definition.name,
    ignore: definition.ignore ??
      skipWithout(underUmockdev, "LD_PRELOAD=libumockdev-preload.so.0"),
    sanitizeOps: false,
    sanitizeResources: false,
    async fn(t) {
      const before = leftoversBefore();
      try {
        await definition.fn(t);
      } catch (error) {
        await leftoversSince(before); // give cleanup its time; the test's own failure is reported
        throw error;
      }
      const left = await leftoversSince(before);
      if (left.length > 0) throw new Error(`the test left resources behind: ${left.join("; ")}`);
    },
  });
}

/** What a client script run by {@link runClient} printed, and how it ended. */
export interface ClientRun {
  /** Its exit code (SIGKILL's when it was killed). */
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run a script as a fresh `deno run --allow-all` process with a testbed's
 * environment, the way a user runs one: written to a temporary file (removed
 * after), killed if it has not ended within `timeoutMs`.
 *
 * @param source the script's text
 * @param env the environment to add (a testbed's `env()`)
 * @param options its file name's extension, and the time it may take
 * @returns its exit code and output
 */
export async function runClient(
  source: string,
  env: Record<string, string>,
  options: { extension?: "ts" | "js"; timeoutMs?: number } = {},
): Promise<ClientRun> {
  const dir = await Deno.makeTempDir({ prefix: "canon-client-" });
  try {
    const script = `${dir}/client.${options.extension ?? "ts"}`;
    await Deno.writeTextFile(script, source);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", script],
      env,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const killer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
    const out = await child.output();
    clearTimeout(killer);
    const text = new TextDecoder();
    return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
