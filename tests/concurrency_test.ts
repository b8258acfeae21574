// Concurrency: many API calls issued at once on one camera run one dialogue
// at a time, in the order they were issued; closing the camera lets the
// calls queued before the close finish and rejects those made after it.
// In-process (tier 2) and through libusb + umockdev (tier 3).
import assert from "node:assert/strict";
import { Camera, CameraClosedError, findCameraDevice, type UsbDevice } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import { skipWithout, tier3Test, underUmockdev } from "./_support.ts";

const ignoreTier3 = skipWithout(underUmockdev, "LD_PRELOAD=libumockdev-preload.so.0");

/** What the watcher saw on the wire. */
interface WireStats {
  /** Command blocks sent while a transfer of an earlier dialogue was still in flight. */
  overlaps: number;
  /** Command blocks sent. */
  commands: number;
}

/**
 * A device that forwards to `inner` and counts transfers in flight: a command
 * block (control OUT, wValue 0x10) must never go out while another transfer
 * is still running, or two dialogues would be on the wire at once.
 */
function watchDialogues(inner: UsbDevice): { device: UsbDevice; stats: WireStats } {
  const stats: WireStats = { overlaps: 0, commands: 0 };
  let inFlight = 0;
  const track = <T>(promise: () => Promise<T>): Promise<T> => {
    inFlight++;
    return promise().finally(() => inFlight--);
  };
  const device: UsbDevice = {
    get vendorId() {
      return inner.vendorId;
    },
    get productId() {
      return inner.productId;
    },
    get configuration() {
      return inner.configuration;
    },
    get opened() {
      return inner.opened;
    },
    open: () => inner.open(),
    close: () => inner.close(),
    claimInterface: (n) => inner.claimInterface(n),
    releaseInterface: (n) => inner.releaseInterface?.(n) ?? Promise.resolve(),
    clearHalt: (direction, n) => inner.clearHalt?.(direction, n) ?? Promise.resolve(),
    controlTransferIn: (setup, length, options) =>
      track(() => inner.controlTransferIn(setup, length, options)),
    controlTransferOut: (setup, data, options) => {
      if (setup.value === 0x10) {
        stats.commands++;
        if (inFlight > 0) stats.overlaps++;
      }
      return track(() => inner.controlTransferOut(setup, data, options));
    },
    transferIn: (endpoint, length, options) =>
      track(() => inner.transferIn(endpoint, length, options)),
    transferOut: (endpoint, data, options) =>
      track(() => inner.transferOut(endpoint, data, options)),
  };
  return { device, stats };
}

type Call = "identify" | "power" | "time" | "list";
const CALLS: readonly Call[] = ["identify", "power", "time", "list"];
/** The command each call sends (cmd1/cmd2), with the drive name already known. */
const WIRE: Record<Call, string> = {
  identify: "01/12",
  power: "0a/12",
  time: "03/12",
  list: "0b/11",
};

function issue(cam: Camera, call: Call): Promise<unknown> {
  switch (call) {
    case "identify":
      return cam.identify().then((id) => assert.equal(id.modelName, "Canon PowerShot G3"));
    case "power":
      return cam.powerStatus().then((p) => assert.equal(p.ok, true));
    case "time":
      return cam.time().then((t) => assert.ok(t instanceof Date && t.getFullYear() >= 2024));
    case "list":
      return cam.storage.list("/DCIM/100CANON").then((l) => assert.ok(l.length >= 5));
  }
}

const wire = (vc: VirtualCamera, from: number) =>
  vc.commandLog.slice(from).map((c) =>
    `${c.cmd1.toString(16).padStart(2, "0")}/${c.cmd2.toString(16)}`
  );

