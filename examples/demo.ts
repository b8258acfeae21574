/**
 * A first session with a camera, with no camera needed: a virtual PowerShot
 * G3 is plugged in through umockdev, and this script talks to it through the
 * real libusb, exactly as it would to a camera on a cable, with the wire
 * trace on.
 *
 *     deno task demo
 *
 * @module
 */

import { Camera, listCameras, setLogLevel } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";

const PRELOAD = "libumockdev-preload.so.0";

// libusb sees the virtual camera only in a process started with umockdev's
// preload library; start such a process if this one is not.
if (!(Deno.env.get("LD_PRELOAD") ?? "").includes("libumockdev-preload")) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL(import.meta.url).pathname, ...Deno.args],
    env: { LD_PRELOAD: PRELOAD },
  }).spawn();
  Deno.exit((await child.status).code);
}

const heading = (text: string) => console.log(`\n=== ${text}`);

using testbed = UmockdevTestbed.open();
const device = testbed.attach(new VirtualCamera({ owner: "Kiril" }).usbFunction);
console.log(`A virtual Canon PowerShot G3 is plugged in at ${device.devnode} (through umockdev).`);

heading("Canon cameras on the USB bus (libusb)");
for (const cam of await listCameras()) {
  console.log(
    `bus ${cam.bus} address ${cam.address}: 04a9:${cam.productId.toString(16)} ` +
      `${cam.model ?? "unknown"} (${cam.mode} mode${cam.supported ? "" : ", not supported"})`,
  );
}

heading("Open the camera: init handshake, identify, key lock (wire trace on stderr)");
setLogLevel("info");
await using cam = await Camera.open();
setLogLevel("warn");
console.log(`model ${cam.model}, owner ${cam.owner}, firmware ${cam.firmwareVersion}`);

heading("Set the owner, then identify again");
setLogLevel("info");
await cam.setOwner("Ada Lovelace");
setLogLevel("warn");
console.log(`owner is now ${JSON.stringify(cam.owner)}`);

heading("Power");
setLogLevel("info");
const power = await cam.powerStatus();
setLogLevel("warn");
console.log(
  `${power.source === "ac" ? "AC adapter" : "battery"}, power ${power.ok ? "OK" : "low"}`,
);

heading("The memory card");
const info = await cam.storage.info();
console.log(
  `drive ${info.drive} ${(info.capacity / 1e6).toFixed(1)} MB, ${
    (info.free / 1e6).toFixed(1)
  } MB free`,
);
for (const entry of await cam.storage.list("/DCIM/100CANON")) {
  console.log(
    `  ${entry.name.padEnd(13)} ${String(entry.size).padStart(8)} B  ${
      entry.date?.toLocaleString("sv") ?? ""
    }${entry.protected ? "  protected" : ""}${entry.downloaded ? "" : "  new"}`,
  );
}
console.log("\nDone: the same code drives a real camera on a USB cable.");
