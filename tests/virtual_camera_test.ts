// The virtual camera's USB identity, init handshake and camera commands, driven
// with raw bytes built from the protocol reference's examples.

import assert from "node:assert/strict";
import { VirtualCamera } from "../src/emulator/host/virtual_camera.ts";
import {
  appendixBlock,
  cat,
  commandBlock,
  hex,
  Host,
  le32,
  openCamera,
  text,
  word,
} from "./virtual_camera_fixture.ts";

const IDENTIFY = "02 00 00 00 01 00 00 12 10 00 00 00 <serial>"; // Appendix A
const identifyBlock = (serial = 7) => appendixBlock(0x10, 0x201, IDENTIFY, serial);

function cString(bytes: Uint8Array, offset: number): string {
  let end = offset;
  while (bytes[end] !== 0) end++;
  return String.fromCharCode(...bytes.subarray(offset, end));
}

/** Remote-control block 0x13/0x12 with the given payload words. */
function remote(words: number[], serial = 0): Uint8Array {
  return commandBlock(0x13, 0x12, 0x201, cat(...words.map(le32)), serial);
}

Deno.test("the G3 presents its USB descriptors: 04a9:306e, full speed, 3 endpoints, Canon strings", async () => {
  await using camera = new VirtualCamera({ card: false });
  const fn = camera.usbFunction;
  assert.equal(camera.vendorId, 0x04a9);
  assert.equal(camera.productId, 0x306e);
  assert.deepEqual(
    fn.descriptors.device,
    hex("12 01 10 01 ff ff ff 20 a9 04 6e 30 01 00 01 02 00 01"),
  );
  assert.deepEqual(
    fn.descriptors.configuration,
    hex(
      "09 02 27 00 01 01 00 c0 32" + "09 04 00 00 03 ff ff ff 00" +
        "07 05 81 02 40 00 00" + "07 05 02 02 40 00 00" + "07 05 83 03 40 00 60",
    ),
  );
  assert.equal(fn.descriptors.speedMbps, 12);
  await camera.open();
  const setup = { requestType: "standard", recipient: "device", request: 6, index: 0x409 } as const;
  const product = await camera.controlTransferIn({ ...setup, value: 0x0302 }, 255);
  const bytes = new Uint8Array(
    product.data!.buffer,
    product.data!.byteOffset,
    product.data!.byteLength,
  );
  const decoded = String.fromCharCode(...new Uint16Array(bytes.slice(2).buffer));
  assert.equal(decoded, "Canon Digital Camera");
  const languages = await camera.controlTransferIn({ ...setup, value: 0x0300, index: 0 }, 255);
  assert.equal(languages.data!.getUint16(2, true), 0x0409);
  const device = await camera.controlTransferIn({ ...setup, value: 0x0100, index: 0 }, 8);
  assert.equal(device.data!.byteLength, 8, "never more than wLength");
});

Deno.test("first init takes the 'C' path with the G3's exact bytes, the second sees 'A'", async () => {
  await using camera = new VirtualCamera({ card: false });
  const host = await new Host(camera).open();
  assert.deepEqual(await host.vendorIn(0x55, 1), hex("43"));
  const block = await host.vendorIn(0x01, 0x58);
  const expected = new Uint8Array(0x58);
  expected[0] = 0x18;
  expected.set(
    hex("01 06 15 83 6e 30 a9 04 00 08 00 00 ff ff ff ff 00 fd 00 00 00 fd 00 00"),
    0x40,
  );
  assert.deepEqual(block, expected);

  const out = new Uint8Array(0x50);
  out[0] = 0x10;
  out.set(block.subarray(0x48, 0x58), 0x40);
  assert.equal(await host.vendorOut(0x11, out), "ok");
  const first = await host.bulk(0x40);
  assert.deepEqual(first.subarray(0, 8), hex("04 00 00 00 02 03 00 00"));
  assert.ok(first.subarray(8).every((b) => b === 0));
  assert.deepEqual(await host.bulk(4), hex("00 00 00 00"));
  assert.deepEqual(
    await host.interrupt(0x40),
    hex("02 00 00 00 20 00 00 00 10 00 00 00 00 00 00 00"),
  );
  // Exactly one interrupt packet; then a real camera answers each poll with a zero-length one.
  assert.equal((await host.interrupt(0x40, 200)).length, 0);
  assert.equal((await host.interrupt(0x40, 200)).length, 0);

  // A new process: camstat 'A', and the 0x50 block mirrors the init block's tail.
  assert.deepEqual(await host.vendorIn(0x55, 1), hex("41"));
  const fifty = await host.vendorIn(0x04, 0x50);
  assert.equal(word(fifty, 0), 0x10);
  assert.deepEqual(fifty.subarray(0x40), block.subarray(0x48, 0x58));
});

