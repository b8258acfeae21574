// Tier 3: remote capture through the real stack: Camera -> LibusbDevice ->
// libusb-1.0 -> umockdev -> VirtualCamera, all in this process.
import assert from "node:assert/strict";
import {
  Camera,
  CaptureTimeoutError,
  CardUnavailableError,
  PhotographicFailureError,
} from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import type { VirtualCameraOptions } from "../src/emulator/host/virtual_camera.ts";
import type { MemoryCard } from "../src/emulator/card/memory_card.ts";
import { exifExposure, jpegSize } from "./_exif.ts";
import { skipWithout, tier3Test, underUmockdev } from "./_support.ts";

const ignore = skipWithout(underUmockdev, "LD_PRELOAD=libumockdev-preload.so.0");

const test = (name: string, fn: () => Promise<void>) => tier3Test({ name, ignore, fn });

async function withCamera(
  options: VirtualCameraOptions,
  body: (cam: Camera, vc: VirtualCamera) => Promise<void>,
): Promise<void> {
  const vc = new VirtualCamera({ captureLatencyMs: 5, ...options });
  using testbed = UmockdevTestbed.open();
  testbed.attach(vc.usbFunction);
  await using cam = await Camera.open({ timeout: 2000 });
  await body(cam, vc);
}

test("through libusb: set, shoot to the host and to the card, in one remote session", async () => {
  await withCamera({}, async (cam, vc) => {
    {
      await using _remote = await cam.capture.start();
      assert.equal(vc.remoteMode, true);
      const settings = await cam.capture.set({
        iso: 400,
        aperture: 5.6,
        shutterSpeed: "1/250",
        flash: "on",
        exposureCompensation: -1,
        zoom: 4,
      });
      assert.equal(settings.iso, 400);
      assert.equal(vc.zoom, 4);
      const start = performance.now();
      const shot = await cam.capture.shoot({ to: "host" });
      const hostMs = performance.now() - start;
      const exif = exifExposure(shot.image!);
      assert.deepEqual(
        [exif.iso, exif.fNumber, exif.exposureTime, exif.flashFired, exif.exposureBias],
        [400, 5.6, 1 / 250, true, -1],
      );
      assert.deepEqual(jpegSize(shot.thumbnail!), { width: 160, height: 120 });
      const expected = (vc.card as MemoryCard).nextImagePath();
      const kept = await cam.capture.shoot({ to: "card" });
      assert.equal(kept.path, expected);
      console.log(`host shot of ${shot.size} bytes in ${hostMs.toFixed(0)} ms through libusb`);
    }
    assert.equal(vc.remoteMode, false, "await using left remote mode");
  });
});

test("through libusb: viewfinder frames, and the stream stops when the loop breaks", async () => {
  await withCamera({}, async (cam) => {
    await using _remote = await cam.capture.start();
    let frames = 0;
    const start = performance.now();
    for await (const frame of cam.capture.previews()) {
      assert.deepEqual(jpegSize(frame), { width: 320, height: 240 });
      if (++frames === 20) break;
    }
    const perFrame = (performance.now() - start) / frames;
    assert.ok(perFrame < 100, `${perFrame.toFixed(1)} ms a frame`);
    console.log(`viewfinder through libusb: ${perFrame.toFixed(1)} ms a frame`);
    assert.deepEqual(jpegSize(await cam.capture.preview()), { width: 320, height: 240 });
  });
});

test("through libusb: no reply, a photographic failure, no card: typed errors, then the camera works", async () => {
  await withCamera({ card: false }, async (cam, vc) => {
    await using _remote = await cam.capture.start();
    vc.faults.inject({ kind: "capture-silent" });
    const start = performance.now();
    await assert.rejects(
      () => cam.capture.shoot({ to: "host", timeout: 400 }),
      CaptureTimeoutError,
    );
    assert.ok(performance.now() - start < 5000, "bounded by the capture timeout");
    vc.faults.inject({ kind: "capture-failure", code: 7 });
    await assert.rejects(
      () => cam.capture.shoot({ to: "host" }),
      (e: Error) => e instanceof PhotographicFailureError && e.code === 7,
    );
    await assert.rejects(
      () => cam.capture.shoot({ to: "card" }),
      (e: Error) => e instanceof CardUnavailableError && e.reason === "no-card",
    );
    assert.ok((await cam.capture.shoot({ to: "host" })).image);
  });
});

test("through libusb: a session left in remote mode by a dead process is recovered", async () => {
  const vc = new VirtualCamera({ captureLatencyMs: 5 });
  using testbed = UmockdevTestbed.open();
  testbed.attach(vc.usbFunction);
  const crashed = await Camera.open();
  await crashed.capture.start();
  await crashed.device.close(); // the process died: no remote exit was sent
  assert.equal(vc.remoteMode, true);
  await using cam = await Camera.open();
  await using _remote = await cam.capture.start();
  assert.equal((await cam.capture.settings()).iso, 50);
  assert.ok((await cam.capture.shoot({ to: "host" })).image);
});
