// Fault injection, unplugging, stalls and timeouts of the virtual camera, as a
// client sees them through the UsbDevice contract.

import assert from "node:assert/strict";
import { VirtualCamera } from "../src/emulator/host/virtual_camera.ts";
import { cat, commandBlock, Host, le32, openCamera, text, word } from "./virtual_camera_fixture.ts";

const identify = (serial = 0) => commandBlock(0x01, 0x12, 0x201, undefined, serial);
const power = (serial = 0) => commandBlock(0x0a, 0x12, 0x201, undefined, serial);
const flashIdent = () => commandBlock(0x0a, 0x11, 0x202);
const remote = (words: number[]) => commandBlock(0x13, 0x12, 0x201, cat(...words.map(le32)));

Deno.test("silent: the command is accepted and never answered; the next one is", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  camera.faults.inject({ kind: "silent" });
  await host.send(identify());
  await assert.rejects(host.bulk(0x80, 50), { code: "TIMEOUT" });
  assert.equal(word(await host.dialogue(identify(), 0x9c), 0x50), 0);
});

Deno.test("delay: the reply arrives after the given time", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  camera.faults.inject({ kind: "delay", ms: 120 });
  const sent = Date.now();
  await host.send(identify());
  await assert.rejects(host.bulk(0x80, 40), { code: "TIMEOUT" });
  const reply = await host.fixed(0x9c);
  assert.ok(Date.now() - sent >= 110, `arrived after ${Date.now() - sent} ms`);
  assert.equal(word(reply, 0x50), 0);
});

Deno.test("delay, late replies off: a held-back reply is dropped when a newer command arrives first", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  camera.faults.lateReplies = false;
  camera.faults.inject({ kind: "delay", ms: 60 });
  await host.send(identify(1));
  const reply = await host.dialogue(power(2), 0x58);
  assert.equal(word(reply, 0x4c), 2);
  await assert.rejects(host.bulk(0x80, 120), { code: "TIMEOUT" });
});

Deno.test("delay (late replies on by default): the held-back reply still comes, then the newer one", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  camera.faults.inject({ kind: "delay", ms: 60 });
  await host.send(identify(1));
  await assert.rejects(host.bulk(0x80, 20), { code: "TIMEOUT" }); // the host gives up
  await host.send(power(2));
  const late = await host.fixed(0x9c);
  assert.equal(word(late, 0x4c), 1, "the abandoned identify's reply comes first");
  const reply = await host.fixed(0x58);
  assert.equal(word(reply, 0x4c), 2);
});

Deno.test("truncate: only the first bytes come, the rest never", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  camera.faults.inject({ kind: "truncate", length: 0x50 });
  await host.send(identify());
  assert.equal((await host.bulk(0x80)).length, 0x50);
  await assert.rejects(host.bulk(0x1c, 50), { code: "TIMEOUT" });
});

Deno.test("garble: word 0 and 0x48 claim a wrong length and the cmd3 echo is corrupt", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  camera.faults.inject({ kind: "garble" });
  const reply = await host.dialogue(identify(), 0x9c);
  assert.equal(word(reply, 0), 0x15c);
  assert.equal(word(reply, 0x48), 0x15c);
  assert.deepEqual([...reply.subarray(4, 6)], [0xee, 0xee]);
});

Deno.test("oversize: the reply is longer than the table says, and word 0 says so too", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  camera.faults.inject({ kind: "oversize", extra: 0x20 });
  await host.send(identify());
  const all = await host.bulk(0x400);
  assert.equal(all.length, 0x9c + 0x20);
  assert.equal(word(all, 0), 0x7c);
  assert.equal(word(all, 0x48), 0x7c);
});

Deno.test("status: the command is refused with the given status and has no effect", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  camera.faults.inject({ kind: "status", status: 0x02000081 });
  const reply = await host.dialogue(commandBlock(0x05, 0x12, 0x201, text("Mallory")), 0x54);
  assert.equal(word(reply, 0x50), 0x02000081);
  assert.equal(camera.owner, "Kiril");
  assert.equal(camera.commandLog.at(-1)!.status, 0x02000081);
});

