/**
 * The virtual camera's memory card: default content as gphoto2 needs it,
 * determinism, free-space accounting, every operation's success and failure
 * statuses, huge lazily computed files.
 */

import assert from "node:assert/strict";
import { CARD_STATUS, CardError } from "../src/emulator/card/card_model.ts";
import { decodeJpeg } from "../src/emulator/card/media/jpeg.ts";
import { contentPathNames, DEFAULT_START_TIME } from "../src/emulator/card/card_content.ts";
import { MemoryCard } from "../src/emulator/card/memory_card.ts";

const MiB = 1024 * 1024;

function path(p: string): string[] {
  return p.split("/").filter((n) => n.length > 0);
}

function readAll(card: MemoryCard, p: string): Uint8Array {
  const size = card.find(path(p))!.size;
  return card.read(path(p), 0, size);
}

/** Asserts that `f` throws a CardError with `status`. */
function assertStatus(f: () => unknown, status: number, what: string): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof CardError, `${what}: expected a CardError, got ${e}`);
    assert.equal(
      e.status,
      status,
      `${what}: status 0x${e.status.toString(16)}, expected 0x${status.toString(16)}`,
    );
    return true;
  });
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes.slice());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Tiny EXIF reader: IFD0 tag → ASCII string, and the IFD1 thumbnail. Independent of the writer. */
function readExif(jpeg: Uint8Array): { ascii: Map<number, string>; thumbnail?: Uint8Array } {
  assert.deepEqual([...jpeg.subarray(0, 4)], [0xff, 0xd8, 0xff, 0xe1]);
  const tiff = jpeg.subarray(12, 4 + ((jpeg[4] << 8) | jpeg[5]));
  const v = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const ascii = new Map<number, string>();
  const ifd0 = v.getUint32(4, true);
  const count = v.getUint16(ifd0, true);
  for (let i = 0; i < count; i++) {
    const p = ifd0 + 2 + 12 * i;
    if (v.getUint16(p + 2, true) !== 2) continue;
    const n = v.getUint32(p + 4, true);
    const at = n <= 4 ? p + 8 : v.getUint32(p + 8, true);
    ascii.set(v.getUint16(p, true), new TextDecoder().decode(tiff.subarray(at, at + n - 1)));
  }
  const ifd1 = v.getUint32(ifd0 + 2 + 12 * count, true);
  if (ifd1 === 0) return { ascii };
  let at = 0;
  let length = 0;
  for (let i = 0; i < v.getUint16(ifd1, true); i++) {
    const p = ifd1 + 2 + 12 * i;
    if (v.getUint16(p, true) === 0x0201) at = v.getUint32(p + 8, true);
    if (v.getUint16(p, true) === 0x0202) length = v.getUint32(p + 8, true);
  }
  return { ascii, thumbnail: tiff.slice(at, at + length) };
}

function exifDate(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 19).replace(/-/g, ":").replace("T", " ");
}

// ---------------------------------------------------------------------------
// Default content

const EXPECTED_LAYOUT: [string, number][] = [
  ["/DCIM", -1],
  ["/DCIM/100CANON", -1],
  ["/DCIM/100CANON/IMG_0001.JPG", 0x00],
  ["/DCIM/100CANON/IMG_0002.JPG", 0x01],
  ["/DCIM/100CANON/IMG_0003.JPG", 0x00],
  ["/DCIM/100CANON/IMG_0004.JPG", 0x20],
  ["/DCIM/100CANON/IMG_0005.JPG", 0x20],
  ["/DCIM/100CANON/CRW_0006.CRW", 0x20],
  ["/DCIM/100CANON/CRW_0006.THM", 0x20],
  ["/DCIM/100CANON/MVI_0007.AVI", 0x20],
  ["/DCIM/100CANON/MVI_0007.THM", 0x20],
  ["/DCIM/CANONMSC", -1],
  ["/DCIM/CANONMSC/100.CTG", 0x20],
  ["/DCIM/CANONMSC/101.CTG", 0x20],
  ["/DCIM/101CANON", -1],
  ["/DCIM/101CANON/IMG_0101.JPG", 0x20],
  ["/DCIM/101CANON/IMG_0102.JPG", 0x20],
  ["/MISC", -1],
  ["/MISC/AUTPRINT.MRK", 0x20],
];

