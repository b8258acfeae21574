// Tier 4: gphoto2 (libgphoto2's canon driver) against every emulated model,
// through the real libusb and umockdev: auto-detect names the camera as
// gphoto2's table does, and --summary, -L and --get-file do their jobs.
import assert from "node:assert/strict";
import { join } from "node:path";
import { modelByName } from "../src/protocol/mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import { hasCommand, skipWithout, tier3Test, underUmockdev } from "./_support.ts";
import { cardBytes, EXPECTED } from "./_models.ts";

const ignore = skipWithout(await hasCommand("gphoto2"), "gphoto2") ||
  skipWithout(underUmockdev, "LD_PRELOAD=libumockdev-preload.so.0");

async function gphoto2(testbed: UmockdevTestbed, args: string[], cwd?: string) {
  const out = await new Deno.Command("gphoto2", {
    args,
    env: { ...testbed.env(), LANG: "C" },
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, out: decode(out.stdout), err: decode(out.stderr) };
}

/** gphoto2's names of a model: "Canon " + name or alias, "(normal mode)" when it has a PTP mode. */
function gphoto2Names(model: string): string[] {
  const entry = modelByName(model)!;
  return [entry.name, ...entry.aliases].map((n) =>
    `Canon ${n}${entry.hasPtpMode ? " (normal mode)" : ""}`
  );
}

for (const [model, expected] of Object.entries(EXPECTED)) {
  tier3Test({
    name: `gphoto2 with the virtual ${model}: auto-detect, summary, list, download`,
    ignore,
    fn: async () => {
      const dir = await Deno.makeTempDir();
      const vc = new VirtualCamera({ model, owner: "Kiril" });
      try {
        using testbed = UmockdevTestbed.open();
        const plugged = testbed.attach(vc.usbFunction, { address: 12 });
        const port = `usb:${String(plugged.bus).padStart(3, "0")},012`;

        const detect = await gphoto2(testbed, ["--auto-detect"]);
        assert.equal(detect.code, 0, detect.err);
        const line = detect.out.split("\n").find((l) => l.includes(port)) ?? "";
        const detected = line.replace(port, "").trim();
        // One name per product id: gphoto2 shows the last of the aliases sharing it.
        assert.ok(gphoto2Names(model).includes(detected), `${detected} for ${model}`);

        const summary = await gphoto2(testbed, ["--port", port, "--summary"]);
        assert.equal(summary.code, 0, summary.err);
        const entry = modelByName(model)!;
        const driverName = `Canon:${entry.name}${entry.hasPtpMode ? " (normal mode)" : ""}`;
        assert.ok(summary.out.includes(`Model: ${driverName}`), summary.out);
        assert.match(summary.out, /Owner: Kiril/);
        assert.match(summary.out, /AC adapter \(power OK\)/);
        assert.ok(summary.out.includes(`Drive ${expected.drive}`), summary.out);

        // A second session (camstat 'A'): list and download in one gphoto2 run.
        const files = ["/DCIM/100CANON/IMG_0001.JPG", ...(expected.raw ? [expected.raw] : [])];
        const get = await gphoto2(
          testbed,
          ["--port", port, "-L", ...files.flatMap((f) => ["--get-file", f])],
          dir,
        );
        assert.equal(get.code, 0, get.err);
        assert.match(get.out, /IMG_0001\.JPG\s+r[-d]\s+\d+ KB image\/jpeg/);
        const raw = expected.raw?.split("/").at(-1);
        if (raw) assert.match(get.out, new RegExp(`${raw}\\s+r[-d]\\s+\\d+ KB image/x-canon-raw`));
        for (const file of files) {
          const name = file.split("/").at(-1)!;
          assert.deepEqual(await Deno.readFile(join(dir, name)), cardBytes(vc, file), name);
        }
      } finally {
        await vc[Symbol.asyncDispose]();
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
