// Issue 11.7 (transport): a reply that comes after the host gave up must
// never be taken for the next one. Real cameras still answer a command the
// host abandoned (errata §2.1); the virtual camera does too by default
// (FaultInjector.lateReplies). Every reply's serial number must match its
// request; a late one is discarded (and logged) and the right reply read.
import assert from "node:assert/strict";
import { Camera, CameraTimeoutError } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import { skipWithout, underUmockdev } from "./_support.ts";

const ignore3 = skipWithout(underUmockdev, "LD_PRELOAD=libumockdev-preload.so.0");
const GET_FILE = { cmd1: 0x01, cmd2: 0x11 };
const IDENTIFY = { cmd1: 0x01, cmd2: 0x12 };

function cardBytes(vc: VirtualCamera, path: string): Uint8Array {
  const segments = path.split("/").filter(Boolean);
  return vc.card!.read(segments, 0, vc.card!.find(segments)!.size);
}

/** A download times out, the camera answers late; the retry and every later call get their own bytes. */
async function lateDownload(cam: Camera, vc: VirtualCamera, timeout: number): Promise<void> {
  const one = "/DCIM/100CANON/IMG_0001.JPG";
  const two = "/DCIM/100CANON/IMG_0002.JPG";
  await cam.storage.info();
  vc.faults.inject({ kind: "delay", ms: timeout * 2 }, { command: GET_FILE });
  await assert.rejects(() => cam.storage.read(one), CameraTimeoutError);
  // The retry: the camera is still busy with the abandoned command; its late
  // reply comes first and must be thrown away.
  assert.deepEqual(await cam.storage.read(one), cardBytes(vc, one));
  assert.deepEqual(await cam.storage.read(two), cardBytes(vc, two), "IMG_0002 holds its own bytes");
  assert.equal((await cam.identify()).modelName, "Canon PowerShot G3");
  assert.deepEqual(await cam.powerStatus(), { source: "ac", ok: true, level: 6 });
}

/** identify times out, its reply comes late; powerStatus never decodes it. */
async function lateIdentify(cam: Camera, vc: VirtualCamera, timeout: number): Promise<void> {
  vc.faults.inject({ kind: "delay", ms: timeout * 2 }, { command: IDENTIFY });
  await assert.rejects(() => cam.identify(), CameraTimeoutError);
  assert.deepEqual(await cam.powerStatus(), { source: "ac", ok: true, level: 6 });
  assert.equal((await cam.identify()).modelName, "Canon PowerShot G3");
  assert.deepEqual(await cam.powerStatus(), { source: "ac", ok: true, level: 6 });
}

Deno.test("tier 2: the virtual camera still delivers a reply the host gave up on (on by default)", () => {
  assert.equal(new VirtualCamera().faults.lateReplies, true);
});

Deno.test("tier 2: a late download reply is discarded; IMG_0002 holds IMG_0002's bytes", async () => {
  const vc = new VirtualCamera();
  await using cam = await Camera.connect(vc, { timeout: 300 });
  await lateDownload(cam, vc, 300);
});

Deno.test("tier 2: a late identify reply is never decoded as power status", async () => {
  const vc = new VirtualCamera();
  await using cam = await Camera.connect(vc, { timeout: 300 });
  await lateIdentify(cam, vc, 300);
});

Deno.test("tier 2: a late reply left in the pipe (no resync possible) is skipped by its serial", async () => {
  // The camera answers identify late, after power status was sent; the
  // session knows identify was given up on and must not decode it.
  const vc = new VirtualCamera();
  await using cam = await Camera.connect(vc, { timeout: 300 });
  vc.faults.inject({ kind: "delay", ms: 150 }, { command: IDENTIFY });
  await assert.rejects(
    () =>
      cam.session.exclusive(() =>
        cam.session.command(cam.traits.commands.identify, undefined, { timeout: 50 })
      ),
    CameraTimeoutError,
  );
  assert.deepEqual(await cam.powerStatus(), { source: "ac", ok: true, level: 6 });
});

Deno.test({
  name: "tier 3: libusb + umockdev: late replies are discarded, every call gets its own bytes",
  ignore: ignore3,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const vc = new VirtualCamera();
    using testbed = UmockdevTestbed.open();
    testbed.attach(vc.usbFunction);
    const cam = await Camera.open({ timeout: 600 });
    try {
      await lateDownload(cam, vc, 600);
      await lateIdentify(cam, vc, 600);
    } finally {
      await cam.close();
    }
  },
});
