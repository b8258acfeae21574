// Tier 2: every emulated model through the public API, in-process: connect,
// identify, owner, power, storage, and what its class decides (init
// sequence, key locking, body id, custom functions, recovery).
import assert from "node:assert/strict";
import {
  Camera,
  CameraNotFoundError,
  CameraStatusError,
  CanonError,
  UnsupportedByCameraError,
} from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { cardBytes, EXPECTED } from "./_models.ts";

Deno.test("every emulated model has expectations here", () => {
  assert.deepEqual(Object.keys(EXPECTED), [...VirtualCamera.models]);
});

for (const [model, expected] of Object.entries(EXPECTED)) {
  Deno.test(`${model}: connect runs its class's init and identifies`, async () => {
    const vc = new VirtualCamera({ model, owner: "Kiril", firmware: "1.2.3.4" });
    await using cam = await Camera.connect(vc);
    assert.equal(cam.model.cameraClass, expected.cameraClass);
    assert.equal(cam.traits.newProtocol, expected.cameraClass === 6);
    assert.deepEqual(await cam.identify(), {
      modelName: expected.identify,
      owner: "Kiril",
      firmware: "1.2.3.4",
    });
    const log = vc.commandLog;
    const afterIdentify = log.slice(log.findIndex((c) => c.cmd1 === 0x01 && c.cmd2 === 0x12) + 1);
    assert.deepEqual(
      afterIdentify.slice(0, expected.init.length).map((c) => [c.cmd1, c.cmd2]),
      expected.init,
    );
    assert.equal(cam.keysLocked, expected.lockedAtInit);
    assert.equal(vc.keysLocked, expected.lockedAtInit);
    assert.equal(cam.transferLength, expected.cameraClass === 6 ? 0x10000 : 0x1400);
  });

  Deno.test(`${model}: owner, power, clock`, async () => {
    const vc = new VirtualCamera({ model, power: { source: "battery" } });
    await using cam = await Camera.connect(vc);
    await cam.setOwner("Grace Hopper");
    assert.equal(cam.owner, "Grace Hopper");
    assert.equal(vc.owner, "Grace Hopper");
    const before = vc.commandLog.length;
    assert.deepEqual(await cam.powerStatus(), { source: "battery", ok: true, level: 6 });
    assert.equal(vc.commandLog[before].cmd1, expected.powerCommand);
    await cam.setTime(new Date(2024, 6, 1, 14, 30, 5));
    const time = await cam.time();
    assert.equal(time.getHours(), 14);
    assert.equal(time.getMinutes(), 30);
  });

  Deno.test(`${model}: storage lists, downloads byte-identical files, deletes`, async () => {
    const vc = new VirtualCamera({ model });
    await using cam = await Camera.connect(vc);
    const info = await cam.storage.info();
    assert.equal(info.drive, expected.drive);
    assert.equal(info.capacity, vc.card!.capacity);
    assert.ok(Math.abs(info.free - vc.card!.free) < 1024, `${info.free} vs ${vc.card!.free}`);
    const tree = await cam.storage.list("/", { recursive: true });
    const files = tree.filter((e) => !e.isDirectory).map((e) => e.path);
    assert.ok(files.includes("/DCIM/100CANON/IMG_0001.JPG"), files.join(" "));
    if (expected.raw) assert.ok(files.includes(expected.raw), files.join(" "));
    for (const path of ["/DCIM/100CANON/IMG_0001.JPG", ...(expected.raw ? [expected.raw] : [])]) {
      assert.deepEqual(await cam.storage.read(path), cardBytes(vc, path), path);
    }
    const thumb = await cam.storage.thumbnail(expected.raw ?? "/DCIM/100CANON/IMG_0001.JPG");
    assert.deepEqual([...thumb.subarray(0, 2)], [0xff, 0xd8]);
    if (model === "EOS 350D") {
      // The real 350D refuses delete with 0x00000086 (gphoto2 issue #92, pibooth issue #613).
      await assert.rejects(
        () => cam.storage.delete("/DCIM/100CANON/IMG_0004.JPG"),
        (e: Error) => e instanceof UnsupportedByCameraError && /deleting files/.test(e.message),
      );
      assert.ok(vc.card!.find(["DCIM", "100CANON", "IMG_0004.JPG"]), "the file is still there");
      return;
    }
    await cam.storage.delete("/DCIM/100CANON/IMG_0004.JPG");
    assert.equal(vc.card!.find(["DCIM", "100CANON", "IMG_0004.JPG"]), undefined);
    await assert.rejects(
      () => cam.storage.delete("/DCIM/100CANON/IMG_0002.JPG"),
      (e: Error) => e instanceof CameraStatusError && e.status === 0x02000029,
    );
  });

  Deno.test(`${model}: body id (EOS only)`, async () => {
    await using cam = await Camera.connect(new VirtualCamera({ model }));
    if (expected.bodyId) assert.equal(await cam.bodyId(), expected.bodyId);
    else await assert.rejects(() => cam.bodyId(), /has no body id/);
  });

  Deno.test(`${model}: the first reply after camstat 'A' loses 0x40 bytes; identify retries recover`, async () => {
    const vc = new VirtualCamera({ model, firstContact: false });
    vc.faults.missingFirst40AfterA = true;
    await using cam = await Camera.connect(vc, { timeout: 1000 });
    assert.equal(cam.wokenUp, false);
    assert.equal(cam.modelName, expected.identify);
    const identifies = vc.commandLog.filter((c) => c.cmd1 === 0x01 && c.cmd2 === 0x12);
    assert.ok(identifies.length >= 2, `${identifies.length} identify commands`);
    assert.equal((await cam.storage.info()).drive, expected.drive);
  });

  Deno.test(`${model}: a stalled endpoint is cleared; the next command works`, async () => {
    const vc = new VirtualCamera({ model });
    await using cam = await Camera.connect(vc, { timeout: 500 });
    vc.faults.inject({ kind: "stall" }, { command: { cmd1: expected.powerCommand, cmd2: 0x12 } });
    await assert.rejects(() => cam.powerStatus(), /stalled/);
    assert.equal((await cam.powerStatus()).ok, true);
  });
}