Deno.test("the default card holds a realistic DCF layout in camera order", () => {
  const card = new MemoryCard();
  const snapshot = card.snapshot();
  assert.deepEqual(
    snapshot.map((e) => [e.path, e.isDirectory ? -1 : e.attributes]),
    EXPECTED_LAYOUT,
  );
  const files = snapshot.filter((e) => !e.isDirectory);
  for (const f of files) {
    const name = f.path.split("/").pop()!;
    assert.match(name, /^[A-Z0-9_]{1,8}\.[A-Z0-9]{3}$/, "upper-case 8.3 with one dot");
    assert.ok(f.size >= 256, `${f.path} is ${f.size} bytes; gphoto2 rejects < 256`);
    assert.ok(f.mtime > 0, `${f.path} has a time`);
  }
  assert.equal(files[0].mtime, DEFAULT_START_TIME);
  for (const dir of ["/DCIM/100CANON", "/DCIM/101CANON"]) {
    const times = files.filter((f) => f.path.startsWith(dir + "/")).map((f) => f.mtime);
    assert.deepEqual(times, [...times].sort((a, b) => a - b), `${dir} times increase`);
    assert.equal(new Set(times).size, times.length);
  }
  // The root and directories as CardNodes.
  const root = card.find([])!;
  assert.ok(root.isDirectory);
  assert.deepEqual(root.children!.map((c) => c.name), ["DCIM", "MISC"]);
  const img = card.find(path("/DCIM/100CANON/IMG_0001.JPG"))!;
  assert.equal(img.isDirectory, false);
  assert.equal(img.children, undefined);
  assert.equal(card.find(path("/DCIM/100CANON/IMG_9999.JPG")), undefined);
  assert.equal(card.find(path("dcim/100canon/img_0001.jpg"))?.name, "IMG_0001.JPG", "FAT names");
});

Deno.test("every default JPEG decodes and its EXIF matches the file's time and the model", () => {
  const card = new MemoryCard({ model: "Canon PowerShot S45" });
  const jpegs = card.snapshot().filter((e) => /\.(JPG|THM)$/.test(e.path));
  assert.equal(jpegs.length, 9);
  for (const f of jpegs) {
    const bytes = readAll(card, f.path);
    const picture = decodeJpeg(bytes);
    const isThm = f.path.endsWith(".THM");
    assert.deepEqual([picture.width, picture.height], isThm ? [160, 120] : [640, 480], f.path);
    const exif = readExif(bytes);
    assert.equal(exif.ascii.get(0x010f), "Canon");
    assert.equal(exif.ascii.get(0x0110), "Canon PowerShot S45", `${f.path} Model`);
    assert.equal(exif.ascii.get(0x0132), exifDate(f.mtime), `${f.path} DateTime = mtime`);
    assert.ok(exif.thumbnail, `${f.path} has an IFD1 thumbnail`);
    const thumb = decodeJpeg(exif.thumbnail);
    assert.deepEqual([thumb.width, thumb.height], [160, 120], `${f.path} thumbnail size`);
  }
});

Deno.test("thumbnailBlob of a JPEG is its head through the EXIF segment, with the thumbnail", () => {
  const card = new MemoryCard();
  const p = path("/DCIM/100CANON/IMG_0004.JPG");
  const file = readAll(card, "/DCIM/100CANON/IMG_0004.JPG");
  const blob = card.thumbnailBlob(p)!;
  assert.ok(blob.length >= 256 && blob.length < file.length);
  assert.deepEqual(blob, file.subarray(0, blob.length), "the leading bytes of the file");
  assert.equal(blob.length, 4 + ((file[4] << 8) | file[5]), "ends where APP1 ends");
  const thumb = readExif(blob).thumbnail!;
  assert.deepEqual([decodeJpeg(thumb).width, decodeJpeg(thumb).height], [160, 120]);
  // Raw files and movies have separate .THM files; catalogues have nothing.
  for (const other of ["CRW_0006.CRW", "MVI_0007.AVI", "MVI_0007.THM"]) {
    assert.equal(card.thumbnailBlob(["DCIM", "100CANON", other]), undefined, other);
  }
  assert.equal(card.thumbnailBlob(path("/DCIM/CANONMSC/100.CTG")), undefined);
  assertStatus(
    () => card.thumbnailBlob(path("/DCIM/100CANON/IMG_0042.JPG")),
    CARD_STATUS.FILE_NOT_FOUND,
    "missing",
  );
});

