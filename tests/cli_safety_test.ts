// Tier 2 and 5: the `canon` command never loses or misfiles a photo, and says
// what went wrong in its own terms. Two cameras importing into one folder;
// put refusing to replace a photo on the card and leaving no part of a
// failed upload; thumbnails through the safe write path; a batch that
// reports each file, goes on when asked and sums up; a disk too small;
// numbers checked; --emulate-usb honouring --camera and --port; `ls | head`,
// `-o -`; control characters from the camera escaped.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Camera } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { CardFileExistsError } from "../src/camera/storage.ts";
import { MemoryCard } from "../src/emulator/mod.ts";
import { DEFAULT_START_TIME } from "../src/emulator/card/card_content.ts";
import type { CardFileSystem, CardNode } from "../src/emulator/mod.ts";
import { connectVirtual } from "../src/cli/connect.ts";
import { main } from "../src/cli/main.ts";
import { checkName } from "../src/protocol/storage_codec.ts";
import { hasCommand, skipWithout } from "./_support.ts";

const MAIN = new URL("../src/cli/main.ts", import.meta.url).pathname;
const decoder = new TextDecoder();

interface Run {
  code: number;
  out: string;
  err: string;
}

function session(vc: VirtualCamera): (...args: string[]) => Promise<Run> {
  return async (...args) => {
    let out = "";
    let err = "";
    const code = await main(args, {
      io: { write: (t) => out += t, writeError: (t) => err += t, errorIsTerminal: false },
      connect: (selection) => connectVirtual(selection, vc),
    });
    return { code, out, err };
  };
}

async function spawned(args: string[], shell?: string): Promise<Run & { raw: Uint8Array }> {
  const { LD_PRELOAD: _, ...env } = Deno.env.toObject();
  const command = shell
    ? new Deno.Command("bash", {
      args: ["-c", shell],
      clearEnv: true,
      env: { ...env, NO_COLOR: "1", CANON: `${Deno.execPath()} run --allow-all ${MAIN}` },
      stdin: "null",
    })
    : new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", MAIN, ...args],
      clearEnv: true,
      env: { ...env, NO_COLOR: "1" },
      stdin: "null",
    });
  const output = await command.output();
  return {
    code: output.code,
    out: decoder.decode(output.stdout),
    err: decoder.decode(output.stderr),
    raw: output.stdout,
  };
}

