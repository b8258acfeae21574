// The virtual camera per model, driven with raw bytes built from the protocol
// reference (never from src/protocol): each model's descriptors, init block
// and identify bytes, and the class-dependent command sets (class 1 lock
// after abilities, class 4 EOS lock and body id, class 6 new protocol).
import assert from "node:assert/strict";
import { parseEmulateArgs } from "../src/cli/emulate.ts";
import { EMULATED_MODELS } from "../src/emulator/engine/emulated_models.ts";
import { VirtualCamera } from "../src/emulator/host/virtual_camera.ts";
import { cat, commandBlock, Host, le32, text, word } from "./virtual_camera_fixture.ts";

/** Facts each model's virtual camera must show, from the reference (§1.2, §2.3, §4.3.1). */
const MODELS: Record<string, {
  productId: number;
  identify: string;
  family: string;
  identifyBytes?: string;
  modelWord?: number;
  transfer: number;
}> = {
  "PowerShot G1": {
    productId: 0x3048,
    identify: "Canon PowerShot G1",
    family: "00 05 07 00",
    transfer: 0xffffffff,
  },
  "PowerShot S200": {
    productId: 0x3065,
    identify: "Canon PowerShot S200",
    family: "03 05 15 81",
    transfer: 0xffffffff,
  },
  "PowerShot S45": {
    productId: 0x306c,
    identify: "Canon PowerShot S45",
    family: "01 06 15 83",
    transfer: 0xffffffff,
  },
  "PowerShot G3": {
    productId: 0x306e,
    identify: "Canon PowerShot G3",
    family: "01 06 15 83",
    identifyBytes: "01 06 15 83",
    transfer: 0xffffffff,
  },
  "EOS 10D": {
    productId: 0x3083,
    identify: "Canon EOS 10D",
    family: "01 00 05 03",
    transfer: 0xffffffff,
  },
  "EOS 300D": {
    productId: 0x3084,
    identify: "Canon EOS 300D DIGITAL",
    family: "01 00 05 03",
    transfer: 0xffffffff,
  },
  "EOS 20D": {
    productId: 0x30eb,
    identify: "Canon EOS 20D",
    family: "01 06 15 83",
    identifyBytes: "00 08 77 81",
    modelWord: 0x80000175,
    transfer: 0x10000,
  },
  "EOS 350D": {
    productId: 0x30ee,
    identify: "Canon EOS 350D DIGITAL",
    family: "01 06 15 83",
    identifyBytes: "00 08 77 81",
    modelWord: 0x80000189,
    transfer: 0x10000,
  },
};

const bytes = (hex: string) => Uint8Array.from(hex.split(" "), (b) => parseInt(b, 16));

/** A new-protocol block: byte 0x46 = 0x10 (fixed) or 0x20 (long), §3.1. */
function newBlock(
  cmd1: number,
  cmd2: number,
  cmd3: number,
  payload: Uint8Array = new Uint8Array(0),
) {
  const block = commandBlock(cmd1, cmd2, cmd3, payload);
  block[0x46] = cmd3 === 0x202 ? 0x20 : 0x10;
  return block;
}

async function started(model: string): Promise<{ camera: VirtualCamera; host: Host }> {
  const camera = new VirtualCamera({ model });
  const host = await new Host(camera).open();
  return { camera, host };
}

Deno.test("VirtualCamera.models has at least one model of each USB class (0, 1, 4, 5, 6)", () => {
  assert.deepEqual(VirtualCamera.models, Object.keys(MODELS));
  const classes = new Set(VirtualCamera.models.map((m) => EMULATED_MODELS[m].cameraClass));
  assert.deepEqual([...classes].sort(), [0, 1, 4, 5, 6]);
  // Aliases and gphoto2's spelling are accepted.
  assert.equal(
    new VirtualCamera({ model: "Digital IXUS v2", card: false }).model,
    "PowerShot S200",
  );
  assert.equal(
    new VirtualCamera({ model: "Canon:EOS 350D (normal mode)", card: false }).model,
    "EOS 350D",
  );
  assert.equal(new VirtualCamera({ model: "EOS Kiss Digital N", card: false }).productId, 0x30ee);
});

