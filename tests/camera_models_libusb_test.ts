// Tier 3: every emulated model through the real stack (Camera -> libusb ->
// umockdev -> VirtualCamera), and discovery: listing, choosing by model name,
// product id or bus/address, PTP-mode ids, two cameras open at once.
import assert from "node:assert/strict";
import { Camera, CameraNotFoundError, listCameras } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import { skipWithout, tier3Test, underUmockdev } from "./_support.ts";
import { cardBytes, EXPECTED } from "./_models.ts";

const ignore = skipWithout(underUmockdev, "LD_PRELOAD=libumockdev-preload.so.0");
const test = (name: string, fn: () => Promise<void>) => tier3Test({ name, ignore, fn });

for (const [model, expected] of Object.entries(EXPECTED)) {
  test(`${model} through libusb: open by name, identify, owner, power, storage`, async () => {
    const vc = new VirtualCamera({ model, owner: "Kiril" });
    using testbed = UmockdevTestbed.open();
    testbed.attach(vc.usbFunction);
    {
      await using cam = await Camera.open({ model, timeout: 2000 });
      assert.equal(cam.model.cameraClass, expected.cameraClass);
      assert.deepEqual(await cam.identify(), {
        modelName: expected.identify,
        owner: "Kiril",
        firmware: "1.0.2.0",
      });
      await cam.setOwner("Grace Hopper");
      assert.equal(vc.owner, "Grace Hopper");
      assert.equal((await cam.powerStatus()).source, "ac");
      assert.equal(cam.keysLocked, expected.lockedAtInit);
      if (expected.bodyId) assert.equal(await cam.bodyId(), expected.bodyId);
      const info = await cam.storage.info();
      assert.equal(info.drive, expected.drive);
      assert.equal(info.capacity, vc.card!.capacity);
      const files = (await cam.storage.list("/", { recursive: true })).map((e) => e.path);
      if (expected.raw) assert.ok(files.includes(expected.raw), files.join(" "));
      const path = expected.raw ?? "/DCIM/100CANON/IMG_0001.JPG";
      assert.deepEqual(await cam.storage.read(path), cardBytes(vc, path));
    }
    // Next session: camstat 'A', whose first reply loses its first 0x40 bytes.
    vc.faults.missingFirst40AfterA = true;
    await using again = await Camera.open({ productId: vc.productId, timeout: 2000 });
    assert.equal(again.wokenUp, false);
    assert.equal(again.modelName, expected.identify);
    assert.ok(vc.commandLog.filter((c) => c.cmd1 === 0x01 && c.cmd2 === 0x12).length >= 3);
    // A stalled bulk endpoint is cleared through libusb; the next command works.
    vc.faults.inject({ kind: "stall" }, { command: { cmd1: expected.powerCommand, cmd2: 0x12 } });
    await assert.rejects(() => again.powerStatus(), /stalled/);
    assert.equal((await again.powerStatus()).ok, true);
  });
}

test("listCameras shows every connected Canon camera, PTP mode included", async () => {
  using testbed = UmockdevTestbed.open();
  const cameras = VirtualCamera.models.map((model) => new VirtualCamera({ model, card: false }));
  cameras.forEach((vc, i) => testbed.attach(vc.usbFunction, { address: 10 + i }));
  testbed.attach(new VirtualCamera({ productId: 0x30ec, card: false }).usbFunction, {
    bus: 2,
    address: 3,
  });
  const listed = await listCameras();
  assert.deepEqual(
    listed.map((c) => [c.bus, c.address, c.modelName, c.mode, c.supported]),
    [
      ...VirtualCamera.models.map((model, i) => [1, 10 + i, model, "normal", true]),
      [2, 3, "EOS 20D", "ptp", false],
    ],
  );
});

