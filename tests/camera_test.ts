// Tier 2: the Camera API over an in-process VirtualCamera, with faults
// injected into the emulator. Every failure must be typed, clear, bounded in
// time, and leave the camera usable or reported closed.
import assert from "node:assert/strict";
import {
  Camera,
  CameraClosedError,
  CameraStatusError,
  CameraTimeoutError,
  CanonError,
  ProtocolError,
} from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";

const IDENTIFY = { cmd1: 0x01, cmd2: 0x12 };
const POWER = { cmd1: 0x0a, cmd2: 0x12 };

async function timed<T>(body: () => Promise<T>): Promise<[T | unknown, number]> {
  const start = performance.now();
  try {
    return [await body(), performance.now() - start];
  } catch (error) {
    return [error, performance.now() - start];
  }
}

Deno.test("connect identifies the camera: model, owner, firmware", async () => {
  await using cam = await Camera.connect(new VirtualCamera({ owner: "Kiril" }));
  assert.deepEqual(await cam.identify(), {
    modelName: "Canon PowerShot G3",
    owner: "Kiril",
    firmware: "1.0.2.0",
  });
  assert.equal(cam.modelName, "Canon PowerShot G3");
  assert.equal(cam.owner, "Kiril");
  assert.equal(cam.firmware, "1.0.2.0");
  assert.equal(cam.model.name, "PowerShot G3");
});

Deno.test("a G3 (class 5) has its keys locked at init; the first contact wakes it", async () => {
  const vc = new VirtualCamera();
  {
    await using cam = await Camera.connect(vc);
    assert.equal(cam.wokenUp, true);
    assert.equal(cam.keysLocked, true);
  }
  assert.equal(vc.keysLocked, true);
  // The camera stays active: the second session takes the 'A' path.
  await using again = await Camera.connect(vc);
  assert.equal(again.wokenUp, false);
  assert.equal(again.modelName, "Canon PowerShot G3");
});

Deno.test("setOwner stores the name and identify shows it", async () => {
  const vc = new VirtualCamera();
  await using cam = await Camera.connect(vc);
  await cam.setOwner("Ada Lovelace");
  assert.equal(cam.owner, "Ada Lovelace");
  assert.equal(vc.owner, "Ada Lovelace");
  assert.equal((await cam.identify()).owner, "Ada Lovelace");
});

Deno.test("setOwner refuses a name the camera cannot store, before sending anything", async () => {
  const vc = new VirtualCamera();
  await using cam = await Camera.connect(vc);
  const sent = vc.commandLog.length;
  await assert.rejects(() => cam.setOwner("x".repeat(31)), /at most 30/);
  await assert.rejects(() => cam.setOwner("Ünïcode"), /cannot store/);
  assert.equal(vc.commandLog.length, sent);
  assert.equal(vc.owner, "Kiril");
});

Deno.test("power status: AC and OK, or battery and low", async () => {
  {
    await using cam = await Camera.connect(new VirtualCamera());
    assert.deepEqual(await cam.powerStatus(), { source: "ac", ok: true, level: 6 });
  }
  await using cam = await Camera.connect(
    new VirtualCamera({ power: { source: "battery", low: true } }),
  );
  const power = await cam.powerStatus();
  assert.equal(power.source, "battery");
  assert.equal(power.ok, false);
});

Deno.test("a non-zero status is a CameraStatusError naming the command and code", async () => {
  const vc = new VirtualCamera();
  await using cam = await Camera.connect(vc);
  vc.faults.inject({ kind: "status", status: 0x02000085 }, { command: POWER });
  await assert.rejects(() => cam.powerStatus(), (e: Error) => {
    assert.ok(e instanceof CameraStatusError);
    assert.equal(e.status, 0x02000085);
    assert.equal(e.command, "PowerStatus");
    assert.match(
      e.message,
      /PowerStatus failed: could not enter capture mode \(status 0x2000085\)/,
    );
    return true;
  });
  assert.equal((await cam.powerStatus()).ok, true);
});

Deno.test("a truncated reply is a ProtocolError and the camera stays usable", async () => {
  const vc = new VirtualCamera();
  await using cam = await Camera.connect(vc, { timeout: 300 });
  vc.faults.inject({ kind: "truncate", length: 0x50 }, { command: IDENTIFY });
  const [error, ms] = await timed(() => cam.identify());
  assert.ok(error instanceof ProtocolError || error instanceof CameraTimeoutError, String(error));
  assert.ok(ms < 3000, `took ${ms} ms`);
  assert.equal((await cam.identify()).modelName, "Canon PowerShot G3");
});

