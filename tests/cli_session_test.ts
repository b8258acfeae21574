// Tier 5, in-process: the `canon` command's main() run as a user types
// commands one after another against one virtual camera, so that what one
// command changes (new marks, deletions, uploads, protection, owner) shows
// in the next. Spawned runs of the real program are in cli_test.ts.
import assert from "node:assert/strict";
import { join } from "node:path";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { connectVirtual } from "../src/cli/connect.ts";
import { commandTable, main } from "../src/cli/main.ts";
import { TransferProgress } from "../src/cli/progress.ts";

interface Run {
  code: number;
  out: string;
  err: string;
}

function session(vc: VirtualCamera, terminal = false): (...args: string[]) => Promise<Run> {
  return async (...args) => {
    let out = "";
    let err = "";
    const code = await main(args, {
      io: {
        write: (text) => out += text,
        writeError: (text) => err += text,
        errorIsTerminal: terminal,
      },
      connect: (selection) => connectVirtual(selection, vc),
    });
    return { code, out, err };
  };
}

async function withCamera(
  body: (
    canon: (...args: string[]) => Promise<Run>,
    vc: VirtualCamera,
    dir: string,
  ) => Promise<void>,
): Promise<void> {
  await using vc = new VirtualCamera();
  const dir = await Deno.makeTempDir({ prefix: "canon-cli-" });
  try {
    await body(session(vc), vc, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("get --new downloads what is new once, and marks it downloaded", async () => {
  await withCamera(async (canon, _vc, dir) => {
    const before = await canon("ls", "-R", "/");
    assert.equal(before.code, 0);
    assert.match(before.out, /14 files, 776 kB, 11 new\n$/);
    const first = await canon("get", "--new", "-o", dir, "--json");
    assert.equal(first.code, 0, first.err);
    // JSON lines: one per file as it completes, then the summary.
    const lines = first.out.trimEnd().split("\n").map((l) => JSON.parse(l));
    const result = lines[lines.length - 1];
    assert.equal(result.event, "summary");
    // 11 new, less the housekeeping ones gphoto2 hides too (two THM, two CTG, AUTPRINT.MRK).
    assert.equal(result.downloaded.length, 6);
    assert.deepEqual(
      lines.slice(0, -1).map((l) => [l.event, l.path.split("/").pop()]),
      result.downloaded.map((d: { path: string }) => ["downloaded", d.path.split("/").pop()]),
    );
    assert.ok(result.downloaded.every((d: { marked: boolean }) => d.marked));
    assert.ok(!result.downloaded.some((d: { path: string }) => /\.(THM|CTG|MRK)$/.test(d.path)));
    const jpeg = await Deno.readFile(join(dir, "IMG_0004.JPG"));
    assert.deepEqual([...jpeg.subarray(0, 2)], [0xff, 0xd8]);
    assert.equal(jpeg.length, 29923);
    const housekeeping = await canon("get", "--new", "--all-files", "-o", dir);
    assert.equal(housekeeping.code, 0, housekeeping.err);
    assert.match(housekeeping.out, /AUTPRINT\.MRK -> .*\n5 files downloaded/);
    const again = await canon("get", "--new", "-o", dir);
    assert.equal(again.code, 0);
    assert.equal(again.out, "No new files.\n");
    const after = await canon("ls", "-R", "/");
    assert.doesNotMatch(after.out, /\bnew\b/);
    assert.match(after.out, /14 files, 776 kB\n$/);
  });
});

Deno.test("get refuses to replace a local file unless told to skip or overwrite", async () => {
  await withCamera(async (canon, _vc, dir) => {
    await Deno.writeTextFile(join(dir, "IMG_0001.JPG"), "mine");
    const refused = await canon("get", "/DCIM/100CANON/IMG_0001.JPG", "-o", dir);
    assert.equal(refused.code, 1);
    assert.match(
      refused.err,
      /IMG_0001\.JPG already exists; use --skip-existing to leave it, or --overwrite to replace it/,
    );
    assert.equal(await Deno.readTextFile(join(dir, "IMG_0001.JPG")), "mine");
    // Another photo of that name: saved beside it under a free name, "mine" untouched.
    const renamed = await canon("get", "/DCIM/100CANON", "-o", dir, "--skip-existing");
    assert.equal(renamed.code, 0, renamed.err);
    assert.match(
      renamed.out,
      /^\/DCIM\/100CANON\/IMG_0001\.JPG -> .*IMG_0001-1\.JPG \(29\.4 kB\)$/m,
    );
    assert.match(renamed.out, /^7 files downloaded /m);
    assert.equal(await Deno.readTextFile(join(dir, "IMG_0001.JPG")), "mine");
    assert.equal((await Deno.stat(join(dir, "IMG_0001-1.JPG"))).size, 29380);
    // The same photos again: all skipped, nothing renamed.
    const skipped = await canon("get", "/DCIM/100CANON", "-o", dir, "--skip-existing");
    assert.equal(skipped.code, 0);
    assert.match(skipped.out, /IMG_0001\.JPG: skipped, .*IMG_0001-1\.JPG is the same photo/);
    assert.match(skipped.out, /^0 files downloaded \(0 B\), 7 skipped$/m);
    assert.ok(!(await Deno.lstat(join(dir, "IMG_0001-2.JPG")).catch(() => undefined)));
    const replaced = await canon("get", "/DCIM/100CANON/IMG_0001.JPG", "-o", dir, "--overwrite");
    assert.equal(replaced.code, 0);
    assert.equal((await Deno.stat(join(dir, "IMG_0001.JPG"))).size, 29380);
    const both = await canon("get", "--all", "--skip-existing", "--overwrite", "-o", dir);
    assert.equal(both.code, 2);
  });
});

Deno.test("files of the same name in two directories need --tree", async () => {
  await withCamera(async (canon, _vc, dir) => {
    const local = join(dir, "IMG_0001.JPG");
    await Deno.writeFile(local, new Uint8Array([0xff, 0xd8, 0xff, 0xd9]));
    const put = await canon("put", local, "/DCIM/101CANON");
    assert.equal(put.code, 0, put.err);
    assert.match(put.out, /-> \/DCIM\/101CANON\/IMG_0001\.JPG \(4 B\)/);
    const out = join(dir, "out");
    const clash = await canon("get", "--all", "-o", out);
    assert.equal(clash.code, 2);
    assert.match(clash.err, /would both be written to .*IMG_0001\.JPG; use --tree/);
    const tree = await canon("get", "--all", "--tree", "-o", out);
    assert.equal(tree.code, 0, tree.err);
    assert.equal((await Deno.stat(join(out, "DCIM", "101CANON", "IMG_0001.JPG"))).size, 4);
    assert.equal((await Deno.stat(join(out, "DCIM", "100CANON", "IMG_0001.JPG"))).size, 29380);
  });
});

Deno.test("rm, protect, mkdir, rmdir and put change the card as ls then shows", async () => {
  await withCamera(async (canon, _vc, dir) => {
    const protectedRm = await canon("rm", "/DCIM/100CANON/IMG_0002.JPG");
    assert.equal(protectedRm.code, 4);
    assert.match(
      protectedRm.err,
      /^canon rm: DeleteFile failed: file protected \(status 0x2000029\)\. .*canon protect --off /m,
    );
    assert.equal((await canon("protect", "--off", "/DCIM/100CANON/IMG_0002.JPG")).code, 0);
    const rm = await canon("rm", "/dcim/100canon/img_0002.jpg", "/DCIM/100CANON/MVI_0007.AVI");
    assert.equal(rm.code, 0, rm.err);
    assert.equal(
      rm.out,
      "deleted /DCIM/100CANON/IMG_0002.JPG\ndeleted /DCIM/100CANON/MVI_0007.AVI\n",
    );
    assert.equal((await canon("protect", "/DCIM/100CANON/IMG_0003.JPG")).code, 0);
    assert.equal((await canon("mkdir", "/DCIM/102CANON")).out, "created /DCIM/102CANON\n");
    const local = join(dir, "note.txt");
    await Deno.writeTextFile(local, "hello camera");
    assert.equal((await canon("put", local)).code, 0); // into the newest directory: 102CANON
    const listing = (await canon("ls", "-R", "/DCIM")).out;
    assert.doesNotMatch(listing, /IMG_0002|MVI_0007/);
    assert.match(listing, /\/DCIM\/100CANON\/IMG_0003\.JPG\s+31597\s+\S+ \S+\s+protected/);
    assert.match(listing, /\/DCIM\/102CANON\/NOTE\.TXT\s+12 /);
    const notEmpty = await canon("rmdir", "/DCIM/102CANON");
    assert.equal(notEmpty.code, 1);
    assert.match(
      notEmpty.err,
      /^canon rmdir: \/DCIM\/102CANON is not empty \(1 entry\); delete what is in it first$/m,
    );
    assert.equal((await canon("rm", "/DCIM/102CANON/NOTE.TXT")).code, 0);
    assert.equal((await canon("rmdir", "/DCIM/102CANON")).code, 0);
    assert.doesNotMatch((await canon("ls", "/DCIM")).out, /102CANON/);
    const dirRm = await canon("rm", "/DCIM/100CANON");
    assert.equal(dirRm.code, 2);
    assert.match(dirRm.err, /is a directory; remove it with rmdir/);
    const missing = await canon("rm", "/DCIM/100CANON/NOPE.JPG");
    assert.equal(missing.code, 1, "a path not on the card is no camera failure");
    assert.match(
      missing.err,
      /no file or directory \/DCIM\/100CANON\/NOPE\.JPG on the camera's card/,
    );
  });
});

Deno.test("owner sets the name the camera keeps; a name too long is a usage error", async () => {
  await withCamera(async (canon, vc) => {
    assert.equal((await canon("owner")).out, "Kiril\n");
    assert.equal((await canon("owner", "Ada Lovelace")).out, "Ada Lovelace\n");
    assert.equal(vc.owner, "Ada Lovelace");
    const long = await canon("owner", "x".repeat(31));
    assert.equal(long.code, 2);
    assert.match(long.err, /31 characters long; the camera stores at most 30/);
    assert.equal(vc.owner, "Ada Lovelace");
  });
});

Deno.test("thumbs writes one JPEG per picture and movie", async () => {
  await withCamera(async (canon, _vc, dir) => {
    const run = await canon("thumbs", "-o", dir);
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /9 thumbnails written\n$/);
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.equal(names.length, 9);
    assert.ok(names.includes("thumb_CRW_0006.jpg") && names.includes("thumb_MVI_0007.jpg"));
    for (const name of names) {
      const bytes = await Deno.readFile(join(dir, name));
      assert.deepEqual([...bytes.subarray(0, 2)], [0xff, 0xd8], name);
    }
  });
});

Deno.test("capture, settings and preview drive remote capture", async () => {
  await withCamera(async (canon, vc, dir) => {
    const set = await canon("settings", "iso=400", "ev=-2/3", "flash=auto");
    assert.equal(set.code, 0, set.err);
    assert.match(set.out, /^iso\s+400$/m);
    assert.match(set.out, /^ev\s+-2\/3$/m);
    assert.match(set.out, /^flash\s+auto$/m);
    const bad = await canon("settings", "iso=123");
    assert.equal(bad.code, 2);
    assert.match(bad.err, /iso=123: this camera does not take it; it takes: 50, 100/);
    const unknownKey = await canon("settings", "colour=red");
    assert.equal(unknownKey.code, 2);
    const shot = await canon("capture", "--download", "-o", dir, "--shutter", "1/250", "--json");
    assert.equal(shot.code, 0, shot.err);
    const result = JSON.parse(shot.out);
    assert.match(result.path, /^\/DCIM\/\d{3}CANON\/IMG_\d{4}\.JPG$/);
    assert.equal((await Deno.stat(result.file)).size, result.size);
    const kept = await canon("ls", result.path); // kept on the card too
    assert.equal(kept.code, 0, kept.err);
    assert.match(
      kept.out,
      new RegExp(`^#\\d+\\s+${result.path.split("/").pop()}\\s+${result.size}\\s`),
    );
    assert.match((await canon("settings")).out, /^shutter\s+1\/250$/m);
    const preview = await canon("preview", "-o", join(dir, "frame.jpg"), "--frames", "2");
    assert.equal(preview.code, 0, preview.err);
    const frame = await Deno.readFile(join(dir, "frame-002.jpg"));
    assert.deepEqual([...frame.subarray(0, 2)], [0xff, 0xd8]);
    assert.equal(vc.remoteMode, false); // every command leaves remote mode
  });
});

Deno.test("progress is drawn on a terminal only, with file, total, rate and ETA", async () => {
  await using vc = new VirtualCamera();
  const dir = await Deno.makeTempDir();
  try {
    const terminal = await session(vc, true)("get", "--all", "--all-files", "-o", join(dir, "a"));
    assert.equal(terminal.code, 0);
    assert.match(
      terminal.err,
      /\rget \[1\/14\] IMG_0001\.JPG \d+% of 29\.4 kB \| total \d+% .*\/776 kB .*B\/s ETA /,
    );
    assert.match(terminal.err, /\rget \[14\/14\] AUTPRINT\.MRK/);
    assert.ok(terminal.err.endsWith("\r\x1b[K"), "the line is cleared at the end");
    const piped = await session(vc)("get", "--all", "--all-files", "-o", join(dir, "b"));
    assert.equal(piped.code, 0);
    assert.doesNotMatch(piped.err, /\r|ETA/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the progress line computes rate and time left from the clock", () => {
  let now = 0;
  const lines: string[] = [];
  const progress = new TransferProgress({
    write: (text) => lines.push(text),
    enabled: true,
    files: 2,
    bytes: 4_000_000,
    now: () => now,
  });
  progress.startFile("A.JPG", 2_000_000);
  now = 1000;
  progress.update(1_000_000);
  assert.equal(
    progress.line(),
    "get [1/2] A.JPG 50% of 2.00 MB | total 25% 1.00 MB/4.00 MB 1.00 MB/s ETA 0:03",
  );
  now = 1050;
  progress.update(1_100_000); // within 100 ms of the last draw: not drawn
  assert.equal(lines.length, 2);
  progress.finish();
  assert.equal(lines[lines.length - 1], "\r\x1b[K");
});

Deno.test("every command has --help; help COMMAND says the same", async () => {
  await using vc = new VirtualCamera();
  const canon = session(vc);
  for (const command of await commandTable()) {
    const help = await canon(command.name, "--help");
    assert.equal(help.code, 0, command.name);
    assert.ok(help.out.startsWith(`Usage: canon ${command.name}`), help.out);
    for (const option of Object.keys(command.options)) assert.ok(help.out.includes(`--${option}`));
    assert.equal((await canon("help", command.name)).out, help.out);
  }
  const usage = await canon();
  assert.equal(usage.code, 2);
  assert.match(usage.err, /^canon: drive a Canon/);
});
