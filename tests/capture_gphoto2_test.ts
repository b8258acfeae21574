// Tier 4: gphoto2 (libgphoto2's canon driver, an independent client) drives
// remote capture of the virtual camera through the real libusb and umockdev;
// the same VirtualCamera is then read by this library in this process, and
// the other way round.
import assert from "node:assert/strict";
import { Camera } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import type { MemoryCard } from "../src/emulator/card/memory_card.ts";
import { exifExposure, jpegSize } from "./_exif.ts";
import { gphoto2, hasCommand, skipWithout, tier3Test, underUmockdev } from "./_support.ts";

const ignore = skipWithout(await hasCommand("gphoto2"), "gphoto2") ||
  skipWithout(underUmockdev, "LD_PRELOAD=libumockdev-preload.so.0");

const test = (name: string, fn: () => Promise<void>) => tier3Test({ name, ignore, fn });

/** gphoto2's "Current:" values, in the order of the --get-config arguments. */
function currents(out: string): string[] {
  return [...out.matchAll(/^Current: (.*)$/gm)].map((m) => m[1]);
}

function setup() {
  const vc = new VirtualCamera({ captureLatencyMs: 20 });
  const testbed = UmockdevTestbed.open();
  testbed.attach(vc.usbFunction);
  return { vc, testbed };
}

test("gphoto2 --list-config shows every capture setting", async () => {
  const { testbed } = setup();
  using _ = testbed;
  const run = await gphoto2(testbed, ["--list-config"]);
  assert.equal(run.code, 0, run.out);
  for (const name of ["iso", "shutterspeed", "aperture", "exposurecompensation", "flashmode"]) {
    assert.match(run.out, new RegExp(`/main/settings/${name}\\n`));
  }
  for (const name of ["imageformat", "shootingmode", "zoom", "beep", "focusmode"]) {
    assert.match(run.out, new RegExp(`/main/settings/${name}\\n`));
  }
});

test("settings set by gphoto2 are what this library reads", async () => {
  const { vc, testbed } = setup();
  using _ = testbed;
  const run = await gphoto2(testbed, [
    "--set-config",
    "iso=200",
    "--set-config",
    "shutterspeed=1/60",
    "--set-config",
    "aperture=2.8",
    "--set-config",
    "exposurecompensation=-1 1/3",
    "--set-config",
    "flashmode=Flash on",
    "--set-config",
    "imageformat=Small Fine JPEG",
    "--set-config",
    "shootingmode=Av",
    "--set-config",
    "focusmode=Manual focus",
    "--set-config",
    "zoom=5",
    "--set-config",
    "beep=Beep on",
    "--get-config",
    "iso",
    "--get-config",
    "zoom",
  ]);
  assert.equal(run.code, 0, run.out);
  assert.deepEqual(currents(run.out), ["200", "5"]);
  assert.equal(vc.remoteMode, false, "gphoto2 left remote mode at exit");
  await using cam = await Camera.open();
  const settings = await cam.capture.settings();
  assert.deepEqual({ ...settings, raw: undefined, exposureCompensation: undefined }, {
    imageFormat: { size: "small", quality: "fine", raw: false },
    flash: "on",
    beep: true,
    shootingMode: "Av",
    macro: false,
    focusMode: "manual",
    iso: 200,
    aperture: 2.8,
    shutterSpeed: "1/60",
    exposureCompensation: undefined,
    zoom: 5,
    zoomMax: 17,
    raw: undefined,
  });
  assert.ok(Math.abs(settings.exposureCompensation! + 4 / 3) < 1e-9);
});

test("settings set by this library are what gphoto2 reads", async () => {
  const { testbed } = setup();
  using _ = testbed;
  {
    await using cam = await Camera.open();
    await using _remote = await cam.capture.start();
    await cam.capture.set({
      iso: 400,
      shutterSpeed: "1/250",
      aperture: 5.6,
      exposureCompensation: 2 / 3,
      flash: "auto",
      imageFormat: { size: "medium", quality: "normal" },
      shootingMode: "Tv",
      focusMode: "ai-servo",
      zoom: 9,
      beep: true,
    });
  }
  const names = [
    "iso",
    "shutterspeed",
    "aperture",
    "exposurecompensation",
    "flashmode",
    "imageformat",
    "shootingmode",
    "focusmode",
    "zoom",
    "beep",
  ];
  const run = await gphoto2(testbed, names.flatMap((name) => ["--get-config", name]));
  assert.equal(run.code, 0, run.out);
  assert.deepEqual(currents(run.out), [
    "400",
    "1/250",
    "5.6",
    "+2/3",
    "Flash auto",
    "Medium Normal JPEG",
    "Tv",
    "Auto focus: AI servo",
    "9",
    "Beep on",
  ]);
});

