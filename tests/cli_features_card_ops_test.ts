// rm -R DIR and rm --all (asking first unless --yes; asked for real in a
// tmux terminal), mkdir -p, get --move (the card copy goes only once the
// local file is complete), -o FILE for one file, -o - for standard output,
// and --exec for get and watch.
import assert from "node:assert/strict";
import { join } from "node:path";
import { cardFiles, withCamera } from "./_cli_features.ts";
import { hasCommand, skipWithout } from "./_support.ts";

const MAIN = new URL("../src/cli/main.ts", import.meta.url).pathname;

Deno.test("rm -R and rm --all ask first (refused without a terminal), keep protected files", async () => {
  await withCamera(async (canon, vc) => {
    const refused = await canon("rm", "-R", "/DCIM/100CANON");
    assert.equal(refused.code, 2);
    assert.match(refused.err, /this deletes 8 files \(.*\) from the card; add --yes/);
    assert.equal(cardFiles(vc).filter((p) => p.startsWith("/DCIM/100CANON/")).length, 9);
    const tree = await canon("rm", "-R", "/DCIM/101CANON", "--yes");
    assert.equal(tree.code, 0, tree.err);
    assert.equal(
      tree.out,
      "deleted /DCIM/101CANON/IMG_0101.JPG\ndeleted /DCIM/101CANON/IMG_0102.JPG\nremoved /DCIM/101CANON\n",
    );
    assert.doesNotMatch((await canon("ls", "/DCIM")).out, /101CANON/);
    const all = await canon("rm", "--all", "--yes");
    assert.equal(all.code, 0, all.err);
    assert.match(all.err, /\/DCIM\/100CANON\/IMG_0002\.JPG is protected: it stays/);
    assert.deepEqual(cardFiles(vc), ["/DCIM/100CANON/IMG_0002.JPG"]);
    const plain = await canon("rm", "/DCIM/100CANON");
    assert.equal(plain.code, 2);
    assert.match(plain.err, /is a directory; remove it with rmdir once empty \(rm -R/);
  });
});

Deno.test("mkdir -p makes missing parents and accepts what exists", async () => {
  await withCamera(async (canon, vc) => {
    const run = await canon("mkdir", "-p", "/DCIM/200TEST/SUB");
    assert.equal(run.code, 0, run.err);
    assert.equal(run.out, "created /DCIM/200TEST\ncreated /DCIM/200TEST/SUB\n");
    const again = await canon("mkdir", "-p", "/DCIM/200TEST/SUB");
    assert.equal(again.code, 0);
    assert.equal(again.out, "");
    const plain = await canon("mkdir", "/DCIM/300X/SUB");
    assert.notEqual(plain.code, 0, "without -p a missing parent is an error");
    const file = await canon("mkdir", "-p", "/DCIM/100CANON/IMG_0001.JPG/X");
    assert.equal(file.code, 2);
    assert.match(file.err, /IMG_0001\.JPG is a file/);
    const card = vc.card as unknown as { snapshot(): { path: string; isDirectory: boolean }[] };
    assert.ok(card.snapshot().some((e) => e.path === "/DCIM/200TEST/SUB" && e.isDirectory));
  });
});

Deno.test("get --move deletes from the card only what is complete here", async () => {
  await withCamera(async (canon, vc, dir) => {
    const moved = await canon("get", "--move", "/DCIM/101CANON", "-o", dir);
    assert.equal(moved.code, 0, moved.err);
    assert.match(moved.out, /2 files deleted from the card/);
    assert.equal((await Deno.stat(join(dir, "IMG_0101.JPG"))).size, 27861);
    assert.ok(!cardFiles(vc).some((p) => p.startsWith("/DCIM/101CANON/")));
    // A write that fails: nothing leaves the card.
    await Deno.writeTextFile(join(dir, "IMG_0004.JPG"), "mine");
    const clash = await canon("get", "--move", "/DCIM/100CANON/IMG_0004.JPG", "-o", dir);
    assert.notEqual(clash.code, 0);
    assert.ok(cardFiles(vc).includes("/DCIM/100CANON/IMG_0004.JPG"));
    assert.equal(await Deno.readTextFile(join(dir, "IMG_0004.JPG")), "mine");
    // A CRW without its .THM: deleting it would take the .THM along, so it stays.
    const crw = await canon("get", "--move", "/DCIM/100CANON/CRW_0006.CRW", "-o", dir);
    assert.equal(crw.code, 1);
    assert.match(crw.err, /CRW_0006\.CRW stays on the card: deleting it deletes .*CRW_0006\.THM/);
    assert.ok(cardFiles(vc).includes("/DCIM/100CANON/CRW_0006.CRW"));
    const both = await canon("get", "--move", "/DCIM/100CANON/CRW_0006.*", "-o", join(dir, "raw"));
    assert.equal(both.code, 0, both.err);
    assert.ok(!cardFiles(vc).some((p) => p.includes("CRW_0006")));
    const protectedOne = await canon(
      "get",
      "--move",
      "/DCIM/100CANON/IMG_0002.JPG",
      "-o",
      join(dir, "p"),
    );
    assert.equal(protectedOne.code, 1);
    assert.match(protectedOne.err, /IMG_0002\.JPG was downloaded but stays on the card/);
  });
});

Deno.test("get -o FILE names one download; --exec runs for each file of get and watch", async () => {
  await withCamera(async (canon, _vc, dir) => {
    const one = await canon(
      "get",
      "/DCIM/100CANON/IMG_0001.JPG",
      "-o",
      join(dir, "a", "first.jpg"),
    );
    assert.equal(one.code, 0, one.err);
    assert.equal((await Deno.stat(join(dir, "a", "first.jpg"))).size, 29380);
    const log = join(dir, "log");
    const get = await canon(
      "get",
      "/DCIM/101CANON",
      "-o",
      join(dir, "b"),
      "--exec",
      `echo "$CANON_CAMERA_PATH|$CANON_FILE|$(wc -c < {})" >> '${log}'`,
    );
    assert.equal(get.code, 0, get.err);
    assert.equal(
      await Deno.readTextFile(log),
      `/DCIM/101CANON/IMG_0101.JPG|${join(dir, "b", "IMG_0101.JPG")}|27861\n` +
        `/DCIM/101CANON/IMG_0102.JPG|${join(dir, "b", "IMG_0102.JPG")}|28055\n`,
    );
    const watch = await canon("--emulate", "watch", "-o", join(dir, "c"), "--exec", "false");
    assert.equal(watch.code, 1, "a failing --exec shows in the exit code");
    assert.match(watch.err, /--exec for .*IMG_0004\.JPG exited with 1; the file stays/);
    assert.ok((await Deno.stat(join(dir, "c", "IMG_0004.JPG"))).size > 0);
  });
});

Deno.test("get -o - writes the file to standard output, byte for byte (tier 5)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", MAIN, "--emulate", "get", "8", "-o", "-"],
      stdin: "null",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const file = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", MAIN, "--emulate", "get", "8", "-o", dir],
      stdin: "null",
    }).output();
    assert.equal(file.code, 0);
    assert.deepEqual(out.stdout, await Deno.readFile(join(dir, "IMG_0101.JPG")));
    assert.match(
      new TextDecoder().decode(out.stderr),
      /IMG_0101\.JPG -> standard output \(27861 bytes\)/,
    );
    assert.ok(!(await Deno.stat(join(Deno.cwd(), "-")).then(() => true, () => false)), "no file -");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const noTmux = skipWithout(await hasCommand("tmux", ["-V"]), "tmux");

