// Issue 11.8: the protocol layer works on a device without per-transfer
// timeouts (WebUSB's transferIn takes none, and a read the library abandons
// stays pending and swallows the next packet). The session owns one
// interrupt read and reuses it; a lost reply is recovered by closing and
// reopening the device; WebUSB's own errors become the library's typed errors.
import assert from "node:assert/strict";
import {
  Camera,
  CameraClosedError,
  CameraTimeoutError,
  CanonError,
  ProtocolError,
} from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { WebUsbLikeDevice } from "./_webusb_like.ts";

const ONE = "/DCIM/100CANON/IMG_0001.JPG";
const TWO = "/DCIM/100CANON/IMG_0002.JPG";
const POWER = { cmd1: 0x0a, cmd2: 0x12 };

function cardBytes(vc: VirtualCamera, path: string): Uint8Array {
  const segments = path.split("/").filter(Boolean);
  return vc.card!.read(segments, 0, vc.card!.find(segments)!.size);
}

Deno.test("WebUSB-like: identify, list and download work on a device without timeouts", async () => {
  const vc = new VirtualCamera();
  const device = new WebUsbLikeDevice(vc);
  await using cam = await Camera.connect(device, { timeout: 300 });
  assert.equal((await cam.identify()).modelName, "Canon PowerShot G3");
  const names = (await cam.storage.list("/DCIM/100CANON")).map((e) => e.name);
  assert.ok(names.includes("IMG_0001.JPG"), String(names));
  assert.deepEqual(await cam.storage.read(ONE), cardBytes(vc, ONE));
  assert.equal(device.stats.maxPendingBulk, 1);
  assert.ok(device.stats.maxPendingInterrupt <= 1, "one interrupt read at a time");
});

Deno.test("WebUSB-like: readInterrupt keeps one read pending across calls; null means nothing in time", async () => {
  // Without the idle zero-length packets (which end each read with "nothing to say").
  const vc = new VirtualCamera({ quirks: { idleZeroLengthPackets: false } });
  const device = new WebUsbLikeDevice(vc);
  await using cam = await Camera.connect(device, { timeout: 300 });
  const before = device.stats.interruptReads;
  for (let i = 0; i < 5; i++) assert.equal(await cam.session.readInterrupt(30), null);
  assert.equal(device.stats.interruptReads - before, 1, "the same read was reused");
  assert.equal(device.stats.maxPendingInterrupt, 1);
});

Deno.test("WebUSB-like: capture polling works (shoot to card and to host)", async () => {
  const vc = new VirtualCamera();
  const device = new WebUsbLikeDevice(vc);
  await using cam = await Camera.connect(device, { timeout: 1000 });
  {
    await using _remote = await cam.capture.start();
    const shot = await cam.capture.shoot({ to: "card" });
    assert.ok(shot.path && vc.card!.find(shot.path.split("/").filter(Boolean)), shot.path);
    const second = await cam.capture.shoot({ to: "host" });
    assert.ok(second.image && second.image[0] === 0xff && second.image[1] === 0xd8);
  }
  assert.ok(device.stats.maxPendingInterrupt <= 1, "never two interrupt reads pending");
  assert.equal((await cam.identify()).modelName, "Canon PowerShot G3");
});

Deno.test("WebUSB-like: after a lost reply the device is reopened and every later call works", async () => {
  const vc = new VirtualCamera();
  const device = new WebUsbLikeDevice(vc);
  const timeout = 300;
  await using cam = await Camera.connect(device, { timeout });
  await cam.storage.info();
  vc.faults.inject({ kind: "silent" }, { command: POWER });
  const start = performance.now();
  await assert.rejects(() => cam.powerStatus(), CameraTimeoutError);
  assert.ok(performance.now() - start < timeout + 2500);
  const opens = device.stats.opens;
  // Every later call gets its own answer (36 in a row failed before).
  for (let i = 0; i < 5; i++) {
    assert.deepEqual(await cam.powerStatus(), { source: "ac", ok: true, level: 6 });
    assert.equal((await cam.identify()).modelName, "Canon PowerShot G3");
  }
  assert.deepEqual(await cam.storage.read(TWO), cardBytes(vc, TWO));
  assert.equal(device.stats.opens, opens + 1, "recovered by reopening the device once");
  assert.equal(device.stats.maxPendingBulk, 1, "no abandoned read was left pending");
});

Deno.test("WebUSB-like: WebUSB errors become the library's typed errors", async () => {
  const vc = new VirtualCamera();
  const device = new WebUsbLikeDevice(vc);
  const cam = await Camera.connect(device, { timeout: 300 });
  try {
    device.failNext("NetworkError");
    await assert.rejects(() => cam.identify(), (e: Error) => {
      assert.ok(e instanceof ProtocolError, String(e));
      assert.match(e.message, /the USB transfer failed/);
      assert.equal((e.cause as DOMException).name, "NetworkError");
      return true;
    });
    assert.equal((await cam.identify()).modelName, "Canon PowerShot G3", "then it works again");
    device.failNext("TypeError");
    await assert.rejects(() => cam.identify(), (e: Error) => {
      assert.ok(e instanceof CanonError, String(e));
      assert.ok(e.cause instanceof TypeError);
      return true;
    });
    assert.equal((await cam.identify()).modelName, "Canon PowerShot G3");
    device.failNext("InvalidStateError");
    await assert.rejects(() => cam.identify(), CameraClosedError);
    assert.equal(cam.closed, true);
  } finally {
    await cam.close();
  }
  // Unplugged: NotFoundError → CameraClosedError (disconnected).
  const vc2 = new VirtualCamera();
  await using cam2 = await Camera.connect(new WebUsbLikeDevice(vc2), { timeout: 300 });
  vc2.unplug();
  await assert.rejects(() => cam2.identify(), (e: Error) => {
    assert.ok(e instanceof CameraClosedError, String(e));
    assert.match(e.message, /disconnected/);
    return true;
  });
});
