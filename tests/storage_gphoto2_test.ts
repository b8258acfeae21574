// Tier 4: gphoto2 (libgphoto2's canon driver) does the storage jobs of issue 3
// against the virtual camera, through the real libusb and umockdev; the card's
// state is then checked in this process, and downloads are compared with the
// card and with what this library downloads.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Camera } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import { gphoto2, hasCommand, skipWithout, tier3Test, underUmockdev } from "./_support.ts";

const ignore = skipWithout(await hasCommand("gphoto2"), "gphoto2") ||
  skipWithout(underUmockdev, "LD_PRELOAD=libumockdev-preload.so.0");

function cardFile(vc: VirtualCamera, path: string): Uint8Array {
  const segments = path.split("/").filter(Boolean);
  return vc.card!.read(segments, 0, vc.card!.find(segments)!.size);
}

const test = (name: string, fn: () => Promise<void>) => tier3Test({ name, ignore, fn });

test("gphoto2 --storage-info, -l and -L agree with the card", async () => {
  const vc = new VirtualCamera();
  using testbed = UmockdevTestbed.open();
  testbed.attach(vc.usbFunction);
  const info = await gphoto2(testbed, ["--storage-info"]);
  assert.equal(info.code, 0, info.out);
  // The G3 counts in KiB and gphoto2 divides by 1024 once more (errata §2.7).
  assert.match(
    info.out,
    new RegExp(`totalcapacity=${Math.floor(vc.card!.capacity / 1024 / 1024)} KB`),
  );
  const folders = await gphoto2(testbed, ["-l"]);
  assert.equal(folders.code, 0, folders.out);
  for (const folder of ["/DCIM/100CANON", "/DCIM/101CANON", "/DCIM/CANONMSC"]) {
    assert.ok(folders.out.includes(folder), `${folder} in:\n${folders.out}`);
  }
  const files = await gphoto2(testbed, ["-L"]);
  assert.equal(files.code, 0, files.out);
  for (const name of ["IMG_0001.JPG", "CRW_0006.CRW", "MVI_0007.AVI", "IMG_0102.JPG"]) {
    assert.ok(files.out.includes(name), `${name} in:\n${files.out}`);
  }
});

test("gphoto2 --get-all-files: bytes identical to the card and to this library's download", async () => {
  const gpDir = await Deno.makeTempDir();
  const ourDir = await Deno.makeTempDir();
  try {
    const vc = new VirtualCamera();
    using testbed = UmockdevTestbed.open();
    testbed.attach(vc.usbFunction);
    const run = await gphoto2(testbed, ["--get-all-files"], gpDir);
    assert.equal(run.code, 0, run.out);
    const names = [...Deno.readDirSync(gpDir)].map((e) => e.name).sort();
    // gphoto2 lists images, movies and sounds (not THM/CTG) by default.
    assert.deepEqual(names, [
      "CRW_0006.CRW",
      "IMG_0001.JPG",
      "IMG_0002.JPG",
      "IMG_0003.JPG",
      "IMG_0004.JPG",
      "IMG_0005.JPG",
      "IMG_0101.JPG",
      "IMG_0102.JPG",
      "MVI_0007.AVI",
    ]);
    await using cam = await Camera.open();
    for (const entry of await cam.storage.list("/", { recursive: true })) {
      if (!names.includes(entry.name)) continue;
      const ours = await cam.storage.download(entry.path, ourDir);
      const theirs = await Deno.readFile(join(gpDir, entry.name));
      assert.deepEqual(theirs, cardFile(vc, entry.path), `gphoto2's ${entry.name}`);
      assert.deepEqual(await Deno.readFile(ours.file!), theirs, `our ${entry.name}`);
    }
  } finally {
    await Deno.remove(gpDir, { recursive: true });
    await Deno.remove(ourDir, { recursive: true });
  }
});

test("gphoto2 --get-all-thumbnails: the same thumbnails this library extracts", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const vc = new VirtualCamera();
    using testbed = UmockdevTestbed.open();
    testbed.attach(vc.usbFunction);
    const run = await gphoto2(testbed, ["--get-all-thumbnails"], dir);
    assert.equal(run.code, 0, run.out);
    const thumbs = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.ok(thumbs.includes("thumb_IMG_0001.jpg"), thumbs.join(" "));
    assert.ok(thumbs.includes("thumb_CRW_0006.jpg"), thumbs.join(" "));
    await using cam = await Camera.open();
    const ours = await cam.storage.thumbnail("/DCIM/100CANON/IMG_0001.JPG");
    assert.deepEqual(await Deno.readFile(join(dir, "thumb_IMG_0001.jpg")), ours);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("gphoto2 --delete-file, --mkdir and --rmdir change the card as a camera would", async () => {
  const vc = new VirtualCamera();
  using testbed = UmockdevTestbed.open();
  testbed.attach(vc.usbFunction);
  const del = await gphoto2(testbed, [
    "--folder",
    "/DCIM/100CANON",
    "--delete-file",
    "IMG_0001.JPG",
  ]);
  assert.equal(del.code, 0, del.out);
  assert.equal(vc.card!.find(["DCIM", "100CANON", "IMG_0001.JPG"]), undefined);
  const protectedFile = await gphoto2(testbed, [
    "--folder",
    "/DCIM/100CANON",
    "--delete-file",
    "IMG_0002.JPG",
  ]);
  assert.notEqual(protectedFile.code, 0, "a protected file is not deleted");
  assert.ok(vc.card!.find(["DCIM", "100CANON", "IMG_0002.JPG"]));
  const mkdir = await gphoto2(testbed, ["--mkdir", "/DCIM/102CANON"]);
  assert.equal(mkdir.code, 0, mkdir.out);
  assert.ok(vc.card!.find(["DCIM", "102CANON"])?.isDirectory);
  const rmdir = await gphoto2(testbed, ["--rmdir", "/DCIM/102CANON"]);
  assert.equal(rmdir.code, 0, rmdir.out);
  assert.equal(vc.card!.find(["DCIM", "102CANON"]), undefined);
});