Deno.test("class-6 style 0x44-byte read gets the same handshake bytes in one read", async () => {
  await using camera = new VirtualCamera({ card: false });
  const host = await new Host(camera).open();
  await host.vendorIn(0x55, 1);
  const block = await host.vendorIn(0x01, 0x58);
  const out = new Uint8Array(0x50);
  out[0] = 0x10;
  out.set(block.subarray(0x48, 0x58), 0x40);
  await host.vendorOut(0x11, out);
  const all = await host.bulk(0x44);
  assert.equal(all.length, 0x44);
  assert.deepEqual(all.subarray(0, 6), hex("04 00 00 00 02 03"));
});

Deno.test("firstContact false answers 'A' from the start", async () => {
  await using camera = new VirtualCamera({ card: false, firstContact: false });
  const host = await new Host(camera).open();
  assert.equal(await host.init(), "A");
});

Deno.test("identify answers 0x9C bytes: model bytes, reversed firmware, model and owner", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  await host.init();
  const reply = await host.dialogue(identifyBlock(0x1234), 0x9c);
  assert.equal(word(reply, 0), 0x5c);
  assert.deepEqual(reply.subarray(4, 6), hex("01 03"));
  assert.deepEqual(
    reply.subarray(0x40, 0x50),
    hex("02 00 00 00 01 00 00 22 5c 00 00 00 34 12 00 00"),
  );
  assert.equal(word(reply, 0x50), 0);
  assert.deepEqual(reply.subarray(0x54, 0x58), hex("01 06 15 83"));
  assert.deepEqual(reply.subarray(0x58, 0x5c), hex("00 02 00 01"));
  assert.equal(cString(reply, 0x5c), "Canon PowerShot G3");
  assert.equal(cString(reply, 0x7c), "Kiril");
  assert.deepEqual(camera.commandLog.at(-1), {
    cmd1: 0x01,
    cmd2: 0x12,
    cmd3: 0x201,
    serial: 0x1234,
    payloadLength: 0,
    status: 0,
  });
});

Deno.test("firmware option is stored reversed; owner option shows in identify", async () => {
  const { camera, host } = await openCamera({ firmware: "1.2.3.4", owner: "Bob" });
  await using _ = camera;
  const reply = await host.dialogue(identifyBlock(), 0x9c);
  assert.deepEqual(reply.subarray(0x58, 0x5c), hex("04 03 02 01"));
  assert.equal(cString(reply, 0x7c), "Bob");
});

Deno.test("a new owner set with 0x05/0x12 shows in the next identify; 31 bytes is refused", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  const ok = await host.dialogue(commandBlock(0x05, 0x12, 0x201, text("Alice")), 0x54);
  assert.equal(word(ok, 0), 0x14);
  assert.equal(word(ok, 0x50), 0);
  assert.equal(camera.owner, "Alice");
  const reply = await host.dialogue(identifyBlock(), 0x9c);
  assert.equal(cString(reply, 0x7c), "Alice");

  const tooLong = await host.dialogue(commandBlock(0x05, 0x12, 0x201, text("x".repeat(31))), 0x54);
  assert.equal(word(tooLong, 0x50), 0x02000086);
  assert.equal(camera.owner, "Alice");
  const longest = await host.dialogue(commandBlock(0x05, 0x12, 0x201, text("y".repeat(30))), 0x54);
  assert.equal(word(longest, 0x50), 0);
  assert.equal(camera.owner, "y".repeat(30));
});

