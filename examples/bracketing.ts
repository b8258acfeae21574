/**
 * Take a bracketed series: three exposures at −1, 0 and +1 EV of exposure
 * compensation, each downloaded straight to a directory; the camera's own
 * compensation is restored afterwards.
 *
 *     deno run --allow-all examples/bracketing.ts [DIR] [--step EV] [--overwrite] [--emulate]
 *
 * DIR defaults to a new temporary directory. `--step 2/3` brackets at
 * −2/3, 0, +2/3 instead. With `--emulate` the pictures come from the virtual
 * camera, plugged in through umockdev and reached through the real libusb,
 * exactly as a camera on a cable is.
 *
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { Camera } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";

const PRELOAD = "libumockdev-preload.so.0";

const { values, positionals } = parseArgs({
  args: Deno.args,
  options: {
    emulate: { type: "boolean", default: false },
    overwrite: { type: "boolean", default: false },
    step: { type: "string", default: "1" },
    help: { type: "boolean", short: "h", default: false },
  },
  allowPositionals: true,
});

if (values.help) {
  console.log(
    "Usage: deno run --allow-all examples/bracketing.ts [DIR] [--step EV] [--overwrite] [--emulate]",
  );
  Deno.exit(0);
}

// libusb sees the virtual camera only in a process started with umockdev's
// preload library; start such a process if this one is not.
if (values.emulate && !(Deno.env.get("LD_PRELOAD") ?? "").includes("libumockdev-preload")) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", new URL(import.meta.url).pathname, ...Deno.args],
    env: { LD_PRELOAD: PRELOAD },
  }).spawn();
  Deno.exit((await child.status).code);
}

/** "2/3" → 0.666…, "1" → 1. */
function parseEv(text: string): number {
  const [whole, fraction] = text.includes("/") ? [0, text] : [Number(text), undefined];
  if (fraction === undefined) return whole;
  const [n, d] = fraction.split("/").map(Number);
  return n / d;
}

const step = parseEv(values.step);
if (!(step > 0 && step <= 2)) {
  console.error(`--step must be between 0 and 2 EV, got ${values.step}`);
  Deno.exit(2);
}
const directory = positionals[0] ?? await Deno.makeTempDir({ prefix: "bracketing-" });
await Deno.mkdir(directory, { recursive: true });

using testbed = values.emulate ? UmockdevTestbed.open() : undefined;
if (testbed) {
  testbed.attach(new VirtualCamera({ captureLatencyMs: 50 }).usbFunction);
  console.log("Using the virtual PowerShot G3 (umockdev).");
}

await using cam = await Camera.open();
console.log(`${cam.model}, owner ${JSON.stringify(cam.owner)}`);
await using session = await cam.capture.start();
const before = await session.settings();
console.log(
  `Mode ${before.shootingMode}, ISO ${before.iso}, ${before.shutterSpeed} s, f/${before.aperture}, ` +
    `compensation ${before.exposureCompensation} EV`,
);

const label = (ev: number) =>
  ev === 0 ? "0EV" : `${ev > 0 ? "+" : "-"}${Number(Math.abs(ev).toFixed(2))}EV`;
try {
  for (const [index, ev] of [-step, 0, step].entries()) {
    const file = join(directory, `bracket-${index + 1}_${label(ev)}.jpg`);
    const start = performance.now();
    const shot = await session.shoot({
      to: "host",
      destination: file,
      overwrite: values.overwrite,
      thumbnail: false,
      settings: { exposureCompensation: ev },
    });
    console.log(
      `${label(ev).padStart(7)}: ${shot.file} (${shot.size} bytes, ${
        ((performance.now() - start) / 1000).toFixed(1)
      } s)`,
    );
  }
} catch (error) {
  if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  console.error(`${error.message.replace(/; pass .*/, "")}: run with --overwrite to replace it`);
  Deno.exitCode = 1;
} finally {
  if (before.exposureCompensation !== undefined) {
    await session.set({ exposureCompensation: before.exposureCompensation });
  }
}
if (!Deno.exitCode) console.log(`Bracketed series in ${directory}`);
