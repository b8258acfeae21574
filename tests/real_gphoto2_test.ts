// Tier 4: gphoto2's canon jobs on every emulated model with the real-camera
// behaviours on (the virtual camera's default): zero-length packets on idle
// interrupt polls, late and unknown packets, the 20D's init packet 8 bytes at
// a time, the class-6 file-command limits. --summary, -L, --get-all-files,
// --capture-image-and-download and --list-config must still work.
import assert from "node:assert/strict";
import { join } from "node:path";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import { cardBytes } from "./_models.ts";
import { gphoto2, hasCommand, skipWithout, underUmockdev } from "./_support.ts";

const ignore = skipWithout(await hasCommand("gphoto2"), "gphoto2") ||
  skipWithout(underUmockdev, "LD_PRELOAD=libumockdev-preload.so.0");

for (const model of VirtualCamera.models) {
  Deno.test({
    name:
      `gphoto2 with the real-camera behaviours of the ${model}: summary, -L, all files, capture, config`,
    ignore,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const dir = await Deno.makeTempDir();
      const vc = new VirtualCamera({ model, captureLatencyMs: 150 });
      try {
        using testbed = UmockdevTestbed.open();
        testbed.attach(vc.usbFunction);
        const summary = await gphoto2(testbed, ["--summary"]);
        assert.equal(summary.code, 0, summary.out);
        assert.match(summary.out, /Owner: Kiril/);

        const list = await gphoto2(testbed, ["-L"]);
        assert.equal(list.code, 0, list.out);
        assert.match(list.out, /IMG_0001\.JPG/);

        const all = await gphoto2(testbed, ["--get-all-files"], dir);
        assert.equal(all.code, 0, all.out);
        assert.deepEqual(
          await Deno.readFile(join(dir, "IMG_0001.JPG")),
          cardBytes(vc, "/DCIM/100CANON/IMG_0001.JPG"),
        );

        const config = await gphoto2(testbed, ["--list-config"]);
        assert.equal(config.code, 0, config.out);
        assert.match(config.out, /\/main\/settings\/iso/);

        const shotDir = join(dir, "shot");
        await Deno.mkdir(shotDir);
        const shot = await gphoto2(testbed, ["--capture-image-and-download"], shotDir);
        assert.equal(shot.code, 0, shot.out);
        const files = [...Deno.readDirSync(shotDir)].map((e) => e.name);
        assert.ok(files.length >= 1, `${model}: ${shot.out}`);
        const bytes = await Deno.readFile(join(shotDir, files.find((f) => /\.JPG$/i.test(f))!));
        assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xd8]);
      } finally {
        await vc[Symbol.asyncDispose]();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
