// Safety of downloads: names from the camera cannot escape the destination
// (in-process and through libusb), a symlink planted at the destination or at
// the temporary name is never followed, nothing is overwritten unless asked,
// and a program needs no more Deno permissions than `--allow-ffi` plus read
// and write where the user points.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Camera, ProtocolError } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import type { CardNode } from "../src/emulator/card/card_model.ts";
import { MemoryCard } from "../src/emulator/card/memory_card.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import { skipWithout, tier3Test, underUmockdev } from "./_support.ts";

const ignoreTier3 = skipWithout(underUmockdev, "LD_PRELOAD=libumockdev-preload.so.0");
const PHOTO = "/DCIM/100CANON/IMG_0001.JPG";

function cardBytes(vc: VirtualCamera, path: string): Uint8Array {
  const segments = path.split("/").filter(Boolean);
  return vc.card!.read(segments, 0, vc.card!.find(segments)!.size);
}

async function withDirs(body: (dir: string, outside: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "canon-safety-" });
  const outside = await Deno.makeTempDir({ prefix: "canon-outside-" });
  try {
    await body(dir, outside);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
}

const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

Deno.test("a symlink at the destination is refused without overwrite; its target is untouched", async () => {
  await withDirs(async (dir, outside) => {
    const secret = join(outside, "secret.txt");
    await Deno.writeTextFile(secret, "keep me");
    const target = join(dir, "IMG_0001.JPG");
    await Deno.symlink(secret, target);
    await using cam = await Camera.connect(new VirtualCamera());
    for (const destination of [target, dir]) {
      await assert.rejects(
        () => cam.storage.download(PHOTO, destination),
        (e: Error) => e instanceof Deno.errors.AlreadyExists && /overwrite: true/.test(e.message),
      );
    }
    assert.equal(await Deno.readTextFile(secret), "keep me");
    assert.ok((await Deno.lstat(target)).isSymlink);
    assert.deepEqual(names(dir), ["IMG_0001.JPG"]);
  });
});

Deno.test("with overwrite, a symlink at the destination is replaced; the file it named is not", async () => {
  await withDirs(async (dir, outside) => {
    const secret = join(outside, "secret.txt");
    await Deno.writeTextFile(secret, "keep me");
    const dangling = join(outside, "not-there.jpg");
    const vc = new VirtualCamera();
    await using cam = await Camera.connect(vc);
    for (const [name, to] of [["A.JPG", secret], ["B.JPG", dangling]]) {
      const target = join(dir, name);
      await Deno.symlink(to, target);
      await cam.storage.download(PHOTO, target, { overwrite: true });
      const stat = await Deno.lstat(target);
      assert.ok(stat.isFile && !stat.isSymlink, `${name} is now a plain file`);
      assert.deepEqual(await Deno.readFile(target), cardBytes(vc, PHOTO));
    }
    assert.equal(await Deno.readTextFile(secret), "keep me");
    await assert.rejects(() => Deno.lstat(dangling), Deno.errors.NotFound);
    assert.deepEqual(names(dir), ["A.JPG", "B.JPG"]);
  });
});

Deno.test("a symlink planted at the temporary name is not followed", async () => {
  await withDirs(async (dir, outside) => {
    const secret = join(outside, "secret.txt");
    await Deno.writeTextFile(secret, "keep me");
    // Make the temporary name guessable, and plant a link there.
    const randomUUID = crypto.randomUUID;
    crypto.randomUUID = () => "deadbeef-0000-4000-8000-000000000000";
    try {
      await Deno.symlink(secret, join(dir, ".IMG_0001.JPG.deadbeef.partial"));
      await using cam = await Camera.connect(new VirtualCamera());
      await assert.rejects(() => cam.storage.download(PHOTO, dir), Deno.errors.AlreadyExists);
    } finally {
      crypto.randomUUID = randomUUID;
    }
    assert.equal(await Deno.readTextFile(secret), "keep me");
    assert.deepEqual(names(dir), [".IMG_0001.JPG.deadbeef.partial"], "nothing else was written");
  });
});

Deno.test("a file already in the destination directory is not overwritten unless asked", async () => {
  await withDirs(async (dir) => {
    await Deno.writeTextFile(join(dir, "IMG_0001.JPG"), "mine");
    const vc = new VirtualCamera();
    await using cam = await Camera.connect(vc);
    await assert.rejects(() => cam.storage.download(PHOTO, dir), Deno.errors.AlreadyExists);
    assert.equal(await Deno.readTextFile(join(dir, "IMG_0001.JPG")), "mine");
    await cam.storage.download(PHOTO, dir, { overwrite: true });
    assert.deepEqual(await Deno.readFile(join(dir, "IMG_0001.JPG")), cardBytes(vc, PHOTO));
    assert.deepEqual(names(dir), ["IMG_0001.JPG"]);
  });
});