Deno.test("the default movie is an AVI with 8 MJPEG frames; the CRW is CIFF", () => {
  const card = new MemoryCard();
  const avi = readAll(card, "/DCIM/100CANON/MVI_0007.AVI");
  const v = new DataView(avi.buffer);
  assert.equal(new TextDecoder().decode(avi.subarray(0, 4)), "RIFF");
  assert.equal(v.getUint32(4, true), avi.length - 8);
  assert.equal(new TextDecoder().decode(avi.subarray(8, 12)), "AVI ");
  const id = (p: number) => new TextDecoder().decode(avi.subarray(p, p + 4));
  assert.deepEqual([id(12), id(20), id(24)], ["LIST", "hdrl", "avih"]);
  assert.equal(v.getUint32(32 + 16, true), 8, "dwTotalFrames");
  const chunks: string[] = [];
  const next = (p: number) => p + 8 + v.getUint32(p + 4, true) + (v.getUint32(p + 4, true) & 1);
  for (let p = 12; p < avi.length; p = next(p)) {
    chunks.push(id(p) === "LIST" ? id(p + 8) : id(p));
    if (id(p) !== "LIST" || id(p + 8) !== "movi") continue;
    for (let q = p + 12; q < next(p); q = next(q)) {
      chunks.push(id(q));
      const frame = decodeJpeg(avi.slice(q + 8, q + 8 + v.getUint32(q + 4, true)));
      assert.deepEqual([frame.width, frame.height], [160, 120]);
    }
  }
  assert.deepEqual(chunks, ["hdrl", "movi", ...new Array(8).fill("00dc"), "idx1"]);
  const crw = readAll(card, "/DCIM/100CANON/CRW_0006.CRW");
  assert.equal(new TextDecoder().decode(crw.subarray(0, 2)), "II");
  assert.equal(new TextDecoder().decode(crw.subarray(6, 14)), "HEAPCCDR");
});

Deno.test("default content is byte-identical across processes (SHA-256 of every file)", async () => {
  const card = new MemoryCard();
  const local: Record<string, string> = {};
  for (const f of card.snapshot().filter((e) => !e.isDirectory)) {
    local[f.path] = await sha256(readAll(card, f.path));
  }
  // A fresh process generates everything from scratch (no shared cache, cold JIT).
  const script = `
    import { MemoryCard } from ${
    JSON.stringify(new URL("../src/emulator/card/memory_card.ts", import.meta.url).href)
  };
    const card = new MemoryCard();
    const out = {};
    for (const f of card.snapshot().filter((e) => !e.isDirectory)) {
      const data = card.read(f.path.split("/").slice(1), 0, f.size);
      const d = new Uint8Array(await crypto.subtle.digest("SHA-256", data));
      out[f.path] = Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
    }
    console.log(JSON.stringify(out));
  `;
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
  assert.deepEqual(JSON.parse(new TextDecoder().decode(result.stdout)), local);
  // And two cards in one process agree.
  const again = new MemoryCard();
  for (const f of again.snapshot().filter((e) => !e.isDirectory)) {
    assert.equal(await sha256(readAll(again, f.path)), local[f.path], f.path);
  }
});

Deno.test("a card is cheap to create; generating all default content stays fast", () => {
  const t0 = performance.now();
  const card = new MemoryCard({ startTime: 0x40000000 }); // new dates: nothing cached yet
  const created = performance.now() - t0;
  const total = card.snapshot().reduce((n, e) => n + e.size, 0);
  const generated = performance.now() - t0;
  assert.ok(total > 500_000);
  assert.ok(created < 50, `creating a card took ${created.toFixed(0)} ms`);
  // The budget is 300 ms on an idle machine; allow for a loaded test runner.
  assert.ok(generated < 1500, `generating the default content took ${generated.toFixed(0)} ms`);
});