Deno.test({
  name: "rm -R asks on a terminal and does what the answer says (tmux)",
  ignore: noTmux,
}, async () => {
  const socket = `canon-rm-${Deno.pid}`;
  const tmux = async (...args: string[]) => {
    const out = await new Deno.Command("tmux", { args: ["-L", socket, ...args], stdin: "null" })
      .output();
    return new TextDecoder().decode(out.stdout);
  };
  const waitFor = async (re: RegExp) => {
    let screen = "";
    for (let i = 0; i < 600 && !re.test(screen); i++) {
      await new Promise((r) => setTimeout(r, 100));
      screen = await tmux("capture-pane", "-p", "-t", "t");
    }
    assert.match(screen, re);
    return screen;
  };
  try {
    await tmux("-f", "/dev/null", "new-session", "-d", "-x", "120", "-y", "40", "-s", "t", "sh");
    const command = (answer: string) =>
      `NO_COLOR=1 '${Deno.execPath()}' run --allow-all '${MAIN}' --emulate rm -R /DCIM/101CANON; ` +
      `echo "EXIT-${answer}=$?"`;
    await tmux("send-keys", "-t", "t", command("n"), "Enter");
    await waitFor(/Delete 2 files \(55\.9 kB\) and 1 directory from the card\? \[y\/N\]\s*$/m);
    await tmux("send-keys", "-t", "t", "n", "Enter");
    const no = await waitFor(/^EXIT-n=\d+$/m);
    assert.match(no, /Nothing deleted\.\nEXIT-n=1$/m);
    await tmux("send-keys", "-t", "t", "clear; " + command("y"), "Enter");
    await waitFor(/\[y\/N\]\s*$/m);
    await tmux("send-keys", "-t", "t", "y", "Enter");
    const yes = await waitFor(/^EXIT-y=\d+$/m);
    assert.match(
      yes,
      /deleted \/DCIM\/101CANON\/IMG_0102\.JPG\nremoved \/DCIM\/101CANON\nEXIT-y=0$/m,
    );
  } finally {
    await tmux("kill-server");
  }
});
