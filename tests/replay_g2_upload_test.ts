// Replay: a real upload to a PowerShot G2 (libgphoto2's Protocol.xml). The host
// side of an upload is bytes we send, so the test builds the same blocks with the
// public upload codec and compares them with what Canon's software sent, byte for
// byte where the document prints them; the camera's reply is read for its counts.
import assert from "node:assert/strict";
import {
  encodeUploadBlock,
  encodeUploadPreHeader,
  UPLOAD_BLOCK,
} from "../src/protocol/storage_codec.ts";
import * as real from "./fixtures/real/g2_upload_protocol_xml.ts";

const PATH = "D:\\DCIM\\158CANON\\AUT_0001.JPG";
const SERIAL = 0x02104ca2;

function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}

/** `length` bytes of file data beginning with the bytes the dump shows. */
function data(length: number, start: Uint8Array, at: number): Uint8Array {
  const out = new Uint8Array(length);
  out.set(start.subarray(at));
  return out;
}

Deno.test("replay G2 upload: the first block is the one Canon's software sent (len1 0x143a, offset 0, 0x1400 bytes)", () => {
  const head = real.G2_UPLOAD_FIRST_BLOCK_START;
  const dataAt = 0x5c + PATH.length + 1;
  const block = encodeUploadBlock(PATH, 0, data(UPLOAD_BLOCK, head, dataAt), SERIAL);
  assert.equal(block.length, 0x40 + 0x143a);
  assert.deepEqual(block.subarray(0, head.length), head);
  assert.deepEqual(
    encodeUploadPreHeader(u32(block, 0)),
    (() => {
      const expected = new Uint8Array(0x40);
      expected.set(real.G2_UPLOAD_PRE_HEADER_START);
      return expected;
    })(),
  );
});

Deno.test("replay G2 upload: the last, short block (offset 0x44c00, 0x117e bytes) matches too", () => {
  const head = real.G2_UPLOAD_LAST_BLOCK_START;
  const dataAt = 0x5c + PATH.length + 1;
  const block = encodeUploadBlock(PATH, 0x44c00, data(0x117e, head, dataAt), SERIAL);
  assert.equal(block.length, 0x40 + 0x11b8);
  // The last block ends the file at 0x44c00 + 0x117e = 286,078 bytes.
  assert.deepEqual(block.subarray(0, head.length), head);
});

Deno.test("replay G2 upload: the camera's reply says status 0 and 0x1400 bytes taken", () => {
  const reply = real.G2_UPLOAD_FIRST_REPLY;
  assert.equal(reply.length, 0x5c);
  assert.equal(reply[0x44], 0x03);
  assert.equal(reply[0x47], 0x21);
  assert.equal(u32(reply, 0x4c), SERIAL, "the reply echoes the block's serial");
  assert.equal(u32(reply, 0x50), 0);
  assert.equal(u32(reply, 0x58), UPLOAD_BLOCK);
});