Deno.test("a path with '..' or a separator is refused before anything is sent", async () => {
  const vc = new VirtualCamera();
  await using cam = await Camera.connect(vc);
  const sent = vc.commandLog.length;
  for (const path of ["/DCIM/../../etc/passwd", "/DCIM/100CANON/..", "/DCIM/A\0B.JPG"]) {
    await assert.rejects(async () => await cam.storage.download(path, "."), RangeError, path);
  }
  assert.equal(vc.commandLog.length, sent);
});

/** A card that lists hostile names (as a broken or malicious device could). */
class HostileCard extends MemoryCard {
  #name: string;
  constructor(name: string) {
    super();
    this.#name = name;
  }
  override find(path: readonly string[]): CardNode | undefined {
    const node = super.find(path);
    if (!node?.children) return node;
    const evil: CardNode = { ...node.children[0], name: this.#name };
    return { ...node, children: [...node.children, evil] };
  }
}

tier3Test({
  name: "tier 3: hostile names listed through libusb are refused; the camera stays usable",
  ignore: ignoreTier3,
  async fn() {
    const hostileNames = ["..\\..\\EVIL.JPG", "../EVIL.JPG", ".\\..", "C:EVIL.JPG", "A\x01B", ".."];
    for (const hostile of hostileNames) {
      const vc = new VirtualCamera({ card: new HostileCard(hostile) });
      using testbed = UmockdevTestbed.open();
      testbed.attach(vc.usbFunction);
      await using cam = await Camera.open();
      if (hostile === "..") {
        // A bare ".." closes a descended directory in a listing: it never becomes an entry.
        const listed = await cam.storage.list("/DCIM/100CANON");
        assert.ok(listed.every((e) => e.name !== ".." && e.path.startsWith("/DCIM/100CANON/")));
        continue;
      }
      await assert.rejects(() => cam.storage.list("/DCIM/100CANON"), (e: Error) => {
        assert.ok(e instanceof ProtocolError, `${JSON.stringify(hostile)}: ${e}`);
        assert.match(e.message, /which is refused because .*could escape the destination/);
        return true;
      });
      assert.equal(
        (await cam.identify()).modelName,
        "Canon PowerShot G3",
        "the camera stays usable",
      );
    }
  },
});

// ---- permissions --------------------------------------------------------------

const MOD = import.meta.resolve("../mod.ts");

const DOWNLOAD_SCRIPT = (dir: string) => `
import { Camera } from "${MOD}";
try {
  await using cam = await Camera.open();
  const result = await cam.storage.download("${PHOTO}", ${JSON.stringify(dir)});
  console.log(JSON.stringify({ ok: true, file: result.file, size: result.size }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, name: e.name, message: e.message }));
}
`;

async function runChild(
  flags: string[],
  script: string,
  env: Record<string, string>,
): Promise<{ ok: boolean; name?: string; message?: string; file?: string; size?: number }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--no-check", ...flags, "-"],
    env: { NO_COLOR: "1", ...env },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(script));
  await writer.close();
  const out = await child.output();
  const stdout = new TextDecoder().decode(out.stdout).trim();
  assert.ok(stdout, new TextDecoder().decode(out.stderr));
  return JSON.parse(stdout.split("\n").at(-1)!);
}

tier3Test({
  name: "--allow-ffi and read/write on the destination are all a download through libusb needs",
  ignore: ignoreTier3,
  async fn() {
    await withDirs(async (dir) => {
      const vc = new VirtualCamera();
      using testbed = UmockdevTestbed.open();
      testbed.attach(vc.usbFunction);
      const env = testbed.env();
      const minimal = ["--allow-ffi", `--allow-read=${dir}`, `--allow-write=${dir}`];
      const ok = await runChild(minimal, DOWNLOAD_SCRIPT(dir), env);
      assert.equal(ok.ok, true, ok.message);
      assert.equal(ok.file, join(dir, "IMG_0001.JPG"));
      assert.deepEqual(await Deno.readFile(join(dir, "IMG_0001.JPG")), cardBytes(vc, PHOTO));
      assert.deepEqual(names(dir), ["IMG_0001.JPG"]);
      await Deno.remove(join(dir, "IMG_0001.JPG"));

      // Each of the three is needed: without it the download fails, saying which flag.
      const without = async (drop: string, pattern: RegExp) => {
        const result = await runChild(
          minimal.filter((f) => !f.startsWith(drop)),
          DOWNLOAD_SCRIPT(dir),
          env,
        );
        assert.equal(result.ok, false, `without ${drop}`);
        assert.match(result.message!, pattern, `without ${drop}`);
        assert.deepEqual(names(dir), [], `without ${drop}: nothing written`);
      };
      await without("--allow-ffi", /run with --allow-ffi/);
      await without(
        "--allow-write",
        /Requires write access to ".*", run again with the --allow-write flag/,
      );
      await without(
        "--allow-read",
        /Requires read access to ".*", run again with the --allow-read flag/,
      );
    });
  },
});