for (const [model, facts] of Object.entries(MODELS)) {
  Deno.test(`${model}: descriptors, init block and identify bytes`, async () => {
    await using camera = new VirtualCamera({ model, owner: "Ada" });
    assert.equal(camera.vendorId, 0x04a9);
    assert.equal(camera.productId, facts.productId);
    const host = await new Host(camera).open();
    assert.equal(await host.init(), "C");
    const block = await host.vendorIn(0x01, 0x58);
    assert.deepEqual([...block.subarray(0x40, 0x44)], [...bytes(facts.family)]);
    const expectedWord = facts.modelWord ?? (facts.productId | (0x04a9 << 16)) >>> 0;
    assert.equal(word(block, 0x44), expectedWord);
    assert.equal(word(block, 0x4c), facts.transfer);
    const newProtocol = facts.modelWord !== undefined;
    const identify = newProtocol ? newBlock(0x01, 0x12, 0x201) : commandBlock(0x01, 0x12, 0x201);
    await host.send(identify);
    const reply = newProtocol ? await host.bulk(0x9c) : await host.fixed(0x9c);
    assert.equal(reply.length, 0x9c);
    assert.equal(word(reply, 0x50), 0);
    if (facts.identifyBytes) {
      assert.deepEqual([...reply.subarray(0x54, 0x58)], [...bytes(facts.identifyBytes)]);
    }
    const name = new TextDecoder().decode(reply.subarray(0x5c, 0x7c)).replace(/\0.*$/s, "");
    assert.equal(name, facts.identify);
    const owner = new TextDecoder().decode(reply.subarray(0x7c, 0x9c)).replace(/\0.*$/s, "");
    // The new protocol carries no owner in identify (§4.3.1).
    assert.equal(owner, newProtocol ? "" : "Ada");
    assert.equal(reply[0x46], newProtocol ? 0x10 : 0);
  });
}

Deno.test("EOS 20D: a block without byte 0x46 = 0x10/0x20 is refused (status 0x02000086)", async () => {
  const { camera, host } = await started("EOS 20D");
  await using _ = camera;
  await host.init();
  await host.send(commandBlock(0x01, 0x12, 0x201));
  const refused = await host.bulk(0x9c);
  assert.equal(word(refused, 0x50), 0x02000086);
  // A long command with 0x10 instead of 0x20 gets an empty long reply.
  const wrong = commandBlock(0x0e, 0x11, 0x202);
  wrong[0x46] = 0x10;
  await host.send(wrong);
  assert.equal(word(await host.bulk(0x40), 6), 0);
  const { data } = await host.long(newBlock(0x0e, 0x11, 0x202));
  assert.deepEqual([...data], [0x41, 0x3a, 0, 0]); // "A:"
});