Deno.test("key locking per class: none (0), at init (1, 5), around captures (4, 6)", async () => {
  {
    const vc = new VirtualCamera({ model: "PowerShot G1" });
    await using cam = await Camera.connect(vc);
    const sent = vc.commandLog.length;
    assert.equal(await cam.lockKeys(), false);
    assert.equal(vc.commandLog.length, sent, "class 0 has no lock: nothing is sent");
  }
  {
    const vc = new VirtualCamera({ model: "PowerShot S200" });
    await using cam = await Camera.connect(vc);
    const sent = vc.commandLog.length;
    assert.equal(await cam.unlockKeys(), true, "a PowerShot cannot unlock over USB");
    assert.equal(vc.commandLog.length, sent);
  }
  for (const [model, lock, unlock] of [["EOS 10D", 0x1b, 0x1c], ["EOS 20D", 0x35, 0x36]] as const) {
    const vc = new VirtualCamera({ model });
    const cam = await Camera.connect(vc);
    const sent = vc.commandLog.length;
    assert.equal(await cam.lockKeys(), true);
    assert.equal(vc.keysLocked, true);
    assert.equal(vc.commandLog.at(-1)!.cmd1, lock, model);
    if (model === "EOS 20D") assert.equal(vc.commandLog[sent].cmd1, 0x24, "abilities first");
    assert.equal(await cam.unlockKeys(), false);
    assert.equal(vc.commandLog.at(-1)!.cmd1, unlock);
    assert.equal(vc.keysLocked, false);
    // Locked again and left so: close unlocks, as gphoto2 does at exit.
    await cam.lockKeys();
    await cam.close();
    assert.equal(vc.keysLocked, false, `${model}: close unlocked the keys`);
    assert.equal(vc.commandLog.at(-1)!.cmd1, unlock);
  }
});

Deno.test("custom functions: one cam.customFunctions() (not on cam.capture), named", async () => {
  {
    await using cam = await Camera.connect(new VirtualCamera({ model: "EOS 20D" }));
    const functions = await cam.customFunctions();
    // 18 pairs (count 0x28), numbered 1..18, as the real 20D's reply in Protocol.xml.
    assert.equal(functions.length, 18);
    assert.deepEqual(functions.map((f) => f.index), Array.from({ length: 18 }, (_, i) => i + 1));
    assert.deepEqual(functions.filter((f) => f.value !== 0).map((f) => f.index), [6, 8]);
    assert.equal(functions[5].name, "Exposure level increments");
    assert.equal(functions[5].meaning, "1/3 stop");
    assert.deepEqual(await cam.customFunctions(), functions, "a second read answers the same");
    assert.equal("customFunctions" in cam.capture, false, "one place to read them");
    assert.equal("pictureAbilities" in cam.capture, false);
  }
  {
    await using cam = await Camera.connect(new VirtualCamera({ model: "EOS 10D" }));
    const functions = await cam.customFunctions();
    assert.equal(functions.length, 15);
    assert.equal(functions[0].name, "Long exposure noise reduction");
  }
  await using cam = await Camera.connect(new VirtualCamera());
  await assert.rejects(() => cam.customFunctions(), CanonError);
});

Deno.test("a camera left in remote mode by an earlier session still works", async () => {
  for (const model of ["PowerShot G3", "EOS 20D"]) {
    const vc = new VirtualCamera({ model });
    {
      const cam = await Camera.connect(vc);
      const rc = cam.traits.commands.remoteControl;
      // RC init (word 0, one zero word; the new protocol adds one zero byte), never exited.
      const payload = new Uint8Array(cam.traits.newProtocol ? 9 : 8);
      await cam.session.exclusive(() => cam.session.command(rc, payload));
      assert.equal(vc.remoteMode, true);
      await cam.device.close(); // gone without leaving remote mode
    }
    await using again = await Camera.connect(vc);
    assert.equal(again.wokenUp, false);
    assert.equal((await again.identify()).modelName, EXPECTED[model].identify);
    assert.ok((await again.storage.list("/DCIM")).length > 0);
    // Remote capture starts anyway (the camera answers 0x02000085, is told to leave, re-enters).
    {
      await using _session = await again.capture.start();
      assert.equal(vc.remoteMode, true);
    }
    assert.equal(vc.remoteMode, false);
  }
});

Deno.test("a Canon product id in PTP mode is refused with what to do", async () => {
  const vc = new VirtualCamera({ productId: 0x306f });
  await assert.rejects(() => Camera.connect(vc), (e: Error) => {
    assert.ok(e instanceof CameraNotFoundError);
    assert.match(e.message, /PowerShot G3 \(0x4a9:0x306f\) is in PTP mode/);
    assert.match(e.message, /Switch the camera's USB mode to normal/);
    return true;
  });
  assert.equal(vc.commandLog.length, 0, "nothing was sent to it");
});

Deno.test("an unknown Canon product id works only when allowed, as the class given", async () => {
  const vc = new VirtualCamera({ model: "EOS 20D", productId: 0x3199 });
  await assert.rejects(() => Camera.connect(vc), /not in the model table.*allowUnknown/s);
  await using cam = await Camera.connect(vc, { allowUnknown: { cameraClass: 6 } });
  assert.equal(cam.modelName, "Canon EOS 20D");
  assert.equal(await cam.bodyId(), "0520308238");
});
