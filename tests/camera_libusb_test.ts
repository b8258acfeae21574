// Tier 3: the Camera API through the real stack: Camera -> LibusbDevice ->
// libusb-1.0 -> umockdev -> VirtualCamera, all in this process.
import assert from "node:assert/strict";
import {
  Camera,
  CameraClosedError,
  CameraNotFoundError,
  CameraStatusError,
  CameraTimeoutError,
  listCameras,
  ProtocolError,
} from "../mod.ts";
import { MemoryCard, VirtualCamera } from "../src/emulator/mod.ts";
import { type EmulatedUsbDevice, UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import type { VirtualCameraOptions } from "../src/emulator/host/virtual_camera.ts";
import { skipWithout, tier3Test, underUmockdev } from "./_support.ts";

const ignore = skipWithout(underUmockdev, "LD_PRELOAD=libumockdev-preload.so.0");

async function withCamera(
  options: VirtualCameraOptions,
  body: (cam: Camera, vc: VirtualCamera, plug: EmulatedUsbDevice) => Promise<void>,
  timeout = 2000,
): Promise<void> {
  const vc = new VirtualCamera(options);
  using testbed = UmockdevTestbed.open();
  const plug = testbed.attach(vc.usbFunction);
  const cam = await Camera.open({ timeout });
  try {
    await body(cam, vc, plug);
  } finally {
    await cam.close();
  }
}

const test = (name: string, fn: () => Promise<void>) => tier3Test({ name, ignore, fn });

test("libusb lists the virtual G3 with bus, address and model", async () => {
  using testbed = UmockdevTestbed.open();
  testbed.attach(new VirtualCamera().usbFunction, { bus: 1, address: 7 });
  const cameras = await listCameras();
  assert.deepEqual(cameras, [{
    bus: 1,
    address: 7,
    productId: 0x306e,
    modelName: "PowerShot G3",
    mode: "normal",
    supported: true,
  }]);
  await assert.rejects(() => Camera.open({ productId: 0x3083 }), (e: Error) => {
    assert.ok(e instanceof CameraNotFoundError);
    assert.match(e.message, /product id 0x3083.*found: PowerShot G3 \(0x306e\) at bus 1 address 7/);
    return true;
  });
});

test("open, identify, set owner and power status through libusb", async () => {
  await withCamera({ owner: "Kiril" }, async (cam, vc) => {
    assert.deepEqual(await cam.identify(), {
      modelName: "Canon PowerShot G3",
      owner: "Kiril",
      firmware: "1.0.2.0",
    });
    await cam.setOwner("Grace Hopper");
    assert.equal(cam.owner, "Grace Hopper");
    assert.equal(vc.owner, "Grace Hopper");
    assert.deepEqual(await cam.powerStatus(), { source: "ac", ok: true, level: 6 });
    assert.equal(cam.keysLocked, true);
  });
});

test("storage through libusb: info, tree, download identical to the card, thumbnail", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await withCamera({}, async (cam, vc) => {
      const info = await cam.storage.info();
      assert.equal(info.drive, "D:");
      assert.ok(info.capacity > 100_000_000);
      const tree = await cam.storage.list("/", { recursive: true });
      assert.ok(tree.some((e) => e.path === "/DCIM/101CANON/IMG_0102.JPG"));
      const result = await cam.storage.download("/DCIM/100CANON/CRW_0006.CRW", dir);
      const node = vc.card!.find(["DCIM", "100CANON", "CRW_0006.CRW"])!;
      assert.deepEqual(
        await Deno.readFile(result.file!),
        vc.card!.read(["DCIM", "100CANON", "CRW_0006.CRW"], 0, node.size),
      );
      const thumb = await cam.storage.thumbnail("/DCIM/100CANON/IMG_0003.JPG");
      assert.deepEqual([...thumb.subarray(0, 2)], [0xff, 0xd8]);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("open through libusb: a file as a stream; cancelled midway, the camera goes on", async () => {
  const card = new MemoryCard({
    content: [
      { path: "/DCIM/100CANON/MVI_0001.AVI", size: 3_000_000 },
      { path: "/DCIM/100CANON/IMG_0002.JPG", size: 40_000 },
    ],
  });
  await withCamera({ card }, async (cam, vc) => {
    const whole = vc.card!.read(["DCIM", "100CANON", "IMG_0002.JPG"], 0, 40_000);
    const chunks: Uint8Array[] = [];
    for await (const chunk of cam.storage.open("/DCIM/100CANON/IMG_0002.JPG")) chunks.push(chunk);
    const joined = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    chunks.reduce((at, c) => (joined.set(c, at), at + c.length), 0);
    assert.deepEqual(joined, whole);
    // A file of many transfers, its chunks kept until the end: each chunk
    // must stay the reader's own after later transfers arrive.
    const big = vc.card!.read(["DCIM", "100CANON", "MVI_0001.AVI"], 0, 3_000_000);
    const kept: Uint8Array[] = [];
    for await (const chunk of cam.storage.open("/DCIM/100CANON/MVI_0001.AVI")) kept.push(chunk);
    const all = new Uint8Array(kept.reduce((n, c) => n + c.length, 0));
    kept.reduce((at, c) => (all.set(c, at), at + c.length), 0);
    assert.equal(all.length, big.length);
    assert.ok(all.every((b, i) => b === big[i]), "the streamed AVI matches the card byte for byte");
    const reader = cam.storage.open("/DCIM/100CANON/MVI_0001.AVI").getReader();
    let got = 0;
    while (got < 200_000) got += (await reader.read()).value!.length;
    await reader.cancel();
    assert.ok(got < 3_000_000);
    assert.equal((await cam.identify()).modelName, "Canon PowerShot G3");
    assert.deepEqual(await cam.storage.read("/DCIM/100CANON/IMG_0002.JPG"), whole);
  });
});

test("delete, protect, mkdir, rmdir and upload through libusb change the card", async () => {
  await withCamera({}, async (cam, vc) => {
    await assert.rejects(
      () => cam.storage.delete("/DCIM/100CANON/IMG_0002.JPG"),
      (e: Error) => e instanceof CameraStatusError && e.status === 0x02000029,
    );
    await cam.storage.delete("/DCIM/100CANON/IMG_0001.JPG");
    assert.equal(vc.card!.find(["DCIM", "100CANON", "IMG_0001.JPG"]), undefined);
    await cam.storage.mkdir("/DCIM/102CANON");
    const bytes = Uint8Array.from({ length: 20_000 }, (_, i) => i % 251);
    await cam.storage.upload(bytes, "/DCIM/102CANON", { name: "AUT_0001.JPG" });
    assert.deepEqual(await cam.storage.read("/DCIM/102CANON/AUT_0001.JPG"), bytes);
    await cam.storage.delete("/DCIM/102CANON/AUT_0001.JPG");
    await cam.storage.rmdir("/DCIM/102CANON");
    assert.equal(vc.card!.find(["DCIM", "102CANON"]), undefined);
  });
});

test("no reply through libusb: a timeout in bounded time, then the camera answers again", async () => {
  await withCamera({}, async (cam, vc) => {
    vc.faults.inject({ kind: "silent" }, { command: { cmd1: 0x0a, cmd2: 0x12 } });
    const start = performance.now();
    await assert.rejects(() => cam.powerStatus(), CameraTimeoutError);
    assert.ok(performance.now() - start < 3000);
    assert.equal((await cam.powerStatus()).ok, true);
  }, 300);
});

test("a truncated or garbled reply through libusb is a protocol error; the camera recovers", async () => {
  await withCamera({}, async (cam, vc) => {
    vc.faults.inject({ kind: "truncate", length: 0x48 }, { command: { cmd1: 0x01, cmd2: 0x12 } });
    await assert.rejects(() => cam.identify(), (e: Error) => e instanceof ProtocolError);
    vc.faults.inject({ kind: "garble" }, { command: { cmd1: 0x0a, cmd2: 0x12 } });
    await assert.rejects(() => cam.powerStatus());
    assert.equal((await cam.identify()).modelName, "Canon PowerShot G3");
  }, 300);
});

test("the camera unplugged mid-download: clear error, no file left, camera reports closed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await withCamera({}, async (cam, _vc, plug) => {
      let unplugged = false;
      await assert.rejects(
        () =>
          cam.storage.download("/DCIM/100CANON/CRW_0006.CRW", dir, {
            onProgress: (done) => {
              if (done > 100_000 && !unplugged) {
                unplugged = true;
                plug.detach();
              }
            },
          }),
        (e: Error) => e instanceof CameraClosedError && /disconnected/.test(e.message),
      );
      assert.deepEqual([...Deno.readDirSync(dir)], []);
      assert.equal(cam.closed, true);
      await assert.rejects(() => cam.identify(), CameraClosedError);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("a stalled endpoint through libusb is cleared; the next command works", async () => {
  await withCamera({}, async (cam, vc) => {
    vc.faults.inject({ kind: "stall" }, { command: { cmd1: 0x0a, cmd2: 0x12 } });
    await assert.rejects(() => cam.powerStatus(), /stalled/);
    assert.equal((await cam.powerStatus()).ok, true);
  });
});

test("a second session finds the camera active ('A' path) and works", async () => {
  const vc = new VirtualCamera();
  using testbed = UmockdevTestbed.open();
  testbed.attach(vc.usbFunction);
  {
    await using first = await Camera.open();
    assert.equal(first.wokenUp, true);
  }
  await using second = await Camera.open();
  assert.equal(second.wokenUp, false);
  assert.equal((await second.identify()).modelName, "Canon PowerShot G3");
});
