// Tier 2: cam.storage over an in-process VirtualCamera and its MemoryCard.
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  Camera,
  CameraClosedError,
  CameraStatusError,
  CardPathNotFoundError,
  ProtocolError,
} from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { MemoryCard } from "../src/emulator/card/memory_card.ts";
import type { CardFileSystem, CardNode } from "../src/emulator/card/card_model.ts";

const GET_FILE = { cmd1: 0x01, cmd2: 0x11 };

function cardBytes(card: CardFileSystem, path: string): Uint8Array {
  const segments = path.split("/").filter(Boolean);
  const node = card.find(segments)!;
  return card.read(segments, 0, node.size);
}

async function connect(card?: CardFileSystem | false) {
  const vc = new VirtualCamera(card === undefined ? {} : { card });
  const cam = await Camera.connect(vc, { timeout: 1000 });
  return { vc, cam };
}

function jpegSize(jpeg: Uint8Array): { width: number; height: number } {
  let offset = 2;
  while (offset < jpeg.length) {
    const marker = jpeg[offset + 1];
    const length = (jpeg[offset + 2] << 8) | jpeg[offset + 3];
    if (marker >= 0xc0 && marker <= 0xc2) {
      return {
        height: (jpeg[offset + 5] << 8) | jpeg[offset + 6],
        width: (jpeg[offset + 7] << 8) | jpeg[offset + 8],
      };
    }
    offset += 2 + length;
  }
  throw new Error("no SOF marker");
}

Deno.test("info: drive D:, capacity and free space in bytes, consistent with the card", async () => {
  const { vc, cam } = await connect();
  await using _ = cam;
  const info = await cam.storage.info();
  assert.equal(info.drive, "D:");
  assert.equal(info.capacity, Math.floor(vc.card!.capacity / 1024) * 1024);
  assert.equal(info.free, Math.floor(vc.card!.free / 1024) * 1024);
  assert.ok(info.free < info.capacity);
});

Deno.test("list: a directory's contents, and the whole tree with recursive", async () => {
  const { vc, cam } = await connect();
  await using _ = cam;
  const dcim = await cam.storage.list("/DCIM");
  assert.deepEqual(dcim.map((e) => [e.name, e.isDirectory]), [
    ["100CANON", true],
    ["CANONMSC", true],
    ["101CANON", true],
  ]);
  const tree = await cam.storage.list("/", { recursive: true });
  const files = tree.filter((e) => !e.isDirectory);
  const expected = (vc.card as MemoryCard).snapshot().filter((e) => !e.isDirectory);
  assert.deepEqual(files.map((e) => [e.path, e.size]), expected.map((e) => [e.path, e.size]));
  const first = files.find((e) => e.path === "/DCIM/100CANON/IMG_0001.JPG")!;
  assert.equal(first.downloaded, true);
  assert.equal(first.protected, false);
  assert.ok(first.date instanceof Date && first.date.getFullYear() === 2003);
  assert.equal(files.find((e) => e.name === "IMG_0002.JPG")!.protected, true);
  assert.equal(files.find((e) => e.name === "IMG_0004.JPG")!.downloaded, false);
  const walked = [];
  for await (const entry of cam.storage.walk("/DCIM")) walked.push(entry.path);
  assert.ok(walked.includes("/DCIM/101CANON/IMG_0102.JPG"));
});