/** 100 calls at once: all succeed, settle in issue order, one dialogue at a time. */
async function hundredAtOnce(cam: Camera, vc: VirtualCamera, stats: WireStats): Promise<void> {
  await cam.storage.info(); // the drive name is then known: one command per call
  const before = vc.commandLog.length;
  const commandsBefore = stats.commands;
  const plan = Array.from({ length: 100 }, (_, i) => CALLS[(i * 7) % CALLS.length]);
  const settled: number[] = [];
  await Promise.all(plan.map((call, i) => issue(cam, call).then(() => settled.push(i))));
  assert.deepEqual(settled, plan.map((_, i) => i), "calls settle in the order they were issued");
  assert.deepEqual(
    wire(vc, before),
    plan.map((call) => WIRE[call]),
    "the wire saw each call whole",
  );
  const serials = vc.commandLog.slice(before).map((c) => c.serial);
  for (let i = 1; i < serials.length; i++) {
    assert.ok(serials[i] > serials[i - 1], `serial ${serials[i]} after ${serials[i - 1]}`);
  }
  assert.equal(stats.commands - commandsBefore, 100);
  assert.equal(stats.overlaps, 0, "no command block went out while a dialogue was running");
}

/** Close with 100 calls queued: they finish, later calls reject, nothing more is sent. */
async function closeWhilePending(cam: Camera, vc: VirtualCamera): Promise<void> {
  await cam.storage.info();
  const before = vc.commandLog.length;
  const plan = Array.from({ length: 100 }, (_, i) => CALLS[i % CALLS.length]);
  const pending = plan.map((call) => issue(cam, call));
  const closing = cam.close();
  const late = Array.from({ length: 10 }, (_, i) => issue(cam, CALLS[i % CALLS.length]));
  const lateResults = await Promise.allSettled(late);
  for (const result of lateResults) {
    assert.equal(result.status, "rejected");
    assert.ok((result as PromiseRejectedResult).reason instanceof CameraClosedError);
    assert.match((result as PromiseRejectedResult).reason.message, /The camera is closed/);
  }
  await Promise.all(pending); // every call queued before the close completes correctly
  await closing;
  assert.equal(cam.closed, true);
  assert.equal(vc.commandLog.length - before, 100, "nothing is sent after the queued calls");
}

Deno.test("tier 2: 100 calls at once complete in order, one dialogue on the wire at a time", async () => {
  const vc = new VirtualCamera();
  const { device, stats } = watchDialogues(vc);
  await using cam = await Camera.connect(device);
  await hundredAtOnce(cam, vc, stats);
});

Deno.test("tier 2: closing with 100 calls pending finishes them; calls after close reject", async () => {
  const vc = new VirtualCamera();
  const cam = await Camera.connect(vc);
  await closeWhilePending(cam, vc);
  assert.equal(vc.opened, false, "the device is closed once the queue drained");
});

Deno.test("tier 2: the camera vanishing with 100 calls queued rejects them all, at once", async () => {
  const vc = new VirtualCamera();
  const cam = await Camera.connect(vc, { timeout: 300 });
  await cam.storage.info();
  vc.faults.inject({ kind: "unplug" }, { command: { cmd1: 0x0a, cmd2: 0x12 } });
  const start = performance.now();
  const results = await Promise.allSettled(
    Array.from({ length: 100 }, (_, i) => issue(cam, i % 2 ? "power" : "identify")),
  );
  const ms = performance.now() - start;
  assert.equal(results[0].status, "fulfilled");
  for (const result of results.slice(1)) {
    assert.equal(result.status, "rejected");
    const reason = (result as PromiseRejectedResult).reason;
    assert.ok(reason instanceof CameraClosedError, String(reason));
    assert.match(reason.message, /disconnected \(unplugged or switched off\)/);
  }
  assert.ok(ms < 1000, `took ${ms} ms`);
  assert.equal(cam.closed, true);
  await cam.close();
});

const tier3 = (name: string, fn: () => Promise<void>) =>
  tier3Test({ name, ignore: ignoreTier3, fn });

tier3(
  "tier 3: 100 calls at once through libusb complete in order, one dialogue at a time",
  async () => {
    const vc = new VirtualCamera();
    using testbed = UmockdevTestbed.open();
    testbed.attach(vc.usbFunction);
    const { device, stats } = watchDialogues(await findCameraDevice());
    await using cam = await Camera.connect(device);
    await hundredAtOnce(cam, vc, stats);
  },
);

tier3(
  "tier 3: closing with 100 calls pending through libusb finishes them; later calls reject",
  async () => {
    const vc = new VirtualCamera();
    using testbed = UmockdevTestbed.open();
    testbed.attach(vc.usbFunction);
    const cam = await Camera.open();
    await closeWhilePending(cam, vc);
    assert.equal(cam.device.opened, false, "the libusb handle is closed once the queue drained");
  },
);
