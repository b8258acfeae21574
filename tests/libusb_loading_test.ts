// Loading libusb-1.0: what a user sees when the library or the permission is
// missing. Each case runs in a child Deno process, so this process's cached
// library handle stays out of it. The children run without umockdev: `deno
// test --parallel` runs test files in one process, so another file's testbed
// may have set UMOCKDEV_DIR in the environment they would inherit.
import assert from "node:assert/strict";

const FFI_MODULE = import.meta.resolve("../ffi/libusb.ts");
const LIBRARY_MODULE = import.meta.resolve("../src/usb/libusb_library.ts");
const DISCOVERY_MODULE = import.meta.resolve("../src/usb/discovery.ts");

/** Run `script` (read from stdin) with `deno run <flags> -`; report what it printed. */
async function runScript(
  script: string,
  flags: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--no-check", ...flags, "-"],
    env: {
      NO_COLOR: "1",
      LD_PRELOAD: "",
      UMOCKDEV_DIR: "",
      LIBUSB_DEBUG: "",
      CANON_LIBUSB_DEBUG: "",
      ...env,
    },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const out = await child.output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/** A script that loads libusb and prints the outcome as JSON. */
const LOAD_AND_REPORT = `
import { libusbVersion } from "${FFI_MODULE}";
import { loadLibusb } from "${LIBRARY_MODULE}";
try {
  loadLibusb();
  console.log(JSON.stringify({ loaded: true, version: libusbVersion() }));
} catch (e) {
  console.log(JSON.stringify({
    loaded: false,
    name: e.name,
    message: e.message,
    tried: e.tried,
    notCapable: e instanceof Deno.errors.NotCapable,
    cause: String(e.cause),
  }));
}
`;

Deno.test("a CANON_LIBUSB_PATH that does not load names the path and the package to install", async () => {
  const missing = "/nonexistent/dir/libusb-1.0-missing.so";
  const r = await runScript(LOAD_AND_REPORT, ["--allow-ffi", "--allow-env"], {
    CANON_LIBUSB_PATH: missing,
  });
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.loaded, false);
  assert.equal(report.name, "LibusbNotFoundError");
  assert.deepEqual(report.tried, [missing]);
  assert.ok(report.message.includes(missing), report.message);
  assert.match(report.message, /CANON_LIBUSB_PATH/);
  if (Deno.build.os === "linux") {
    assert.match(report.message, /sudo apt-get install libusb-1\.0-0/);
  }
  // The loader's own error is kept as the cause.
  assert.match(report.cause, /libusb-1\.0-missing\.so/);
});

Deno.test("without --allow-ffi the error names the flag and stays a NotCapable error", async () => {
  const script = `
import { listUsbDevices } from "${DISCOVERY_MODULE}";
try {
  await listUsbDevices();
  console.log(JSON.stringify({ listed: true }));
} catch (e) {
  console.log(JSON.stringify({
    name: e.name,
    message: e.message,
    notCapable: e instanceof Deno.errors.NotCapable,
    causeName: e.cause?.name,
  }));
}
`;
  const r = await runScript(script, ["--allow-read"]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.name, "FfiPermissionError");
  assert.equal(report.notCapable, true);
  assert.equal(report.causeName, "NotCapable");
  assert.match(report.message, /run with --allow-ffi/);
  assert.match(report.message, /--allow-env=CANON_LIBUSB_PATH/);
});

Deno.test("the system libusb loads by its default name and through CANON_LIBUSB_PATH", async () => {
  const byName = JSON.parse((await runScript(LOAD_AND_REPORT, ["--allow-ffi"])).stdout);
  assert.equal(byName.loaded, true, byName.message);
  assert.match(byName.version, /^1\.0\.\d+/);

  const soname = "/usr/lib/x86_64-linux-gnu/libusb-1.0.so.0";
  let present = false;
  try {
    present = Deno.statSync(soname).isFile;
  } catch {
    // not this machine's layout: the explicit-path half does not apply
  }
  if (!present) return;
  const r = await runScript(LOAD_AND_REPORT, ["--allow-ffi", "--allow-env"], {
    CANON_LIBUSB_PATH: soname,
  });
  assert.equal(JSON.parse(r.stdout).loaded, true, r.stdout);
});

Deno.test("CANON_LIBUSB_DEBUG=4 turns on libusb's debug log, and it is quiet otherwise", async () => {
  const script = `
import { listUsbDevices } from "${DISCOVERY_MODULE}";
await listUsbDevices();
`;
  const flags = ["--allow-ffi", "--allow-env", "--allow-read"];
  const loud = await runScript(script, flags, { CANON_LIBUSB_DEBUG: "4" });
  assert.equal(loud.code, 0, loud.stderr);
  assert.match(loud.stderr, /libusb: debug \[libusb_get_device_list\]/);
  const quiet = await runScript(script, flags);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.doesNotMatch(quiet.stderr, /libusb: /);
});
