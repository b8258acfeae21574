// The virtual camera's storage commands: drive name, disk info, listings,
// downloads, delete, attributes, directories and upload, as raw bytes.

import assert from "node:assert/strict";
import {
  appendixBlock,
  cat,
  commandBlock,
  FIXTURE_TIME,
  hex,
  le32,
  openCamera,
  text,
  TinyCard,
  word,
} from "./virtual_camera_fixture.ts";

/** One directory entry as §4.3.6 lays it out. */
function entry(attributes: number, size: number, time: number, name: string): Uint8Array {
  return cat(Uint8Array.of(attributes, 0), le32(size), le32(time), text(name));
}

const TERMINATOR = new Uint8Array(11);

/** GET_DIRENT payload: depth, path, NUL, two zeros. */
function listBlock(path: string, depth = 0): Uint8Array {
  return commandBlock(0x0b, 0x11, 0x202, cat(Uint8Array.of(depth), text(path, 3)));
}

function getFileBlock(path: string, thumbnail = false, xfer = 0x1400): Uint8Array {
  return commandBlock(0x01, 0x11, 0x202, cat(le32(thumbnail ? 1 : 0), le32(xfer), text(path)));
}

function twoNames(dir: string, name: string, prefix: Uint8Array = new Uint8Array(0)): Uint8Array {
  return cat(prefix, text(dir), text(name, 2));
}

Deno.test("flash device ident answers Appendix A's reply: 0x40 header (length 4) then 'D:\\0\\0'", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  await host.send(commandBlock(0x0a, 0x11, 0x202));
  const header = await host.bulk(0x40);
  const expected = new Uint8Array(0x40);
  expected.set(hex("00 00 00 00 02 03 04 00 00 00"));
  assert.deepEqual(header, expected);
  assert.deepEqual(await host.bulk(4), hex("44 3A 00 00"));
});

Deno.test("disk info (Appendix A block) answers 0x5C with capacity and free space in KiB, as the G3 does", async () => {
  const card = new TinyCard();
  const { camera, host } = await openCamera({ card });
  await using _ = camera;
  const block = appendixBlock(
    0x14,
    0x201,
    "02 00 00 00 09 00 00 11 14 00 00 00 <serial> 44 3A 5C 00",
  );
  const reply = await host.dialogue(block, 0x5c);
  assert.equal(word(reply, 0), 0x1c);
  assert.equal(word(reply, 0x50), 0);
  assert.equal(word(reply, 0x54), 32 * 1024);
  assert.equal(word(reply, 0x58), Math.floor(card.free / 1024));
  assert.ok(card.free < card.capacity);
});

Deno.test("depth-0 listing of a folder: itself (0x80, name as asked), files, 11-zero terminator", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  const { data } = await host.long(listBlock("D:\\DCIM\\100CANON"));
  assert.deepEqual(
    data,
    cat(
      entry(0x80, 0, FIXTURE_TIME, "D:\\DCIM\\100CANON"),
      entry(0x20, 0x12345, FIXTURE_TIME + 1, "IMG_0001.JPG"),
      entry(0x01, 0x2000, FIXTURE_TIME + 2, "IMG_0002.JPG"),
      TERMINATOR,
    ),
  );
});

Deno.test("depth-0 listing of the root (Appendix A style) shows sub-folders as plain 0x10 names", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  const { data } = await host.long(listBlock("D:"));
  assert.deepEqual(
    data,
    cat(
      entry(0x80, 0, 0, "D:"),
      entry(0x10, 0, FIXTURE_TIME, "DCIM"),
      entry(0x10, 0, FIXTURE_TIME, "MISC"),
      TERMINATOR,
    ),
  );
  const appendix = appendixBlock(
    0x1b,
    0x202,
    "02 00 00 00 0B 00 00 11 1B 00 00 00 <serial> 00 44 3A 5C 44 43 49 4D 00 00 00",
  );
  const dcim = await host.long(appendix);
  assert.deepEqual(
    dcim.data,
    cat(
      entry(0x80, 0, FIXTURE_TIME, "D:\\DCIM"),
      entry(0x10, 0, FIXTURE_TIME, "100CANON"),
      entry(0x10, 0, FIXTURE_TIME, "CANONMSC"),
      TERMINATOR,
    ),
  );
});

