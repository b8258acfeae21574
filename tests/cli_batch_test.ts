// The batch loop of `canon get` as a whole-card import uses it: every file
// on disk with the card's bytes and date, each cleared of its "new" mark,
// and per file only what a camera needs (the file, one SetFileAttributes):
// no listing of the file's directory per file, which on a real camera costs
// more the fuller the folder is.
import assert from "node:assert/strict";
import { join } from "node:path";
import { MemoryCard } from "../src/emulator/mod.ts";
import { withCamera } from "./_cli_features.ts";

const GET_DIRECTORY = { cmd1: 0x0b, cmd2: 0x11 };
const SET_ATTRIBUTES = { cmd1: 0x0e, cmd2: 0x11 };
const GET_FILE = { cmd1: 0x01, cmd2: 0x11 };
const FILES = 30;

function card(): MemoryCard {
  const content = [];
  for (let i = 0; i < FILES; i++) {
    const folder = i < 20 ? "100CANON" : "101CANON";
    content.push({
      path: `/DCIM/${folder}/IMG_${String(i + 1).padStart(4, "0")}.JPG`,
      size: 1000 + i,
    });
  }
  return new MemoryCard({ content });
}

Deno.test("get --all: every file written and marked, one SetFileAttributes and no listing per file", async () => {
  await withCamera(async (canon, vc, dir) => {
    const before = vc.commandLog.length;
    const run = await canon("get", "--all", "-o", dir, "--json");
    assert.equal(run.code, 0, run.err);
    const commands = vc.commandLog.slice(before);
    const count = (c: { cmd1: number; cmd2: number }) =>
      commands.filter((r) => r.cmd1 === c.cmd1 && r.cmd2 === c.cmd2).length;
    assert.equal(count(GET_FILE), FILES);
    assert.equal(count(SET_ATTRIBUTES), FILES);
    // The listing that finds the files, and one that checks the first mark took.
    assert.ok(count(GET_DIRECTORY) <= 4, `${count(GET_DIRECTORY)} listings for ${FILES} files`);

    const events = run.out.trim().split("\n").map((line) => JSON.parse(line));
    const downloaded = events.filter((e) => e.event === "downloaded");
    assert.equal(downloaded.length, FILES);
    assert.ok(downloaded.every((e) => e.marked === true));
    for (const e of downloaded) {
      const local = await Deno.readFile(e.file);
      const segments = (e.path as string).split("/").filter(Boolean);
      const onCard = vc.card!.read(segments, 0, local.length + 1);
      assert.deepEqual(local, onCard, e.path);
    }
    const listed = JSON.parse((await canon("ls", "-R", "/DCIM", "--json")).out) as {
      isDirectory: boolean;
      downloaded: boolean;
      date: string;
      path: string;
    }[];
    const files = listed.filter((e) => !e.isDirectory);
    assert.equal(files.length, FILES);
    assert.ok(files.every((e) => e.downloaded), "no file left marked new");
    const first = await Deno.stat(join(dir, "IMG_0001.JPG"));
    assert.equal(first.size, 1000);

    // Already downloaded: a second import marks nothing, so sends no SetFileAttributes.
    const again = vc.commandLog.length;
    const second = await canon("get", "--all", "-o", join(dir, "again"));
    assert.equal(second.code, 0, second.err);
    assert.equal(
      vc.commandLog.slice(again).filter((r) => r.cmd1 === 0x0e && r.cmd2 === 0x11).length,
      0,
    );
  }, { card: card() });
});

Deno.test("get --all on an EOS 20D (answers 'done', changes nothing): every file said to stay new", async () => {
  await withCamera(async (canon, _vc, dir) => {
    const run = await canon("get", "--all", "-o", dir, "--json");
    assert.equal(run.code, 0, run.err);
    const downloaded = run.out.trim().split("\n").map((line) => JSON.parse(line))
      .filter((e) => e.event === "downloaded");
    assert.ok(downloaded.length > 0);
    assert.ok(downloaded.every((e) => e.marked === false), run.out);
  }, { model: "EOS 20D" });
});

Deno.test("thumbs: a picture without a thumbnail stops the batch after the ones before, written whole", async () => {
  const source = new MemoryCard();
  const path = ["DCIM", "100CANON", "IMG_0001.JPG"];
  const jpeg = source.read(path, 0, source.find(path)!.size);
  const content = [1, 2, 3, 4].map((n) => ({
    path: `/DCIM/100CANON/IMG_000${n}.JPG`,
    // The third: a JPEG start marker and nothing a thumbnail can be found in.
    bytes: n === 3 ? new Uint8Array([0xff, 0xd8, 0xff, 0xd9]) : jpeg,
  }));
  await withCamera(async (canon, _vc, dir) => {
    const run = await canon("thumbs", "-o", dir);
    assert.notEqual(run.code, 0, run.out);
    const names = [];
    for await (const entry of Deno.readDir(dir)) names.push(entry.name);
    assert.deepEqual(names.sort(), ["thumb_IMG_0001.jpg", "thumb_IMG_0002.jpg"]);
    const expected = await Deno.readFile(join(dir, "thumb_IMG_0001.jpg"));
    assert.deepEqual([...expected.subarray(0, 2)], [0xff, 0xd8]);
    assert.deepEqual(await Deno.readFile(join(dir, "thumb_IMG_0002.jpg")), expected);
    // The camera still answers: nothing of the failed batch is left in flight.
    const ls = await canon("ls", "/DCIM/100CANON");
    assert.equal(ls.code, 0, ls.err);
    assert.match(ls.out, /4 files/);
  }, { card: new MemoryCard({ content }) });
});
