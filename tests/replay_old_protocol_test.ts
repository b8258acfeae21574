// Replay: real bytes of old-protocol cameras (an EOS D60 and a PowerShot S20,
// from libgphoto2's Protocol.xml) played to the public API through
// tests/_replay.ts: connect, identify, power status, and what they mean.
import assert from "node:assert/strict";
import { Camera } from "../mod.ts";
import { ReplayDevice } from "./_replay.ts";
import * as real from "./fixtures/real/old_protocol_xml.ts";
import { INIT_INTERRUPT, INIT_REPLY, initBlock } from "./fixtures/real/init.ts";

const SOURCE = "libgphoto2 camlibs/canon/doc/Protocol.xml";

function oldProtocolCamera(
  productId: number,
  family: number[],
  identify: Uint8Array,
  power: Uint8Array,
): ReplayDevice {
  return new ReplayDevice({
    productId,
    camstat: "C",
    // The document's table of init words: family bytes, then "USB id" (vendor and
    // product, as 0x04A93043 for the S20), 0x800, -1, 0xfd00, 0xfd00.
    initBlock: initBlock({
      family,
      modelWord: (0x04a9 << 16 | productId) >>> 0,
      w48: 0x800,
      w4c: 0xffffffff,
      w50: 0xfd00,
      w54: 0xfd00,
    }),
    initReply: INIT_REPLY,
    initInterrupts: [INIT_INTERRUPT],
    exchanges: [
      { cmd1: 0x01, cmd2: 0x12, cmd3: 0x201, reply: identify, source: SOURCE },
      { cmd1: 0x0a, cmd2: 0x12, cmd3: 0x201, reply: power, source: SOURCE },
    ],
  });
}

Deno.test("replay EOS D60: model, owner, firmware 1.0.4.0; on battery, power good", async () => {
  const device = oldProtocolCamera(
    0x3060,
    [0x01, 0x00, 0x05, 0x03],
    real.D60_IDENTIFY,
    real.D60_POWER,
  );
  await using cam = await Camera.connect(device);
  assert.equal(cam.model.name, "EOS D60");
  const id = await cam.identify();
  assert.equal(id.modelName, "Canon EOS D60");
  assert.equal(id.owner, "Cornell Prog. Computer Graphics");
  // 0x58-0x5b "00 04 00 01": firmware 1.0.4.0 (stored reversed).
  assert.equal(id.firmware, "1.0.4.0");
  // 0x54 = 06, 0x57 = 0x20: "from an EOS D60 on battery power".
  assert.deepEqual(await cam.powerStatus(), { source: "battery", ok: true, level: 6 });
  assert.deepEqual(device.unexpected, [], "every request had a recorded answer");
});

Deno.test("replay PowerShot S20: model, owner 'Donald Duck', firmware 1.0.0.1", async () => {
  const device = oldProtocolCamera(
    0x3043,
    [0x01, 0x00, 0x02, 0x00],
    real.S20_IDENTIFY,
    real.S20_POWER,
  );
  await using cam = await Camera.connect(device);
  assert.equal(cam.model.name, "PowerShot S20");
  const id = await cam.identify();
  assert.equal(id.modelName, "Canon PowerShot S20");
  assert.equal(id.owner, "Donald Duck");
  assert.equal(id.firmware, "1.0.0.1");
  // 0x57 = 0x10, bit 0x20 clear: not on battery (the document itself is unsure this is the S20's).
  assert.equal((await cam.powerStatus()).source, "ac");
  assert.deepEqual(device.unexpected, []);
});
