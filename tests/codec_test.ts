// Tier 1: the framing and camera-command codecs against the byte examples of
// the protocol reference (Appendix A, §2.3, §4.3).
import assert from "node:assert/strict";
import {
  announcedLength,
  decodeFixedReply,
  decodeIdentify,
  decodeInitBlock,
  decodeInterruptPacket,
  decodeLongHeader,
  decodePowerStatus,
  encodeCommand,
  encodeInitWrite,
  encodeOwner,
  encodeSetTime,
} from "../src/protocol/codec.ts";
import { COMMANDS, describeStatus, NEW_PROTOCOL_COMMANDS } from "../src/protocol/commands.ts";
import { ProtocolError } from "../src/protocol/errors.ts";
import { hexdump } from "../src/protocol/log.ts";

const bytes = (hex: string) => Uint8Array.from(hex.trim().split(/\s+/), (h) => parseInt(h, 16));
const serialBytes = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24];

Deno.test("an identify block matches Appendix A", () => {
  const block = encodeCommand(COMMANDS.identify, 0x12345678, new Uint8Array(0), false);
  assert.equal(block.length, 0x50);
  assert.deepEqual([...block.subarray(0, 8)], [0x10, 0, 0, 0, 0x01, 0x02, 0, 0]);
  assert.ok(block.subarray(8, 0x40).every((b) => b === 0));
  assert.deepEqual(
    [...block.subarray(0x40)],
    [...bytes("02 00 00 00 01 00 00 12 10 00 00 00"), ...serialBytes(0x12345678)],
  );
});

Deno.test("a new-protocol identify block carries 0x10 at 0x46, a long command 0x20", () => {
  const identify = encodeCommand(COMMANDS.identify, 1, new Uint8Array(0), true);
  assert.deepEqual([...identify.subarray(0x40, 0x48)], [...bytes("02 00 00 00 01 00 10 12")]);
  const listing = encodeCommand(COMMANDS.getDirectory, 1, new Uint8Array(4), true);
  assert.equal(listing[0x46], 0x20);
});

Deno.test("a disk-info block for D:\\ matches Appendix A", () => {
  const block = encodeCommand(COMMANDS.diskInfo, 7, bytes("44 3A 5C 00"), false);
  assert.equal(block.length, 0x54);
  assert.deepEqual([...block.subarray(0, 8)], [0x14, 0, 0, 0, 0x01, 0x02, 0, 0]);
  assert.deepEqual(
    [...block.subarray(0x40)],
    [...bytes("02 00 00 00 09 00 00 11 14 00 00 00"), ...serialBytes(7), ...bytes("44 3A 5C 00")],
  );
});

Deno.test("class 6 uses the new command codes", () => {
  assert.equal(NEW_PROTOCOL_COMMANDS.diskInfo?.cmd1, 0x0d);
  assert.equal(NEW_PROTOCOL_COMMANDS.deleteFile?.cmd1, 0x0a);
  assert.equal(NEW_PROTOCOL_COMMANDS.flashDeviceIdent?.cmd1, 0x0e);
  assert.equal(NEW_PROTOCOL_COMMANDS.remoteControl?.cmd1, 0x25);
  assert.equal(NEW_PROTOCOL_COMMANDS.powerStatus?.cmd1, 0x13);
});

Deno.test("a command block longer than 1024 bytes is refused before sending", () => {
  assert.throws(
    () => encodeCommand(COMMANDS.setOwner, 0, new Uint8Array(1000), false),
    /longer than the 1024/,
  );
});

const G3_INIT = (() => {
  const raw = new Uint8Array(0x58);
  raw[0] = 0x18;
  raw.set(bytes("01 06 15 83 6E 30 A9 04 00 08 00 00 FF FF FF FF 00 FD 00 00 00 FD 00 00"), 0x40);
  return raw;
})();

Deno.test("the G3 init block decodes: family bytes, product id, default transfer length", () => {
  const init = decodeInitBlock(G3_INIT);
  assert.deepEqual([...init.family], [0x01, 0x06, 0x15, 0x83]);
  assert.equal(init.modelWord, 0x04a9306e);
  assert.equal(init.transferLength, 0x1400);
});

Deno.test("the init write block is built from init block bytes 0x48-0x57", () => {
  const block = encodeInitWrite(decodeInitBlock(G3_INIT));
  assert.equal(block.length, 0x50);
  assert.equal(block[0], 0x10);
  assert.ok(block.subarray(1, 0x40).every((b) => b === 0));
  assert.deepEqual([...block.subarray(0x40)], [
    ...bytes("00 08 00 00 FF FF FF FF 00 FD 00 00 00 FD 00 00"),
  ]);
});