// ---------------------------------------------------------------------------
// Capacity and free space

Deno.test("free space is capacity minus the files rounded up to whole clusters", () => {
  const card = new MemoryCard();
  const clusters = (n: number) => Math.ceil(n / 16384) * 16384;
  const used = card.snapshot().reduce((n, e) => n + clusters(e.size), 0);
  assert.equal(card.capacity, 128_450_560);
  assert.equal(card.free, card.capacity - used);

  const small = new MemoryCard({
    content: [{ path: "/A.BIN", bytes: new Uint8Array(1000) }],
    capacity: 10 * 4096,
    clusterSize: 4096,
  });
  assert.equal(small.free, 9 * 4096);
  small.write(["B.BIN"], 0, new Uint8Array(4097));
  assert.equal(small.free, 7 * 4096);
  small.delete(["A.BIN"]);
  assert.equal(small.free, 8 * 4096);
  assert.throws(
    () => new MemoryCard({ content: [{ path: "/BIG.BIN", size: 5000 }], capacity: 4096 }),
    RangeError,
  );
});

// ---------------------------------------------------------------------------
// Operations

Deno.test("mkdir appends a directory; existing, parentless and invalid names fail", () => {
  const card = new MemoryCard({ clock: () => 0x41000000 });
  card.mkdir(["DCIM", "102CANON"]);
  const dcim = card.find(["DCIM"])!;
  assert.deepEqual(dcim.children!.map((c) => c.name), [
    "100CANON",
    "CANONMSC",
    "101CANON",
    "102CANON",
  ]);
  const made = card.find(["DCIM", "102CANON"])!;
  assert.ok(made.isDirectory);
  assert.equal(made.mtime, 0x41000000);
  card.mkdir(["new"]);
  assert.equal(card.find([])!.children!.at(-1)!.name, "NEW", "names are stored upper-case");
  assertStatus(() => card.mkdir(["DCIM", "102CANON"]), CARD_STATUS.PATH_NOT_FOUND, "exists");
  assertStatus(
    () => card.mkdir(["DCIM", "100CANON", "IMG_0001.JPG"]),
    CARD_STATUS.PATH_NOT_FOUND,
    "file exists",
  );
  assertStatus(() => card.mkdir(["NOPE", "SUB"]), CARD_STATUS.PATH_NOT_FOUND, "no parent");
  assertStatus(
    () => card.mkdir(["DCIM", "100CANON", "IMG_0001.JPG", "X"]),
    CARD_STATUS.PATH_NOT_FOUND,
    "parent is a file",
  );
  assertStatus(() => card.mkdir(["TOOLONGNAME"]), CARD_STATUS.PATH_NOT_FOUND, "not 8.3");
  assertStatus(() => card.mkdir(["A.B.C"]), CARD_STATUS.PATH_NOT_FOUND, "two dots");
  assertStatus(() => card.mkdir([]), CARD_STATUS.PATH_NOT_FOUND, "root");
});

Deno.test("rmdir removes only existing empty directories", () => {
  const card = new MemoryCard();
  card.mkdir(["TMP"]);
  card.rmdir(["TMP"]);
  assert.equal(card.find(["TMP"]), undefined);
  assertStatus(() => card.rmdir(["DCIM", "100CANON"]), CARD_STATUS.PATH_NOT_FOUND, "not empty");
  assertStatus(() => card.rmdir(["TMP"]), CARD_STATUS.PATH_NOT_FOUND, "missing");
  assertStatus(() => card.rmdir(["NOPE", "TMP"]), CARD_STATUS.PATH_NOT_FOUND, "missing parent");
  assertStatus(
    () => card.rmdir(["DCIM", "100CANON", "IMG_0001.JPG"]),
    CARD_STATUS.PATH_NOT_FOUND,
    "a file",
  );
  assertStatus(() => card.rmdir([]), CARD_STATUS.PATH_NOT_FOUND, "root");
});