test("1.6 s set by Debian's gphoto2 (byte 0x32, errata E2) reads as 1.6 s here", async () => {
  const { vc, testbed } = setup();
  using _ = testbed;
  const run = await gphoto2(testbed, ["--set-config", "shutterspeed=1.6"]);
  assert.equal(run.code, 0, run.out);
  assert.equal(vc.releaseParams[0x1e], 0x32, "libgphoto2 2.5.30 writes 0x32");
  await using cam = await Camera.open();
  assert.equal((await cam.capture.settings()).shutterSpeed, "1.6");
});

test("gphoto2 --capture-image stores a new picture where this library finds it, EXIF as gphoto2 set", async () => {
  const { vc, testbed } = setup();
  using _ = testbed;
  const expected = (vc.card as MemoryCard).nextImagePath();
  const run = await gphoto2(testbed, [
    "--set-config",
    "iso=400",
    "--set-config",
    "flashmode=Flash on",
    "--capture-image",
  ]);
  assert.equal(run.code, 0, run.out);
  assert.match(run.out, new RegExp(`New file is in location ${expected} on the camera`));
  await using cam = await Camera.open();
  const jpeg = await cam.storage.read(expected);
  const exif = exifExposure(jpeg);
  assert.equal(exif.iso, 400);
  assert.equal(exif.flashFired, true);
  assert.equal((await cam.capture.settings()).iso, 400);
});

test("gphoto2 --capture-image-and-download and --capture-preview get real JPEGs", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { vc, testbed } = setup();
    using _ = testbed;
    const run = await gphoto2(
      testbed,
      ["--set-config", "aperture=8", "--capture-image-and-download", "--keep"],
      dir,
    );
    assert.equal(run.code, 0, run.out);
    const saved = run.out.match(/Saving file as (\S+)/)?.[1];
    assert.ok(saved, run.out);
    const jpeg = await Deno.readFile(`${dir}/${saved}`);
    assert.equal(exifExposure(jpeg).fNumber, 8);
    const path = run.out.match(/New file is in location (\S+) on the camera/)![1];
    const segments = path.split("/").filter(Boolean);
    assert.deepEqual(jpeg, vc.card!.read(segments, 0, vc.card!.find(segments)!.size));
    // Capture preview: thumbnail to the host (transfer mode 0x01), fetched by key with 0x17.
    const preview = await gphoto2(testbed, ["--capture-preview"], dir);
    assert.equal(preview.code, 0, preview.out);
    const thumbnail = await Deno.readFile(`${dir}/capture_preview.jpg`);
    assert.deepEqual(jpegSize(thumbnail), { width: 160, height: 120 });
    assert.equal(vc.remoteMode, false);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("gphoto2 captures on emulated EOS bodies: 10D to the card (lock, 0x0E, 0x0F), 20D preview (class 6)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    {
      const vc = new VirtualCamera({ model: "EOS 10D", captureLatencyMs: 20 });
      using testbed = UmockdevTestbed.open();
      testbed.attach(vc.usbFunction);
      const expected = (vc.card as MemoryCard).nextImagePath();
      const run = await gphoto2(testbed, ["--set-config", "iso=100", "--capture-image"], dir);
      assert.equal(run.code, 0, run.out);
      assert.match(run.out, new RegExp(`New file is in location ${expected} on the camera`));
      assert.equal(vc.keysLocked, false, "gphoto2 unlocked the keys after the capture");
      await using cam = await Camera.open();
      assert.equal(exifExposure(await cam.storage.read(expected)).iso, 100);
    }
    {
      const vc = new VirtualCamera({ model: "EOS 20D", captureLatencyMs: 20 });
      using testbed = UmockdevTestbed.open();
      testbed.attach(vc.usbFunction);
      const run = await gphoto2(testbed, ["--capture-preview"], dir);
      assert.equal(run.code, 0, run.out);
      assert.deepEqual(jpegSize(await Deno.readFile(`${dir}/capture_preview.jpg`)), {
        width: 160,
        height: 120,
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
