/**
 * Wait until a camera is plugged in (libusb hot-plug, or polling), then
 * greet it.
 *
 *     deno run --allow-all examples/wait_for_camera.ts [--emulate]
 *
 * With `--emulate`, a virtual camera is plugged in through umockdev a moment
 * after the wait starts: the script restarts itself with umockdev's preload
 * library (as demo.ts does), so that libusb sees the virtual camera arrive.
 *
 * @module
 */

import { Camera, waitForCamera } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";

const emulate = Deno.args.includes("--emulate");
if (emulate && !(Deno.env.get("LD_PRELOAD") ?? "").includes("libumockdev-preload")) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL(import.meta.url).pathname, ...Deno.args],
    env: { LD_PRELOAD: "libumockdev-preload.so.0" },
  }).spawn();
  Deno.exit((await child.status).code);
}

using testbed = emulate ? UmockdevTestbed.open() : undefined;
if (testbed) {
  setTimeout(() => testbed.attach(new VirtualCamera({ owner: "Kiril" }).usbFunction), 500);
}

console.log("Waiting for a camera (Ctrl+C to stop) ...");
const found = await waitForCamera({ timeout: emulate ? 10_000 : undefined });
console.log(`Found the ${found.model} at bus ${found.bus} address ${found.address} (${found.via})`);
await using cam = await Camera.open({ bus: found.bus, address: found.address });
console.log(`Hello, ${cam.owner}'s ${cam.model}!`);
