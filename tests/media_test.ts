/**
 * The virtual camera's media generators: pictures, JPEG encoding, EXIF,
 * .THM, CIFF raw, MJPEG AVI, catalogue and print-order files, and the
 * position-addressed pattern. Formats are checked with independent readers
 * written here (and, where the machine has it, with libexif, gphoto2's EXIF
 * parser), never with the writers' own code.
 */

import assert from "node:assert/strict";
import { makeAvi } from "../src/emulator/card/media/avi.ts";
import { makeCrw } from "../src/emulator/card/media/crw.ts";
import { CATALOG_SIZE, makeCatalog } from "../src/emulator/card/media/ctg.ts";
import { makeDpofOrder } from "../src/emulator/card/media/dpof.ts";
import { buildExifSegment, exifDateTime } from "../src/emulator/card/media/exif.ts";
import { renderPicture } from "../src/emulator/card/media/image.ts";
import { decodeJpeg, encodeJpeg } from "../src/emulator/card/media/jpeg.ts";
import { makeJpeg } from "../src/emulator/card/media/photo.ts";
import { createPrng, fillPattern, hashString } from "../src/emulator/card/media/prng.ts";
import { makeThm } from "../src/emulator/card/media/thm.ts";

const MODEL = "Canon PowerShot G3";
const DATE = Date.UTC(2003, 1, 7, 17, 0, 52) / 1000; // camera-local seconds

// ---------------------------------------------------------------------------
// Independent readers

/** A parsed TIFF IFD: tag → raw value (numbers, string, or bytes), plus the next-IFD offset. */
interface Ifd {
  tags: Map<number, number[] | string | Uint8Array>;
  next: number;
}

/** Reads the TIFF structure inside an EXIF APP1 payload (after "Exif\0\0"). */
function readTiff(tiff: Uint8Array): { ifd0: Ifd; exif: Ifd; ifd1?: Ifd } {
  const v = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  assert.equal(String.fromCharCode(tiff[0], tiff[1]), "II", "TIFF must be little-endian");
  assert.equal(v.getUint16(2, true), 42, "TIFF magic");
  const sizes: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8 };
  const readIfd = (at: number): Ifd => {
    const count = v.getUint16(at, true);
    const tags = new Map<number, number[] | string | Uint8Array>();
    for (let i = 0; i < count; i++) {
      const p = at + 2 + 12 * i;
      const tag = v.getUint16(p, true);
      const type = v.getUint16(p + 2, true);
      const n = v.getUint32(p + 4, true);
      const size = sizes[type] * n;
      const dataAt = size <= 4 ? p + 8 : v.getUint32(p + 8, true);
      assert.ok(dataAt + size <= tiff.length, `tag 0x${tag.toString(16)} value inside the TIFF`);
      if (type === 2) {
        tags.set(tag, new TextDecoder().decode(tiff.subarray(dataAt, dataAt + n - 1)));
        assert.equal(tiff[dataAt + n - 1], 0, "ASCII values are NUL-terminated");
      } else if (type === 7 || type === 1) {
        tags.set(tag, tiff.slice(dataAt, dataAt + n));
      } else {
        const values: number[] = [];
        for (let k = 0; k < n; k++) {
          const q = dataAt + k * sizes[type];
          if (type === 3) values.push(v.getUint16(q, true));
          else if (type === 4) values.push(v.getUint32(q, true));
          else if (type === 5) values.push(v.getUint32(q, true), v.getUint32(q + 4, true));
          else if (type === 10) values.push(v.getInt32(q, true), v.getInt32(q + 4, true));
        }
        tags.set(tag, values);
      }
    }
    return { tags, next: v.getUint32(at + 2 + 12 * count, true) };
  };
  const ifd0 = readIfd(v.getUint32(4, true));
  const exifAt = ifd0.tags.get(0x8769) as number[];
  const exif = readIfd(exifAt[0]);
  return { ifd0, exif, ifd1: ifd0.next === 0 ? undefined : readIfd(ifd0.next) };
}

