// File numbers, ranges and wildcards on card paths: `canon ls` numbers files
// as gphoto2 --list-files does (checked against gphoto2 itself, tier 4, on
// the same virtual camera behind umockdev), `get 1-5,9`, `rm 3`, and
// '/DCIM/*/IMG_00*.JPG'.
import assert from "node:assert/strict";
import { join } from "node:path";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import { parseRanges, patternRegExp } from "../src/cli/selection.ts";
import { cardFiles, withCamera } from "./_cli_features.ts";
import { gphoto2, hasCommand, skipWithout, underUmockdev } from "./_support.ts";

/** The summary line that ends a batch's JSON Lines output. */
function summaryOf(out: string): { downloaded: { path: string }[] } {
  const lines = out.trim().split("\n").map((line) => JSON.parse(line));
  const summary = lines.find((line) => line.event === "summary");
  assert.ok(summary, `no summary line in ${out}`);
  return summary;
}

Deno.test("ranges and wildcards parse as gphoto2 and the shell write them", () => {
  assert.deepEqual(parseRanges("1-5,9"), [1, 2, 3, 4, 5, 9]);
  assert.deepEqual(parseRanges("3,3,2-3"), [3, 2]);
  assert.throws(() => parseRanges("0"), /start at 1/);
  assert.throws(() => parseRanges("5-3"), /runs backwards/);
  const re = patternRegExp("/DCIM/*/IMG_00*.JPG");
  assert.ok(re.test("/DCIM/100CANON/IMG_0001.JPG"));
  assert.ok(re.test("/dcim/100canon/img_0042.jpg"), "FAT names: any case");
  assert.ok(!re.test("/DCIM/100CANON/SUB/IMG_0001.JPG"), "* stays within a folder");
  assert.ok(!re.test("/DCIM/101CANON/IMG_0101.JPG"));
  assert.ok(patternRegExp("IMG_000[13].JPG").test("/IMG_0003.JPG"));
  assert.ok(!patternRegExp("/*/IMG_000[!13].JPG").test("/X/IMG_0003.JPG"));
  assert.ok(patternRegExp("/DCIM/10?CANON").test("/DCIM/101CANON"));
});

Deno.test("ls numbers files; get takes numbers, ranges and wildcards; rm takes a number", async () => {
  await withCamera(async (canon, vc, dir) => {
    const ls = await canon("ls", "-R", "/");
    assert.equal(ls.code, 0, ls.err);
    assert.match(ls.out, /^#1\s+\/DCIM\/100CANON\/CRW_0006\.CRW\s+524468 /m);
    assert.match(ls.out, /^#2\s+\/DCIM\/100CANON\/IMG_0001\.JPG /m);
    assert.match(ls.out, /^#9\s+\/DCIM\/101CANON\/IMG_0102\.JPG /m);
    assert.match(ls.out, /^\s+\/DCIM\/100CANON\/CRW_0006\.THM /m, "no number for a .THM");
    const sub = await canon("ls", "/DCIM/101CANON");
    assert.match(sub.out, /^#8\s+IMG_0101\.JPG /m, "the same number in any listing");
    const json = JSON.parse((await canon("ls", "/DCIM/100CANON", "--json")).out);
    assert.equal(json.find((e: { name: string }) => e.name === "MVI_0007.AVI").number, 7);

    const get = await canon("get", "1-2,9", "-o", dir, "--json");
    assert.equal(get.code, 0, get.err);
    assert.deepEqual(
      summaryOf(get.out).downloaded.map((d: { path: string }) => d.path),
      ["/DCIM/100CANON/CRW_0006.CRW", "/DCIM/100CANON/IMG_0001.JPG", "/DCIM/101CANON/IMG_0102.JPG"],
    );
    assert.equal((await Deno.stat(join(dir, "CRW_0006.CRW"))).size, 524468);
    const wild = await canon("get", "/DCIM/*/IMG_000[45].JPG", "-o", join(dir, "w"), "--json");
    assert.equal(wild.code, 0, wild.err);
    assert.deepEqual(
      summaryOf(wild.out).downloaded.map((d: { path: string }) => d.path),
      ["/DCIM/100CANON/IMG_0004.JPG", "/DCIM/100CANON/IMG_0005.JPG"],
    );
    const none = await canon("get", "/DCIM/*/NOPE*.JPG", "-o", dir);
    assert.equal(none.code, 2);
    assert.match(none.err, /nothing on the card matches \/DCIM\/\*\/NOPE\*\.JPG/);
    const past = await canon("get", "10", "-o", dir);
    assert.equal(past.code, 2);
    assert.match(past.err, /no file number 10: the card has 9/);

    const rm = await canon("rm", "4");
    assert.equal(rm.code, 0, rm.err);
    assert.equal(rm.out, "deleted /DCIM/100CANON/IMG_0003.JPG\n");
    assert.ok(!cardFiles(vc).includes("/DCIM/100CANON/IMG_0003.JPG"));
    assert.match((await canon("ls", "/DCIM/100CANON")).out, /^#4\s+IMG_0004\.JPG/m, "renumbered");
    const rmWild = await canon("rm", "/DCIM/101CANON/IMG_01*.JPG");
    assert.equal(rmWild.code, 0, rmWild.err);
    assert.ok(!cardFiles(vc).some((p) => p.startsWith("/DCIM/101CANON/")));
  });
});

const noGphoto2 = skipWithout(await hasCommand("gphoto2"), "gphoto2");
const noUmockdev = skipWithout(underUmockdev, "umockdev preload (run under deno task test)");

Deno.test({
  name: "canon ls numbers the files as gphoto2 --list-files does (tier 4)",
  ignore: noGphoto2 || noUmockdev,
}, async () => {
  await using vc = new VirtualCamera();
  const testbed = UmockdevTestbed.open();
  try {
    testbed.attach(vc.usbFunction);
    const run = await gphoto2(testbed, ["--list-files"]);
    assert.equal(run.code, 0, run.out);
    const theirs = [...run.out.matchAll(/^#(\d+)\s+(\S+)/gm)].map((m) => `${m[1]} ${m[2]}`);
    assert.ok(theirs.length >= 9, run.out);
    let out = "";
    const { main } = await import("../src/cli/main.ts");
    const { connectVirtual } = await import("../src/cli/connect.ts");
    const code = await main(["ls", "-R", "/"], {
      io: { write: (t) => out += t, writeError: () => {}, errorIsTerminal: false },
      connect: (selection) => connectVirtual(selection, vc),
    });
    assert.equal(code, 0);
    const ours = [...out.matchAll(/^#(\d+)\s+\S*\/(\S+)/gm)]
      .sort((a, b) => Number(a[1]) - Number(b[1])).map((m) => `${m[1]} ${m[2]}`);
    assert.deepEqual(ours, theirs, out); // the same file under each number
  } finally {
    testbed.close();
  }
});