Deno.test("power status: 6/0x10 on AC, 4/0x30 on a low battery", async () => {
  for (
    const [power, status, source] of [
      [{}, 0x06, 0x10],
      [{ source: "battery", low: true }, 0x04, 0x30],
    ] as const
  ) {
    const { camera, host } = await openCamera({ power });
    await using _ = camera;
    const reply = await host.dialogue(commandBlock(0x0a, 0x12, 0x201), 0x58);
    assert.equal(word(reply, 0), 0x18);
    assert.equal(word(reply, 0x50), 0);
    assert.deepEqual([...reply.subarray(0x54, 0x58)], [status, 0, 0, source]);
  }
});

Deno.test("the power supply can change mid-session", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  camera.power = { source: "battery", low: false };
  const reply = await host.dialogue(commandBlock(0x0a, 0x12, 0x201), 0x58);
  assert.deepEqual([...reply.subarray(0x54, 0x58)], [0x06, 0, 0, 0x30]);
});

Deno.test("lock keys 0x20 echoes 0x1F like a real G3 and locks the keys", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  assert.equal(camera.keysLocked, false);
  const reply = await host.dialogue(commandBlock(0x20, 0x12, 0x201), 0x54);
  assert.equal(reply[0x44], 0x1f);
  assert.equal(reply[0x47], 0x22);
  assert.equal(word(reply, 0x50), 0);
  assert.equal(camera.keysLocked, true);
});

Deno.test("set time then get time: the camera keeps the set clock running; wrong length is refused", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  const target = 0x4eee74f2; // 2011-12-18, §6.2
  const set = await host.dialogue(
    commandBlock(0x04, 0x12, 0x201, cat(le32(target), new Uint8Array(8))),
    0x54,
  );
  assert.equal(word(set, 0x50), 0);
  const got = await host.dialogue(commandBlock(0x03, 0x12, 0x201), 0x60);
  assert.equal(word(got, 0), 0x20);
  assert.ok(Math.abs(word(got, 0x54) - target) <= 1);
  assert.ok(Math.abs(camera.cameraTime() - target) <= 1);
  const bad = await host.dialogue(commandBlock(0x04, 0x12, 0x201, le32(target)), 0x54);
  assert.equal(word(bad, 0x50), 0x02000086);
});

Deno.test("the camera clock follows the host's local wall clock plus the offset", async () => {
  const { camera } = await openCamera({ clockOffsetSeconds: 3600 });
  await using _ = camera;
  const local = Math.floor(Date.now() / 1000) - new Date().getTimezoneOffset() * 60;
  assert.ok(Math.abs(camera.cameraTime() - (local + 3600)) <= 1);
});

Deno.test("picture abilities: 0x394 bytes, word 0 0x354, 13 G3 entries at 0x7E", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  const reply = await host.dialogue(commandBlock(0x1f, 0x12, 0x201), 0x394);
  assert.equal(word(reply, 0), 0x354);
  assert.equal(reply[0x54] | (reply[0x55] << 8), 0x340);
  assert.deepEqual(reply.subarray(0x56, 0x5a), hex("00 00 19 01"));
  assert.equal(cString(reply, 0x5a), "PowerShot G3");
  assert.equal(reply[0x5a + 13], 0xff, "name padded with 0xFF");
  assert.equal(word(reply, 0x7a), 13);
  assert.equal(cString(reply, 0x7e), "Large:SuperFine");
  assert.deepEqual([word(reply, 0x7e + 20), word(reply, 0x7e + 24), word(reply, 0x7e + 28)], [
    1536,
    2048,
    1,
  ]);
  assert.equal(cString(reply, 0x7e + 12 * 32), "CRW");
  assert.equal(word(reply, 0x7e + 12 * 32 + 28), 4);
});

