// Replay: a real EOS 20D's bytes (libgphoto2's Protocol.xml, new-protocol
// sections) played to the public API through tests/_replay.ts. Each assertion
// is what the camera meant, read from the bytes themselves.
import assert from "node:assert/strict";
import { Camera } from "../mod.ts";
import { type Exchange, ReplayDevice } from "./_replay.ts";
import * as real from "./fixtures/real/eos20d_protocol_xml.ts";
import { EOS_20D_CONNECTION } from "./fixtures/real/init.ts";

const SOURCE = "libgphoto2 camlibs/canon/doc/Protocol.xml, EOS 20D";

const EXCHANGES: Exchange[] = [
  { cmd1: 0x01, cmd2: 0x12, cmd3: 0x201, reply: real.IDENTIFY, source: SOURCE },
  { cmd1: 0x05, cmd2: 0x12, cmd3: 0x201, reply: real.GET_OWNER, source: SOURCE },
  { cmd1: 0x23, cmd2: 0x12, cmd3: 0x201, reply: real.BODY_ID, source: SOURCE },
  { cmd1: 0x24, cmd2: 0x12, cmd3: 0x201, reply: real.ABILITIES, source: SOURCE },
  { cmd1: 0x13, cmd2: 0x12, cmd3: 0x201, reply: real.POWER, source: SOURCE },
  { cmd1: 0x03, cmd2: 0x12, cmd3: 0x201, reply: real.GET_TIME, source: SOURCE },
  { cmd1: 0x1d, cmd2: 0x12, cmd3: 0x201, reply: real.CUSTOM_FUNCTIONS, source: SOURCE },
  { cmd1: 0x0e, cmd2: 0x11, cmd3: 0x202, reply: real.FLASH_ID, source: SOURCE },
  { cmd1: 0x0d, cmd2: 0x11, cmd3: 0x201, reply: real.DISK_INFO, source: SOURCE },
  {
    cmd1: 0x0b,
    cmd2: 0x11,
    cmd3: 0x202,
    reply: new Uint8Array([...real.LIST_HEADER, ...real.LIST_DATA]),
    source: SOURCE,
  },
];

function replay20D(): ReplayDevice {
  return new ReplayDevice({ ...EOS_20D_CONNECTION, exchanges: EXCHANGES });
}

Deno.test("replay 20D: connect, identify, owner, body id and power as the camera meant them", async () => {
  const device = replay20D();
  await using cam = await Camera.connect(device);
  assert.equal(cam.model.name, "EOS 20D");
  const id = await cam.identify();
  assert.equal(id.modelName, "Canon EOS 20D");
  // 0x58-0x5b "00 05 00 01": firmware 1.0.5.0.
  assert.equal(id.firmware, "1.0.5.0");
  // GetOwner's string at 0x54.
  assert.equal(id.owner, "Cornell University 255-8367");
  // 0e 46 03 1f = 520308238, printed with ten digits on the camera.
  assert.equal(await cam.bodyId(), "0520308238");
  // 0x54 = 06 (good), 0x57 = 0x20: on battery.
  assert.deepEqual(await cam.powerStatus(), { source: "battery", ok: true, level: 6 });
  assert.deepEqual(device.unexpected, [], "every request had a recorded answer");
});

Deno.test("replay 20D: photo abilities: seven formats, RAW at 3504x2336", async () => {
  await using cam = await Camera.connect(replay20D());
  const abilities = await cam.pictureAbilities();
  assert.equal(abilities.cameraName, "Canon EOS 20D");
  assert.deepEqual(abilities.entries.map((e) => e.name), [
    "Large:Fine",
    "Large:Normal",
    "Middle:Fine",
    "Middle:Normal",
    "Small:Fine",
    "Small:Normal",
    "CRW",
  ]);
  assert.deepEqual(
    abilities.entries.map((e) => [e.width, e.height]),
    [
      [3504, 2336],
      [3504, 2336],
      [2544, 1696],
      [2544, 1696],
      [1728, 1152],
      [1728, 1152],
      [3504, 2336],
    ],
  );
});

Deno.test("replay 20D: custom functions are 18 (value, number) pairs: C.Fn 6 and 8 set", async () => {
  await using cam = await Camera.connect(replay20D());
  const functions = await cam.customFunctions();
  assert.equal(functions.length, 18);
  assert.deepEqual(functions.map((f) => f.index), Array.from({ length: 18 }, (_, i) => i + 1));
  assert.deepEqual(functions.filter((f) => f.value !== 0).map((f) => [f.index, f.value]), [
    [6, 1],
    [8, 1],
  ]);
  assert.equal(functions[5].meaning, "1/3 stop");
  assert.equal(functions[7].name, "ISO expansion");
  assert.equal(functions[7].meaning, "on");
});

Deno.test("replay 20D: disk info is in KiB: a 1 GB card, 939 MiB free", async () => {
  await using cam = await Camera.connect(replay20D());
  const info = await cam.storage.info();
  assert.equal(info.drive, "A:");
  // 0x000f44c0 = 1,000,640 and 0x000eac80 = 961,664: KiB (a card of about 1 GB).
  assert.equal(info.capacity, 1_000_640 * 1024);
  assert.equal(info.free, 961_664 * 1024);
});

Deno.test("replay 20D: the listing of 100CANON: three CR2 files with sizes and dates", async () => {
  const device = replay20D();
  await using cam = await Camera.connect(device);
  const entries = await cam.storage.list("/DCIM/100CANON");
  assert.deepEqual(
    entries.map((e) => [e.name, e.size, e.isDirectory]),
    [
      // 0x009f9ad3 = 10,459,859 (the document's prose says 10,459,869; the bytes say otherwise).
      ["IMG_0098.CR2", 10_459_859, false],
      ["IMG_0099.CR2", 6_860_882, false],
      ["IMG_0100.CR2", 6_893_299, false],
    ],
  );
  // 0x41900f98: the camera's clock, counted in its local time (no zone).
  const first = entries[0].date!;
  const cameraSeconds = 0x41900f98;
  assert.equal(
    Math.round(first.getTime() / 1000) - first.getTimezoneOffset() * -60,
    cameraSeconds,
  );
  assert.deepEqual(device.unexpected, []);
});