Deno.test("a garbled reply header is an error within bounded time; the camera recovers", async () => {
  const vc = new VirtualCamera();
  await using cam = await Camera.connect(vc, { timeout: 300 });
  vc.faults.inject({ kind: "garble" }, { command: POWER });
  const [error, ms] = await timed(() => cam.powerStatus());
  assert.ok(error instanceof CanonError, String(error));
  assert.ok(ms < 3000, `took ${ms} ms`);
  assert.equal((await cam.powerStatus()).source, "ac");
});

Deno.test("an oversized reply that announces its length is read whole and decoded", async () => {
  const vc = new VirtualCamera();
  await using cam = await Camera.connect(vc);
  vc.faults.inject({ kind: "oversize", extra: 0x30 }, { command: IDENTIFY });
  assert.equal((await cam.identify()).modelName, "Canon PowerShot G3");
  assert.equal((await cam.identify()).owner, "Kiril");
});

Deno.test("no reply at all is a CameraTimeoutError in bounded time; the next command works", async () => {
  const vc = new VirtualCamera();
  await using cam = await Camera.connect(vc, { timeout: 250 });
  vc.faults.inject({ kind: "silent" }, { command: POWER });
  const [error, ms] = await timed(() => cam.powerStatus());
  assert.ok(error instanceof CameraTimeoutError, String(error));
  assert.match((error as Error).message, /no answer from the camera within 250 ms/);
  assert.ok(ms < 2000, `took ${ms} ms`);
  assert.equal((await cam.powerStatus()).ok, true);
});

Deno.test("a stalled endpoint is cleared and reported; the next command works", async () => {
  const vc = new VirtualCamera();
  await using cam = await Camera.connect(vc, { timeout: 300 });
  vc.faults.inject({ kind: "stall" }, { command: POWER });
  await assert.rejects(() => cam.powerStatus(), /stalled/);
  assert.equal((await cam.powerStatus()).ok, true);
});

Deno.test("status byte 'I' or 'E' at init fails with a hint", async () => {
  for (const value of ["I", "E"] as const) {
    const vc = new VirtualCamera();
    vc.faults.inject({ kind: "camstat", value });
    await assert.rejects(() => Camera.connect(vc), (e: Error) => {
      assert.ok(e instanceof CanonError);
      assert.match(e.message, new RegExp(`status "${value}"`));
      assert.match(e.message, value === "I" ? /hot-plug/ : /Switch the camera off and on/);
      return true;
    });
    assert.equal(vc.opened, false, "the device is closed again after a failed connect");
  }
});

Deno.test("identify is retried at init: a lost first reply does not fail the connect", async () => {
  const vc = new VirtualCamera();
  vc.faults.inject({ kind: "silent" }, { command: IDENTIFY });
  await using cam = await Camera.connect(vc);
  assert.equal(cam.modelName, "Canon PowerShot G3");
  assert.ok(vc.commandLog.filter((c) => c.cmd1 === 1 && c.cmd2 === 0x12).length >= 2);
});

Deno.test("the camera vanishing mid-command closes the camera with a clear error", async () => {
  const vc = new VirtualCamera();
  const cam = await Camera.connect(vc, { timeout: 500 });
  vc.faults.inject({ kind: "unplug", afterBytes: 0x80 }, { command: IDENTIFY });
  const [error, ms] = await timed(() => cam.identify());
  assert.ok(error instanceof CameraClosedError, String(error));
  assert.match((error as Error).message, /disconnected/);
  assert.ok(ms < 3000);
  assert.equal(cam.closed, true);
  await assert.rejects(() => cam.powerStatus(), CameraClosedError);
  await cam.close();
  await cam.close();
});

Deno.test("concurrent calls are queued: one dialogue on the wire at a time, in order", async () => {
  const vc = new VirtualCamera();
  await using cam = await Camera.connect(vc);
  const before = vc.commandLog.length;
  const calls = Array.from({ length: 30 }, (_, i) => i % 2 ? cam.powerStatus() : cam.identify());
  const results = await Promise.all(calls);
  assert.equal(results.length, 30);
  const log = vc.commandLog.slice(before);
  assert.equal(log.length, 30);
  log.forEach((c, i) => assert.equal(c.cmd1, i % 2 ? 0x0a : 0x01, `command ${i}`));
  const serials = log.map((c) => c.serial);
  assert.deepEqual(serials, [...serials].sort((a, b) => a - b));
});

Deno.test("calls after close reject with CameraClosedError; pending calls finish first", async () => {
  const cam = await Camera.connect(new VirtualCamera());
  const pending = cam.identify();
  const closing = cam.close();
  assert.equal((await pending).modelName, "Canon PowerShot G3");
  await closing;
  await assert.rejects(() => cam.identify(), CameraClosedError);
  assert.equal(cam.closed, true);
});

Deno.test("a device that is not a Canon camera is refused with what it is", async () => {
  const vc = new VirtualCamera();
  const impostor = Object.create(vc, { productId: { value: 0x306f } });
  await assert.rejects(() => Camera.connect(impostor), /PTP mode/);
});
