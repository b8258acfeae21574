/**
 * Save a few viewfinder frames (small JPEGs) while the camera is in remote mode.
 *
 *     deno run --allow-all examples/preview.ts [DIR] [--emulate]
 *
 * @module
 */

import { join } from "node:path";
import { args, openCamera } from "./_connect.ts";

const target = args[0] ?? ".";
await Deno.mkdir(target, { recursive: true });
await using cam = await openCamera();
await using _remote = await cam.capture.start();
let n = 0;
for await (const frame of cam.capture.previews({ frames: 3 })) {
  const file = join(target, `preview-${++n}.jpg`);
  await Deno.writeFile(file, frame);
  console.log(`frame ${n}: ${frame.length} bytes -> ${file}`);
}
