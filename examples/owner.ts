/**
 * Show the owner name stored in the camera, or set it.
 *
 *     deno run --allow-all examples/owner.ts [NAME] [--emulate]
 *
 * @module
 */

import { args, openCamera } from "./_connect.ts";

await using cam = await openCamera();
console.log(`Owner: ${JSON.stringify(cam.owner)}`);
const name = args[0];
if (name !== undefined) {
  await cam.setOwner(name); // at most 30 printable ASCII characters
  console.log(`Owner is now ${JSON.stringify(cam.owner)}`);
}
