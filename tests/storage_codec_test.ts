// Tier 1: storage codecs against the reference's examples (Appendix A, §4.3.6–4.3.10).
import assert from "node:assert/strict";
import { encodeCommand } from "../src/protocol/codec.ts";
import { COMMANDS } from "../src/protocol/commands.ts";
import { ProtocolError } from "../src/protocol/errors.ts";
import { extractThumbnail } from "../src/protocol/exif.ts";
import {
  decodeDirectoryEntries,
  decodeDiskInfo,
  decodeDriveName,
  decodeListing,
  encodeDeleteFile,
  encodeGetDirectory,
  encodeGetFile,
  encodeMakeDirectory,
  encodeRemoveDirectory,
  encodeSetAttributes,
  encodeUploadBlock,
  encodeUploadPreHeader,
  splitCardPath,
  toCameraPath,
  toHostPath,
} from "../src/protocol/storage_codec.ts";

const bytes = (hex: string) => Uint8Array.from(hex.trim().split(/\s+/), (h) => parseInt(h, 16));
const text = (s: string) => [...new TextEncoder().encode(s)];

function entry(attributes: number, size: number, time: number, name: string): number[] {
  const out = new Uint8Array(11 + name.length);
  const view = new DataView(out.buffer);
  out[0] = attributes;
  view.setUint32(2, size, true);
  view.setUint32(6, time, true);
  out.set(new TextEncoder().encode(name), 10);
  return [...out];
}

Deno.test("paths map between /DCIM/100CANON/IMG_0001.JPG and D:\\DCIM\\100CANON\\IMG_0001.JPG", () => {
  const segments = splitCardPath("/DCIM/100CANON/IMG_0001.JPG");
  assert.deepEqual(segments, ["DCIM", "100CANON", "IMG_0001.JPG"]);
  assert.equal(toCameraPath("D:", segments), "D:\\DCIM\\100CANON\\IMG_0001.JPG");
  assert.equal(toCameraPath("D:", []), "D:");
  assert.equal(toHostPath(segments), "/DCIM/100CANON/IMG_0001.JPG");
  assert.deepEqual(splitCardPath("dcim\\100canon\\"), ["DCIM", "100CANON"]);
  assert.deepEqual(splitCardPath("/"), []);
});

Deno.test("user paths that are not plain card paths are refused", () => {
  assert.throws(() => splitCardPath("/DCIM/../etc"), /names a directory above/);
  assert.throws(() => splitCardPath("/DCIM/a\0b"), /control character/);
  assert.throws(() => splitCardPath("/DCIM/IMG*.JPG"), RangeError);
});

Deno.test("a listing request for D:\\DCIM without recursion matches Appendix A", () => {
  const payload = encodeGetDirectory("D:\\DCIM", 0);
  assert.deepEqual([...payload], [0, ...text("D:\\DCIM"), 0, 0, 0]);
  const block = encodeCommand(COMMANDS.getDirectory, 0, payload, false);
  assert.equal(block[0], 0x1b);
  assert.deepEqual([...block.subarray(4, 6)], [0x02, 0x02]);
});

Deno.test("a get-file request with block 0x3000 matches Appendix A", () => {
  const payload = encodeGetFile("D:\\DCIM\\155CANON\\IMG_5593.JPG", false, 0x3000, false);
  assert.deepEqual(
    [...payload],
    [...bytes("00 00 00 00 00 30 00 00"), ...text("D:\\DCIM\\155CANON\\IMG_5593.JPG"), 0],
  );
  assert.equal(encodeCommand(COMMANDS.getFile, 0, payload, false)[0], 0x36);
  const thumbNew = encodeGetFile("A:\\DCIM\\X.JPG", true, 0x10000, true);
  assert.deepEqual([...thumbNew], [1, 0, 0, 0, ...text("A:\\DCIM\\X.JPG"), 0, 0]);
});

