// Disk-info units (issue 11 point 6): where a model's unit is proven by a real
// camera's reply the library uses it; where it is only inferred from the class,
// a card is never reported 1024 times off. The cameras here report in the
// other unit than their class suggests (a virtual camera presenting another
// model's product id), so only the plausibility checks can get them right.
import assert from "node:assert/strict";
import { Camera } from "../mod.ts";
import { modelByName } from "../src/protocol/mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { MemoryCard } from "../src/emulator/card/memory_card.ts";
import { diskInfoUnitEvidence } from "../src/protocol/traits.ts";

Deno.test("the model table says which disk-info units real bytes prove", () => {
  assert.equal(diskInfoUnitEvidence(modelByName("EOS 20D")!).proof, "real bytes");
  assert.equal(diskInfoUnitEvidence(modelByName("PowerShot G3")!).proof, "real bytes");
  for (
    const name of [
      "EOS 350D",
      "PowerShot S45",
      "EOS 10D",
      "EOS 300D",
      "PowerShot G2",
      "PowerShot S20",
    ]
  ) {
    assert.equal(diskInfoUnitEvidence(modelByName(name)!).proof, "inferred", name);
  }
});

Deno.test("a body of a bytes class that counts in KiB: a small raw number is not a 256 KiB card", async () => {
  // A G3 (KiB) presenting the EOS 10D's id: the library expects bytes.
  const card = new MemoryCard({ capacity: 256 * 1024 * 1024 });
  const vc = new VirtualCamera({ model: "PowerShot G3", productId: 0x3083, card });
  await using cam = await Camera.connect(vc);
  assert.equal(cam.model.name, "EOS 10D");
  const info = await cam.storage.info();
  assert.equal(info.capacity, card.capacity - (card.capacity % 1024));
  assert.ok(Math.abs(info.free - card.free) < 1024);
});

Deno.test("a body of a bytes class that counts in KiB, big card: the files decide", async () => {
  // 3 GiB in KiB reads 3,145,728: as bytes a 3 MiB card (it exists), as KiB 3 GiB.
  // The files on the card (several MiB) do not fit in 3 MiB of used space.
  const card = new MemoryCard({ capacity: 3 * 1024 ** 3 });
  const vc = new VirtualCamera({ model: "PowerShot G3", productId: 0x3083, card });
  await using cam = await Camera.connect(vc);
  const info = await cam.storage.info();
  assert.equal(info.capacity, 3 * 1024 ** 3);
});

Deno.test("where the unit is proven, no guessing: the 20D's card in KiB", async () => {
  const card = new MemoryCard({ capacity: 512 * 1024 * 1024 });
  await using cam = await Camera.connect(new VirtualCamera({ model: "EOS 20D", card }));
  const info = await cam.storage.info();
  assert.equal(info.capacity, 512 * 1024 * 1024);
});
