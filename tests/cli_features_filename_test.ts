// gphoto2's --filename codes (gphoto2(1): %a %A %b %B %d %H %k %I %l %j %m
// %M %S %y %%, %n with padding, %C, %f, %F, %: in lower case), unit-tested,
// and through `canon get` and `canon watch`, making folders from the photo's
// date.
import assert from "node:assert/strict";
import { join } from "node:path";
import { FilenamePattern } from "../src/cli/filename_pattern.ts";
import { withCamera } from "./_cli_features.ts";

Deno.test("every --filename code, as gphoto2's manual lists them", () => {
  const file = {
    name: "IMG_0042.JPG",
    folder: "/DCIM/100CANON",
    date: new Date(2024, 1, 29, 7, 5, 9), // a Thursday
  };
  const cases: [string, string][] = [
    ["%f.%C", "IMG_0042.JPG"],
    ["%:", "img_0042.jpg"],
    ["%F/%f", "DCIM/100CANON/IMG_0042"],
    ["%Y-%m-%d %H:%M:%S", "2024-02-29 07:05:09"],
    ["%y %j", "24 060"],
    ["%a %A %b %B", "Thu Thursday Feb February"],
    ["%I %l %k", "07  7  7"],
    ["%n %03n %5n", "3 003 00003"],
    ["100%% %f", "100% IMG_0042"],
    ["%Y/%m/%d/%f.%C", "2024/02/29/IMG_0042.JPG"],
  ];
  for (const [pattern, expected] of cases) {
    assert.equal(new FilenamePattern(pattern).expand(file, 3), expected, pattern);
  }
  assert.equal(
    new FilenamePattern("%I%l").expand({ ...file, date: new Date(2024, 0, 1, 0, 0) }, 1),
    "1212",
  );
  assert.equal(new FilenamePattern("%f").expand({ ...file, name: "A/B.JPG" }, 1), "A_B");
  assert.equal(new FilenamePattern("%:").expand({ ...file, name: ".." }, 1), "__");
  for (const bad of ["", "dir/", "%Q", "%", "%03x"]) {
    assert.throws(() => new FilenamePattern(bad), /--filename/, bad);
  }
});

Deno.test("get --filename makes date folders from each photo's date, %n counts", async () => {
  await withCamera(async (canon, _vc, dir) => {
    const run = await canon(
      "get",
      "/DCIM/100CANON/IMG_0001.JPG",
      "/DCIM/101CANON",
      "-o",
      dir,
      "--filename",
      "%Y/%m/%d/%03n_%f.%C",
      "--filenumber",
      "41",
    );
    assert.equal(run.code, 0, run.err);
    // The default card's dates: IMG_0001 on 2003-02-07, 101CANON on 2003-02-08.
    for (
      const path of [
        "2003/02/07/041_IMG_0001.JPG",
        "2003/02/08/042_IMG_0101.JPG",
        "2003/02/08/043_IMG_0102.JPG",
      ]
    ) {
      const bytes = await Deno.readFile(join(dir, path));
      assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xd8], path);
    }
    assert.match(run.out, /\/DCIM\/101CANON\/IMG_0102\.JPG -> .*2003\/02\/08\/043_IMG_0102\.JPG/);
    // Two files to one name: refused before anything is written, nothing overwritten.
    const clash = await canon("get", "--all", "-o", join(dir, "c"), "--filename", "%Y.%C");
    assert.notEqual(clash.code, 0);
    assert.match(clash.err, /would both be written to/);
    const both = await canon("get", "--all", "--tree", "--filename", "%f.%C");
    assert.equal(both.code, 2);
  });
});

Deno.test("watch --filename names what it imports", async () => {
  await withCamera(async (canon, _vc, dir) => {
    const run = await canon("--emulate", "watch", "-o", dir, "--filename", "%F/%:");
    assert.equal(run.code, 0, run.err);
    const bytes = await Deno.readFile(join(dir, "DCIM", "101CANON", "img_0101.jpg"));
    assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xd8]);
    assert.ok(await Deno.stat(join(dir, "DCIM", "100CANON", "img_0004.jpg")));
  });
});