Deno.test("depth-0x0F listing descends with '.\\NAME' (0x80) entries closed by '..'", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  const { data } = await host.long(listBlock("D:", 0x0f));
  assert.deepEqual(
    data,
    cat(
      entry(0x80, 0, 0, "D:"),
      entry(0x80, 0, FIXTURE_TIME, ".\\DCIM"),
      entry(0x80, 0, FIXTURE_TIME, ".\\100CANON"),
      entry(0x20, 0x12345, FIXTURE_TIME + 1, "IMG_0001.JPG"),
      entry(0x01, 0x2000, FIXTURE_TIME + 2, "IMG_0002.JPG"),
      entry(0x80, 0, 0, ".."),
      entry(0x80, 0, FIXTURE_TIME, ".\\CANONMSC"),
      entry(0x20, 0x40, FIXTURE_TIME + 3, "M0100.CTG"),
      entry(0x80, 0, 0, ".."),
      entry(0x80, 0, 0, ".."),
      entry(0x80, 0, FIXTURE_TIME, ".\\MISC"),
      entry(0x80, 0, 0, ".."),
      TERMINATOR,
    ),
  );
});

Deno.test("a missing directory lists as 11 zero bytes, as the G3 does", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  assert.deepEqual((await host.long(listBlock("D:\\NOPE"))).data, TERMINATOR);
  assert.deepEqual((await host.long(listBlock("E:\\DCIM"))).data, TERMINATOR);
});

Deno.test("get file streams the card's bytes: 0x40 header, 0x1400 chunks, 0x40-rounded, remainder", async () => {
  const card = new TinyCard();
  const { camera, host } = await openCamera({ card });
  await using _ = camera;
  const path = ["DCIM", "100CANON", "IMG_0001.JPG"];
  const { data, reads } = await host.long(getFileBlock("D:\\DCIM\\100CANON\\IMG_0001.JPG"));
  assert.deepEqual(data, card.read(path, 0, 0x12345));
  assert.deepEqual(reads, [...Array(14).fill(0x1400), 0xb40, 5]);
});

Deno.test("a bulk read never gets more than it asked for, across header and data", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  await host.send(getFileBlock("D:\\DCIM\\100CANON\\IMG_0002.JPG"));
  const sizes = [0x10, 0x30, 0x1000, 0x3000];
  const got = [];
  for (const size of sizes) got.push((await host.bulk(size)).length);
  assert.deepEqual(got, [0x10, 0x30, 0x1000, 0x1000]);
});

Deno.test("thumbnail request (flag 1) returns the card's thumbnail blob; missing file announces 0 bytes", async () => {
  const card = new TinyCard();
  const { camera, host } = await openCamera({ card });
  await using _ = camera;
  const thumb = await host.long(getFileBlock("D:\\DCIM\\100CANON\\IMG_0001.JPG", true));
  assert.deepEqual(thumb.data, card.thumbnailBlob(["DCIM", "100CANON", "IMG_0001.JPG"]));
  const missing = await host.long(getFileBlock("D:\\DCIM\\155CANON\\IMG_5593.JPG", false, 0x3000));
  assert.equal(missing.data.length, 0);
});

Deno.test("delete: a protected file answers 0x02000029, a missing one 0x02000022, a good one goes", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  const del = (dir: string, name: string) =>
    host.dialogue(commandBlock(0x0d, 0x11, 0x201, twoNames(dir, name)), 0x54);
  assert.equal(word(await del("D:\\DCIM\\100CANON", "IMG_0002.JPG"), 0x50), 0x02000029);
  assert.equal(word(await del("D:\\DCIM\\100CANON", "IMG_0009.JPG"), 0x50), 0x02000022);
  assert.equal(word(await del("D:\\DCIM\\999CANON", "IMG_0001.JPG"), 0x50), 0x02000086);
  assert.equal(word(await del("D:\\DCIM\\100CANON", "IMG_0001.JPG"), 0x50), 0);
  assert.equal(camera.card!.find(["DCIM", "100CANON", "IMG_0001.JPG"]), undefined);
  assert.ok(camera.card!.find(["DCIM", "100CANON", "IMG_0002.JPG"]));
});

Deno.test("set attributes clears 'not downloaded'; a payload with one string is refused", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  const ok = await host.dialogue(
    commandBlock(0x0e, 0x11, 0x201, twoNames("D:\\DCIM\\100CANON", "IMG_0001.JPG", le32(0))),
    0x54,
  );
  assert.equal(word(ok, 0x50), 0);
  assert.equal(camera.card!.find(["DCIM", "100CANON", "IMG_0001.JPG"])!.attributes, 0);
  const one = await host.dialogue(
    commandBlock(0x0e, 0x11, 0x201, cat(le32(0), text("D:\\DCIM\\100CANON", 2))),
    0x54,
  );
  assert.equal(word(one, 0x50), 0x02000086);
});