Deno.test("an init block announcing 0x10000 (20D) keeps it; odd values are clamped, not refused", () => {
  const raw = G3_INIT.slice();
  raw.set([0, 0, 1, 0], 0x4c);
  assert.equal(decodeInitBlock(raw).transferLength, 0x10000);
  // As gphoto2 (issue 11.7): any value but 0xFFFFFFFF is taken, within what a host read can be.
  raw.set([0x10, 0, 0, 0], 0x4c);
  assert.equal(decodeInitBlock(raw).transferLength, 0x40);
  assert.throws(() => decodeInitBlock(new Uint8Array(0x50)), /0x58/);
});

Deno.test("identify data decodes model, owner and the reversed firmware", () => {
  const reply = new Uint8Array(0x9c);
  reply[0] = 0x5c;
  reply.set(bytes("01 06 15 83 00 02 00 01"), 0x54);
  reply.set(new TextEncoder().encode("Canon PowerShot G3"), 0x5c);
  reply.set(new TextEncoder().encode("Kiril"), 0x7c);
  assert.equal(announcedLength(reply), 0x9c);
  const decoded = decodeFixedReply(COMMANDS.identify, reply);
  assert.equal(decoded.status, 0);
  assert.deepEqual(decodeIdentify(decoded.data), {
    model: "Canon PowerShot G3",
    owner: "Kiril",
    firmware: "1.0.2.0",
  });
});

Deno.test("a reply too short for its command is a protocol error, not a crash", () => {
  assert.throws(() => decodeFixedReply(COMMANDS.identify, new Uint8Array(0x40)), ProtocolError);
  const short = new Uint8Array(0x58);
  assert.throws(() => decodeFixedReply(COMMANDS.identify, short), /needs 76/);
  assert.throws(() => decodeIdentify(new Uint8Array(10)), ProtocolError);
});

Deno.test("a non-zero status is returned, not mistaken for data", () => {
  const reply = new Uint8Array(0x54);
  reply.set([0x29, 0, 0, 2], 0x50);
  assert.equal(decodeFixedReply(COMMANDS.deleteFile, reply).status, 0x02000029);
  assert.equal(describeStatus(0x02000029), "file protected (status 0x2000029)");
  assert.match(describeStatus(0x12345678), /unknown status \(status 0x12345678\)/);
});

Deno.test("owner names: at most 30 printable ASCII characters", () => {
  assert.deepEqual([...encodeOwner("Kiril")], [...new TextEncoder().encode("Kiril"), 0]);
  assert.equal(encodeOwner("x".repeat(30)).length, 31);
  assert.throws(
    () => encodeOwner("x".repeat(31)),
    /31 characters long; the camera stores at most 30/,
  );
  assert.throws(() => encodeOwner("Zoë"), /"ë", which the camera cannot store/);
  assert.throws(() => encodeOwner("tab\there"), /cannot store/);
});

Deno.test("power status: 0x10 is AC, 0x20/0x30 battery; 6 OK, 4 low", () => {
  assert.deepEqual(decodePowerStatus(bytes("06 00 00 10")), { source: "ac", ok: true, level: 6 });
  assert.deepEqual(decodePowerStatus(bytes("04 00 00 30")), {
    source: "battery",
    ok: false,
    level: 4,
  });
  assert.equal(decodePowerStatus(bytes("06 00 00 20")).source, "battery");
});

Deno.test("set time payload is the word and 8 zero bytes", () => {
  assert.deepEqual([...encodeSetTime(0x3e43e644)], [
    ...bytes("44 E6 43 3E 00 00 00 00 00 00 00 00"),
  ]);
});

Deno.test("a long reply header's length is the unaligned word at offset 6", () => {
  const header = new Uint8Array(0x40);
  header.set(bytes("00 00 00 00 02 03 04 00 00 00"), 0);
  assert.equal(decodeLongHeader(COMMANDS.flashDeviceIdent, header), 4);
  assert.throws(
    () => decodeLongHeader(COMMANDS.flashDeviceIdent, new Uint8Array(0x3f)),
    ProtocolError,
  );
});

Deno.test("interrupt packets: the init packet and a capture-finished packet", () => {
  const init = decodeInterruptPacket(bytes("02 00 00 00 20 00 00 00 10 00 00 00 00 00 00 00"));
  assert.equal(init.code, 0x20);
  const done = decodeInterruptPacket(bytes("02 00 00 00 0A 00 00 00 10 00 00 00 1D 00 00 00"));
  assert.equal(done.code, 0x0a);
  assert.equal(done.word0c, 0x1d);
  assert.throws(() => decodeInterruptPacket(new Uint8Array(8)), ProtocolError);
});

Deno.test("hex dumps show offset, 8+8 bytes and ASCII", () => {
  const lines = hexdump(new TextEncoder().encode("Canon PowerShot G3"));
  assert.deepEqual(lines, [
    "0000  43 61 6e 6f 6e 20 50 6f  77 65 72 53 68 6f 74 20  Canon PowerShot ",
    "0010  47 33                                             G3",
  ]);
  assert.deepEqual(hexdump(new Uint8Array(40), 16).at(-1), "... 24 more bytes");
});