Deno.test("delete removes files, refuses protected ones, reports what is missing", () => {
  const card = new MemoryCard();
  const dir = ["DCIM", "100CANON"];
  card.delete([...dir, "IMG_0001.JPG"]);
  assert.equal(card.find([...dir, "IMG_0001.JPG"]), undefined);
  assert.equal(card.find(dir)!.children![0].name, "IMG_0002.JPG");
  assertStatus(
    () => card.delete([...dir, "IMG_0001.JPG"]),
    CARD_STATUS.FILE_NOT_FOUND,
    "deleted twice",
  );
  assertStatus(
    () => card.delete([...dir, "IMG_0002.JPG"]),
    CARD_STATUS.FILE_PROTECTED,
    "protected",
  );
  assert.ok(card.find([...dir, "IMG_0002.JPG"]), "the protected file is still there");
  assertStatus(
    () => card.delete(["DCIM", "999CANON", "IMG_0001.JPG"]),
    CARD_STATUS.PATH_NOT_FOUND,
    "no dir",
  );
  assertStatus(() => card.delete(["DCIM", "100CANON"]), CARD_STATUS.FILE_NOT_FOUND, "a directory");
  // Unprotect, then delete works.
  card.setAttributes([...dir, "IMG_0002.JPG"], 0x00);
  card.delete([...dir, "IMG_0002.JPG"]);
  assert.equal(card.find([...dir, "IMG_0002.JPG"]), undefined);
});

Deno.test("setAttributes and setMtime change a file; missing files fail", () => {
  const card = new MemoryCard();
  const p = ["DCIM", "100CANON", "IMG_0004.JPG"];
  assert.equal(card.find(p)!.attributes, 0x20);
  card.setAttributes(p, 0x00);
  assert.equal(card.find(p)!.attributes, 0x00, "downloaded");
  card.setAttributes(p, 0x01 | 0x10 | 0x80);
  assert.equal(card.find(p)!.attributes, 0x01, "directory bits are not settable");
  card.setMtime(p, 0x3f000000);
  assert.equal(card.find(p)!.mtime, 0x3f000000);
  assertStatus(
    () => card.setAttributes(["DCIM", "100CANON", "X.JPG"], 0),
    CARD_STATUS.FILE_NOT_FOUND,
    "attr",
  );
  assertStatus(
    () => card.setAttributes(["NODIR", "X.JPG"], 0),
    CARD_STATUS.PATH_NOT_FOUND,
    "attr dir",
  );
  assertStatus(
    () => card.setMtime(["DCIM", "100CANON", "X.JPG"], 1),
    CARD_STATUS.FILE_NOT_FOUND,
    "time",
  );
  assertStatus(() => card.setMtime(["NODIR", "X.JPG"], 1), CARD_STATUS.PATH_NOT_FOUND, "time dir");
});

