// A virtual card from a folder: `--emulate --card DIR` serves the folder's
// JPEGs (with their own EXIF thumbnails and dates) as the camera's card;
// `--card-persist` keeps marks, deletions and new pictures, and never
// deletes or overwrites a file of the folder. gphoto2 reads the same card
// through umockdev (tier 4).
import assert from "node:assert/strict";
import { join } from "node:path";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { main } from "../src/cli/main.ts";
import { CARD_STATE_FILE, DirectoryCard } from "../src/emulator/card/card_from_dir.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import { extractThumbnail } from "../src/protocol/exif.ts";
import { gphoto2, hasCommand, skipWithout, underUmockdev } from "./_support.ts";

async function canon(...args: string[]) {
  let out = "";
  let err = "";
  const code = await main(args, {
    io: { write: (t) => out += t, writeError: (t) => err += t, errorIsTerminal: false },
  });
  return { code, out, err };
}

/** A folder with three camera JPEGs under other names, and a text file. */
async function photoFolder(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "canon-card-dir-" });
  const from = join(dir, ".from");
  const got = await canon("--emulate", "get", "/DCIM/100CANON", "-o", from);
  assert.equal(got.code, 0, got.err);
  const photos: [string, string, string][] = [
    ["IMG_0001.JPG", "beach.jpg", "2024-06-01T10:00:00"],
    ["IMG_0003.JPG", "IMG_0042.JPG", "2024-06-02T11:30:00"],
    ["IMG_0004.JPG", "party photo.jpeg", "2024-06-03T20:15:00"],
  ];
  for (const [source, name, when] of photos) {
    await Deno.copyFile(join(from, source), join(dir, name));
    const t = new Date(when);
    await Deno.utime(join(dir, name), t, t);
  }
  await Deno.remove(from, { recursive: true });
  await Deno.writeTextFile(join(dir, "notes.txt"), "not a photo");
  return dir;
}