Deno.test("fixed replies can be read as two parts (0x80 + 0x1C) or in one read", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  await host.send(identifyBlock());
  assert.equal((await host.bulk(0x80)).length, 0x80);
  assert.equal((await host.bulk(0x1c)).length, 0x1c);
  await host.send(identifyBlock());
  assert.equal((await host.bulk(0x1000)).length, 0x9c, "a bigger read gets the reply, no more");
});

Deno.test("gphoto2's --set-config ownername sequence (errata §3.9) runs in remote mode", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  assert.equal(await host.init(), "C");
  let serial = 0;
  const ok = (reply: Uint8Array) => assert.equal(word(reply, 0x50), 0);
  ok(await host.dialogue(identifyBlock(serial++), 0x9c));
  ok(await host.dialogue(commandBlock(0x20, 0x12, 0x201, undefined, serial++), 0x54));
  ok(await host.dialogue(commandBlock(0x0a, 0x12, 0x201, undefined, serial++), 0x58));
  // 1. get_config
  ok(await host.dialogue(identifyBlock(serial++), 0x9c));
  const init = await host.dialogue(remote([0, 0], serial++), 0x5c);
  ok(init);
  assert.equal(word(init, 0x54), 0x00);
  assert.equal(camera.remoteMode, true);
  for (let round = 0; round < 2; round++) {
    const params = await host.dialogue(remote([0x0a, 0], serial++), 0x8c);
    ok(params);
    assert.equal(word(params, 0x54), 0x0a);
    assert.equal(word(params, 0x58), 0x30);
    assert.deepEqual(
      params.subarray(0x5c, 0x8c),
      hex(
        "20 03 01 00 64 00 00 00 01 FF 00 00 03 01 03 30 00 FF 00 FF 00 00 00 7F FF FF 40 00 28 00 70 00" +
          "18 18 FF FF 18 00 38 00 E6 00 9A 03 E6 00 20 00",
      ),
    );
    const zoom = await host.dialogue(remote([0x0b, 0], serial++), 0x60);
    ok(zoom);
    assert.equal(zoom[0x5c], 0);
    assert.equal(zoom[0x5e], 0x11);
    ok(await host.dialogue(commandBlock(0x03, 0x12, 0x201, undefined, serial++), 0x60));
    ok(await host.dialogue(commandBlock(0x0a, 0x12, 0x201, undefined, serial++), 0x58));
  }
  // 3. set_config: CHOWN then IDENTIFY
  ok(await host.dialogue(commandBlock(0x05, 0x12, 0x201, text("NEWNAME"), serial++), 0x54));
  assert.equal(cString(await host.dialogue(identifyBlock(serial++), 0x9c), 0x7c), "NEWNAME");
  // exit
  const exit = await host.dialogue(remote([1, 0], serial++), 0x5c);
  ok(exit);
  assert.equal(word(exit, 0x54), 0x01);
  assert.equal(camera.remoteMode, false);
  assert.deepEqual(camera.commandLog.map((c) => c.serial), [...Array(serial).keys()]);
});

Deno.test("RC init while already in remote mode answers 0x02000085; exit recovers", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  assert.equal(word(await host.dialogue(remote([0, 0]), 0x5c), 0x50), 0);
  assert.equal(word(await host.dialogue(remote([0, 0]), 0x5c), 0x50), 0x02000085);
  assert.equal(word(await host.dialogue(remote([1, 0]), 0x5c), 0x50), 0);
  assert.equal(word(await host.dialogue(remote([0, 0]), 0x5c), 0x50), 0);
});

Deno.test("remote sub-commands need remote mode; set transfer mode matches Appendix A's reply", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  const outside = await host.dialogue(remote([0x0a, 0]), 0x8c);
  assert.equal(word(outside, 0x50), 0x02000086);
  await host.dialogue(remote([0, 0]), 0x5c);
  const block = appendixBlock(
    0x1c,
    0x201,
    "02 00 00 00 13 00 00 12 1C 00 00 00 <serial> 09 00 00 00 04 00 00 00 0D 00 00 00",
    0x21,
  );
  const reply = await host.dialogue(block, 0x5c);
  const expected = new Uint8Array(0x5c);
  expected.set(hex("1C 00 00 00 01 03"), 0);
  expected.set(
    hex("02 00 00 00 13 00 00 22 1C 00 00 00 21 00 00 00 00 00 00 00 09 00 00 00 00 00 00 00"),
    0x40,
  );
  assert.deepEqual(reply, expected);
  assert.equal(camera.transferMode, 0x0d);
});