Deno.test("write uploads in blocks: creates as the camera leaves it, appends, then time and attributes", () => {
  const card = new MemoryCard();
  const p = ["DCIM", "100CANON", "AUT_0001.JPG"];
  const data = new Uint8Array(3 * 0x1400 + 77).map((_, i) => (i * 7) & 0xff);
  for (let offset = 0; offset < data.length; offset += 0x1400) {
    card.write(p, offset, data.subarray(offset, offset + 0x1400));
    if (offset === 0) {
      const node = card.find(p)!;
      assert.equal(node.attributes, 0x20, "not downloaded");
      assert.equal(node.mtime, -1, "time unset until the host sets it");
    }
  }
  assert.equal(card.find(["DCIM", "100CANON"])!.children!.at(-1)!.name, "AUT_0001.JPG", "appended");
  assert.deepEqual(card.read(p, 0, data.length), data);
  assert.deepEqual(card.read(p, 100, 10), data.subarray(100, 110));
  assert.equal(card.read(p, data.length, 10).length, 0, "nothing past the end");
  assert.equal(card.read(p, data.length - 3, 10).length, 3, "short at the end");
  card.setMtime(p, 0x3e500000);
  card.setAttributes(p, 0);
  assert.equal(card.find(p)!.mtime, 0x3e500000);
  // Overwriting within the file, and restarting at offset 0 replaces it.
  card.write(p, 2, new Uint8Array([1, 2]));
  assert.deepEqual([...card.read(p, 0, 5)], [data[0], data[1], 1, 2, data[4]]);
  card.write(p, 0, new Uint8Array(300));
  assert.equal(card.find(p)!.size, 300);
  assert.equal(
    card.find(["DCIM", "100CANON"])!.children!.filter((c) => c.name === "AUT_0001.JPG").length,
    1,
  );
  // Failures.
  assertStatus(() => card.write(p, 301, new Uint8Array(1)), CARD_STATUS.PATH_NOT_FOUND, "gap");
  assertStatus(
    () => card.write(["DCIM", "100CANON", "NEW.JPG"], 10, new Uint8Array(1)),
    CARD_STATUS.FILE_NOT_FOUND,
    "append to missing",
  );
  assertStatus(
    () => card.write(["NODIR", "A.JPG"], 0, new Uint8Array(1)),
    CARD_STATUS.PATH_NOT_FOUND,
    "no dir",
  );
  assertStatus(
    () => card.write(["DCIM", "100CANON", "IMG_0002.JPG"], 0, new Uint8Array(1)),
    CARD_STATUS.FILE_PROTECTED,
    "protected",
  );
  assertStatus(
    () => card.write(["DCIM", "100CANON"], 0, new Uint8Array(1)),
    CARD_STATUS.PATH_NOT_FOUND,
    "a directory",
  );
  assertStatus(
    () => card.write(["DCIM", "LONGFILENAME.JPG"], 0, new Uint8Array(1)),
    CARD_STATUS.PATH_NOT_FOUND,
    "not 8.3",
  );
  assertStatus(() => card.read(p, -1, 1), CARD_STATUS.PATH_NOT_FOUND, "negative offset");
});

Deno.test("write fails with CARD_FULL when the clusters run out, changing nothing", () => {
  const card = new MemoryCard({ content: "empty", capacity: 4 * 1024, clusterSize: 1024 });
  card.write(["A.BIN"], 0, new Uint8Array(3000));
  assert.equal(card.free, 1024);
  card.write(["A.BIN"], 3000, new Uint8Array(72)); // fills the third cluster exactly
  assert.equal(card.free, 1024);
  assertStatus(
    () => card.write(["B.BIN"], 0, new Uint8Array(1025)),
    CARD_STATUS.CARD_FULL,
    "new file",
  );
  assert.equal(card.find(["B.BIN"]), undefined, "nothing created");
  card.write(["A.BIN"], 3072, new Uint8Array(1024));
  assert.equal(card.free, 0);
  assertStatus(
    () => card.write(["A.BIN"], 4096, new Uint8Array(1)),
    CARD_STATUS.CARD_FULL,
    "append",
  );
  assert.equal(card.find(["A.BIN"])!.size, 4096);
  assertStatus(
    () => card.addFile("/C.JPG", new Uint8Array(1), 1),
    CARD_STATUS.CARD_FULL,
    "capture",
  );
  card.write(["Z.BIN"], 0, new Uint8Array(0)); // an empty file takes no cluster
  assert.equal(card.find(["Z.BIN"])!.size, 0);
});

Deno.test("without a card every operation fails with NO_CARD", () => {
  const card = new MemoryCard({ present: false });
  assert.equal(card.present, false);
  assert.equal(card.capacity, 0);
  assert.equal(card.free, 0);
  const f = ["DCIM", "100CANON", "IMG_0001.JPG"];
  const ops: [string, () => unknown][] = [
    ["find", () => card.find(f)],
    ["read", () => card.read(f, 0, 1)],
    ["thumbnailBlob", () => card.thumbnailBlob(f)],
    ["mkdir", () => card.mkdir(["X"])],
    ["rmdir", () => card.rmdir(["DCIM"])],
    ["delete", () => card.delete(f)],
    ["setAttributes", () => card.setAttributes(f, 0)],
    ["write", () => card.write(["X.JPG"], 0, new Uint8Array(1))],
    ["setMtime", () => card.setMtime(f, 1)],
    ["addFile", () => card.addFile("/X.JPG", new Uint8Array(1), 1)],
    ["nextImagePath", () => card.nextImagePath()],
    ["snapshot", () => card.snapshot()],
  ];
  for (const [name, op] of ops) assertStatus(op, CARD_STATUS.NO_CARD, name);
  card.present = true; // inserting the card brings the content back
  assert.equal(card.find(f)!.name, "IMG_0001.JPG");
  assert.ok(card.free > 0);
});

