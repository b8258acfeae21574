// Tier 2 and 5: no photo lost on the way to disk. A destination ending in "/"
// is a directory made when missing; a download shorter than the card's
// listing is refused and not marked downloaded; two downloads of one name at
// the same time never both "succeed"; the file keeps the camera's date; the
// temporary name fits whatever the final name is.
import assert from "node:assert/strict";
import { join } from "node:path";
import { Camera } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import type { CardFileSystem, CardNode } from "../src/emulator/mod.ts";
import { MemoryCard } from "../src/emulator/mod.ts";
import { temporaryName } from "../src/camera/pending_file.ts";
import { connectVirtual } from "../src/cli/connect.ts";
import { main } from "../src/cli/main.ts";

async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "canon-dl-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function canon(vc: VirtualCamera, ...args: string[]) {
  let out = "";
  let err = "";
  const code = await main(args, {
    io: { write: (t) => out += t, writeError: (t) => err += t, errorIsTerminal: false },
    connect: (selection) => connectVirtual(selection, vc),
  });
  return { code, out, err };
}

/**
 * A card whose file at `path` sends only `sent` bytes although its directory
 * lists it at its full size: a camera that cuts a file short.
 */
function shortCard(path: string[], sent: number): CardFileSystem {
  const card = new MemoryCard();
  const key = path.join("/");
  return new Proxy(card, {
    get(target, property) {
      if (property === "find") {
        return (p: readonly string[]): CardNode | undefined => {
          const node = target.find(p);
          return node && p.join("/") === key ? { ...node, size: sent } : node;
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

Deno.test('download(path, "./photos/") makes the directory and puts the file in it', async () => {
  await inTempDir(async (dir) => {
    await using cam = await Camera.connect(new VirtualCamera());
    const cwd = Deno.cwd();
    Deno.chdir(dir);
    try {
      const result = await cam.storage.download("/DCIM/100CANON/IMG_0001.JPG", "./photos/");
      assert.equal(result.file, join("photos", "IMG_0001.JPG"));
      assert.ok((await Deno.stat("photos")).isDirectory, "photos is a directory, not a file");
      assert.equal((await Deno.stat("photos/IMG_0001.JPG")).size, result.size);
      // Deeper, and again into the directory now that it exists.
      await cam.storage.download("/DCIM/100CANON/IMG_0002.JPG", "a/b/c/");
      assert.ok((await Deno.stat("a/b/c/IMG_0002.JPG")).isFile);
      await cam.storage.download("/DCIM/100CANON/IMG_0002.JPG", "./photos/");
      assert.deepEqual(
        [...Deno.readDirSync("photos")].map((e) => e.name).sort(),
        ["IMG_0001.JPG", "IMG_0002.JPG"],
      );
    } finally {
      Deno.chdir(cwd);
    }
  });
});

Deno.test("a file the camera sends short of its listed size is an error and nothing is saved", async () => {
  await inTempDir(async (dir) => {
    const path = ["DCIM", "100CANON", "IMG_0004.JPG"];
    await using vc = new VirtualCamera({ card: shortCard(path, 1000) });
    {
      await using cam = await Camera.connect(vc);
      const listed = (await cam.storage.list("/DCIM/100CANON")).find((e) =>
        e.name === "IMG_0004.JPG"
      )!;
      assert.ok(listed.size > 1000);
      await assert.rejects(
        cam.storage.download("/DCIM/100CANON/IMG_0004.JPG", dir),
        new RegExp(`sent 1000 bytes, its card lists the file with ${listed.size}`),
      );
      assert.deepEqual([...Deno.readDirSync(dir)], [], "no file, no partial file");
    }
    // Through the command: get --new fails on that file and leaves it new.
    const get = await canon(vc, "get", "--new", "-o", dir);
    assert.notEqual(get.code, 0, get.out);
    assert.match(get.err, /IMG_0004\.JPG: the camera sent 1000 bytes/);
    const ls = await canon(vc, "ls", "/DCIM/100CANON");
    assert.match(ls.out, /^(?:#\d+)? *IMG_0004\.JPG\s+\d+\s+\S+ \S+\s+new$/m);
    assert.ok(!(await Deno.lstat(join(dir, "IMG_0004.JPG")).catch(() => undefined)));
  });
});

Deno.test("two downloads of one name at the same time: one wins, the other is refused", async () => {
  await inTempDir(async (dir) => {
    // Two cameras, each with its own IMG_0001.JPG (different owners make different bytes).
    await using a = await Camera.connect(new VirtualCamera({ owner: "A" }));
    await using b = await Camera.connect(new VirtualCamera({ model: "PowerShot S45" }));
    const path = "/DCIM/100CANON/IMG_0001.JPG";
    const bytesA = await a.storage.read(path);
    const bytesB = await b.storage.read(path);
    assert.notDeepEqual(bytesA, bytesB, "two different photos of one name");
    for (let trial = 0; trial < 40; trial++) {
      const target = join(dir, `trial${trial}.JPG`);
      const results = await Promise.allSettled([
        a.storage.download(path, target),
        b.storage.download(path, target),
      ]);
      const won = results.filter((r) => r.status === "fulfilled");
      assert.equal(won.length, 1, `trial ${trial}: exactly one download may take the name`);
      const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      assert.ok(lost.reason instanceof Deno.errors.AlreadyExists, String(lost.reason));
      const saved = await Deno.readFile(target);
      const winner = results[0].status === "fulfilled" ? bytesA : bytesB;
      assert.deepEqual(saved, winner, "the file is the photo of the download that succeeded");
    }
    const left = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith(".partial"));
    assert.deepEqual(left, [], "no temporary file left behind");
  });
});

Deno.test("one camera, Promise.all over two IMG_0001.JPG into one directory", async () => {
  await inTempDir(async (dir) => {
    await using vc = new VirtualCamera();
    await using cam = await Camera.connect(vc);
    await cam.storage.upload(new Uint8Array(5000).fill(7), "/DCIM/101CANON", {
      name: "IMG_0001.JPG",
    });
    for (let trial = 0; trial < 10; trial++) {
      const into = join(dir, String(trial));
      await Deno.mkdir(into);
      const results = await Promise.allSettled([
        cam.storage.download("/DCIM/100CANON/IMG_0001.JPG", into),
        cam.storage.download("/DCIM/101CANON/IMG_0001.JPG", into),
      ]);
      assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
      const size = (await Deno.stat(join(into, "IMG_0001.JPG"))).size;
      const won = results.find((r) => r.status === "fulfilled") as PromiseFulfilledResult<
        { size: number }
      >;
      assert.equal(size, won.value.size);
    }
  });
});

Deno.test("a downloaded file keeps the camera's date as its modification time", async () => {
  await inTempDir(async (dir) => {
    await using vc = new VirtualCamera();
    await using cam = await Camera.connect(vc);
    const entry = (await cam.storage.list("/DCIM/100CANON")).find((e) =>
      e.name === "IMG_0002.JPG"
    )!;
    assert.ok(entry.date && entry.date.getFullYear() < 2010, "the card's date is old");
    await cam.storage.download(entry.path, dir);
    const mtime = (await Deno.stat(join(dir, "IMG_0002.JPG"))).mtime!;
    assert.equal(mtime.getTime(), entry.date.getTime());
    const listed = (await cam.storage.list("/DCIM/100CANON")).find((e) =>
      e.name === "IMG_0003.JPG"
    )!;
    await cam.close();
    // Through the command too.
    const other = join(dir, "cli");
    const get = await canon(vc, "get", "/DCIM/100CANON/IMG_0003.JPG", "-o", other);
    assert.equal(get.code, 0, get.err);
    assert.equal(
      (await Deno.stat(join(other, "IMG_0003.JPG"))).mtime!.getTime(),
      listed.date!.getTime(),
    );
  });
});

Deno.test("the temporary name fits in 255 bytes whatever the final name", async () => {
  for (const label of ["A".repeat(255), "é".repeat(127), "IMG_0001.JPG", "😀".repeat(70)]) {
    const name = temporaryName(label);
    assert.ok(new TextEncoder().encode(name).length <= 255, `${name.length} chars`);
    assert.ok(name.startsWith(".") && name.endsWith(".partial"));
    assert.ok(!name.includes("\uFFFD"), "cut at a character boundary");
  }
  await inTempDir(async (dir) => {
    await using cam = await Camera.connect(new VirtualCamera());
    for (const length of [238, 250, 255]) {
      const target = join(dir, `${"P".repeat(length - 4)}.JPG`);
      const result = await cam.storage.download("/DCIM/100CANON/IMG_0001.JPG", target);
      assert.equal((await Deno.stat(target)).size, result.size);
    }
  });
});