Deno.test("release params set with RC 0x07 (0x2F bytes, as gphoto2 sends) read back with RC 0x0A", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  await host.dialogue(remote([0, 0]), 0x5c);
  const params = (await host.dialogue(remote([0x0a, 0]), 0x8c)).slice(0x5c, 0x8b);
  params[0x01] = 0x05; // SuperFine
  params[0x1a] = 0x48; // ISO 100
  const set = await host.dialogue(
    commandBlock(0x13, 0x12, 0x201, cat(le32(0x07), le32(0x30), params)),
    0x5c,
  );
  assert.equal(word(set, 0x50), 0);
  assert.equal(word(set, 0x54), 0x07);
  const back = await host.dialogue(remote([0x0a, 4]), 0x8c);
  assert.equal(back[0x5c + 0x01], 0x05);
  assert.equal(back[0x5c + 0x1a], 0x48);
  assert.equal(camera.releaseParams[0x1a], 0x48);
});

Deno.test("zoom: set within 0..0x11 reads back; beyond is refused", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  await host.dialogue(remote([0, 0]), 0x5c);
  assert.equal(word(await host.dialogue(remote([0x0c, 4, 9]), 0x5c), 0x50), 0);
  assert.equal((await host.dialogue(remote([0x0b, 0]), 0x60))[0x5c], 9);
  assert.equal(word(await host.dialogue(remote([0x0c, 4, 0x12]), 0x5c), 0x50), 0x02000086);
  assert.equal(camera.zoom, 9);
});

Deno.test("available shots, extended-params size and block (G3 0x2C) answer their errata lengths", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  await host.dialogue(remote([0, 0]), 0x5c);
  const shots = await host.dialogue(remote([0x0d, 0]), 0x60);
  assert.equal(word(shots, 0x58), 4);
  assert.ok(word(shots, 0x5c) > 10, `shots ${word(shots, 0x5c)}`);
  const size = await host.dialogue(remote([0x10, 0]), 0x60);
  assert.equal(word(size, 0x5c), 0x2c);
  const ext = await host.dialogue(remote([0x12, 4, 0x2c]), 0x5c + 0x2c);
  assert.equal(word(ext, 0x58), 0x2c);
  assert.equal(word(ext, 0x5c), 0x2c);
});

Deno.test("release in remote mode: 0x5C reply, then 0x0A/0x1C and 0x0A/0x1D as separate interrupt packets", async () => {
  const { camera, host } = await openCamera({ captureLatencyMs: 20 });
  await using _ = camera;
  const outside = await host.dialogue(remote([4, 0]), 0x5c);
  assert.equal(word(outside, 0x50), 0x02000086);
  await host.dialogue(remote([0, 0]), 0x5c);
  await host.dialogue(remote([9, 4, 8]), 0x5c);
  const started = Date.now();
  const reply = await host.dialogue(remote([4, 0]), 0x5c);
  assert.equal(word(reply, 0x50), 0);
  assert.equal(word(reply, 0x54), 4);
  const first = await host.report(0x40, 2000);
  assert.deepEqual(first, hex("02 00 00 00 0A 00 00 00 10 00 00 00 1C 00 00 00"));
  const second = await host.report(0x40, 2000);
  assert.deepEqual(second, hex("02 00 00 00 0A 00 00 00 10 00 00 00 1D 00 00 00"));
  assert.ok(Date.now() - started >= 60, "the two packets are spread in time");
});