Deno.test("--emulate --card DIR serves the folder's photos, thumbnails and dates", async () => {
  const dir = await photoFolder();
  try {
    const ls = await canon("--emulate", "--card", dir, "ls", "-R", "/");
    assert.equal(ls.code, 0, ls.err);
    assert.match(ls.out, /\/DCIM\/100CANON\/IMG_0042\.JPG\s+\d+\s+2024-06-02 11:30:00\s+new/);
    assert.match(ls.out, /\/DCIM\/100CANON\/IMG_0043\.JPG\s+\d+\s+2024-06-01 10:00:00\s+new/);
    assert.match(ls.out, /\/DCIM\/100CANON\/IMG_0044\.JPG\s+\d+\s+2024-06-03 20:15:00\s+new/);
    assert.match(ls.out, /^3 files, .*, 3 new$/m);
    const out = join(dir, "out");
    const get = await canon("--emulate", "--card", dir, "get", "--new", "-o", out);
    assert.equal(get.code, 0, get.err);
    assert.deepEqual(
      await Deno.readFile(join(out, "IMG_0043.JPG")),
      await Deno.readFile(join(dir, "beach.jpg")),
    );
    assert.deepEqual(
      await Deno.readFile(join(out, "IMG_0044.JPG")),
      await Deno.readFile(join(dir, "party photo.jpeg")),
    );
    const thumbs = await canon(
      "--emulate",
      "--card",
      dir,
      "thumbs",
      "/DCIM/100CANON/IMG_0042.JPG",
      "-o",
      out,
    );
    assert.equal(thumbs.code, 0, thumbs.err);
    assert.deepEqual(
      await Deno.readFile(join(out, "thumb_IMG_0042.jpg")),
      extractThumbnail(await Deno.readFile(join(dir, "IMG_0042.JPG"))),
    );
    // Without --card-persist each run starts from the folder again.
    const again = await canon("--emulate", "--card", dir, "ls", "/DCIM/100CANON");
    assert.match(again.out, /3 files, .*, 3 new/);
    assert.ok(!(await Deno.stat(join(dir, CARD_STATE_FILE)).then(() => true, () => false)));
    const bad = await canon("--card", dir, "ls");
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--card DIR is the virtual camera's card: add --emulate/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--card-persist keeps marks, deletions and new pictures; the folder's files stay", async () => {
  const dir = await photoFolder();
  const before = new Map<string, Uint8Array>();
  for (const name of ["beach.jpg", "IMG_0042.JPG", "party photo.jpeg"]) {
    before.set(name, await Deno.readFile(join(dir, name)));
  }
  try {
    const card = (...args: string[]) =>
      canon("--emulate", "--card", dir, "--card-persist", ...args);
    const get = await card("get", "/DCIM/100CANON/IMG_0042.JPG", "-o", join(dir, "out"));
    assert.equal(get.code, 0, get.err);
    assert.equal((await card("rm", "/DCIM/100CANON/IMG_0043.JPG")).code, 0);
    assert.equal((await card("protect", "/DCIM/100CANON/IMG_0044.JPG")).code, 0);
    const shot = await card("capture", "--json");
    assert.equal(shot.code, 0, shot.err);
    const taken = JSON.parse(shot.out).path;
    assert.equal(taken, "/DCIM/100CANON/IMG_0045.JPG");
    const ls = await card("ls", "/DCIM/100CANON");
    assert.doesNotMatch(ls.out, /IMG_0043\.JPG/, "deleted stays deleted");
    assert.match(ls.out, /IMG_0042\.JPG\s+\d+\s+\S+ \S+$/m, "downloaded: no longer new");
    assert.match(ls.out, /IMG_0044\.JPG\s+\d+\s+\S+ \S+\s+protected, new$/m);
    assert.match(ls.out, /IMG_0045\.JPG\s+\d+\s+\S+ \S+\s+new$/m);
    // The picture taken is a file of the folder now; the photos there are untouched.
    const captured = await Deno.readFile(join(dir, "IMG_0045.JPG"));
    assert.deepEqual([...captured.subarray(0, 2)], [0xff, 0xd8]);
    for (const [name, bytes] of before) {
      assert.deepEqual(await Deno.readFile(join(dir, name)), bytes, `${name} is as it was`);
    }
    const state = JSON.parse(await Deno.readTextFile(join(dir, CARD_STATE_FILE)));
    assert.deepEqual(state.deleted, ["beach.jpg"]);
    // A photo added to the folder later joins the card after the others.
    await Deno.copyFile(join(dir, "IMG_0045.JPG"), join(dir, "later.jpg"));
    const later = await card("ls", "/DCIM/100CANON");
    assert.match(later.out, /IMG_0046\.JPG/);
    assert.doesNotMatch(later.out, /IMG_0043\.JPG/, "a deleted number is not given again");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "gphoto2 lists and downloads a folder's card through umockdev (tier 4)",
  ignore: skipWithout(await hasCommand("gphoto2"), "gphoto2") ||
    skipWithout(underUmockdev, "umockdev preload (run under deno task test)"),
}, async () => {
  const dir = await photoFolder();
  const folder = await DirectoryCard.open(dir);
  await using vc = new VirtualCamera({ card: folder.card });
  const testbed = UmockdevTestbed.open();
  try {
    testbed.attach(vc.usbFunction);
    const list = await gphoto2(testbed, ["--list-files"]);
    assert.equal(list.code, 0, list.out);
    assert.match(list.out, /#1\s+IMG_0042\.JPG/);
    assert.match(list.out, /#3\s+IMG_0044\.JPG/);
    const out = join(dir, "g");
    await Deno.mkdir(out);
    const get = await gphoto2(testbed, ["--get-all-files", "--get-all-thumbnails"], out);
    assert.equal(get.code, 0, get.out);
    for (
      const [name, source] of [
        ["IMG_0042.JPG", "IMG_0042.JPG"],
        ["IMG_0043.JPG", "beach.jpg"],
        ["IMG_0044.JPG", "party photo.jpeg"],
      ]
    ) {
      const original = await Deno.readFile(join(dir, source));
      assert.deepEqual(await Deno.readFile(join(out, name)), original, `${name} is ${source}`);
      assert.deepEqual(
        await Deno.readFile(join(out, `thumb_${name.replace(".JPG", ".jpg")}`)),
        extractThumbnail(original),
        `the thumbnail of ${name} is the one in ${source}`,
      );
    }
  } finally {
    testbed.close();
    await Deno.remove(dir, { recursive: true });
  }
});
