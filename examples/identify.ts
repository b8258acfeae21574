/**
 * Who is the camera: model, owner, firmware, power, and the card.
 *
 *     deno run --allow-all examples/identify.ts [--emulate]
 *
 * @module
 */

import { openCamera } from "./_connect.ts";

await using cam = await openCamera();
const { modelName, owner, firmware } = await cam.identify();
const power = await cam.powerStatus();
const card = await cam.storage.info();
console.log(`Model:     ${modelName}`);
console.log(`Owner:     ${owner}`);
console.log(`Firmware:  ${firmware}`);
console.log(
  `Power:     ${power.source === "ac" ? "AC adapter" : "battery"}, ${power.ok ? "OK" : "low"}`,
);
console.log(
  `Card ${card.drive}  ${(card.free / 1e6).toFixed(1)} MB free of ${
    (card.capacity / 1e6).toFixed(1)
  } MB`,
);
