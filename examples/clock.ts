/**
 * Read the camera's clock, compare it with this computer's, and set it.
 * The camera keeps wall-clock time without a zone: the `Date` it gives reads
 * the camera's wall-clock time in this computer's zone.
 *
 *     deno run --allow-all examples/clock.ts [--sync] [--emulate]
 *
 * @module
 */

import { args, openCamera } from "./_connect.ts";

await using cam = await openCamera();
const time = await cam.time();
const ahead = Math.round((time.getTime() - Date.now()) / 1000);
console.log(`Camera time: ${time.toLocaleString()} (${ahead} s ahead of this computer)`);
if (args.includes("--sync")) {
  const drift = await cam.syncClock();
  console.log(`Set the clock; it was ${drift} s off. Now: ${(await cam.time()).toLocaleString()}`);
}
