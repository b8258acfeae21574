// Tier 3 and 5: the new options as typed, through the real libusb and
// umockdev (`--emulate-usb`): a folder's card, file numbers, --filename,
// -o - and a time-lapse with --to host.
import assert from "node:assert/strict";
import { join } from "node:path";
import { hasCommand, skipWithout } from "./_support.ts";

const MAIN = new URL("../src/cli/main.ts", import.meta.url).pathname;

async function canon(args: string[], cwd?: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, ...args],
    env: { NO_COLOR: "1" },
    stdin: "null",
    cwd,
  }).output();
  return {
    code: out.code,
    stdout: out.stdout,
    out: new TextDecoder().decode(out.stdout),
    err: new TextDecoder().decode(out.stderr),
  };
}

const noUmockdev = skipWithout(await hasCommand("umockdev-run", ["--version"]), "umockdev");

Deno.test({
  name: "--emulate-usb --card DIR: numbers, --filename and -o - through libusb",
  ignore: noUmockdev,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "canon-usb-card-" });
  try {
    const photos = join(dir, "photos");
    const seed = await canon(["--emulate", "get", "/DCIM/101CANON", "-o", photos]);
    assert.equal(seed.code, 0, seed.err);
    await Deno.rename(join(photos, "IMG_0101.JPG"), join(photos, "holiday.jpg"));
    const t = new Date(2024, 7, 15, 9, 30, 0);
    await Deno.utime(join(photos, "holiday.jpg"), t, t);
    const ls = await canon(["--emulate-usb", "--card", photos, "ls", "-R", "/"]);
    assert.equal(ls.code, 0, ls.err);
    assert.match(ls.err, /libusb through umockdev/);
    assert.match(ls.out, /^#1\s+\/DCIM\/100CANON\/IMG_0102\.JPG\s+28055 /m);
    assert.match(
      ls.out,
      /^#2\s+\/DCIM\/100CANON\/IMG_0103\.JPG\s+27861\s+2024-08-15 09:30:00\s+new$/m,
    );
    const get = await canon([
      "--emulate-usb",
      "--card",
      photos,
      "get",
      "2",
      "-o",
      join(dir, "out"),
      "--filename",
      "%Y/%m/%d/%H%M%S-%f.%C",
    ]);
    assert.equal(get.code, 0, get.err);
    assert.deepEqual(
      await Deno.readFile(join(dir, "out", "2024", "08", "15", "093000-IMG_0103.JPG")),
      await Deno.readFile(join(photos, "holiday.jpg")),
    );
    const stdout = await canon(["--emulate-usb", "--card", photos, "get", "1", "-o", "-"]);
    assert.equal(stdout.code, 0, stdout.err);
    assert.deepEqual(stdout.stdout, await Deno.readFile(join(photos, "IMG_0102.JPG")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "--emulate-usb capture --to host --interval: a series written as it is taken",
  ignore: noUmockdev,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "canon-usb-lapse-" });
  try {
    const run = await canon([
      "--emulate-usb",
      "capture",
      "--to",
      "host",
      "--interval",
      "1s",
      "--frames",
      "2",
      "-o",
      dir,
    ]);
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /^\[1\/2\] \S+ \(not kept on the card\) -> .*CAP_0001\.JPG \(\d+ kB\)$/m);
    assert.match(run.out, /^\[2\/2\] \S+ \(not kept on the card\) -> .*CAP_0002\.JPG \(\d+ kB\)$/m);
    assert.match(run.out, /^2 shots taken, 0 failed, in 0:0\d$/m);
    for (const name of ["CAP_0001.JPG", "CAP_0002.JPG"]) {
      const bytes = await Deno.readFile(join(dir, name));
      assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xd8]);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
