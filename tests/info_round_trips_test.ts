// `canon info` asks the camera each thing once: the handshake's identify,
// power reading and body id are what it shows, so it sends no camera command
// twice (gphoto2 --summary sends identify and power twice each). powerStatus({ maxAgeMs })
// is how: a reading that recent is returned without asking again.
import assert from "node:assert/strict";
import { Camera } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { canonOn } from "./_cli_features.ts";

const name = (c: { cmd1: number; cmd2: number }) => `${c.cmd1.toString(16)}/${c.cmd2.toString(16)}`;

for (const model of ["PowerShot G3", "EOS 20D", "PowerShot G1", "EOS 10D"]) {
  Deno.test(`canon info on the ${model} sends no command twice, and shows the power`, async () => {
    await using vc = new VirtualCamera({ model, power: { source: "battery" } });
    const run = await canonOn(vc)("info");
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /^Power:\s+battery, power OK$/m);
    assert.match(run.out, /^Model:\s+Canon /m);
    // The camera's own commands (0x12: identify, power, body id, clock...);
    // the card's (0x11) may list several folders for the free space.
    const sent = vc.commandLog.filter((c) => c.cmd2 === 0x12).map(name);
    assert.deepEqual(sent.filter((c, i) => sent.indexOf(c) !== i), [], sent.join(" "));
  });
}

Deno.test("powerStatus({ maxAgeMs }) returns a reading that recent without asking", async () => {
  await using vc = new VirtualCamera();
  await using cam = await Camera.connect(vc);
  const powerReads = () => vc.commandLog.filter((c) => c.cmd1 === 0x0a && c.cmd2 === 0x12).length;
  assert.equal(powerReads(), 1, "the handshake reads it");
  vc.power = { source: "battery", low: true };
  assert.deepEqual(await cam.powerStatus({ maxAgeMs: 60_000 }), {
    source: "ac",
    ok: true,
    level: 6,
  });
  assert.equal(powerReads(), 1, "nothing sent");
  const fresh = await cam.powerStatus();
  assert.equal(fresh.source, "battery");
  assert.equal(fresh.ok, false);
  assert.equal(powerReads(), 2);
  assert.equal((await cam.powerStatus({ maxAgeMs: 60_000 })).source, "battery");
  assert.equal(powerReads(), 2);
  await new Promise((resolve) => setTimeout(resolve, 30));
  vc.power = { source: "ac", low: false };
  assert.equal((await cam.powerStatus({ maxAgeMs: 5 })).source, "ac", "too old: asked again");
  assert.equal(powerReads(), 3);
  const refused = cam.powerStatus({ maxAgeMs: -1 });
  await assert.rejects(refused, RangeError);
});