async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "canon-safe-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("two cameras into one folder: the second IMG_0004.JPG gets a free name, never a skip", async () => {
  await inTempDir(async (dir) => {
    await using g3 = new VirtualCamera();
    // Its card started a day later: same names, other photos (other sizes or dates).
    await using s45 = new VirtualCamera({
      model: "PowerShot S45",
      owner: "Other",
      card: new MemoryCard({ model: "Canon PowerShot S45", startTime: DEFAULT_START_TIME + 86400 }),
    });
    const first = await session(g3)("get", "--new", "-o", dir);
    assert.equal(first.code, 0, first.err);
    const mine = await Deno.readFile(join(dir, "IMG_0004.JPG"));
    const second = await session(s45)("watch", "--emulate", "-o", dir);
    assert.equal(second.code, 0, second.err);
    assert.match(second.out, /^\/DCIM\/100CANON\/IMG_0004\.JPG -> .*IMG_0004-1\.JPG \(/m);
    assert.deepEqual(await Deno.readFile(join(dir, "IMG_0004.JPG")), mine, "the first is kept");
    const theirs = await Deno.readFile(join(dir, "IMG_0004-1.JPG"));
    assert.notDeepEqual(theirs, mine);
    // And the S45 no longer calls it new: it is not left "new" forever.
    const ls = await session(s45)("ls", "/DCIM/100CANON");
    assert.match(ls.out, /^(?:#\d+)? *IMG_0004\.JPG\s+\d+\s+\S+ \S+$/m);
    // get --new again from either camera: nothing new, nothing renamed a second time.
    assert.equal((await session(g3)("get", "--new", "-o", dir)).out, "No new files.\n");
    const again = await session(s45)(
      "get",
      "/DCIM/100CANON/IMG_0004.JPG",
      "-o",
      dir,
      "--skip-existing",
    );
    assert.match(again.out, /skipped, .*IMG_0004-1\.JPG is the same photo/);
    assert.ok(!(await Deno.lstat(join(dir, "IMG_0004-2.JPG")).catch(() => undefined)));
  });
});

Deno.test("put refuses to replace a photo on the card unless --overwrite", async () => {
  await inTempDir(async (dir) => {
    await using vc = new VirtualCamera();
    const canon = session(vc);
    const local = join(dir, "IMG_0001.JPG");
    await Deno.writeFile(local, new Uint8Array(3707).fill(1));
    const refused = await canon("put", local, "/DCIM/100CANON");
    assert.equal(refused.code, 1);
    assert.match(
      refused.err,
      /canon put: \/DCIM\/100CANON\/IMG_0001\.JPG is already on the card; use --overwrite to replace it/,
    );
    assert.match((await canon("ls", "/DCIM/100CANON")).out, /^(?:#\d+)? *IMG_0001\.JPG\s+29380\s/m);
    const replaced = await canon("put", local, "/DCIM/100CANON", "--overwrite");
    assert.equal(replaced.code, 0, replaced.err);
    assert.match((await canon("ls", "/DCIM/100CANON")).out, /^(?:#\d+)? *IMG_0001\.JPG\s+3707\s/m);
    // The library says the same in its terms.
    await using cam = await Camera.connect(vc);
    await assert.rejects(
      cam.storage.upload(new Uint8Array(10), "/DCIM/100CANON", { name: "IMG_0003.JPG" }),
      CardFileExistsError,
    );
  });
});

/** A card that fails the upload block at `failAt` bytes into a file (CARD_FULL). */
function failingCard(failAt: number): CardFileSystem {
  const card = new MemoryCard();
  return new Proxy(card, {
    get(target, property) {
      if (property === "write") {
        return (path: readonly string[], offset: number, data: Uint8Array) => {
          if (offset >= failAt) throw new RangeError("card full (test)");
          return target.write(path, offset, data);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

Deno.test("a failed or aborted upload leaves no truncated file on the card", async () => {
  const size = 5 * 0x6000 + 123; // several upload blocks
  const bytes = new Uint8Array(size).map((_, i) => i & 0xff);
  {
    await using vc = new VirtualCamera({ card: failingCard(0x6000 * 2) });
    await using cam = await Camera.connect(vc);
    await assert.rejects(cam.storage.upload(bytes, "/DCIM/100CANON", { name: "BIG.JPG" }));
    const names = (await cam.storage.list("/DCIM/100CANON")).map((e) => e.name);
    assert.ok(!names.includes("BIG.JPG"), `no partial BIG.JPG: ${names}`);
  }
  {
    await using vc = new VirtualCamera();
    await using cam = await Camera.connect(vc);
    const abort = new AbortController();
    await assert.rejects(
      cam.storage.upload(bytes, "/DCIM/100CANON", {
        name: "BIG.JPG",
        signal: abort.signal,
        onProgress: (done) => done >= 0x6000 * 2 && abort.abort(new Error("stop")),
      }),
      /stop/,
    );
    const names = (await cam.storage.list("/DCIM/100CANON")).map((e) => e.name);
    assert.ok(!names.includes("BIG.JPG"), `no partial BIG.JPG after abort: ${names}`);
    // A whole upload still works on that camera afterwards.
    await cam.storage.upload(bytes, "/DCIM/100CANON", { name: "BIG.JPG" });
    assert.deepEqual(await cam.storage.read("/DCIM/100CANON/BIG.JPG"), bytes);
  }
});

Deno.test("thumbs: a planted symlink is replaced, not written through; no empty thumbnail kept", async () => {
  await inTempDir(async (dir) => {
    await using vc = new VirtualCamera();
    const canon = session(vc);
    const outside = join(dir, "precious.txt");
    await Deno.writeTextFile(outside, "do not touch");
    const out = join(dir, "thumbs");
    await Deno.mkdir(out);
    await Deno.symlink(outside, join(out, "thumb_IMG_0001.jpg"));
    const refused = await canon("thumbs", "/DCIM/100CANON/IMG_0001.JPG", "-o", out);
    assert.equal(refused.code, 1);
    const replaced = await canon("thumbs", "/DCIM/100CANON/IMG_0001.JPG", "-o", out, "--overwrite");
    assert.equal(replaced.code, 0, replaced.err);
    assert.equal(await Deno.readTextFile(outside), "do not touch");
    const info = await Deno.lstat(join(out, "thumb_IMG_0001.jpg"));
    assert.ok(info.isFile && !info.isSymlink && info.size > 0);
  });
});

const noUnshare = !(await hasCommand("unshare", [
  "--user",
  "--map-root-user",
  "--mount",
  "true",
]));

/** Run a shell script in a private mount namespace with a tmpfs of `kb` KiB at $SMALL. */
function onSmallDisk(kb: number, script: string): Promise<Run & { raw: Uint8Array }> {
  const small = Deno.makeTempDirSync({ prefix: "canon-small-" });
  return spawned(
    [],
    `unshare --user --map-root-user --mount bash -c '
    mount -t tmpfs -o size=${kb}k none "${small}" && SMALL="${small}" && ${script}'`,
  )
    .finally(() => Deno.removeSync(small, { recursive: true }));
}

Deno.test({
  name: "a batch too big for the disk is refused before the first byte",
  ignore: noUnshare, // user namespaces may be off (some CI runners): nothing to mount then
}, async () => {
  const run = await onSmallDisk(
    256,
    `$CANON --emulate get --all -o "$SMALL"; echo "exit $?"; ls -A "$SMALL" | wc -l`,
  );
  assert.match(
    run.err,
    /canon get: 7\d\d kB to download, 26\d kB free in .*; nothing was downloaded/,
  );
  assert.match(run.out, /^exit 1\n0\n$/m);
});

Deno.test({
  name: "disk full: thumbnails and downloads leave no empty or partial file, --keep-going sums up",
  ignore: noUnshare,
}, async () => {
  // 40 kB: room for a photo or two, and some thumbnails, not for all.
  const run = await onSmallDisk(
    40,
    `$CANON --emulate thumbs -o "$SMALL/t"; echo "thumbs $?";
     $CANON --emulate get /DCIM/101CANON /DCIM/100CANON/IMG_0001.JPG --keep-going -o "$SMALL/p"; echo "get $?";
     find "$SMALL" -type f -printf "%s %f\\n"`,
  );
  const files = run.out.split("\n").filter((l) => /^\d+ /.test(l));
  assert.ok(files.length > 0, run.out + run.err);
  for (const line of files) {
    const [size, name] = line.split(" ");
    assert.ok(!name.endsWith(".partial"), `partial left: ${name}`);
    assert.ok(Number(size) > 0, `empty file under its final name: ${name}`);
  }
  assert.match(run.out, /^thumbs [1-9]/m);
  // 28 kB + 28 kB + 29 kB do not fit in 40 kB: the free-space check refuses the batch.
  assert.match(run.err, /canon get: 8\d\.\d kB to download/);
});

Deno.test("--keep-going: a failed file is reported, the rest downloaded, the summary says so", async () => {
  await inTempDir(async (dir) => {
    const card = new MemoryCard();
    const short = new Proxy(card, {
      get(target, property) {
        if (property === "find") {
          return (p: readonly string[]): CardNode | undefined => {
            const node = target.find(p);
            return node && p.join("/") === "DCIM/100CANON/IMG_0003.JPG"
              ? { ...node, size: 100 }
              : node;
          };
        }
        const value = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    await using vc = new VirtualCamera({ card: short });
    const canon = session(vc);
    const stop = await canon("get", "/DCIM/100CANON", "-o", join(dir, "a"));
    assert.equal(stop.code, 4);
    assert.match(stop.out, /IMG_0002\.JPG -> .*\n2 files downloaded \(59\.7 kB\).*, 1 failed\n$/);
    assert.match(stop.err, /canon get: \/DCIM\/100CANON\/IMG_0003\.JPG: the camera sent 100 bytes/);
    const going = await canon("get", "/DCIM/100CANON", "-o", join(dir, "b"), "--keep-going");
    assert.equal(going.code, 4, "a failure still fails the command");
    assert.match(going.out, /^\/DCIM\/100CANON\/IMG_0003\.JPG: failed: .*sent 100 bytes/m);
    assert.match(going.out, /^6 files downloaded .*, 1 failed$/m);
    const json = await canon(
      "get",
      "/DCIM/100CANON",
      "-o",
      join(dir, "c"),
      "--keep-going",
      "--json",
    );
    const lines = json.out.trimEnd().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.event), [
      "downloaded",
      "downloaded",
      "failed",
      "downloaded",
      "downloaded",
      "downloaded",
      "downloaded",
      "summary",
    ]);
    assert.equal(lines[7].failed[0].path, "/DCIM/100CANON/IMG_0003.JPG");
    assert.ok(!(await Deno.lstat(join(dir, "b", "IMG_0003.JPG")).catch(() => undefined)));
  });
});

Deno.test("numbers on the command line are checked, a timer never overflows", async () => {
  await using vc = new VirtualCamera();
  const canon = session(vc);
  assert.equal((await canon("--timeout", "-5", "info")).code, 2);
  for (const bad of ["2147483647", "2147483648", "1e3", "0", "12abc", "99999999999999999999"]) {
    const run = await canon("--timeout", bad, "info");
    assert.equal(run.code, 2, bad);
    assert.match(run.err, /--timeout wants a whole number from 1 to 3600000 ms/);
  }
  assert.equal((await canon("--timeout", "3600000", "info")).code, 0);
  const interval = await canon("--emulate", "watch", "--interval", "2147483648");
  assert.equal(interval.code, 2);
  assert.match(interval.err, /--interval wants a whole number from 50 to 2147483647 ms/);
  const port = await canon("--port", "usb:001,200", "info");
  assert.equal(port.code, 2);
  assert.match(port.err, /--port: bus 1, address 200 cannot be/);
});

Deno.test({
  name: "--emulate-usb takes --camera and --port",
  ignore: skipWithout(await hasCommand("umockdev-run", ["--version"]), "umockdev") === true,
}, async () => {
  const run = await spawned([
    "--emulate-usb",
    "--camera",
    "EOS 20D",
    "--port",
    "usb:003,009",
    "info",
  ]);
  assert.equal(run.code, 0, run.err);
  assert.match(run.err, /virtual EOS 20D at usb:003,009 \(libusb through umockdev\)/);
  assert.match(run.out, /^Model:\s+Canon EOS 20D$/m);
  const byId = await spawned(["--emulate-usb", "--camera", "306c", "cameras"]);
  assert.equal(byId.code, 0, byId.err);
});

Deno.test("canon ls | head ends quietly; get -o - writes the file to standard output", async () => {
  const head = await spawned(
    [],
    `$CANON --emulate ls -R / | head -n 1; echo "status \${PIPESTATUS[0]}"`,
  );
  assert.match(head.out, /^\s*\/DCIM\/\s.*\nstatus (0|141)\n$/);
  assert.doesNotMatch(head.err, /Broken pipe|error/i);
  await inTempDir(async (dir) => {
    const run = await spawned(
      [],
      `cd '${dir}' && $CANON --emulate get /DCIM/100CANON/IMG_0001.JPG -o -`,
    );
    assert.equal(run.code, 0, run.err);
    assert.equal(run.raw.length, 29380);
    assert.deepEqual([...run.raw.subarray(0, 2)], [0xff, 0xd8]);
    assert.deepEqual([...Deno.readDirSync(dir)], [], "no file named -");
  });
});

Deno.test("control characters from the camera are escaped; checkName refuses C1", async () => {
  await using vc = new VirtualCamera({ owner: "\x1b]0;pwned\x07\x1b[2J\x9b" });
  const info = await session(vc)("info");
  assert.equal(info.code, 0, info.err);
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(info.out, /[\x00-\x08\x0b-\x1f\x7f-\x9f]/);
  assert.match(info.out, /^Owner:\s+\\u001b\]0;pwned\\u0007\\u001b\[2J\\u009b$/m);
  const json = await session(vc)("info", "--json");
  assert.equal(JSON.parse(json.out).owner, "\x1b]0;pwned\x07\x1b[2J\x9b", "JSON keeps the value");
  for (const name of ["IMG\x9b1.JPG", "A\x85.JPG", "\x7fX.JPG"]) {
    assert.throws(() => checkName(name, "camera"), /control character/);
    assert.throws(() => checkName(name, "user"), RangeError);
  }
  assert.equal(checkName("IMG_0001.JPG", "camera"), "IMG_0001.JPG");
});

Deno.test("library wording does not reach the command: settings keys, values, overwrite", async () => {
  await inTempDir(async (dir) => {
    await using vc = new VirtualCamera();
    const canon = session(vc);
    const shutter = await canon("settings", "shutter=1/7");
    assert.equal(shutter.code, 2);
    assert.match(
      shutter.err,
      /^canon settings: shutter=1\/7: this camera does not take it; it takes: 15, 13, [^\n]*1\/8,/m,
    );
    const raw = await canon("settings", "raw=on");
    assert.match(
      raw.err,
      /raw=on: this camera does not take it; it takes: size=large quality=raw raw=on, /,
    );
    const iso = await canon("settings", "iso=3200");
    assert.match(iso.err, /iso=3200: this camera does not take it; it takes: 50, 100, 200, 400$/m);
    for (const run of [shutter, raw, iso]) {
      assert.doesNotMatch(run.err, /shutterSpeed|imageFormat|\{"|pass \{/);
    }
    const frame = join(dir, "frame.jpg");
    await Deno.writeTextFile(frame, "mine");
    const preview = await canon("preview", "-o", frame);
    assert.equal(preview.code, 1);
    assert.match(preview.err, /frame\.jpg already exists; use --overwrite to replace it/);
    assert.equal(await Deno.readTextFile(frame), "mine");
  });
});

Deno.test("mkdir, rmdir and put say what the camera's 0x2000086 meant", async () => {
  await inTempDir(async (dir) => {
    await using vc = new VirtualCamera();
    const canon = session(vc);
    const cases: [string[], number, RegExp][] = [
      [["mkdir", "/DCIM/100CANON"], 1, /\/DCIM\/100CANON already exists on the card/],
      [["mkdir", "/NOPE/X"], 1, /no directory \/NOPE on the card; make it first with canon mkdir/],
      [["mkdir", "/DCIM/WAYTOOLONGNAME"], 2, /the card takes 8\.3 names .* not WAYTOOLONGNAME/],
      [["rmdir", "/NOPE"], 1, /no directory \/NOPE on the card/],
      [["rmdir", "/DCIM/100CANON/IMG_0001.JPG"], 2, /is a file; canon rm deletes files/],
    ];
    const local = join(dir, "longfilename_here.jpeg");
    await Deno.writeTextFile(local, "x");
    cases.push([
      ["put", local, "/DCIM/100CANON"],
      2,
      /not LONGFILENAME_HERE\.JPEG; give one with --name/,
    ]);
    for (const [args, code, message] of cases) {
      const run = await canon(...args);
      assert.equal(run.code, code, `${args.join(" ")}: ${run.err}`);
      assert.match(run.err, message);
      assert.doesNotMatch(run.err, /0x2000086|WARNING/, args.join(" "));
    }
    const named = await canon("put", local, "/DCIM/100CANON", "--name", "NOTE.TXT");
    assert.equal(named.code, 0, named.err);
  });
});