Deno.test("the worked listing example (recursion 2 on D:) decodes into a tree", () => {
  const data = new Uint8Array([
    ...entry(0x80, 0, 0, "D:"),
    ...entry(0x80, 0, 0, ".\\DCIM"),
    ...entry(0x80, 0, 0, ".\\100CANON"),
    ...entry(0x20, 0xbe0c3, 0x3e43e644, "IMG_0001.JPG"),
    ...entry(0x20, 1000, 0x3e43e700, "IMG_0002.JPG"),
    ...entry(0x80, 0, 0, ".."),
    ...entry(0x80, 0, 0, ".\\CANONMSC"),
    ...entry(0x20, 300, 0x3e43e700, "100.CTG"),
    ...entry(0x20, 300, 0x3e43e700, "D.CTG"),
    ...entry(0x80, 0, 0, ".."),
    ...entry(0x80, 0, 0, ".."),
    ...entry(0, 0, 0, ""),
  ]);
  const listing = decodeListing(data, []);
  assert.deepEqual(listing.map((e) => toHostPath([...e.parent, e.name])), [
    "/DCIM",
    "/DCIM/100CANON",
    "/DCIM/100CANON/IMG_0001.JPG",
    "/DCIM/100CANON/IMG_0002.JPG",
    "/DCIM/CANONMSC",
    "/DCIM/CANONMSC/100.CTG",
    "/DCIM/CANONMSC/D.CTG",
  ]);
  assert.equal(listing[2].size, 0xbe0c3);
  assert.equal(listing[0].isDirectory, true);
});

Deno.test("a depth-0 listing shows sub-directories as plain 0x10 entries", () => {
  const data = new Uint8Array([
    ...entry(0x80, 0, 0, "D:\\DCIM"),
    ...entry(0x10, 0, 0x3e43e644, "100CANON"),
    ...entry(0x10, 0, 0x3e43e644, "CANONMSC"),
    ...entry(0, 0, 0, ""),
  ]);
  const listing = decodeListing(data, ["DCIM"]);
  assert.deepEqual(listing.map((e) => [e.name, e.isDirectory]), [["100CANON", true], [
    "CANONMSC",
    true,
  ]]);
});

Deno.test("hostile names from the camera are refused with a clear error", () => {
  for (const name of ["..\\..\\etc", "a/b", "/etc/passwd", "C:EVIL", "bad\x01name", ".\\..", "."]) {
    const data = new Uint8Array([
      ...entry(0x80, 0, 0, "D:"),
      ...entry(0x20, 10, 1, name),
      ...entry(0, 0, 0, ""),
    ]);
    assert.throws(() => decodeListing(data, []), (e: Error) => {
      assert.ok(e instanceof ProtocolError, `${name}: ${e}`);
      assert.match(e.message, /refused|escape/);
      return true;
    });
  }
});

Deno.test("a listing with impossible lengths is a protocol error, not a crash", () => {
  // Name never terminated.
  const unterminated = new Uint8Array([
    ...entry(0x80, 0, 0, "D:"),
    0x20,
    0,
    1,
    0,
    0,
    0,
    1,
    0,
    0,
    0,
    ...new Array(300).fill(0x41),
  ]);
  assert.throws(() => decodeDirectoryEntries(unterminated), /not terminated/);
  // Trailing bytes too few for an entry.
  const stray = new Uint8Array([...entry(0x80, 0, 0, "D:"), 1, 2, 3]);
  assert.throws(() => decodeDirectoryEntries(stray), /stray bytes/);
});

Deno.test("delete payloads: old layout and the class-6 layout", () => {
  assert.deepEqual(
    [...encodeDeleteFile("D:\\DCIM\\100CANON", "IMG_0001.JPG", false)],
    [...text("D:\\DCIM\\100CANON"), 0, ...text("IMG_0001.JPG"), 0, 0],
  );
  const modern = encodeDeleteFile("A:\\DCIM\\100CANON", "IMG_0001.JPG", true);
  assert.deepEqual([...modern.subarray(0, 30)], [...text("A:\\DCIM\\100CANON\\IMG_0001.JPG"), 0]);
  assert.deepEqual([...modern.subarray(0x30)], text("A:\\DCIM\\100CANON\\"));
});