/** Finds the APP1 "Exif" segment right after SOI and returns its TIFF payload and end offset. */
function exifOf(jpeg: Uint8Array): { tiff: Uint8Array; end: number } {
  assert.deepEqual([...jpeg.subarray(0, 4)], [0xff, 0xd8, 0xff, 0xe1], "APP1 right after SOI");
  const length = (jpeg[4] << 8) | jpeg[5];
  assert.equal(new TextDecoder().decode(jpeg.subarray(6, 12)), "Exif\0\0");
  return { tiff: jpeg.subarray(12, 4 + length), end: 4 + length };
}

/** The IFD1 thumbnail of a camera JPEG, through JPEGInterchangeFormat(Length). */
function ifd1Thumbnail(jpeg: Uint8Array): Uint8Array {
  const { tiff } = exifOf(jpeg);
  const { ifd1 } = readTiff(tiff);
  assert.ok(ifd1, "IFD1 present");
  assert.deepEqual(ifd1.tags.get(0x0103), [6], "IFD1 Compression = 6 (JPEG)");
  const [at] = ifd1.tags.get(0x0201) as number[];
  const [length] = ifd1.tags.get(0x0202) as number[];
  assert.ok(at + length <= tiff.length, "thumbnail inside the EXIF segment");
  return tiff.slice(at, at + length);
}

/** gphoto2's .THM/JFIF thumbnail search: from offset 3, `FF D8 ?? DB|C4` up to the next `FF D9`. */
function gphotoExtractThumb(data: Uint8Array): Uint8Array | undefined {
  let start = 0;
  for (let i = 3; i < data.length; i++) {
    if (data[i] !== 0xff) continue;
    if (start === 0) {
      if (
        i < data.length - 3 && data[i + 1] === 0xd8 &&
        (data[i + 3] === 0xdb || data[i + 3] === 0xc4)
      ) {
        start = i;
      }
    } else if (i < data.length - 1 && data[i + 1] === 0xd9) {
      return data.slice(start, i + 2);
    }
  }
  return undefined;
}

function psnr(a: Uint8Array, b: Uint8Array): number {
  let se = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    if (i % 4 === 3) continue;
    se += (a[i] - b[i]) ** 2;
    n++;
  }
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255) / (se / n));
}

// ---------------------------------------------------------------------------
// Pictures and JPEG

Deno.test("renderPicture is deterministic and draws the label", () => {
  const a = renderPicture({ width: 160, height: 120, label: "0001", seed: 1 });
  const b = renderPicture({ width: 160, height: 120, label: "0001", seed: 1 });
  const c = renderPicture({ width: 160, height: 120, label: "0002", seed: 1 });
  assert.deepEqual(a.data, b.data);
  assert.notDeepEqual(a.data, c.data, "a different label changes the picture");
  // The label is white ink in the middle of the picture.
  const white = (img: typeof a) => {
    let n = 0;
    for (let p = 0; p < img.data.length; p += 4) {
      if (img.data[p] === 255 && img.data[p + 1] === 255 && img.data[p + 2] === 255) n++;
    }
    return n;
  };
  assert.ok(white(a) > 500, `label ink drawn (${white(a)} white pixels)`);
  assert.equal(white(renderPicture({ width: 160, height: 120, label: "", seed: 1 })), 0);
  assert.throws(() => renderPicture({ width: 0, height: 10, label: "", seed: 1 }), RangeError);
});

Deno.test("encodeJpeg makes baseline JPEGs an independent decoder reads back faithfully", () => {
  for (const [w, h] of [[640, 480], [160, 120], [17, 9], [1, 1], [333, 77]]) {
    const picture = renderPicture({ width: w, height: h, label: "42", seed: w });
    const jpeg = encodeJpeg(picture, 85);
    assert.deepEqual([...jpeg.subarray(0, 4)], [0xff, 0xd8, 0xff, 0xdb], "SOI then DQT");
    assert.deepEqual([...jpeg.subarray(-2)], [0xff, 0xd9], "ends with EOI");
    const sof = jpeg.indexOf(0xc0, 4);
    assert.equal(jpeg[sof - 1], 0xff, "baseline SOF0 present");
    const decoded = decodeJpeg(jpeg);
    assert.equal(decoded.width, w);
    assert.equal(decoded.height, h);
    if (w >= 160) assert.ok(psnr(picture.data, decoded.data) > 32, `${w}x${h} quality`);
  }
  const picture = renderPicture({ width: 64, height: 48, label: "7", seed: 7 });
  assert.deepEqual(encodeJpeg(picture, 80), encodeJpeg(picture, 80), "deterministic");
  assert.ok(encodeJpeg(picture, 30).length < encodeJpeg(picture, 95).length, "quality matters");
  assert.throws(() => encodeJpeg(picture, 0), RangeError);
});

