// Replay: a real PowerShot G2's drive name and its listing of D:\DCIM
// (libgphoto2's Protocol.xml). The document records no G2 identify reply, so
// the replay device cannot connect as a G2; these bytes go through the public
// storage codec (src/protocol/mod.ts), the decoder Camera.storage.list runs.
import assert from "node:assert/strict";
import { decodeDirectoryEntries, decodeDriveName, decodeListing } from "../src/protocol/mod.ts";
import * as real from "./fixtures/real/g2_protocol_xml.ts";

function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}

Deno.test("replay G2: the flash device ident names drive D:", () => {
  // Long reply: the header's word at 0x06 counts the data that follows.
  assert.equal(u32(real.G2_DRIVE_HEADER, 6), real.G2_DRIVE_DATA.length);
  assert.equal(decodeDriveName(real.G2_DRIVE_DATA), "D:");
});

Deno.test("replay G2: D:\\DCIM holds three folders, CANONMSC, 155CANON and 156CANON, with their dates", () => {
  assert.equal(u32(real.G2_LIST_HEADER, 6), real.G2_LIST_DATA.length);
  const raw = decodeDirectoryEntries(real.G2_LIST_DATA);
  // The first entry is the listed directory itself (attribute 0x80), the last the all-zero end.
  assert.equal(raw[0].name, "D:\\DCIM");
  assert.equal(raw[0].attributes, 0x80);
  assert.deepEqual(raw[raw.length - 1], { attributes: 0, size: 0, time: 0, name: "" });
  const entries = decodeListing(real.G2_LIST_DATA, ["DCIM"]);
  assert.deepEqual(
    entries.map((e) => [e.name, e.isDirectory, e.size, e.parent.join("/")]),
    [
      ["CANONMSC", true, 0, "DCIM"],
      ["155CANON", true, 0, "DCIM"],
      ["156CANON", true, 0, "DCIM"],
    ],
  );
  // 64 f6 48 3e = 0x3e48f664: 2003-02-11 13:11:00 on the camera's clock.
  assert.equal(entries[1].time, 0x3e48f664);
  assert.equal(new Date(entries[1].time * 1000).toISOString(), "2003-02-11T13:11:00.000Z");
});