Deno.test("set-attributes payload: word, directory, NUL, name, NUL, NUL", () => {
  assert.deepEqual(
    [...encodeSetAttributes("D:\\DCIM\\158CANON", "IMG_0001.JPG", 1)],
    [1, 0, 0, 0, ...text("D:\\DCIM\\158CANON"), 0, ...text("IMG_0001.JPG"), 0, 0],
  );
});

Deno.test("upload pre-header and block follow §4.3.10", () => {
  const path = "D:\\DCIM\\158CANON\\AUT_0001.JPG";
  const data = new Uint8Array([1, 2, 3]);
  const block = encodeUploadBlock(path, 0x1400, data, 9);
  const len1 = data.length + 0x1c + path.length + 1;
  const view = new DataView(block.buffer);
  assert.equal(block.length, len1 + 0x40);
  assert.equal(view.getUint32(0, true), len1);
  assert.deepEqual([...block.subarray(4, 6)], [3, 4]);
  assert.deepEqual([block[0x40], block[0x44], block[0x47]], [2, 3, 0x11]);
  assert.equal(view.getUint32(0x54, true), 0x1400);
  assert.equal(view.getUint32(0x58, true), 3);
  assert.deepEqual([...block.subarray(block.length - 3)], [1, 2, 3]);
  const pre = encodeUploadPreHeader(len1);
  assert.equal(pre.length, 0x40);
  assert.deepEqual([...pre.subarray(4, 6)], [3, 2]);
  assert.equal(new DataView(pre.buffer).getUint32(6, true), len1 + 0x40);
});

Deno.test("disk info and drive name decode; impossible values are refused", () => {
  assert.deepEqual(decodeDiskInfo(bytes("E8 D5 03 00 B0 CE 03 00")), {
    capacity: 251368,
    free: 249520,
  });
  assert.throws(() => decodeDiskInfo(bytes("01 00 00 00 02 00 00 00")), /larger than the capacity/);
  assert.equal(decodeDriveName(bytes("44 3A 00 00")), "D:");
  assert.throws(() => decodeDriveName(bytes("2E 2E 00 00")), ProtocolError);
});

Deno.test("mkdir and rmdir payloads are Latin-1: one byte per character, then a NUL", () => {
  assert.deepEqual([...encodeMakeDirectory("D:\\DCIM\\Ä")], [...text("D:\\DCIM\\"), 0xc4, 0]);
  assert.deepEqual([...encodeRemoveDirectory("D:\\ÿ")], [...text("D:\\"), 0xff, 0]);
  assert.throws(() => encodeMakeDirectory("D:\\€"), RangeError);
});

Deno.test("the EXIF thumbnail is found through IFD1; its absence is a protocol error", () => {
  const thumb = [0xff, 0xd8, 0xff, 0xdb, 0, 4, 1, 2, 0xff, 0xd9];
  // TIFF: header, IFD0 with no entries -> IFD1 with JPEGInterchangeFormat(+Length).
  const tiff = [
    ...text("II"),
    42,
    0,
    8,
    0,
    0,
    0,
    0,
    0,
    14,
    0,
    0,
    0, // IFD0: 0 entries, next IFD at 14
    2,
    0, // IFD1: 2 entries
    0x01,
    0x02,
    4,
    0,
    1,
    0,
    0,
    0,
    44,
    0,
    0,
    0, // 0x201 offset 44
    0x02,
    0x02,
    4,
    0,
    1,
    0,
    0,
    0,
    thumb.length,
    0,
    0,
    0, // 0x202 length
    0,
    0,
    0,
    0,
    ...thumb,
  ];
  const app1 = [...text("Exif"), 0, 0, ...tiff];
  const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe1, 0, app1.length + 2, ...app1, 0xff, 0xd9]);
  assert.deepEqual([...extractThumbnail(jpeg)], thumb);
  assert.throws(() => extractThumbnail(new Uint8Array([0xff, 0xd8, 0xff, 0xd9])), ProtocolError);
});
