// Interop: gphoto2 (libgphoto2's canon driver, an independent client) does its
// job against the virtual camera through the real libusb and umockdev.

import assert from "node:assert/strict";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import { VirtualCamera, type VirtualCameraOptions } from "../src/emulator/host/virtual_camera.ts";
import { tier3Test } from "./_support.ts";

const hasGphoto2 = await new Deno.Command("gphoto2", { args: ["--version"], stdout: "null" })
  .output().then((out) => out.success, () => false);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  camera: VirtualCamera;
}

/** Run gphoto2 with a fresh virtual camera plugged in; `cwd` receives downloads. */
async function gphoto2(
  args: string[],
  options: VirtualCameraOptions = {},
  cwd?: string,
): Promise<Run> {
  const camera = new VirtualCamera({ captureLatencyMs: 50, ...options });
  using testbed = UmockdevTestbed.open();
  try {
    testbed.attach(camera.usbFunction);
    const out = await new Deno.Command("gphoto2", {
      args,
      env: { ...testbed.env(), LANG: "C" },
      cwd,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
    return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr), camera };
  } finally {
    await camera[Symbol.asyncDispose]();
  }
}

const test = (name: string, fn: () => Promise<void>) =>
  tier3Test({ name, ignore: !hasGphoto2, fn });

test("gphoto2 --summary shows the model, the owner and AC power", async () => {
  const run = await gphoto2(["--summary"], { owner: "Kiril" });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /Model: Canon:PowerShot G3 \(normal mode\)/);
  assert.match(run.stdout, /Owner: Kiril/);
  assert.match(run.stdout, /AC adapter \(power OK\)/);
  assert.match(run.stdout, /Drive D:/);
});

test("gphoto2 sets the owner name and reads it back in one process", async () => {
  const run = await gphoto2(["--set-config", "ownername=Alice", "--get-config", "ownername"]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /Current: Alice/);
  assert.equal(run.camera.owner, "Alice");
  assert.equal(run.camera.remoteMode, false, "gphoto2 left remote mode at exit");
});

test("gphoto2 reads the firmware version and the zoom range", async () => {
  const run = await gphoto2(
    ["--get-config", "firmwareversion", "--get-config", "zoom"],
    { firmware: "1.2.3.4" },
  );
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /Current: 1\.2\.3\.4/);
  assert.match(run.stdout, /Top: 17/);
});

test("gphoto2 -L lists the default card's pictures", async () => {
  const run = await gphoto2(["-L"]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /files in folder '\/DCIM\/100CANON'/);
  assert.match(run.stdout, /IMG_0001\.JPG\s+r[-d]\s+\d+ KB image\/jpeg/);
});

test("gphoto2 --get-file downloads the card's bytes unchanged", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const run = await gphoto2(["--get-file", "/DCIM/100CANON/IMG_0001.JPG"], {}, dir);
    assert.equal(run.code, 0, run.stderr);
    const got = await Deno.readFile(`${dir}/IMG_0001.JPG`);
    const path = ["DCIM", "100CANON", "IMG_0001.JPG"];
    const card = run.camera.card!;
    assert.deepEqual(got, card.read(path, 0, card.find(path)!.size));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("gphoto2 --capture-image-and-download gets a new JPEG from the camera", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const run = await gphoto2(["--capture-image-and-download"], {}, dir);
    assert.equal(run.code, 0, run.stderr);
    const saved = run.stdout.match(/Saving file as (\S+)/)?.[1];
    assert.ok(saved, run.stdout);
    const jpeg = await Deno.readFile(`${dir}/${saved}`);
    assert.deepEqual([...jpeg.subarray(0, 2)], [0xff, 0xd8]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