// ---------------------------------------------------------------------------
// Capture support

Deno.test("nextImagePath follows DCF numbering and addFile stores the capture", () => {
  const card = new MemoryCard();
  const next = card.nextImagePath();
  assert.equal(next, "/DCIM/101CANON/IMG_0103.JPG");
  const jpeg = readAll(card, "/DCIM/101CANON/IMG_0101.JPG");
  card.addFile(next, jpeg, 0x3e500000);
  const node = card.find(contentPathNames(next))!;
  assert.deepEqual([node.size, node.attributes, node.mtime], [jpeg.length, 0x20, 0x3e500000]);
  assert.equal(card.find(["DCIM", "101CANON"])!.children!.at(-1)!.name, "IMG_0103.JPG");
  assert.equal(card.nextImagePath(), "/DCIM/101CANON/IMG_0104.JPG");

  const empty = new MemoryCard({ content: "empty" });
  assert.equal(empty.snapshot().length, 0);
  assert.equal(empty.nextImagePath(), "/DCIM/100CANON/IMG_0001.JPG");
  empty.addFile("/DCIM/100CANON/IMG_0001.JPG", jpeg, 0x3e500000);
  assert.deepEqual(empty.snapshot().map((e) => e.path), [
    "/DCIM",
    "/DCIM/100CANON",
    "/DCIM/100CANON/IMG_0001.JPG",
  ]);
  assert.equal(
    empty.find(["DCIM"])!.mtime,
    0x3e500000,
    "created directories take the capture time",
  );

  const full = new MemoryCard({
    content: [
      { path: "/DCIM/100CANON/IMG_0050.JPG", bytes: new Uint8Array(256) },
      { path: "/DCIM/105CANON/IMG_9999.JPG", bytes: new Uint8Array(256) },
      { path: "/DCIM/106CANON", kind: "directory" },
    ],
  });
  assert.equal(full.nextImagePath(), "/DCIM/107CANON/IMG_0001.JPG", "rolls over after 9999");
  const emptyFolder = new MemoryCard({
    content: [
      { path: "/DCIM/100CANON/IMG_0050.JPG", bytes: new Uint8Array(256) },
      { path: "/DCIM/101CANON", kind: "directory" },
    ],
  });
  assert.equal(emptyFolder.nextImagePath(), "/DCIM/101CANON/IMG_0051.JPG", "numbering continues");
  assertStatus(
    () => card.addFile("/DCIM/100CANON/IMG_0002.JPG", jpeg, 1),
    CARD_STATUS.FILE_PROTECTED,
    "protected",
  );
  assertStatus(
    () => card.addFile("/DCIM/100CANON/IMG_0001.JPG/X.JPG", jpeg, 1),
    CARD_STATUS.PATH_NOT_FOUND,
    "file in the way",
  );
  assertStatus(() => card.addFile("DCIM/X.JPG", jpeg, 1), CARD_STATUS.PATH_NOT_FOUND, "relative");
});

// ---------------------------------------------------------------------------
// Custom content and huge files