Deno.test("EOS 20D: the new command codes (§4.1) answer with the new layouts", async () => {
  const { camera, host } = await started("EOS 20D");
  await using _ = camera;
  await host.init();
  // 0x05/0x12 is get owner (0x74), 0x06/0x12 set owner.
  await host.send(newBlock(0x06, 0x12, 0x201, text("Grace")));
  assert.equal(word(await host.bulk(0x54), 0x50), 0);
  await host.send(newBlock(0x05, 0x12, 0x201));
  const owner = await host.bulk(0x74);
  assert.equal(owner.length, 0x74);
  assert.equal(new TextDecoder().decode(owner.subarray(0x54, 0x59)), "Grace");
  // 0x13 is power status; 0x23 body id; 0x24 abilities 0x474 with the model code.
  await host.send(newBlock(0x13, 0x12, 0x201));
  const power = await host.bulk(0x58);
  assert.equal(power[0x54], 0x06);
  await host.send(newBlock(0x23, 0x12, 0x201));
  assert.equal(word(await host.bulk(0x58), 0x54), 520308238);
  await host.send(newBlock(0x24, 0x12, 0x201));
  const abilities = await host.bulk(0x474);
  assert.equal(abilities.length, 0x474);
  assert.equal(word(abilities, 0x56), 0x80000175);
  assert.equal(word(abilities, 0x7a), 7);
  // 0x1D is custom functions: byte count 0x28 at 0x54.
  await host.send(newBlock(0x1d, 0x12, 0x201, le32(0)));
  const functions = await host.bulk(0x94);
  assert.equal(word(functions, 0x54), 0x28);
  // 0x0D is disk info, "A:" + NUL, in KiB.
  await host.send(newBlock(0x0d, 0x11, 0x201, text("A:")));
  const disk = await host.bulk(0x5c);
  assert.equal(word(disk, 0x50), 0);
  assert.equal(word(disk, 0x54), Math.floor(camera.card!.capacity / 1024));
  // 0x0A/0x11/0x201 is delete: "dir\file" NUL in a 0x30 field, then "dir\" without NUL.
  const field = new Uint8Array(0x30);
  field.set(text("A:\\DCIM\\100CANON\\IMG_0004.JPG"));
  await host.send(newBlock(0x0a, 0x11, 0x201, cat(field, text("A:\\DCIM\\100CANON\\", 0))));
  assert.equal(word(await host.bulk(0x54), 0x50), 0);
  assert.equal(camera.card!.find(["DCIM", "100CANON", "IMG_0004.JPG"]), undefined);
  // The old codes mean something else or nothing: 0x09/0x11 is unknown here.
  await host.send(newBlock(0x09, 0x11, 0x201, text("A:\\")));
  assert.equal(word(await host.bulk(0x54), 0x50), 0x02000086);
});

Deno.test("EOS 20D: get file takes the new payload (flag, path, two NULs); CR2 thumbnails are TIFF", async () => {
  const { camera, host } = await started("EOS 20D");
  await using _ = camera;
  // host.long rounds reads to 0x40 as old cameras want; on the 20D's 512-byte
  // packets that overflows after its early-ended transfers (tests/transport_short_test.ts).
  camera.faults.packetOverflow = false;
  await host.init();
  const path = "A:\\DCIM\\100CANON\\IMG_0006.CR2";
  const full = await host.long(newBlock(0x01, 0x11, 0x202, cat(le32(0), text(path, 2))), 0x10000);
  const card = camera.card!;
  const node = card.find(["DCIM", "100CANON", "IMG_0006.CR2"])!;
  assert.deepEqual(full.data, card.read(["DCIM", "100CANON", "IMG_0006.CR2"], 0, node.size));
  assert.equal(String.fromCharCode(...full.data.subarray(0, 4)), "II*\0");
  assert.equal(String.fromCharCode(...full.data.subarray(8, 10)), "CR");
  const thumb = await host.long(newBlock(0x01, 0x11, 0x202, cat(le32(1), text(path, 2))), 0x10000);
  assert.ok(thumb.data.length < full.data.length);
  assert.deepEqual(thumb.data, full.data.subarray(0, thumb.data.length));
});

Deno.test("EOS 20D: lock keys 2 (0x5C, 12 zero bytes) and unlock 2 (0x86 when not locked)", async () => {
  const { camera, host } = await started("EOS 20D");
  await using _ = camera;
  await host.init();
  await host.send(newBlock(0x36, 0x12, 0x201));
  assert.equal(word(await host.bulk(0x54), 0x50), 0x86);
  await host.send(newBlock(0x35, 0x12, 0x201, le32(6)));
  const locked = await host.bulk(0x5c);
  assert.equal(locked.length, 0x5c);
  assert.equal(word(locked, 0x50), 0);
  assert.equal(camera.keysLocked, true);
  await host.send(newBlock(0x36, 0x12, 0x201));
  assert.equal(word(await host.bulk(0x54), 0x50), 0);
  assert.equal(camera.keysLocked, false);
});