// ---------------------------------------------------------------------------
// EXIF

Deno.test("makeJpeg writes EXIF with camera, date, exposure and a 160x120 IFD1 thumbnail", () => {
  const jpeg = makeJpeg({
    width: 640,
    height: 480,
    label: "0042",
    seed: 42,
    date: DATE,
    model: MODEL,
    iso: 400,
    fNumber: 5.6,
    exposureTime: [1, 250],
    flash: true,
  });
  const decoded = decodeJpeg(jpeg);
  assert.equal(decoded.width, 640);
  assert.equal(decoded.height, 480);

  const { ifd0, exif, ifd1 } = readTiff(exifOf(jpeg).tiff);
  assert.equal(ifd0.tags.get(0x010f), "Canon");
  assert.equal(ifd0.tags.get(0x0110), MODEL);
  assert.deepEqual(ifd0.tags.get(0x0112), [1], "Orientation");
  assert.deepEqual(ifd0.tags.get(0x011a), [180, 1], "XResolution");
  assert.deepEqual(ifd0.tags.get(0x011b), [180, 1], "YResolution");
  assert.equal(ifd0.tags.get(0x0132), "2003:02:07 17:00:52", "DateTime from camera-local time");
  assert.deepEqual(exif.tags.get(0x829a), [1, 250], "ExposureTime");
  assert.deepEqual(exif.tags.get(0x829d), [56, 10], "FNumber");
  assert.deepEqual(exif.tags.get(0x8827), [400], "ISOSpeedRatings");
  assert.equal(exif.tags.get(0x9003), "2003:02:07 17:00:52", "DateTimeOriginal");
  assert.equal(exif.tags.get(0x9004), "2003:02:07 17:00:52", "DateTimeDigitized");
  assert.equal((exif.tags.get(0x9209) as number[])[0] & 1, 1, "Flash fired");
  assert.deepEqual(exif.tags.get(0xa002), [640], "PixelXDimension");
  assert.deepEqual(exif.tags.get(0xa003), [480], "PixelYDimension");
  assert.equal(new TextDecoder().decode(exif.tags.get(0x9000) as Uint8Array), "0220");
  assert.ok(ifd1, "IFD1 present");

  const thumb = ifd1Thumbnail(jpeg);
  const t = decodeJpeg(thumb);
  assert.equal(t.width, 160);
  assert.equal(t.height, 120);
  // IFD entries are sorted by tag, as TIFF requires.
  for (const ifd of [ifd0, exif, ifd1]) {
    const tags = [...ifd.tags.keys()];
    assert.deepEqual(tags, [...tags].sort((a, b) => a - b));
  }
  // No flash: the "fired" bit is clear.
  const dark = makeJpeg({ width: 160, height: 120, label: "1", seed: 1, date: DATE, model: MODEL });
  assert.equal((readTiff(exifOf(dark).tiff).exif.tags.get(0x9209) as number[])[0] & 1, 0);
});

Deno.test("gphoto2's byte scan finds the embedded thumbnail of a camera JPEG", () => {
  const jpeg = makeJpeg({ width: 320, height: 240, label: "9", seed: 9, date: DATE, model: MODEL });
  const { end } = exifOf(jpeg);
  const scanned = gphotoExtractThumb(jpeg.subarray(0, end));
  assert.ok(scanned, "found");
  assert.deepEqual(scanned, ifd1Thumbnail(jpeg));
});