Deno.test("custom content: bytes, directories, generated kinds; bad specs are rejected", () => {
  const card = new MemoryCard({
    content: [
      { path: "/DCIM/100CANON/IMG_0001.JPG", mtime: 0x3e000000, attributes: 0x01 },
      { path: "/DCIM/100CANON/NOTE.TXT", bytes: new TextEncoder().encode("hello"), mtime: 5 },
      { path: "/EMPTY", kind: "directory" },
      { path: "/DCIM/100CANON", kind: "directory" }, // already there: no duplicate
      { path: "/DCIM/100CANON/SMALL.JPG", kind: "jpeg", width: 320, height: 240, label: "HI" },
    ],
    model: "Canon EOS 10D",
  });
  assert.deepEqual(card.snapshot().map((e) => [e.path, e.attributes]), [
    ["/DCIM", 0],
    ["/DCIM/100CANON", 0],
    ["/DCIM/100CANON/IMG_0001.JPG", 0x01],
    ["/DCIM/100CANON/NOTE.TXT", 0x20],
    ["/DCIM/100CANON/SMALL.JPG", 0x20],
    ["/EMPTY", 0],
  ]);
  assert.equal(new TextDecoder().decode(readAll(card, "/DCIM/100CANON/NOTE.TXT")), "hello");
  const small = readAll(card, "/DCIM/100CANON/SMALL.JPG");
  assert.deepEqual([decodeJpeg(small).width, decodeJpeg(small).height], [320, 240]);
  assert.equal(readExif(small).ascii.get(0x0110), "Canon EOS 10D");
  assert.equal(card.find(path("/DCIM/100CANON/SMALL.JPG"))!.mtime, DEFAULT_START_TIME + 60 * 4);

  assert.throws(() => new MemoryCard({ content: [{ path: "/A.TXT" }] }), RangeError, "no kind");
  assert.throws(
    () => new MemoryCard({ content: [{ path: "/LONGFILENAME.TXT", size: 1 }] }),
    RangeError,
  );
  assert.throws(
    () => new MemoryCard({ content: [{ path: "/A.B", size: 1 }, { path: "/A.B", size: 1 }] }),
    RangeError,
  );
  assert.throws(
    () => new MemoryCard({ content: [{ path: "/A.B", size: 1 }, { path: "/A.B/C.D", size: 1 }] }),
    RangeError,
  );
  assert.throws(() => new MemoryCard({ capacity: -1 }), RangeError);
  assert.throws(() => new MemoryCard({ clusterSize: 0 }), RangeError);
});

Deno.test("a 512 MiB pattern file is served in bounded memory; ranges are deterministic", () => {
  const size = 512 * MiB;
  const card = new MemoryCard({
    content: [{ path: "/DCIM/100CANON/MVI_0001.AVI", kind: "pattern", size }],
    capacity: 1024 * MiB,
  });
  const p = ["DCIM", "100CANON", "MVI_0001.AVI"];
  assert.equal(card.find(p)!.size, size);
  assert.equal(card.free, 512 * MiB);
  const rssBefore = Deno.memoryUsage().rss;
  const start = performance.now();
  let checksum = 0;
  let total = 0;
  for (let offset = 0; offset < size; offset += 4 * MiB) {
    const chunk = card.read(p, offset, 4 * MiB);
    total += chunk.length;
    checksum = (checksum + chunk[0] + chunk[chunk.length - 1]) >>> 0;
  }
  const seconds = (performance.now() - start) / 1000;
  const grown = Deno.memoryUsage().rss - rssBefore;
  assert.equal(total, size);
  assert.ok(grown < 128 * MiB, `memory grew by ${(grown / MiB).toFixed(0)} MiB reading 512 MiB`);
  assert.ok(seconds < 10, `reading took ${seconds.toFixed(2)} s`);
  // Any range equals the same bytes inside a larger read, and repeats exactly.
  const wide = card.read(p, 123_456_000, 10_000);
  const narrow = card.read(p, 123_456_789, 1000);
  assert.deepEqual(narrow, wide.subarray(789, 1789));
  assert.deepEqual(card.read(p, 123_456_789, 1000), narrow);
  assert.equal(card.read(p, size - 5, 100).length, 5, "short at the end");
  const other = new MemoryCard({
    content: [{ path: "/DCIM/100CANON/MVI_0001.AVI", kind: "pattern", size }],
    capacity: 1024 * MiB,
  });
  assert.deepEqual(other.read(p, 123_456_789, 1000), narrow, "same path, same bytes");
  assert.ok(checksum > 0);
});
