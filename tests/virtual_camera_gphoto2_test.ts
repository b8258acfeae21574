// Interop: gphoto2 (libgphoto2's canon driver, an independent client) does its
// job against the virtual camera through the real libusb and umockdev.

import assert from "node:assert/strict";
import { join } from "node:path";
import { DirectoryCard } from "../src/emulator/card/card_from_dir.ts";
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

// gphoto2 takes an argument of --get-file with a dot in it as a file name in
// --folder, and any other as file numbers, counted in the listing's order. A
// card made from a folder must serve each name and each number with the
// photo the listing shows there: the folder's IMG_0042.JPG keeps its name,
// the others are numbered on by date, and none may come back as another.
test("gphoto2 --get-file by name and by number gets a folder card's right photos", async () => {
  const dir = await Deno.makeTempDir({ prefix: "canon-gphoto2-card-" });
  try {
    const source = new VirtualCamera();
    const photo = (name: string) => {
      const path = ["DCIM", "100CANON", name];
      return source.card!.read(path, 0, source.card!.find(path)!.size);
    };
    // Three different JPEGs: the folder's own camera name, and two to be numbered by date.
    const files: [string, Uint8Array, string][] = [
      ["IMG_0042.JPG", photo("IMG_0001.JPG"), "2024-06-02T11:30:00"],
      ["beach.jpg", photo("IMG_0003.JPG"), "2024-06-01T10:00:00"],
      ["party.jpg", photo("IMG_0004.JPG"), "2024-06-03T20:15:00"],
    ];
    await source[Symbol.asyncDispose]();
    for (const [name, bytes, when] of files) {
      await Deno.writeFile(join(dir, name), bytes);
      await Deno.utime(join(dir, name), new Date(when), new Date(when));
    }
    const folder = await DirectoryCard.open(dir);
    const out = join(dir, "out");
    await Deno.mkdir(out);
    const run = await gphoto2(
      [
        "--list-files",
        "--folder",
        "/DCIM/100CANON",
        "--get-file",
        "IMG_0044.JPG",
        "--get-file",
        "IMG_0042.JPG",
        "--get-file",
        "2",
      ],
      { card: folder.card },
      out,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /#1\s+IMG_0042\.JPG/);
    assert.match(run.stdout, /#2\s+IMG_0043\.JPG/);
    assert.match(run.stdout, /#3\s+IMG_0044\.JPG/);
    const saved = Object.fromEntries(
      [...Deno.readDirSync(out)].map((e) => [e.name, Deno.readFileSync(join(out, e.name))]),
    );
    assert.deepEqual(Object.keys(saved).sort(), ["IMG_0042.JPG", "IMG_0043.JPG", "IMG_0044.JPG"]);
    assert.deepEqual(saved["IMG_0042.JPG"], files[0][1], "IMG_0042.JPG is the folder's IMG_0042");
    assert.deepEqual(saved["IMG_0043.JPG"], files[1][1], "#2, IMG_0043.JPG, is beach.jpg");
    assert.deepEqual(saved["IMG_0044.JPG"], files[2][1], "IMG_0044.JPG is party.jpg");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