Deno.test("libexif (gphoto2's EXIF parser) reads the model and the thumbnail", {
  ignore: !canLoad("libexif.so.12"),
}, () => {
  const lib = Deno.dlopen("libexif.so.12", {
    exif_data_new_from_data: { parameters: ["buffer", "u32"], result: "pointer" },
    exif_data_unref: { parameters: ["pointer"], result: "void" },
    exif_content_get_entry: { parameters: ["pointer", "u32"], result: "pointer" },
    exif_entry_get_value: { parameters: ["pointer", "buffer", "u32"], result: "pointer" },
  });
  try {
    const jpeg = makeJpeg({
      width: 640,
      height: 480,
      label: "5",
      seed: 5,
      date: DATE,
      model: MODEL,
    });
    const blob = jpeg.slice(0, exifOf(jpeg).end); // what the camera's "thumbnail" reply holds
    const data = lib.symbols.exif_data_new_from_data(blob, blob.length);
    assert.ok(data, "libexif parsed the data");
    try {
      // struct _ExifData { ExifContent *ifd[5]; unsigned char *data; unsigned int size; ... }
      const view = new Deno.UnsafePointerView(data);
      const ifd0 = view.getPointer(0);
      const thumbPtr = view.getPointer(40);
      const thumbSize = view.getUint32(48);
      assert.equal(thumbSize, ifd1Thumbnail(jpeg).length, "libexif found the IFD1 thumbnail");
      assert.ok(thumbPtr);
      const thumb = new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(thumbPtr, thumbSize));
      assert.equal(decodeJpeg(thumb.slice()).width, 160);
      const entry = lib.symbols.exif_content_get_entry(ifd0, 0x0110);
      assert.ok(entry, "Model entry");
      const text = new Uint8Array(64);
      lib.symbols.exif_entry_get_value(entry, text, text.length);
      assert.equal(new TextDecoder().decode(text.subarray(0, text.indexOf(0))), MODEL);
    } finally {
      lib.symbols.exif_data_unref(data);
    }
  } finally {
    lib.close();
  }
});

function canLoad(name: string): boolean {
  try {
    Deno.dlopen(name, {}).close();
    return true;
  } catch {
    return false;
  }
}

Deno.test("buildExifSegment refuses a thumbnail too big for one APP1 segment", () => {
  const base = { model: MODEL, date: DATE, width: 640, height: 480 };
  assert.throws(() => buildExifSegment({ ...base, thumbnail: new Uint8Array(70_000) }), RangeError);
  const seg = buildExifSegment(base);
  assert.equal((seg[2] << 8) | seg[3], seg.length - 2, "APP1 length field");
  assert.equal(readTiff(seg.subarray(10)).ifd1, undefined, "no IFD1 without a thumbnail");
});

Deno.test("exifDateTime formats camera-local seconds without a time zone", () => {
  assert.equal(exifDateTime(0x3e43e644), "2003:02:07 17:00:52");
  assert.equal(exifDateTime(0x4eee74f2), "2011:12:18 23:19:14");
});

// ---------------------------------------------------------------------------
// .THM, .CRW, .AVI, .CTG, .MRK

Deno.test(".THM is a 160x120 JPEG whose embedded thumbnail gphoto2's scan extracts", () => {
  const thm = makeThm({ label: "0006", seed: 6, date: DATE, model: MODEL });
  assert.ok(thm.length >= 256);
  const decoded = decodeJpeg(thm);
  assert.deepEqual([decoded.width, decoded.height], [160, 120]);
  const scanned = gphotoExtractThumb(thm);
  assert.ok(scanned, "gphoto2 finds FF D8 .. DB and FF D9 after offset 3");
  const inner = decodeJpeg(scanned);
  assert.deepEqual([inner.width, inner.height], [160, 120]);
});