Deno.test("EOS 20D: remote control 0x25 needs the trailing zero byte (odd block)", async () => {
  const { camera, host } = await started("EOS 20D");
  await using _ = camera;
  await host.init();
  await host.send(newBlock(0x25, 0x12, 0x201, cat(le32(0x01), le32(0))));
  assert.equal(word(await host.bulk(0x5c), 0x50), 0x02000086);
  const block = newBlock(0x25, 0x12, 0x201, cat(le32(0x01), le32(0), new Uint8Array(1)));
  assert.equal(block.length % 2, 1);
  await host.send(block);
  const reply = await host.bulk(0x5c);
  assert.equal(word(reply, 0x50), 0);
  assert.equal(word(reply, 0x54), 0x01);
});

Deno.test("PowerShot S200 (class 1): the lock needs picture abilities first", async () => {
  const { camera, host } = await started("PowerShot S200");
  await using _ = camera;
  await host.init();
  const lock = await host.dialogue(commandBlock(0x20, 0x12, 0x201), 0x54);
  assert.equal(word(lock, 0x50), 0x02000081);
  assert.equal(camera.keysLocked, false);
  const abilities = await host.dialogue(commandBlock(0x1f, 0x12, 0x201), 0x384);
  assert.equal(word(abilities, 0x50), 0);
  assert.equal(word(abilities, 0x7a), 9);
  assert.equal(word(await host.dialogue(commandBlock(0x20, 0x12, 0x201), 0x54), 0x50), 0);
  assert.equal(camera.keysLocked, true);
});

Deno.test("EOS 10D (class 4): EOS lock 0x1B / unlock 0x1C, body id 0x1D, no 0x20", async () => {
  const { camera, host } = await started("EOS 10D");
  await using _ = camera;
  await host.init();
  assert.equal(word(await host.dialogue(commandBlock(0x20, 0x12, 0x201), 0x54), 0x50), 0x02000086);
  const unlocked = await host.dialogue(commandBlock(0x1c, 0x12, 0x201), 0x54);
  assert.equal(word(unlocked, 0x50), 0x02000082);
  assert.equal(word(await host.dialogue(commandBlock(0x1b, 0x12, 0x201, le32(6)), 0x54), 0x50), 0);
  assert.equal(camera.keysLocked, true);
  assert.equal(word(await host.dialogue(commandBlock(0x1c, 0x12, 0x201), 0x54), 0x50), 0);
  assert.equal(camera.keysLocked, false);
  const body = await host.dialogue(commandBlock(0x1d, 0x12, 0x201), 0x58);
  assert.equal(word(body, 0x50), 0);
  assert.equal(word(body, 0x54), 1120304567);
  // The D60's generation leaves word 0 of fixed replies at 0 (§3.2); 0x48 has the length.
  assert.equal(word(body, 0), 0);
  assert.equal(word(body, 0x48), 0x18);
});

Deno.test("a VirtualCamera can present another product id (a PTP-mode id)", async () => {
  await using camera = new VirtualCamera({ productId: 0x306f });
  assert.equal(camera.productId, 0x306f);
  assert.equal(camera.model, "PowerShot G3");
  assert.equal(camera.usbFunction.descriptors.device[10], 0x6f);
  assert.throws(() => new VirtualCamera({ productId: 0x10000 }), RangeError);
});

Deno.test("deno task emulate --model takes every model, by name, alias or gphoto2's name", () => {
  for (const model of VirtualCamera.models) {
    assert.equal(parseEmulateArgs(["--model", model, "--", "true"]).model, model);
  }
  assert.equal(parseEmulateArgs(["--model=digital ixus v2", "true"]).model, "PowerShot S200");
  assert.equal(
    parseEmulateArgs(["--model", "Canon:EOS 20D (normal mode)", "true"]).model,
    "EOS 20D",
  );
  assert.throws(() => parseEmulateArgs(["--model", "EOS 1D", "true"]), /known models: .*EOS 350D/);
});
