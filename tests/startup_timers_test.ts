// Issue 15 point 2: `canon info` through libusb starts no JS timer. Deno's
// first setTimeout or setInterval loads its Node timer code (about 11 ms of
// CPU, a tenth of the command), so the transfer backstops over a device that
// enforces its own timeouts use V8's timed wait instead (src/usb/watchdog.ts).
// The backstops must still fire: a transfer that outlives its timeout on
// such a device fails, and the session recovers. And no module of the CLI
// imports a `node:` module: `deno bundle` hoists every one to the top of the
// single file, so even one in a lazily loaded command (node:path, once
// through the emulator's card folder) costs every command about 10 ms of CPU.
import assert from "node:assert/strict";
import { Camera, CameraTimeoutError } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import { watchEvery, watchOnce } from "../src/usb/watchdog.ts";
import { runClient, skipWithout, underUmockdev } from "./_support.ts";
import { WebUsbLikeDevice } from "./_webusb_like.ts";

const ignore3 = skipWithout(underUmockdev, "LD_PRELOAD=libumockdev-preload.so.0");
const MAIN = new URL("../src/cli/main.ts", import.meta.url).href;
const POWER = { cmd1: 0x0a, cmd2: 0x12 };

// Counts every JS timer started from the moment the CLI is loaded.
const CLIENT = `
let timers = 0;
const { setTimeout: st, setInterval: si } = globalThis;
globalThis.setTimeout = (...a) => { timers++; return st(...a); };
globalThis.setInterval = (...a) => { timers++; return si(...a); };
const { main } = await import("${MAIN}");
const code = await main(["info"]);
console.log("TIMERS " + timers + " CODE " + code);
`;

Deno.test({
  name: "tier 3: `canon info` in its own process through libusb starts no JS timer",
  ignore: ignore3,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const vc = new VirtualCamera();
    using testbed = UmockdevTestbed.open();
    testbed.attach(vc.usbFunction);
    const out = await runClient(CLIENT, testbed.env(), { extension: "js" });
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /Model:\s+Canon PowerShot G3/);
    assert.match(out.stdout, /Power:\s+AC adapter/);
    assert.match(out.stdout, /TIMERS 0 CODE 0/, out.stdout);
  },
});

Deno.test("no module the CLI can load imports a node: module (the bundle would load it at start)", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL("../src/cli/main.ts", import.meta.url).pathname],
    stdout: "piped",
  }).output();
  assert.equal(out.code, 0);
  const graph = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string }[];
  };
  assert.ok(graph.modules.length > 50, "the graph follows the lazily loaded commands");
  const node = graph.modules.map((m) => m.specifier).filter((s) => s.startsWith("node:"));
  assert.deepEqual(node, []);
});

/**
 * A device that says it enforces its timeouts but does not: a reply that
 * never comes stays pending. Its transfers keep the process alive the way
 * a pending libusb call does (the test keeps a timer running meanwhile).
 */
class BrokenTimeoutsDevice extends WebUsbLikeDevice {
  readonly enforcesTimeouts = true;
}

Deno.test("a transfer that outlives its timeout on a device claiming to enforce it still fails, and the session recovers", async () => {
  const vc = new VirtualCamera();
  const device = new BrokenTimeoutsDevice(vc);
  const timeout = 300;
  await using cam = await Camera.connect(device, { timeout });
  await cam.storage.info();
  vc.faults.inject({ kind: "silent" }, { command: POWER });
  const alive = setInterval(() => {}, 100);
  try {
    const start = performance.now();
    await assert.rejects(() => cam.powerStatus(), CameraTimeoutError);
    const waited = performance.now() - start;
    assert.ok(waited >= timeout + 900 && waited < timeout + 2500, `failed after ${waited} ms`);
  } finally {
    clearInterval(alive);
  }
  const opens = device.stats.opens;
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(await cam.powerStatus(), { source: "ac", ok: true, level: 6 });
  }
  assert.equal(device.stats.opens, opens + 1, "recovered by reopening the device once");
});

Deno.test("a quiet watchdog fires once after its delay, repeats when asked, and never after cancel", async () => {
  const fired: string[] = [];
  const start = performance.now();
  let at = 0;
  watchOnce(60, () => {
    fired.push("once");
    at = performance.now() - start;
  }, true);
  const cancelled = watchOnce(30, () => fired.push("cancelled"), true);
  cancelled.cancel();
  let ticks = 0;
  const every = watchEvery(40, () => ticks++, true);
  await new Promise((resolve) => setTimeout(resolve, 230));
  every.cancel();
  const ticksAtCancel = ticks;
  await new Promise((resolve) => setTimeout(resolve, 120));
  assert.deepEqual(fired, ["once"]);
  assert.ok(at >= 55, `fired after ${at} ms`);
  assert.ok(ticksAtCancel >= 3, `${ticksAtCancel} ticks in 230 ms`);
  assert.equal(ticks, ticksAtCancel, "no tick after cancel");
});