Deno.test(".CRW is a CIFF file whose heaps walk to make, model, time and raw data", () => {
  const crw = makeCrw({ date: DATE, model: MODEL, fileNumber: 6, seed: 6, rawSize: 4001 });
  const v = new DataView(crw.buffer, crw.byteOffset, crw.byteLength);
  assert.equal(String.fromCharCode(crw[0], crw[1]), "II");
  assert.equal(v.getUint32(2, true), 0x1a, "header length");
  assert.equal(new TextDecoder().decode(crw.subarray(6, 14)), "HEAPCCDR");
  const found = new Map<number, Uint8Array>();
  const walk = (start: number, length: number) => {
    const tableAt = start + v.getUint32(start + length - 4, true);
    const count = v.getUint16(tableAt, true);
    assert.ok(tableAt + 2 + 10 * count <= start + length - 4, "record table inside the heap");
    for (let i = 0; i < count; i++) {
      const p = tableAt + 2 + 10 * i;
      const type = v.getUint16(p, true);
      if (type & 0x4000) {
        found.set(type, crw.slice(p + 2, p + 10));
        continue;
      }
      const size = v.getUint32(p + 2, true);
      const at = start + v.getUint32(p + 6, true);
      assert.ok(at + size <= start + length, `record 0x${type.toString(16)} inside its heap`);
      if ((type & 0x3800) === 0x2800 || (type & 0x3800) === 0x3000) walk(at, size);
      else found.set(type, crw.slice(at, at + size));
    }
  };
  walk(0x1a, crw.length - 0x1a);
  assert.equal(found.get(0x2005)?.length, 4001, "raw data");
  assert.equal(new TextDecoder().decode(found.get(0x080a)), `Canon\0${MODEL}\0`);
  const time = found.get(0x180e)!;
  assert.equal(new DataView(time.buffer).getUint32(0, true), DATE);
  assert.equal(new DataView(found.get(0x5817)!.buffer).getUint32(0, true), 6, "file number");
  assert.deepEqual(
    makeCrw({ date: DATE, model: MODEL, fileNumber: 6, seed: 6 }),
    makeCrw({ date: DATE, model: MODEL, fileNumber: 6, seed: 6 }),
  );
});

Deno.test(".AVI is a RIFF/AVI MJPEG movie with the declared frames and index", () => {
  const avi = makeAvi({ label: "0007", seed: 7, frames: 5, fps: 15, width: 160, height: 120 });
  const v = new DataView(avi.buffer, avi.byteOffset, avi.byteLength);
  const id = (p: number) => new TextDecoder().decode(avi.subarray(p, p + 4));
  assert.equal(id(0), "RIFF");
  assert.equal(v.getUint32(4, true), avi.length - 8, "RIFF size");
  assert.equal(id(8), "AVI ");
  // Walk the top-level chunks.
  const top = new Map<string, { at: number; size: number }>();
  for (let p = 12; p < avi.length;) {
    const size = v.getUint32(p + 4, true);
    top.set(id(p) === "LIST" ? id(p + 8) : id(p), { at: p, size });
    p += 8 + size + (size & 1);
  }
  assert.deepEqual([...top.keys()], ["hdrl", "movi", "idx1"]);
  const hdrl = top.get("hdrl")!.at;
  assert.equal(id(hdrl + 12), "avih");
  const avih = hdrl + 20;
  assert.equal(v.getUint32(avih, true), 66667, "µs per frame");
  assert.equal(v.getUint32(avih + 16, true), 5, "dwTotalFrames");
  assert.equal(v.getUint32(avih + 24, true), 1, "dwStreams");
  assert.deepEqual([v.getUint32(avih + 32, true), v.getUint32(avih + 36, true)], [160, 120]);
  const strl = avih + 56;
  assert.equal(id(strl), "LIST");
  assert.equal(id(strl + 8), "strl");
  assert.equal(id(strl + 12), "strh");
  assert.equal(id(strl + 20), "vids");
  assert.equal(id(strl + 24), "MJPG");
  assert.equal(v.getUint32(strl + 20 + 32, true), 5, "strh dwLength");
  const strf = strl + 20 + 56;
  assert.equal(id(strf), "strf");
  assert.equal(id(strf + 8 + 16), "MJPG", "biCompression");

  const movi = top.get("movi")!.at;
  const frames: Uint8Array[] = [];
  for (let p = movi + 12; p < movi + 8 + top.get("movi")!.size;) {
    assert.equal(id(p), "00dc");
    const size = v.getUint32(p + 4, true);
    frames.push(avi.slice(p + 8, p + 8 + size));
    p += 8 + size + (size & 1);
  }
  assert.equal(frames.length, 5);
  for (const f of frames) assert.deepEqual([decodeJpeg(f).width, decodeJpeg(f).height], [160, 120]);
  assert.notDeepEqual(frames[0], frames[1], "frames differ (frame number drawn)");

  const idx = top.get("idx1")!;
  assert.equal(idx.size, 16 * 5);
  for (let i = 0; i < 5; i++) {
    const e = idx.at + 8 + 16 * i;
    const offset = v.getUint32(e + 8, true);
    assert.equal(id(movi + 8 + offset), "00dc", "index offsets are relative to 'movi'");
    assert.equal(v.getUint32(e + 12, true), frames[i].length);
  }
});

