// Issue 14.7: calls made before close() all finish; calls made after it all
// reject with CameraClosedError. A download first checks its destination on
// the host (file system awaits) before it reaches the wire: it was rejected
// while an identify made at the same moment finished.
import assert from "node:assert/strict";
import { Camera, CameraClosedError } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import { skipWithout, underUmockdev } from "./_support.ts";

const ignore3 = skipWithout(underUmockdev, "LD_PRELOAD=libumockdev-preload.so.0");

function cardBytes(vc: VirtualCamera, path: string): Uint8Array {
  const segments = path.split("/").filter(Boolean);
  return vc.card!.read(segments, 0, vc.card!.find(segments)!.size);
}

async function closeRace(cam: Camera, vc: VirtualCamera): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "canon-close-" });
  try {
    const one = "/DCIM/100CANON/IMG_0001.JPG";
    const two = "/DCIM/100CANON/IMG_0002.JPG";
    // Issued together, then close().
    const download = cam.storage.download(one, dir);
    const identify = cam.identify();
    const read = cam.storage.read(two);
    const list = cam.storage.list("/DCIM/100CANON");
    const closing = cam.close();
    // Made after close(): refused, and nothing of them reaches the camera.
    const late = Promise.allSettled([
      cam.identify(),
      cam.storage.download(two, dir),
      cam.storage.list("/"),
      cam.powerStatus(),
    ]);
    const sentBefore = vc.commandLog.length;
    const [d, i, r, l] = await Promise.allSettled([download, identify, read, list]);
    assert.equal(d.status, "fulfilled", `download: ${d.status === "rejected" ? d.reason : ""}`);
    assert.equal(i.status, "fulfilled");
    assert.equal(r.status, "fulfilled");
    assert.equal(l.status, "fulfilled");
    assert.deepEqual(
      await Deno.readFile((d as PromiseFulfilledResult<{ file: string }>).value.file),
      cardBytes(vc, one),
    );
    assert.deepEqual((r as PromiseFulfilledResult<Uint8Array>).value, cardBytes(vc, two));
    for (const result of await late) {
      assert.equal(result.status, "rejected");
      assert.ok((result as PromiseRejectedResult).reason instanceof CameraClosedError);
    }
    await closing;
    assert.equal(cam.closed, true);
    assert.ok(vc.commandLog.length >= sentBefore);
    const names = vc.commandLog.slice(sentBefore).map((c) => `${c.cmd1}/${c.cmd2}`);
    assert.ok(!names.includes("10/18"), `no power status after close: ${names}`); // 0x0a/0x12
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["IMG_0001.JPG"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("tier 2: a download issued before close() finishes like the identify beside it", async () => {
  const vc = new VirtualCamera();
  const cam = await Camera.connect(vc);
  await closeRace(cam, vc);
});

Deno.test("tier 2: close() twice waits for the same close; calls after it reject", async () => {
  const vc = new VirtualCamera();
  const cam = await Camera.connect(vc);
  const download = cam.storage.read("/DCIM/100CANON/IMG_0001.JPG");
  const [a, b] = [cam.close(), cam.close()];
  await Promise.all([a, b]);
  assert.ok((await download).length > 0);
  await assert.rejects(() => cam.storage.info(), CameraClosedError);
  assert.equal(vc.opened, false);
});

Deno.test({
  name: "tier 3: libusb + umockdev: calls issued before close() all finish",
  ignore: ignore3,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const vc = new VirtualCamera();
    using testbed = UmockdevTestbed.open();
    testbed.attach(vc.usbFunction);
    const cam = await Camera.open({ timeout: 2000 });
    await closeRace(cam, vc);
  },
});