Deno.test("mkdir and rmdir change the card; a missing parent is refused", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  const mk = (path: string) => host.dialogue(commandBlock(0x05, 0x11, 0x201, text(path)), 0x54);
  const rm = (path: string) => host.dialogue(commandBlock(0x06, 0x11, 0x201, text(path)), 0x54);
  assert.equal(word(await mk("D:\\DCIM\\101CANON"), 0x50), 0);
  assert.ok(camera.card!.find(["DCIM", "101CANON"])?.isDirectory);
  assert.equal(word(await mk("D:\\NOPE\\101CANON"), 0x50), 0x02000086);
  assert.equal(word(await rm("D:\\DCIM\\101CANON"), 0x50), 0);
  assert.equal(camera.card!.find(["DCIM", "101CANON"]), undefined);
});

Deno.test("upload (§4.3.10): pre-header, 0x403 blocks on bulk OUT, 0x5C replies; then set file time", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  const path = "D:\\DCIM\\100CANON\\AUT_0001.JPG";
  const file = new Uint8Array(0x1800).map((_, i) => (i * 7) & 0xff);
  let serial = 100;
  for (const [offset, len2] of [[0, 0x1400], [0x1400, 0x400]]) {
    const len1 = len2 + 0x1c + path.length + 1;
    const pre = new Uint8Array(0x40);
    pre[4] = 0x03;
    pre[5] = 0x02;
    pre.set(le32(len1 + 0x40), 6);
    // §4.3.10 puts a serial at 0x4C, but the pre-header is only 0x40 bytes long: gphoto2 writes
    // it into its buffer and never sends it.
    serial++;
    // The pre-header is 0x40 bytes: send it raw.
    assert.equal(await host.vendorOut(0x10, pre), "ok");
    const preReply = await host.bulk(0x40);
    assert.deepEqual(preReply.subarray(4, 6), hex("03 03"));
    const block = commandBlock(
      0x03,
      0x11,
      0x403,
      cat(le32(0), le32(offset), le32(len2), text(path), file.subarray(offset, offset + len2)),
      serial++,
    );
    assert.equal(block.length, len1 + 0x40);
    // In two bulk OUT transfers, to show the camera collects the announced length.
    const cut = 0x100;
    assert.equal((await camera.transferOut(2, block.slice(0, cut))).status, "ok");
    assert.equal((await camera.transferOut(2, block.slice(cut))).status, "ok");
    const reply = await host.fixed(0x5c);
    assert.deepEqual(reply.subarray(4, 6), hex("03 03"));
    assert.equal(word(reply, 0x50), 0);
    assert.equal(word(reply, 0x54), offset + len2);
    assert.equal(word(reply, 0x58), len2);
  }
  const time = await host.dialogue(
    commandBlock(0x0f, 0x11, 0x201, cat(le32(FIXTURE_TIME), text(path, 2))),
    0x54,
  );
  assert.equal(word(time, 0x50), 0);
  const node = camera.card!.find(["DCIM", "100CANON", "AUT_0001.JPG"])!;
  assert.equal(node.mtime, FIXTURE_TIME);
  const { data } = await host.long(getFileBlock(path));
  assert.deepEqual(data, file);
});

Deno.test("without a card: disk info answers 0x02000087, listings are empty, the drive is still D:", async () => {
  const { camera, host } = await openCamera({ card: false });
  await using _ = camera;
  assert.equal(camera.card, undefined);
  const disk = await host.dialogue(commandBlock(0x09, 0x11, 0x201, text("D:\\")), 0x5c);
  assert.equal(word(disk, 0x50), 0x02000087);
  assert.deepEqual((await host.long(listBlock("D:"))).data, TERMINATOR);
  assert.deepEqual((await host.long(commandBlock(0x0a, 0x11, 0x202))).data, hex("44 3A 00 00"));
  const del = await host.dialogue(
    commandBlock(0x0d, 0x11, 0x201, twoNames("D:\\DCIM\\100CANON", "IMG_0001.JPG")),
    0x54,
  );
  assert.equal(word(del, 0x50), 0x02000087);
});