Deno.test("catalogue and print-order files are at least 256 bytes and carry their entries", () => {
  const ctg = makeCatalog(100, [{ fileNumber: 7, kind: "movie", protected: true }]);
  assert.equal(ctg.length, CATALOG_SIZE);
  assert.ok(ctg.length >= 256);
  assert.deepEqual([...ctg.subarray(16, 20)], [7, 0, 3, 1]);
  assert.throws(() => makeCatalog(100, new Array(63).fill({ fileNumber: 1, kind: "jpeg" })));
  const mrk = new TextDecoder().decode(makeDpofOrder({
    model: MODEL,
    date: DATE,
    images: ["DCIM/100CANON/IMG_0003.JPG", "DCIM/101CANON/IMG_0101.JPG"],
  }));
  assert.ok(mrk.length >= 256);
  assert.ok(mrk.includes('<IMG SRC = "../DCIM/101CANON/IMG_0101.JPG">\r\n'));
  assert.ok(mrk.includes("GEN DTM = 2003:02:07:17:00:52\r\n"));
});

// ---------------------------------------------------------------------------
// Pseudo-random numbers and the pattern stream

Deno.test("fillPattern gives the same bytes for any range split, aligned or not", () => {
  const whole = new Uint8Array(4096);
  fillPattern(whole, 99, 1000);
  for (const [start, length] of [[0, 4096], [1, 7], [3, 4093], [4, 4], [2047, 1], [5, 0]]) {
    const part = new Uint8Array(length);
    fillPattern(part, 99, 1000 + start);
    assert.deepEqual(part, whole.subarray(start, start + length), `range ${start}+${length}`);
  }
  // A misaligned view into a larger buffer.
  const backing = new Uint8Array(100);
  fillPattern(backing.subarray(1, 41), 99, 1004);
  assert.deepEqual(backing.subarray(1, 41), whole.subarray(4, 44));
  const other = new Uint8Array(64);
  fillPattern(other, 100, 1000);
  assert.notDeepEqual(other, whole.subarray(0, 64), "seeds give different streams");
  const histogram = new Array(256).fill(0);
  for (const b of whole) histogram[b]++;
  assert.ok(Math.max(...histogram) < 50, "bytes are spread out");
  assert.throws(() => fillPattern(new Uint8Array(1), 1, -1), RangeError);
});

Deno.test("fillPattern is fast enough to serve huge files on demand (> 500 MB/s)", () => {
  const chunk = new Uint8Array(1 << 20);
  fillPattern(chunk, 1, 0); // warm up
  const start = performance.now();
  const mib = 128;
  for (let i = 0; i < mib; i++) fillPattern(chunk, 1, i << 20);
  const seconds = (performance.now() - start) / 1000;
  const rate = (mib * 1.048576) / seconds;
  assert.ok(rate > 500, `pattern generation ran at ${rate.toFixed(0)} MB/s`);
});

Deno.test("createPrng and hashString are deterministic", () => {
  const a = createPrng(5);
  const b = createPrng(5);
  const xs = Array.from({ length: 5 }, () => a());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b()));
  assert.equal(new Set(xs).size, 5);
  assert.ok(xs.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32));
  assert.equal(hashString("IMG_0001"), hashString("IMG_0001"));
  assert.notEqual(hashString("IMG_0001"), hashString("IMG_0002"));
});