Deno.test("list: an empty directory is empty; a missing one is CardPathNotFoundError", async () => {
  const { cam } = await connect();
  await using _ = cam;
  await cam.storage.mkdir("/DCIM/102CANON");
  assert.deepEqual(await cam.storage.list("/DCIM/102CANON"), []);
  await assert.rejects(() => cam.storage.list("/DCIM/999CANON"), (e: Error) => {
    assert.ok(e instanceof CardPathNotFoundError);
    assert.match(e.message, /no directory \/DCIM\/999CANON on the camera's card/);
    return true;
  });
});

Deno.test("list: a directory of 2,000 files", async () => {
  const content = Array.from({ length: 2000 }, (_, i) => ({
    path: `/DCIM/100CANON/IMG_${String(i + 1).padStart(4, "0")}.JPG`,
    size: 300 + i,
  }));
  const { cam } = await connect(new MemoryCard({ content }));
  await using _ = cam;
  const entries = await cam.storage.list("/DCIM/100CANON");
  assert.equal(entries.length, 2000);
  assert.equal(entries[1999].name, "IMG_2000.JPG");
  assert.equal(entries[1999].size, 2299);
});

Deno.test("download: bytes identical to the card, progress reaches the total, no temp file left", async () => {
  const dir = await Deno.makeTempDir();
  const { vc, cam } = await connect();
  await using _ = cam;
  const progress: number[] = [];
  const result = await cam.storage.download("/DCIM/100CANON/CRW_0006.CRW", dir, {
    onProgress: (done, total) => progress.push(done / total),
  });
  assert.equal(result.file, join(dir, "CRW_0006.CRW"));
  assert.deepEqual(
    await Deno.readFile(result.file!),
    cardBytes(vc.card!, "/DCIM/100CANON/CRW_0006.CRW"),
  );
  assert.equal(progress.at(-1), 1);
  assert.ok(progress.length > 10, "progress is reported as chunks arrive");
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["CRW_0006.CRW"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("download: files of several write blocks, and of an exact number of them, arrive byte for byte", async () => {
  // Storage.download gathers chunks into 256 KiB blocks before writing: sizes
  // around the block boundaries, a remainder of one byte, and a whole number of blocks.
  const sizes = [2_000_003, 512 * 1024, 256 * 1024 + 1, 256 * 1024 - 1, 1];
  const content = sizes.map((size, i) => ({ path: `/DCIM/100CANON/MVI_000${i}.AVI`, size }));
  const { vc, cam } = await connect(new MemoryCard({ content }));
  await using _ = cam;
  const dir = await Deno.makeTempDir();
  for (const { path, size } of content) {
    const result = await cam.storage.download(path, `${dir}/`);
    assert.equal(result.size, size);
    assert.deepEqual(await Deno.readFile(result.file!), cardBytes(vc.card!, path));
  }
  assert.equal([...Deno.readDirSync(dir)].length, sizes.length);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("open: a file as a stream of its bytes, identical to the card", async () => {
  const { vc, cam } = await connect(
    new MemoryCard({ content: [{ path: "/DCIM/100CANON/MVI_0001.AVI", size: 2_000_000 }] }),
  );
  await using _ = cam;
  const chunks: Uint8Array[] = [];
  for await (const chunk of cam.storage.open("/dcim/100canon/mvi_0001.avi")) chunks.push(chunk);
  assert.ok(chunks.length > 10, "the file arrives in chunks");
  const joined = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  chunks.reduce((at, c) => (joined.set(c, at), at + c.length), 0);
  assert.deepEqual(joined, cardBytes(vc.card!, "/DCIM/100CANON/MVI_0001.AVI"));
  assert.equal((await cam.storage.stat("/DCIM/100CANON/MVI_0001.AVI")).size, 2_000_000);
});

Deno.test("open: cancelling the stream midway stops the transfer; the camera takes the next command", async () => {
  const { vc, cam } = await connect(
    new MemoryCard({
      content: [
        { path: "/DCIM/100CANON/MVI_0001.AVI", size: 2_000_000 },
        { path: "/DCIM/100CANON/IMG_0002.JPG", size: 30_000 },
      ],
    }),
  );
  await using _ = cam;
  const reader = cam.storage.open("/DCIM/100CANON/MVI_0001.AVI").getReader();
  let got = 0;
  while (got < 100_000) got += (await reader.read()).value!.length;
  await reader.cancel();
  assert.ok(got < 2_000_000);
  assert.equal((await cam.identify()).modelName, "Canon PowerShot G3");
  assert.deepEqual(
    await cam.storage.read("/DCIM/100CANON/IMG_0002.JPG"),
    cardBytes(vc.card!, "/DCIM/100CANON/IMG_0002.JPG"),
  );
  // An abort signal errors the stream with its reason, and the camera stays usable too.
  const controller = new AbortController();
  const aborted = cam.storage.open("/DCIM/100CANON/MVI_0001.AVI", { signal: controller.signal });
  await assert.rejects(async () => {
    let seen = 0;
    for await (const chunk of aborted) {
      seen += chunk.length;
      if (seen > 100_000) controller.abort();
    }
  }, (e: Error) => e.name === "AbortError");
  assert.equal((await cam.storage.list("/DCIM/100CANON")).length, 2);
});

Deno.test("open and stat: a missing file is CardPathNotFoundError; stat gives the listing's entry", async () => {
  const { cam } = await connect();
  await using _ = cam;
  await assert.rejects(async () => {
    for await (const _chunk of cam.storage.open("/DCIM/100CANON/NOPE.JPG")) {
      throw new Error("no bytes of a missing file");
    }
  }, CardPathNotFoundError);
  await assert.rejects(() => cam.storage.stat("/DCIM/100CANON/NOPE.JPG"), CardPathNotFoundError);
  const listed = (await cam.storage.list("/DCIM/100CANON")).find((e) => e.name === "IMG_0001.JPG");
  assert.deepEqual(await cam.storage.stat("/dcim/100canon/img_0001.jpg"), listed);
  assert.equal((await cam.storage.stat("/DCIM")).isDirectory, true);
  assert.equal((await cam.storage.stat("/")).path, "/");
});

Deno.test("download: an existing file is never overwritten unless asked", async () => {
  const dir = await Deno.makeTempDir();
  const target = join(dir, "photo.jpg");
  await Deno.writeTextFile(target, "mine");
  const { vc, cam } = await connect();
  await using _ = cam;
  await assert.rejects(
    () => cam.storage.download("/DCIM/100CANON/IMG_0001.JPG", target),
    (e: Error) => e instanceof Deno.errors.AlreadyExists && /overwrite: true/.test(e.message),
  );
  assert.equal(await Deno.readTextFile(target), "mine");
  await cam.storage.download("/DCIM/100CANON/IMG_0001.JPG", target, { overwrite: true });
  assert.deepEqual(await Deno.readFile(target), cardBytes(vc.card!, "/DCIM/100CANON/IMG_0001.JPG"));
  assert.equal([...Deno.readDirSync(dir)].length, 1);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("download: to a WritableStream, memory bounded by the chunk", async () => {
  const { vc, cam } = await connect(
    new MemoryCard({ content: [{ path: "/DCIM/100CANON/BIG_0001.AVI", size: 3_000_000 }] }),
  );
  await using _ = cam;
  let largest = 0;
  let total = 0;
  const hash = new Uint32Array(1);
  const stream = new WritableStream<Uint8Array>({
    write(chunk) {
      largest = Math.max(largest, chunk.length);
      for (const b of chunk) hash[0] = (hash[0] * 31 + b) >>> 0;
      total += chunk.length;
    },
  });
  const result = await cam.storage.download("/DCIM/100CANON/BIG_0001.AVI", stream);
  assert.equal(result.size, 3_000_000);
  assert.equal(total, 3_000_000);
  assert.ok(largest <= cam.transferLength, `largest chunk ${largest}`);
  const expected = new Uint32Array(1);
  for (const b of cardBytes(vc.card!, "/DCIM/100CANON/BIG_0001.AVI")) {
    expected[0] = (expected[0] * 31 + b) >>> 0;
  }
  assert.equal(hash[0], expected[0]);
});

Deno.test("download: aborting half-way leaves no file, and the camera stays usable", async () => {
  const dir = await Deno.makeTempDir();
  const { cam } = await connect(
    new MemoryCard({ content: [{ path: "/DCIM/100CANON/MVI_0001.AVI", size: 2_000_000 }] }),
  );
  await using _ = cam;
  const controller = new AbortController();
  await assert.rejects(
    () =>
      cam.storage.download("/DCIM/100CANON/MVI_0001.AVI", dir, {
        signal: controller.signal,
        onProgress: (done, total) => {
          if (done > total / 2) controller.abort();
        },
      }),
    (e: Error) => e.name === "AbortError",
  );
  assert.deepEqual([...Deno.readDirSync(dir)], []);
  assert.equal((await cam.identify()).modelName, "Canon PowerShot G3");
  assert.equal((await cam.storage.list("/DCIM/100CANON")).length, 1);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("download: the camera vanishing mid-download leaves no file and a clear error", async () => {
  const dir = await Deno.makeTempDir();
  const { vc, cam } = await connect();
  vc.faults.inject({ kind: "unplug", afterBytes: 0x40 + 0x2800 }, { command: GET_FILE });
  await assert.rejects(
    () => cam.storage.download("/DCIM/100CANON/CRW_0006.CRW", dir),
    (e: Error) => e instanceof CameraClosedError && /disconnected/.test(e.message),
  );
  assert.deepEqual([...Deno.readDirSync(dir)], []);
  assert.equal(cam.closed, true);
  await cam.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("download: a length claim beyond the model's limit is refused before reading", async () => {
  const { vc, cam } = await connect();
  await using _ = cam;
  vc.faults.inject({ kind: "length-claim", length: 0xfffffff0 }, { command: GET_FILE });
  await assert.rejects(
    () => cam.storage.read("/DCIM/100CANON/IMG_0001.JPG"),
    (e: Error) => e instanceof ProtocolError && /announces 4294967280/.test(e.message),
  );
  assert.equal((await cam.storage.read("/DCIM/100CANON/IMG_0001.JPG")).length, 29380);
});

Deno.test("download: a missing file is CardPathNotFoundError", async () => {
  const { cam } = await connect();
  await using _ = cam;
  await assert.rejects(() => cam.storage.read("/DCIM/100CANON/NOPE.JPG"), CardPathNotFoundError);
});

/** A card that lists one hostile name (as a broken or malicious device could). */
class HostileCard extends MemoryCard {
  override find(path: readonly string[]): CardNode | undefined {
    const node = super.find(path);
    if (!node?.children) return node;
    const evil: CardNode = { ...node.children[0], name: "..\\..\\EVIL.JPG" };
    return { ...node, children: [...node.children, evil] };
  }
}

Deno.test("a hostile file name in a listing is refused with a clear error", async () => {
  const { cam } = await connect(new HostileCard());
  await using _ = cam;
  await assert.rejects(() => cam.storage.list("/DCIM/100CANON"), (e: Error) => {
    assert.ok(e instanceof ProtocolError, String(e));
    assert.match(e.message, /named "\.\.\\\\\.\.\\\\EVIL\.JPG", which is refused/);
    return true;
  });
});

Deno.test("thumbnail: the EXIF thumbnail of a JPEG, the .THM of a CRW or AVI", async () => {
  const { vc, cam } = await connect();
  await using _ = cam;
  const thumb = await cam.storage.thumbnail("/DCIM/100CANON/IMG_0001.JPG");
  assert.deepEqual([...thumb.subarray(0, 2)], [0xff, 0xd8]);
  assert.deepEqual([...thumb.subarray(-2)], [0xff, 0xd9]);
  assert.deepEqual(jpegSize(thumb), { width: 160, height: 120 });
  const crw = await cam.storage.thumbnail("/DCIM/100CANON/CRW_0006.CRW");
  assert.deepEqual(crw, cardBytes(vc.card!, "/DCIM/100CANON/CRW_0006.THM"));
  const avi = await cam.storage.thumbnail("/DCIM/100CANON/MVI_0007.AVI");
  assert.deepEqual(avi, cardBytes(vc.card!, "/DCIM/100CANON/MVI_0007.THM"));
});

Deno.test("delete: the file goes; a CRW takes its THM along; a protected file is refused", async () => {
  const { vc, cam } = await connect();
  await using _ = cam;
  await cam.storage.delete("/DCIM/100CANON/IMG_0001.JPG");
  await cam.storage.delete("/DCIM/100CANON/CRW_0006.CRW");
  const names = (await cam.storage.list("/DCIM/100CANON")).map((e) => e.name);
  assert.ok(!names.includes("IMG_0001.JPG"));
  assert.ok(!names.includes("CRW_0006.CRW") && !names.includes("CRW_0006.THM"));
  await assert.rejects(() => cam.storage.delete("/DCIM/100CANON/IMG_0002.JPG"), (e: Error) => {
    assert.ok(e instanceof CameraStatusError);
    assert.equal(e.status, 0x02000029);
    assert.match(e.message, /file protected.*unprotect it first/);
    return true;
  });
  assert.ok(vc.card!.find(["DCIM", "100CANON", "IMG_0002.JPG"]));
  await assert.rejects(() => cam.storage.delete("/DCIM/100CANON/GONE.JPG"), CardPathNotFoundError);
});

Deno.test("protect, unprotect and mark downloaded change what the listing shows", async () => {
  const { cam } = await connect();
  await using _ = cam;
  const path = "/DCIM/100CANON/IMG_0004.JPG";
  const entry = async () =>
    (await cam.storage.list("/DCIM/100CANON")).find((e) => e.path === path)!;
  assert.deepEqual([(await entry()).protected, (await entry()).downloaded], [false, false]);
  await cam.storage.setProtected(path, true);
  assert.equal((await entry()).protected, true);
  assert.equal((await entry()).downloaded, false, "protecting keeps the new mark");
  await assert.rejects(() => cam.storage.delete(path), CameraStatusError);
  await cam.storage.markDownloaded(path);
  assert.deepEqual([(await entry()).protected, (await entry()).downloaded], [true, true]);
  await cam.storage.setProtected(path, false);
  await cam.storage.delete(path);
});

Deno.test("mkdir and rmdir; removing a non-empty directory is refused", async () => {
  const { vc, cam } = await connect();
  await using _ = cam;
  await cam.storage.mkdir("/DCIM/102CANON");
  assert.ok(vc.card!.find(["DCIM", "102CANON"])?.isDirectory);
  await cam.storage.rmdir("/DCIM/102CANON");
  assert.equal(vc.card!.find(["DCIM", "102CANON"]), undefined);
  await assert.rejects(() => cam.storage.rmdir("/DCIM/100CANON"), CameraStatusError);
});

Deno.test("mkdir sends a Latin-1 name as one byte per character (Ä is 0xC4)", async () => {
  const vc = new VirtualCamera();
  const sent: Uint8Array[] = [];
  // The device as the library sees it, with every command (a control OUT) copied aside.
  const device = new Proxy(vc, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (key === "controlTransferOut") {
        return (...args: Parameters<VirtualCamera["controlTransferOut"]>) => {
          const data = args[1];
          if (data !== undefined) {
            sent.push(
              ArrayBuffer.isView(data)
                ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice()
                : new Uint8Array(data).slice(),
            );
          }
          return vc.controlTransferOut(...args);
        };
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const cam = await Camera.connect(device, { timeout: 1000 });
  await using _ = cam;
  const has = (bytes: Uint8Array, needle: number[]) =>
    bytes.some((_, i) => needle.every((b, k) => bytes[i + k] === b));
  sent.length = 0;
  // The virtual card takes ASCII 8.3 names only, so it refuses the directory:
  // what matters is the name on the wire.
  await assert.rejects(() => cam.storage.mkdir("/DCIM/Ä"), CameraStatusError);
  assert.ok(sent.some((b) => has(b, [0x5c, 0x44, 0x43, 0x49, 0x4d, 0x5c, 0xc4, 0x00])));
  assert.ok(!sent.some((b) => has(b, [0xc3, 0x84])), "no UTF-8 on the wire");
  sent.length = 0;
  await assert.rejects(() => cam.storage.mkdir("/DCIM/€"), RangeError);
  assert.ok(!sent.some((b) => has(b, [0x5c, 0x44, 0x43, 0x49, 0x4d, 0x5c])), "nothing sent");
  await cam.storage.mkdir("/DCIM/102CANON");
  assert.ok(vc.card!.find(["DCIM", "102CANON"])?.isDirectory);
});

Deno.test("upload: a file spanning several blocks arrives intact with a time", async () => {
  const { vc, cam } = await connect();
  await using _ = cam;
  const bytes = Uint8Array.from({ length: 0x1400 * 3 + 123 }, (_, i) => (i * 7) & 0xff);
  const path = await cam.storage.upload(bytes, "/DCIM/100CANON", { name: "aut_0001.jpg" });
  assert.equal(path, "/DCIM/100CANON/AUT_0001.JPG");
  assert.deepEqual(await cam.storage.read(path), bytes);
  const node = vc.card!.find(["DCIM", "100CANON", "AUT_0001.JPG"])!;
  assert.notEqual(node.mtime, 0xffffffff);
  const listed = (await cam.storage.list("/DCIM/100CANON")).find((e) => e.path === path)!;
  assert.equal(listed.size, bytes.length);
});

Deno.test("no card: info fails with the camera's 'no storage card' status", async () => {
  const { cam } = await connect(false);
  await using _ = cam;
  await assert.rejects(
    () => cam.storage.info(),
    (e: Error) => e instanceof CameraStatusError && e.status === 0x02000087,
  );
});
