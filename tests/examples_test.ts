// Tier 5: every example in examples/ runs against the virtual camera
// (`--emulate`) as a user would start it, and says what it did.
import assert from "node:assert/strict";
import { join } from "node:path";
import { hasCommand, skipWithout } from "./_support.ts";

const decoder = new TextDecoder();

async function example(name: string, ...args: string[]): Promise<string> {
  const path = new URL(`../examples/${name}`, import.meta.url).pathname;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", path, ...args, "--emulate"],
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const err = decoder.decode(output.stderr);
  assert.equal(output.code, 0, `${name}: ${err}`);
  assert.equal(err, "", `${name} wrote to stderr`);
  return decoder.decode(output.stdout);
}

async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "canon-examples-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("identify.ts prints model, owner, firmware, power and card", async () => {
  const out = await example("identify.ts");
  assert.match(out, /^Model:\s+Canon PowerShot G3$/m);
  assert.match(out, /^Owner:\s+Kiril$/m);
  assert.match(out, /^Firmware:\s+1\.0\.2\.0$/m);
  assert.match(out, /^Power:\s+AC adapter, OK$/m);
  assert.match(out, /^Card D:\s+\d+\.\d MB free of 128\.5 MB$/m);
});

Deno.test("owner.ts shows the owner and sets a new one", async () => {
  const out = await example("owner.ts", "Ada Lovelace");
  assert.equal(out, 'Owner: "Kiril"\nOwner is now "Ada Lovelace"\n');
});

Deno.test("clock.ts shows the camera's clock and sets it", async () => {
  const out = await example("clock.ts", "--sync");
  assert.match(out, /^Camera time: .+ \(-?\d+ s ahead of this computer\)$/m);
  assert.match(out, /^Set the clock; it was -?\d+ s off\. Now: .+$/m);
});

Deno.test("list.ts lists every directory and file with marks", async () => {
  const out = await example("list.ts", "/DCIM");
  assert.match(out, /^\/DCIM\/100CANON\/$/m);
  assert.match(out, /^ {2}IMG_0002\.JPG\s+30357 B {2}.+ {2}protected$/m);
  assert.match(out, /^ {2}IMG_0004\.JPG\s+29923 B {2}.+ {2}new$/m);
  assert.match(out, /^ {2}IMG_0102\.JPG\s+28055 B/m);
});

Deno.test("download_all.ts downloads the whole card, keeping its folders", async () => {
  await inTempDir(async (dir) => {
    const out = await example("download_all.ts", dir);
    assert.match(out, new RegExp(`^14 files, 775857 bytes downloaded into ${dir}/$`, "m"));
    assert.equal((await Deno.stat(join(dir, "DCIM", "101CANON", "IMG_0102.JPG"))).size, 28055);
    assert.equal((await Deno.stat(join(dir, "MISC", "AUTPRINT.MRK"))).size, 332);
  });
});

Deno.test("thumbnails.ts saves a JPEG thumbnail per picture and movie", async () => {
  await inTempDir(async (dir) => {
    const out = await example("thumbnails.ts", dir);
    assert.equal(out.trim().split("\n").length, 9);
    const thm = await Deno.readFile(join(dir, "thumb_MVI_0007.jpg"));
    assert.equal(thm.length, 6792); // the movie's .THM file
    assert.deepEqual([...(await Deno.readFile(join(dir, "thumb_IMG_0001.jpg"))).subarray(0, 2)], [
      0xff,
      0xd8,
    ]);
  });
});

Deno.test("capture.ts takes a picture with settings and downloads it", async () => {
  await inTempDir(async (dir) => {
    const out = await example("capture.ts", dir);
    assert.match(out, /^Settings: P, ISO \d+, \S+ s, f\/[\d.]+$/m);
    const match =
      /^Captured (\/DCIM\/\d{3}CANON\/(IMG_\d{4}\.JPG)) -> (.+) \((\d+) bytes, thumbnail \d+ bytes\)$/m
        .exec(out);
    assert.ok(match, out);
    assert.equal(match[3], join(dir, match[2]));
    assert.equal((await Deno.stat(match[3])).size, Number(match[4]));
  });
});

Deno.test("preview.ts saves viewfinder frames", async () => {
  await inTempDir(async (dir) => {
    const out = await example("preview.ts", dir);
    assert.match(out, /^frame 3: \d+ bytes -> .*preview-3\.jpg$/m);
    assert.deepEqual([...(await Deno.readFile(join(dir, "preview-3.jpg"))).subarray(0, 2)], [
      0xff,
      0xd8,
    ]);
  });
});

Deno.test({
  name: "wait_for_camera.ts waits until the virtual camera is plugged in",
  ignore: skipWithout(await hasCommand("umockdev-run", ["--version"]), "umockdev"),
}, async () => {
  const out = await example("wait_for_camera.ts");
  assert.match(out, /^Waiting for a camera/m);
  assert.match(out, /^Found the PowerShot G3 at bus 1 address 2 \((hotplug|poll)\)$/m);
  assert.match(out, /^Hello, Kiril's Canon PowerShot G3!$/m);
});