test("Camera.open chooses by model name, product id or bus/address", async () => {
  using testbed = UmockdevTestbed.open();
  testbed.attach(new VirtualCamera({ model: "PowerShot G3" }).usbFunction, { address: 4 });
  testbed.attach(new VirtualCamera({ model: "EOS 20D" }).usbFunction, { address: 5 });
  testbed.attach(new VirtualCamera({ model: "EOS 10D" }).usbFunction, { bus: 3, address: 9 });
  {
    await using cam = await Camera.open(); // the first supported one
    assert.equal(cam.modelName, "Canon PowerShot G3");
  }
  {
    await using cam = await Camera.open({ model: "Canon EOS 20D (normal mode)" });
    assert.equal(cam.modelName, "Canon EOS 20D");
  }
  {
    await using cam = await Camera.open({ productId: 0x3083 });
    assert.equal(cam.modelName, "Canon EOS 10D");
  }
  {
    await using cam = await Camera.open({ bus: 1, address: 5 });
    assert.equal(cam.modelName, "Canon EOS 20D");
  }
  await assert.rejects(() => Camera.open({ model: "EOS 350D" }), (e: Error) => {
    assert.ok(e instanceof CameraNotFoundError);
    assert.match(
      e.message,
      /product id 0x30ee was found; found: PowerShot G3 \(0x306e\) at bus 1 address 4; EOS 20D \(0x30eb\) at bus 1 address 5; EOS 10D \(0x3083\) at bus 3 address 9/,
    );
    return true;
  });
  await assert.rejects(() => Camera.open({ bus: 1, address: 99 }), /bus 1, address 99/);
  await assert.rejects(() => Camera.open({ model: "PowerShot G9" }), /no camera model is called/);
});

test("a camera in PTP mode is listed as such and refused with what to do", async () => {
  using testbed = UmockdevTestbed.open();
  const vc = new VirtualCamera({ productId: 0x306f });
  testbed.attach(vc.usbFunction, { address: 6 });
  assert.deepEqual(await listCameras(), [{
    bus: 1,
    address: 6,
    productId: 0x306f,
    modelName: "PowerShot G3",
    mode: "ptp",
    supported: false,
  }]);
  await assert.rejects(() => Camera.open(), (e: Error) => {
    assert.ok(e instanceof CameraNotFoundError);
    assert.match(e.message, /found: PowerShot G3 \(0x306f\) at bus 1 address 6, ptp mode/);
    assert.match(e.message, /The PowerShot G3 is in PTP mode: switch its USB mode to normal/);
    return true;
  });
  // Chosen explicitly, it is opened and refused before any command.
  await assert.rejects(() => Camera.open({ productId: 0x306f }), /is in PTP mode/);
  assert.equal(vc.commandLog.length, 0);
});

test("two cameras open at once, used concurrently", async () => {
  using testbed = UmockdevTestbed.open();
  const g3 = new VirtualCamera({ model: "PowerShot G3", owner: "Left" });
  const eos = new VirtualCamera({ model: "EOS 20D", owner: "Right" });
  const a = testbed.attach(g3.usbFunction, { address: 7 });
  const b = testbed.attach(eos.usbFunction, { address: 8 });
  await using left = await Camera.open({ bus: a.bus, address: a.address });
  await using right = await Camera.open({ bus: b.bus, address: b.address });
  const [leftFiles, rightFiles, leftId, rightId] = await Promise.all([
    left.storage.list("/", { recursive: true }),
    right.storage.list("/", { recursive: true }),
    left.identify(),
    right.identify(),
  ]);
  assert.equal(leftId.owner, "Left");
  assert.equal(rightId.owner, "Right");
  assert.ok(leftFiles.some((e) => e.name === "MVI_0007.AVI"));
  assert.ok(rightFiles.some((e) => e.name === "IMG_0006.CR2"));
  const [x, y] = await Promise.all([
    left.storage.read("/DCIM/100CANON/CRW_0006.CRW"),
    right.storage.read("/DCIM/100CANON/IMG_0006.CR2"),
  ]);
  assert.deepEqual(x, cardBytes(g3, "/DCIM/100CANON/CRW_0006.CRW"));
  assert.deepEqual(y, cardBytes(eos, "/DCIM/100CANON/IMG_0006.CR2"));
});
