// Tier 1: what each class decides (src/protocol/traits.ts), against the
// protocol reference's tables (§1.1, §4.1, §4.3.5, §4.3.15, §4.3.16).
import assert from "node:assert/strict";
import {
  bodyIdFormat,
  CLASS_TRAITS,
  formatBodyId,
  modelByName,
  traitsOf,
} from "../src/protocol/mod.ts";

const code = (
  spec: { cmd1: number; cmd2: number; cmd3: number },
) => [spec.cmd1, spec.cmd2, spec.cmd3];

Deno.test("the new generation resolves the overloaded codes of §4.1; the old keeps its own", () => {
  const old = CLASS_TRAITS[5].commands;
  const neu = CLASS_TRAITS[6].commands;
  assert.deepEqual(code(old.diskInfo), [0x09, 0x11, 0x201]);
  assert.deepEqual(code(neu.diskInfo), [0x0d, 0x11, 0x201]);
  assert.deepEqual(code(old.deleteFile), [0x0d, 0x11, 0x201]);
  assert.deepEqual(code(neu.deleteFile), [0x0a, 0x11, 0x201]);
  assert.deepEqual(code(old.flashDeviceIdent), [0x0a, 0x11, 0x202]);
  assert.deepEqual(code(neu.flashDeviceIdent), [0x0e, 0x11, 0x202]);
  assert.deepEqual(code(old.setOwner), [0x05, 0x12, 0x201]);
  assert.deepEqual(code(neu.setOwner), [0x06, 0x12, 0x201]);
  assert.deepEqual(code(CLASS_TRAITS[6].getOwner!), [0x05, 0x12, 0x201]);
  assert.equal(CLASS_TRAITS[5].getOwner, undefined);
  assert.deepEqual(code(old.powerStatus), [0x0a, 0x12, 0x201]);
  assert.deepEqual(code(neu.powerStatus), [0x13, 0x12, 0x201]);
  assert.deepEqual(code(old.remoteControl), [0x13, 0x12, 0x201]);
  assert.deepEqual(code(neu.remoteControl), [0x25, 0x12, 0x201]);
  assert.deepEqual(code(old.retrieveCapture), [0x17, 0x12, 0x202]);
  assert.deepEqual(code(neu.retrieveCapture), [0x26, 0x12, 0x202]);
  assert.deepEqual(code(CLASS_TRAITS[4].bodyId!), [0x1d, 0x12, 0x201]);
  assert.deepEqual(code(CLASS_TRAITS[6].bodyId!), [0x23, 0x12, 0x201]);
  const customFunctions = CLASS_TRAITS[6].customFunctions;
  assert.ok(typeof customFunctions === "object");
  assert.deepEqual(code(customFunctions), [0x1d, 0x12, 0x201]);
  assert.equal(CLASS_TRAITS[4].customFunctions, "remote-control");
  for (const c of [0, 1, 2, 3, 4, 5] as const) assert.equal(CLASS_TRAITS[c].newProtocol, false);
  assert.equal(CLASS_TRAITS[6].newProtocol, true);
});

Deno.test("key locking per class (§4.3.16)", () => {
  const steps = (c: 0 | 1 | 2 | 3 | 4 | 5 | 6) =>
    CLASS_TRAITS[c].lockKeys.map((s) => s.command.cmd1);
  assert.deepEqual(steps(0), []);
  for (const c of [1, 2, 3] as const) {
    assert.deepEqual(steps(c), [0x1f, 0x20]);
    assert.equal(CLASS_TRAITS[c].lockAtInit, true);
    assert.equal(CLASS_TRAITS[c].unlockKeys, undefined);
  }
  assert.deepEqual(steps(4), [0x1b]);
  assert.deepEqual([...CLASS_TRAITS[4].lockKeys[0].payload!], [6, 0, 0, 0]);
  assert.equal(CLASS_TRAITS[4].unlockKeys!.command.cmd1, 0x1c);
  assert.deepEqual(steps(5), [0x20]);
  assert.deepEqual(steps(6), [0x24, 0x35]);
  assert.equal(CLASS_TRAITS[6].lockKeys[0].optional, true);
  assert.equal(CLASS_TRAITS[6].unlockKeys!.command.cmd1, 0x36);
  assert.equal(CLASS_TRAITS[4].lockAtInit || CLASS_TRAITS[6].lockAtInit, false);
  assert.deepEqual(CLASS_TRAITS[6].init, ["bodyId", "pictureAbilities", "powerStatus"]);
  assert.deepEqual(CLASS_TRAITS[4].init, ["powerStatus"]);
  assert.equal(CLASS_TRAITS[3].canDelete, false);
  assert.equal(CLASS_TRAITS[2].exif, false);
});

Deno.test("disk info: KiB on classes 5 and 6, bytes on the others", () => {
  assert.equal(traitsOf(modelByName("PowerShot G3")!).diskInfoUnit, 1024);
  assert.equal(traitsOf(modelByName("EOS 20D")!).diskInfoUnit, 1024);
  assert.equal(traitsOf(modelByName("EOS D60")!).diskInfoUnit, 1);
  assert.equal(traitsOf(modelByName("PowerShot G2")!).diskInfoUnit, 1);
});

Deno.test("body ids print as the reference's examples (§4.3.15)", () => {
  assert.equal(bodyIdFormat(modelByName("EOS D30")!), "d30");
  assert.equal(formatBodyId(0x182801ea, "d30"), "182800490");
  assert.equal(bodyIdFormat(modelByName("EOS D60")!), "decimal");
  assert.equal(formatBodyId(12345678, "decimal"), "12345678");
  assert.equal(bodyIdFormat(modelByName("EOS 20D")!), "ten-digit");
  assert.equal(formatBodyId(520308238, "ten-digit"), "0520308238");
});
