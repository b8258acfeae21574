// Tier 3: waitForCamera() with cameras plugged in and out through umockdev
// (whose attach and detach send the "add" and "remove" uevents libusb's
// hot-plug listens to). Each scenario runs in its own process, which must end
// by itself once the wait is over: a leaked callback, event loop, context or
// timer would keep it alive, and the process is then killed and the test fails.
import assert from "node:assert/strict";
import { skipWithout, underUmockdev } from "./_support.ts";

const ignore = skipWithout(underUmockdev, "LD_PRELOAD=libumockdev-preload.so.0");
const SCRIPT = new URL("./_wait_scenarios.ts", import.meta.url).pathname;

interface Outcome {
  via?: string;
  bus?: number;
  address?: number;
  modelName?: string;
  supported?: boolean;
  error?: string;
  message?: string;
  ms: number;
}

/** Run a scenario; fail if its process does not end within 8 s of starting. */
async function scenario(name: string): Promise<Outcome> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-check", SCRIPT, name],
    env: { LD_PRELOAD: "libumockdev-preload.so.0", CANON_LOG: "error" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, 8000);
  const out = await child.output();
  clearTimeout(timer);
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(!killed, `the ${name} process did not end by itself:\n${stdout}\n${stderr}`);
  assert.equal(out.code, 0, stderr);
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

const test = (name: string, fn: () => Promise<void>) => Deno.test({ name, ignore, fn });

test("hot-plug: a camera plugged in while waiting is reported by libusb's arrival event", async () => {
  const found = await scenario("hotplug");
  assert.equal(found.via, "hotplug");
  assert.deepEqual([found.bus, found.address, found.modelName], [1, 9, "PowerShot G3"]);
  assert.ok(found.ms >= 250 && found.ms < 2000, `${found.ms} ms`);
});

test("polling finds a camera plugged in while waiting", async () => {
  const found = await scenario("poll");
  assert.equal(found.via, "poll");
  assert.deepEqual([found.bus, found.address, found.modelName], [1, 9, "PowerShot G3"]);
  assert.ok(found.ms < 2000, `${found.ms} ms`);
});

test("by default, hot-plug is used where libusb has it (here: Linux)", async () => {
  const found = await scenario("auto");
  assert.equal(found.via, "hotplug");
  assert.equal(found.modelName, "PowerShot G3");
});

test("a camera already connected answers at once", async () => {
  const found = await scenario("connected");
  assert.equal(found.via, "connected");
  assert.deepEqual([found.address, found.modelName, found.supported], [4, "EOS 10D", true]);
  assert.ok(found.ms < 1000, `${found.ms} ms`);
});

test("a camera in PTP mode does not count; the next supported one does", async () => {
  const found = await scenario("ptp-then-supported");
  assert.deepEqual([found.address, found.modelName, found.via], [6, "EOS 20D", "hotplug"]);
});

test("the timeout names what was plugged in instead", async () => {
  const failed = await scenario("timeout");
  assert.equal(failed.error, "CameraNotFoundError");
  assert.match(failed.message!, /no supported Canon camera was connected within 600 ms/);
  assert.match(failed.message!, /EOS 20D \(0x30ec\) at bus 1 address 5, ptp mode/);
  assert.match(failed.message!, /switch its USB mode to normal/);
  assert.ok(failed.ms >= 600 && failed.ms < 1500, `${failed.ms} ms`);
});

test("aborting rejects with the signal's reason, promptly", async () => {
  const aborted = await scenario("abort");
  assert.equal(aborted.error, "AbortError");
  assert.ok(aborted.ms >= 300 && aborted.ms < 1000, `${aborted.ms} ms`);
});
