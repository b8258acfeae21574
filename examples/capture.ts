/**
 * Take a picture with chosen settings and download it, in one call.
 *
 *     deno run --allow-all examples/capture.ts [DIR] [--emulate]
 *
 * @module
 */

import { args, openCamera } from "./_connect.ts";

const target = args[0] ?? ".";
await Deno.mkdir(target, { recursive: true });
await using cam = await openCamera();
await using _remote = await cam.capture.start(); // remote mode until the end of the script
const before = await cam.capture.settings();
console.log(
  `Settings: ${before.shootingMode}, ISO ${before.iso}, ${before.shutterSpeed} s, f/${before.aperture}`,
);
const shot = await cam.capture.shoot({
  to: "both", // keep it on the card and send it here
  destination: target,
  settings: { iso: 200, flash: "off" },
});
console.log(
  `Captured ${shot.path} -> ${shot.file} (${shot.size} bytes, thumbnail ${shot.thumbnail?.length} bytes)`,
);
