// Tier 5: real signals sent to a real `canon` process. Ctrl+C (SIGINT),
// SIGTERM and SIGHUP in the middle of a download leave no partial file and
// keep what completed; --emulate-usb's parent passes the signal to the child
// it re-launched, which removes its umockdev testbed and lock from $TMPDIR;
// in remote mode the camera is told to leave it; the exit code is 128 + the
// signal's number. The virtual camera runs with --bus-model (USB 1.1 speed)
// so that the transfer is still going when the signal comes.
import assert from "node:assert/strict";
import { join } from "node:path";
import { hasCommand, skipWithout } from "./_support.ts";

const MAIN = new URL("../src/cli/main.ts", import.meta.url).pathname;
const decoder = new TextDecoder();
const noUmockdev = skipWithout(await hasCommand("umockdev-run", ["--version"]), "umockdev");

/** Run `canon` as a user would: without the test runner's LD_PRELOAD. */
function spawnCanon(args: string[], env: Record<string, string> = {}): Deno.ChildProcess {
  const { LD_PRELOAD: _, ...inherited } = Deno.env.toObject();
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, ...args],
    clearEnv: true,
    env: { ...inherited, NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Wait until a file whose name matches `pattern` is in `dir`. */
async function appears(dir: string, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (performance.now() < until) {
    for (const entry of Deno.readDirSync(dir)) if (pattern.test(entry.name)) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`nothing like ${pattern} appeared in ${dir}`);
}

async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "canon-sig-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** What a completed file of the default card should weigh (as `ls` prints it). */
const SIZES: Record<string, number> = {
  "IMG_0001.JPG": 29380,
  "IMG_0002.JPG": 30357,
  "IMG_0003.JPG": 31597,
  "IMG_0004.JPG": 29923,
  "IMG_0005.JPG": 32440,
};

for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const) {
  Deno.test(`${signal} during get: exit ${code}, no partial file, completed files kept`, async () => {
    await inTempDir(async (dir) => {
      const child = spawnCanon(["--emulate", "--bus-model", "get", "--all", "-o", dir]);
      await appears(dir, /^\.CRW_0006\.CRW\..*\.partial$/); // the 524 kB raw file is on its way
      child.kill(signal);
      const result = await child.output();
      const out = decoder.decode(result.stdout);
      const err = decoder.decode(result.stderr);
      assert.equal(result.code, code, err);
      assert.match(err, new RegExp(`canon get: interrupted by .*${signal}`));
      const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
      assert.deepEqual(names.filter((n) => n.endsWith(".partial")), [], "no partial file");
      assert.ok(!names.includes("CRW_0006.CRW"), "the interrupted file is not there");
      assert.deepEqual(names, Object.keys(SIZES), "the files before it are");
      for (const name of names) {
        assert.equal((await Deno.stat(join(dir, name))).size, SIZES[name], name);
        assert.match(out, new RegExp(`${name.replace(".", "\\.")} -> .*${name}`));
      }
    });
  });
}

Deno.test({
  name: "SIGTERM to --emulate-usb: the child is ended cleanly, no testbed or lock left in $TMPDIR",
  ignore: noUmockdev,
}, async () => {
  await inTempDir(async (dir) => {
    const tmp = join(dir, "tmp");
    const photos = join(dir, "photos");
    await Deno.mkdir(tmp);
    await Deno.mkdir(photos);
    const child = spawnCanon(
      ["--emulate-usb", "--bus-model", "get", "--all", "-o", photos, "--timeout", "20000"],
      { TMPDIR: tmp },
    );
    await appears(photos, /^\.CRW_0006\.CRW\..*\.partial$/);
    const during = [...Deno.readDirSync(tmp)].map((e) => e.name);
    assert.ok(during.some((n) => n.startsWith("umockdev.")), `a testbed: ${during}`);
    // The parent only (it re-launched itself with umockdev's preload): it must pass it on.
    child.kill("SIGTERM");
    const result = await child.output();
    const err = decoder.decode(result.stderr);
    assert.equal(result.code, 143, err);
    assert.match(err, /interrupted by SIGTERM/);
    assert.deepEqual([...Deno.readDirSync(tmp)].map((e) => e.name), [], "TMPDIR is clean");
    const names = [...Deno.readDirSync(photos)].map((e) => e.name);
    assert.deepEqual(names.filter((n) => n.endsWith(".partial")), []);
    // The re-launched child is gone too: nothing writes into photos any more.
    await new Promise((resolve) => setTimeout(resolve, 800));
    assert.deepEqual([...Deno.readDirSync(photos)].map((e) => e.name).sort(), names.sort());
  });
});

Deno.test("Ctrl+C in remote mode: the camera is told to leave it before the exit", async () => {
  await inTempDir(async (dir) => {
    const record = join(dir, "wire.pcapng");
    const child = spawnCanon([
      "--emulate",
      "--record",
      record,
      "preview",
      "-o",
      join(dir, "frame.jpg"),
      "--frames",
      "10000",
    ]);
    await appears(dir, /^frame-003\.jpg$/);
    child.kill("SIGINT");
    const result = await child.output();
    assert.equal(result.code, 130, decoder.decode(result.stderr));
    const frames = [...Deno.readDirSync(dir)].filter((e) => e.name.startsWith("frame-")).length;
    assert.ok(frames < 10000, "stopped early");
    const decoded = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", MAIN, "decode", record],
      stdout: "piped",
      stderr: "null",
    }).output();
    const commands = decoder.decode(decoded.stdout).split("\n").filter((l) => l.startsWith("-->"));
    assert.match(commands[commands.length - 1], /RemoteControl .* RemoteExit/);
    assert.ok(!(await Deno.lstat(join(dir, "frame.jpg")).catch(() => undefined)));
    const partials = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".partial"));
    assert.deepEqual(partials, []);
  });
});

Deno.test("Ctrl+C while watch waits for a camera: it stops at once with 130", async () => {
  await inTempDir(async (dir) => {
    // An empty umockdev testbed: no camera can be plugged in meanwhile.
    const child = spawnCanon(["watch", "-o", dir, "--interval", "100"], {
      LD_PRELOAD: "libumockdev-preload.so.0",
      UMOCKDEV_DIR: dir,
    });
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let err = "";
    while (!/waiting for a camera/.test(err)) {
      const { value, done } = await reader.read();
      if (done) break;
      err += value;
    }
    const sent = performance.now();
    child.kill("SIGINT");
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      err += value;
    }
    const status = await child.status;
    child.stdout.cancel();
    assert.equal(status.code, 130, err);
    assert.ok(performance.now() - sent < 3000, "not after a grace period");
    assert.match(err, /canon watch: interrupted by Ctrl\+C/);
  });
});
