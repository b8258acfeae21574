// Tier 5: examples/bracketing.ts as a user runs it, against the virtual camera
// through umockdev and libusb: three files whose EXIF records three exposures.
import assert from "node:assert/strict";
import { exifExposure } from "./_exif.ts";

const example = new URL("../examples/bracketing.ts", import.meta.url).pathname;

async function runExample(args: string[]): Promise<{ code: number; out: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", example, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, out: text };
}

Deno.test({
  name: "bracketing --emulate writes three JPEGs at -1, 0 and +1 EV, and refuses to overwrite them",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const run = await runExample([dir, "--emulate"]);
      assert.equal(run.code, 0, run.out);
      assert.match(run.out, /Bracketed series in /);
      const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
      assert.deepEqual(names, ["bracket-1_-1EV.jpg", "bracket-2_0EV.jpg", "bracket-3_+1EV.jpg"]);
      const exposures = [];
      for (const name of names) {
        const jpeg = await Deno.readFile(`${dir}/${name}`);
        assert.deepEqual([...jpeg.subarray(0, 2)], [0xff, 0xd8]);
        exposures.push(exifExposure(jpeg));
      }
      assert.deepEqual(exposures.map((e) => e.exposureBias), [-1, 0, 1]);
      assert.deepEqual(exposures.map((e) => e.iso), [50, 50, 50], "only the exposure differs");
      const again = await runExample([dir, "--emulate"]);
      assert.equal(again.code, 1);
      assert.match(again.out, /already exists: run with --overwrite/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