Deno.test("unknown commands get status 0x02000086 (fixed) or an empty long reply", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  const fixed = await host.dialogue(commandBlock(0x77, 0x12, 0x201), 0x54);
  assert.equal(word(fixed, 0x50), 0x02000086);
  const { data } = await host.long(commandBlock(0x77, 0x11, 0x202));
  assert.equal(data.length, 0);
  const rc = await host.dialogue(remote([0x42, 0]), 0x5c);
  assert.equal(word(rc, 0x50), 0x02000086);
  assert.equal(word(rc, 0x54), 0x42);
});

Deno.test("a block whose length words disagree is refused with 0x02000086; a runt block stalls", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  const block = identifyBlock();
  block[0x48] = 0x11;
  const reply = await host.dialogue(block, 0x9c);
  assert.equal(word(reply, 0x50), 0x02000086);
  assert.equal(await host.vendorOut(0x10, new Uint8Array(0x48)), "stall");
});

Deno.test("late replies off: a new command discards the unread reply of the previous one", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  camera.faults.lateReplies = false;
  await host.send(identifyBlock(1));
  await host.bulk(0x40); // read part of it, leave the rest
  const power = await host.dialogue(commandBlock(0x0a, 0x12, 0x201, undefined, 2), 0x58);
  assert.equal(word(power, 0x4c), 2);
  await assert.rejects(host.bulk(0x40, 30), { code: "TIMEOUT" });
});

Deno.test("by default, the unread rest of a reply stays in the pipe before the next reply", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  await host.send(identifyBlock(1));
  await host.bulk(0x40); // read part of it, leave the rest
  await host.send(commandBlock(0x0a, 0x12, 0x201, undefined, 2));
  const rest = await host.bulk(0x5c);
  assert.equal(word(rest, 0x4c - 0x40), 1, "the identify reply's tail comes first");
  const power = await host.bulk(0x58);
  assert.equal(word(power, 0x4c), 2);
});

Deno.test("VirtualCamera.models lists the G3; unknown models are refused with the list", () => {
  assert.ok(VirtualCamera.models.includes("PowerShot G3"));
  assert.equal(
    new VirtualCamera({ model: "Canon:PowerShot G3 (normal mode)", card: false }).model,
    "PowerShot G3",
  );
  assert.throws(() => new VirtualCamera({ model: "EOS 1D" }), /PowerShot G3/);
  assert.throws(() => new VirtualCamera({ owner: "z".repeat(31) }), RangeError);
});

Deno.test("a release with transfer mode 0x08 stores a new JPEG on the default card", async () => {
  await using camera = new VirtualCamera({ captureLatencyMs: 10 });
  const host = await new Host(camera).open();
  const card = camera.card!;
  assert.ok(card.find(["DCIM", "100CANON", "IMG_0001.JPG"]), "default card content");
  const before = card.free;
  await host.dialogue(remote([0, 0]), 0x5c);
  await host.dialogue(remote([9, 4, 8]), 0x5c);
  assert.equal(word(await host.dialogue(remote([4, 0]), 0x5c), 0x50), 0);
  await host.report(0x40, 2000);
  await host.report(0x40, 3000);
  const shot = card.find(["DCIM", "101CANON", "IMG_0103.JPG"]);
  assert.ok(shot, "the picture is on the card once 'capture finished' arrives");
  assert.equal(shot.attributes, 0x20);
  assert.ok(card.free < before);
  const head = card.read(["DCIM", "101CANON", "IMG_0103.JPG"], 0, 4);
  assert.deepEqual(head, hex("ff d8 ff e1"));
});

Deno.test("transfer mode to the card on a full card answers 0x0200002A", async () => {
  const { MemoryCard } = await import("../src/emulator/card/memory_card.ts");
  await using camera = new VirtualCamera({ card: new MemoryCard({ capacity: 1024 * 1024 }) });
  const host = await new Host(camera).open();
  await host.dialogue(remote([0, 0]), 0x5c);
  assert.equal(word(await host.dialogue(remote([9, 4, 8]), 0x5c), 0x50), 0x0200002a);
  assert.equal(word(await host.dialogue(remote([9, 4, 2]), 0x5c), 0x50), 0);
});
