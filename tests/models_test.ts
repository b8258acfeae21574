// Tier 1: the model table.
import assert from "node:assert/strict";
import { modelByName, modelByProductId, MODELS, OTHER_MODE_IDS } from "../src/protocol/models.ts";

Deno.test("the model table holds every USB row of the reference, one per product id", () => {
  assert.equal(MODELS.length, 51);
  const ids = new Set(MODELS.map((m) => m.productId));
  // 0x307F and 0x3080 are both "Optura 20" in the driver; ids are still unique.
  assert.equal(ids.size, MODELS.length);
});

Deno.test("the G3 is class 5, the 20D class 6, the 10D class 4, the IXUS v2 class 1", () => {
  assert.equal(modelByProductId(0x306e)?.name, "PowerShot G3");
  assert.equal(modelByProductId(0x306e)?.cameraClass, 5);
  assert.equal(modelByProductId(0x30eb)?.cameraClass, 6);
  assert.equal(modelByProductId(0x3083)?.cameraClass, 4);
  assert.equal(modelByName("Digital IXUS v2")?.cameraClass, 1);
  assert.equal(modelByName("Digital IXUS v2")?.productId, 0x3065);
});

Deno.test("model names match loosely: case, a Canon prefix and '(normal mode)' do not matter", () => {
  assert.equal(modelByName("canon powershot g3")?.productId, 0x306e);
  assert.equal(modelByName("Canon:PowerShot G3 (normal mode)")?.productId, 0x306e);
  assert.equal(modelByName("PowerShot G9"), undefined);
});

Deno.test("PTP-mode ids of supported cameras are known, and never collide with normal ids", () => {
  assert.equal(OTHER_MODE_IDS[0x306f]?.mode, "ptp");
  for (const id of Object.keys(OTHER_MODE_IDS)) {
    assert.equal(modelByProductId(Number(id)), undefined, `0x${Number(id).toString(16)}`);
  }
});