Deno.test("status faults skip long commands; length-claim faults skip fixed ones", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  camera.faults.inject({ kind: "status", status: 0x02000086 });
  camera.faults.inject({ kind: "length-claim", length: 0xfffffff0 });
  await host.send(flashIdent());
  const header = await host.bulk(0x40);
  assert.equal(new DataView(header.buffer).getUint32(6, true), 0xfffffff0);
  assert.equal((await host.bulk(0x1400)).length, 4, "only what it has");
  await assert.rejects(host.bulk(0x1400, 50), { code: "TIMEOUT" });
  assert.equal(word(await host.dialogue(identify(), 0x9c), 0x50), 0x02000086);
});

Deno.test("stall: the bulk IN endpoint halts until clearHalt; the reply is lost", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  camera.faults.inject({ kind: "stall" });
  await host.send(identify());
  assert.equal((await camera.transferIn(1, 0x80)).status, "stall");
  assert.equal((await camera.transferIn(1, 0x80)).status, "stall");
  await camera.clearHalt("in", 1);
  await assert.rejects(host.bulk(0x80, 40), { code: "TIMEOUT" });
  assert.equal(word(await host.dialogue(identify(), 0x9c), 0x50), 0);
});

Deno.test("a read waiting on a stalled endpoint ends with status stall", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  camera.faults.inject({ kind: "stall" });
  const pending = camera.transferIn(1, 0x80, { timeout: 1000 });
  await host.send(identify());
  assert.equal((await pending).status, "stall");
});

Deno.test("unplug on arrival: the control transfer fails NO_DEVICE; replug gives a fresh camera", async () => {
  const { camera, host } = await openCamera({ owner: "Eve" });
  await using _ = camera;
  await host.init();
  await host.dialogue(commandBlock(0x20, 0x12, 0x201), 0x54);
  await host.dialogue(remote([0, 0]), 0x5c);
  assert.equal(camera.remoteMode, true);
  camera.faults.inject({ kind: "unplug" }, { command: { cmd1: 0x01, cmd2: 0x12 } });
  await assert.rejects(host.send(identify()), { code: "NO_DEVICE" });
  assert.equal(camera.connected, false);
  await assert.rejects(camera.transferIn(1, 0x40), { code: "NO_DEVICE" });
  await assert.rejects(camera.open(), { code: "NO_DEVICE" });

  camera.replug();
  await assert.rejects(
    camera.transferIn(1, 0x40),
    { code: "NO_DEVICE" },
    "the old session is dead",
  );
  await host.open();
  assert.equal(await host.init(), "C");
  assert.equal(camera.remoteMode, false);
  assert.equal(camera.keysLocked, false);
  assert.equal(camera.owner, "Eve", "the owner survives a power cycle");
});

Deno.test("unplug afterBytes: the download stops with NO_DEVICE after that many bytes", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  camera.faults.inject({ kind: "unplug", afterBytes: 0x40 + 0x1400 });
  await host.send(
    commandBlock(
      0x01,
      0x11,
      0x202,
      cat(le32(0), le32(0x1400), text("D:\\DCIM\\100CANON\\IMG_0001.JPG")),
    ),
  );
  assert.equal((await host.bulk(0x40)).length, 0x40);
  assert.equal((await host.bulk(0x1400)).length, 0x1400);
  await assert.rejects(host.bulk(0x1400), { code: "NO_DEVICE" });
});

Deno.test("unplugging while a read waits rejects it with NO_DEVICE at once", async () => {
  // Without the idle zero-length packets, so that nothing but the unplug can end the read.
  const { camera } = await openCamera({ quirks: { idleZeroLengthPackets: false } });
  await using _ = camera;
  const pending = camera.transferIn(3, 0x40, { timeout: 5000 });
  const started = Date.now();
  setTimeout(() => camera.unplug(), 20);
  await assert.rejects(pending, { code: "NO_DEVICE" });
  assert.ok(Date.now() - started < 1000);
});

Deno.test("camstat fault: the next init sees 'I', the one after it 'C' again", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  camera.faults.inject({ kind: "camstat", value: "I" });
  assert.equal(String.fromCharCode((await host.vendorIn(0x55, 1))[0]), "I");
  assert.equal(String.fromCharCode((await host.vendorIn(0x55, 1))[0]), "C");
});

Deno.test("missingFirst40AfterA: the first reply after an 'A' handshake lacks its first 0x40 bytes", async () => {
  await using camera = new VirtualCamera({ firstContact: false, card: false });
  camera.faults.missingFirst40AfterA = true;
  const host = await new Host(camera).open();
  assert.equal(await host.init(), "A");
  await host.send(identify(1));
  const short = await host.bulk(0x80, 200);
  assert.equal(short.length, 0x5c);
  // What remains starts at the old offset 0x40: 02 00 00 00 01 00 00 22, length, serial.
  assert.deepEqual([short[0], short[4], short[7]], [0x02, 0x01, 0x22]);
  assert.equal(word(short, 0x0c), 1);
  const retry = await host.dialogue(identify(2), 0x9c);
  assert.equal(word(retry, 0x4c), 2);
});

Deno.test("faults can target one command, a remote sub-command, and several times", async () => {
  const { camera, host } = await openCamera();
  await using _ = camera;
  camera.faults.inject({ kind: "status", status: 0x02000085 }, {
    command: { cmd1: 0x0a, cmd2: 0x12 },
    times: 2,
  });
  assert.equal(word(await host.dialogue(identify(), 0x9c), 0x50), 0);
  assert.equal(word(await host.dialogue(power(), 0x58), 0x50), 0x02000085);
  assert.equal(word(await host.dialogue(power(), 0x58), 0x50), 0x02000085);
  assert.equal(word(await host.dialogue(power(), 0x58), 0x50), 0);

  await host.dialogue(remote([0, 0]), 0x5c);
  camera.faults.inject({ kind: "truncate", length: 0x40 }, {
    command: { cmd1: 0x13, cmd2: 0x12, subcommand: 0x0b },
  });
  assert.equal(word(await host.dialogue(remote([0x0a, 0]), 0x8c), 0x50), 0);
  await host.send(remote([0x0b, 0]));
  assert.equal((await host.bulk(0x60)).length, 0x40);
  assert.deepEqual(camera.faults.pending, []);
  camera.faults.inject({ kind: "silent" }, { times: Infinity });
  camera.faults.clear();
  assert.equal(word(await host.dialogue(identify(), 0x9c), 0x50), 0);
});

Deno.test("a read with nothing to deliver times out after its timeout, not later", async () => {
  const { camera } = await openCamera();
  await using _ = camera;
  const started = Date.now();
  await assert.rejects(camera.transferIn(1, 0x40, { timeout: 100 }), (error: Error) => {
    assert.equal((error as { code?: string }).code, "TIMEOUT");
    assert.match(error.message, /0x81.*100 ms/);
    return true;
  });
  const waited = Date.now() - started;
  assert.ok(waited >= 90 && waited < 1000, `waited ${waited} ms`);
});

Deno.test("close() ends a waiting read with INTERRUPTED", async () => {
  const { camera } = await openCamera();
  await using _ = camera;
  const pending = camera.transferIn(1, 0x40, { timeout: 5000 });
  await camera.close();
  await assert.rejects(pending, { code: "INTERRUPTED" });
});

Deno.test("transfers need an open device and a claimed interface", async () => {
  await using camera = new VirtualCamera({ card: false });
  await assert.rejects(camera.transferIn(1, 0x40), { code: "INVALID_PARAM" });
  await camera.open();
  await assert.rejects(camera.transferIn(1, 0x40), /claimInterface/);
  await assert.rejects(camera.claimInterface(1), { code: "NOT_FOUND" });
  await camera.claimInterface(0);
  await assert.rejects(camera.transferIn(2, 0x40), { code: "INVALID_PARAM" });
});
