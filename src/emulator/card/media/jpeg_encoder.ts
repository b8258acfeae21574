/**
 * A small baseline JPEG encoder (ITU T.81 sequential DCT, Huffman coded,
 * standard Annex K tables, YCbCr 4:2:2 as PowerShots write it). Written for
 * speed: the npm codec rebuilds 64 K-entry tables on every call (about 20 ms
 * each), which made generating a card's worth of pictures too slow.
 *
 * Output: SOI, DQT (both tables), SOF0, DHT (four tables), SOS, scan, EOI —
 * SOI is directly followed by DQT (`FF D8 FF DB`), the form cameras embed as
 * EXIF thumbnails and the form gphoto2 searches for.
 *
 * @module
 */

import type { RgbaImage } from "./image.ts";

/** Natural (row-major) index of the k-th coefficient in zig-zag order. */
// deno-fmt-ignore
const ZIGZAG = new Uint8Array([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
  12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
  35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
  58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
]);

/** Annex K.1 luminance quantisation table, natural order. */
// deno-fmt-ignore
const LUMA_QUANT = [
  16, 11, 10, 16, 24, 40, 51, 61,
  12, 12, 14, 19, 26, 58, 60, 55,
  14, 13, 16, 24, 40, 57, 69, 56,
  14, 17, 22, 29, 51, 87, 80, 62,
  18, 22, 37, 56, 68, 109, 103, 77,
  24, 35, 55, 64, 81, 104, 113, 92,
  49, 64, 78, 87, 103, 121, 120, 101,
  72, 92, 95, 98, 112, 100, 103, 99,
];

/** Annex K.2 chrominance quantisation table, natural order. */
// deno-fmt-ignore
const CHROMA_QUANT = [
  17, 18, 24, 47, 99, 99, 99, 99,
  18, 21, 26, 66, 99, 99, 99, 99,
  24, 26, 56, 99, 99, 99, 99, 99,
  47, 66, 99, 99, 99, 99, 99, 99,
  ...new Array(32).fill(99),
];

/** A Huffman table as sent in DHT: code counts per length 1..16, then symbols. */
interface HuffmanSpec {
  bits: readonly number[];
  values: readonly number[];
}

// deno-fmt-ignore
const DC_LUMA: HuffmanSpec = {
  bits: [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0],
  values: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
};

// deno-fmt-ignore
const DC_CHROMA: HuffmanSpec = {
  bits: [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0],
  values: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
};

// deno-fmt-ignore
const AC_LUMA: HuffmanSpec = {
  bits: [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d],
  values: [
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
    0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
    0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
    0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
    0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
    0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
    0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
    0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
    0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
    0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
    0xf9, 0xfa,
  ],
};

// deno-fmt-ignore
const AC_CHROMA: HuffmanSpec = {
  bits: [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77],
  values: [
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
    0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
    0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
    0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
    0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
    0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
    0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
    0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
    0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
    0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
    0xf9, 0xfa,
  ],
};

/** Code and length per symbol, derived from a table spec (T.81 Annex C). */
interface HuffmanCodes {
  code: Uint16Array;
  size: Uint8Array;
}

function huffmanCodes(spec: HuffmanSpec): HuffmanCodes {
  const code = new Uint16Array(256);
  const size = new Uint8Array(256);
  let next = 0;
  let k = 0;
  for (let length = 1; length <= 16; length++) {
    for (let i = 0; i < spec.bits[length - 1]; i++) {
      const symbol = spec.values[k++];
      code[symbol] = next++;
      size[symbol] = length;
    }
    next <<= 1;
  }
  return { code, size };
}

const CODES = {
  dcLuma: huffmanCodes(DC_LUMA),
  acLuma: huffmanCodes(AC_LUMA),
  dcChroma: huffmanCodes(DC_CHROMA),
  acChroma: huffmanCodes(AC_CHROMA),
};

/** AAN DCT scale factors (jfdctflt). */
const AAN = [
  1.0,
  1.387039845,
  1.306562965,
  1.175875602,
  1.0,
  0.785694958,
  0.5411961,
  0.275899379,
];

/** Quality-scaled table (libjpeg's formula), natural order, values 1..255. */
function scaledTable(base: readonly number[], quality: number): Uint8Array {
  const scale = quality < 50 ? Math.floor(5000 / quality) : 200 - quality * 2;
  return Uint8Array.from(
    base,
    (q) => Math.min(255, Math.max(1, Math.floor((q * scale + 50) / 100))),
  );
}

/** Reciprocal divisors folding the AAN output scaling into quantisation, natural order. */
function divisors(table: Uint8Array): Float32Array {
  const d = new Float32Array(64);
  for (let row = 0; row < 8; row++) {
    for (let col = 0; col < 8; col++) {
      const i = row * 8 + col;
      d[i] = 1 / (table[i] * AAN[row] * AAN[col] * 8);
    }
  }
  return d;
}

/** Growable output with JPEG bit packing (0xFF bytes in the scan are followed by 0x00). */
class Output {
  bytes: Uint8Array;
  length = 0;
  /** Pending bits (fewer than 8 between calls). */
  acc = 0;
  /** How many bits `acc` holds. */
  count = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
  }

  byte(b: number): void {
    if (this.length === this.bytes.length) {
      const grown = new Uint8Array(this.bytes.length * 2);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes[this.length++] = b;
  }

  word(w: number): void {
    this.byte(w >> 8);
    this.byte(w & 0xff);
  }

  array(values: ArrayLike<number>): void {
    for (let i = 0; i < values.length; i++) this.byte(values[i]);
  }

  /** Appends the low `count` (≤ 16) bits of `value`, most significant first. */
  bits(value: number, count: number): void {
    const acc = (this.acc << count) | (value & ((1 << count) - 1));
    let n = this.count + count;
    while (n >= 8) {
      n -= 8;
      const b = (acc >> n) & 0xff;
      this.byte(b);
      if (b === 0xff) this.byte(0);
    }
    this.acc = acc & ((1 << n) - 1);
    this.count = n;
  }

  /** Pads the last byte of the scan with 1 bits. */
  flushBits(): void {
    if (this.count > 0) this.bits(0x7f, 8 - this.count);
  }

  result(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

/**
 * Encodes an RGBA picture as a baseline JPEG, YCbCr with 4:2:2 chroma
 * subsampling, quality scaling as in libjpeg. Deterministic.
 *
 * @param image the picture (alpha is ignored)
 * @param quality 1..100
 * @returns the JPEG file (`FF D8 FF DB …`)
 *
 * @example
 * ```ts
 * import { encodeBaselineJpeg } from "./jpeg_encoder.ts";
 * const image = { width: 16, height: 8, data: new Uint8Array(16 * 8 * 4).fill(200) };
 * const jpeg = encodeBaselineJpeg(image, 75);
 * if (jpeg[jpeg.length - 1] !== 0xd9) throw new Error("no EOI");
 * ```
 */
export function encodeBaselineJpeg(image: RgbaImage, quality: number): Uint8Array {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`JPEG size must be positive integers, got ${width}x${height}`);
  }
  if (width > 0xffff || height > 0xffff) throw new RangeError("JPEG size exceeds 65535");
  if (data.length < width * height * 4) throw new RangeError("pixel data too short");
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) {
    throw new RangeError(`JPEG quality must be an integer in 1..100, got ${quality}`);
  }
  const lumaTable = scaledTable(LUMA_QUANT, quality);
  const chromaTable = scaledTable(CHROMA_QUANT, quality);
  const lumaDiv = divisors(lumaTable);
  const chromaDiv = divisors(chromaTable);

  const out = new Output(Math.max(4096, width * height));
  out.word(0xffd8);
  // DQT: both tables, zig-zag order.
  out.word(0xffdb);
  out.word(2 + 2 * 65);
  out.byte(0x00);
  for (let k = 0; k < 64; k++) out.byte(lumaTable[ZIGZAG[k]]);
  out.byte(0x01);
  for (let k = 0; k < 64; k++) out.byte(chromaTable[ZIGZAG[k]]);
  // SOF0: 8-bit, Y at 2×1 sampling, Cb and Cr at 1×1.
  out.word(0xffc0);
  out.word(17);
  out.byte(8);
  out.word(height);
  out.word(width);
  out.byte(3);
  out.array([1, 0x21, 0, 2, 0x11, 1, 3, 0x11, 1]);
  // DHT: four tables.
  const tables: [number, HuffmanSpec][] = [
    [0x00, DC_LUMA],
    [0x10, AC_LUMA],
    [0x01, DC_CHROMA],
    [0x11, AC_CHROMA],
  ];
  out.word(0xffc4);
  out.word(2 + tables.reduce((n, [, t]) => n + 17 + t.values.length, 0));
  for (const [id, t] of tables) {
    out.byte(id);
    out.array(t.bits);
    out.array(t.values);
  }
  // SOS: all three components, full spectral range.
  out.word(0xffda);
  out.word(12);
  out.byte(3);
  out.array([1, 0x00, 2, 0x11, 3, 0x11]);
  out.array([0, 63, 0]);

  // Colour planes, padded to whole MCUs (16×8) by repeating the last column and row.
  const pw = Math.ceil(width / 16) * 16;
  const ph = Math.ceil(height / 8) * 8;
  const cw = pw / 2;
  const lum = new Float32Array(pw * ph);
  const cb = new Float32Array(cw * ph);
  const cr = new Float32Array(cw * ph);
  for (let y = 0; y < ph; y++) {
    const src = (y < height ? y : height - 1) * width;
    for (let x = 0; x < pw; x += 2) {
      const p1 = (src + (x < width ? x : width - 1)) * 4;
      const p2 = (src + (x + 1 < width ? x + 1 : width - 1)) * 4;
      const r1 = data[p1], g1 = data[p1 + 1], b1 = data[p1 + 2];
      const r2 = data[p2], g2 = data[p2 + 1], b2 = data[p2 + 2];
      lum[y * pw + x] = 0.299 * r1 + 0.587 * g1 + 0.114 * b1 - 128;
      lum[y * pw + x + 1] = 0.299 * r2 + 0.587 * g2 + 0.114 * b2 - 128;
      const r = (r1 + r2) / 2, g = (g1 + g2) / 2, b = (b1 + b2) / 2;
      cb[y * cw + x / 2] = -0.168736 * r - 0.331264 * g + 0.5 * b;
      cr[y * cw + x / 2] = 0.5 * r - 0.418688 * g - 0.081312 * b;
    }
  }

  const block = new Float32Array(64);
  const coeffs = new Int32Array(64);
  let dcY = 0;
  let dcCb = 0;
  let dcCr = 0;
  const load = (plane: Float32Array, stride: number, x0: number, y0: number) => {
    for (let y = 0; y < 8; y++) {
      const row = (y0 + y) * stride + x0;
      for (let x = 0; x < 8; x++) block[y * 8 + x] = plane[row + x];
    }
  };
  for (let my = 0; my < ph; my += 8) {
    for (let mx = 0; mx < pw; mx += 16) {
      load(lum, pw, mx, my);
      dcY = encodeBlock(out, block, coeffs, lumaDiv, dcY, CODES.dcLuma, CODES.acLuma);
      load(lum, pw, mx + 8, my);
      dcY = encodeBlock(out, block, coeffs, lumaDiv, dcY, CODES.dcLuma, CODES.acLuma);
      load(cb, cw, mx / 2, my);
      dcCb = encodeBlock(out, block, coeffs, chromaDiv, dcCb, CODES.dcChroma, CODES.acChroma);
      load(cr, cw, mx / 2, my);
      dcCr = encodeBlock(out, block, coeffs, chromaDiv, dcCr, CODES.dcChroma, CODES.acChroma);
    }
  }
  out.flushBits();
  out.word(0xffd9);
  return out.result();
}

/** Number of bits needed for |v| (the JPEG magnitude category). */
function category(v: number): number {
  let a = v < 0 ? -v : v;
  let n = 0;
  while (a > 0) {
    n++;
    a >>= 1;
  }
  return n;
}

/** Transforms, quantises and Huffman-codes one 8×8 block; returns its DC value. */
function encodeBlock(
  out: Output,
  block: Float32Array,
  coeffs: Int32Array,
  div: Float32Array,
  previousDc: number,
  dc: HuffmanCodes,
  ac: HuffmanCodes,
): number {
  forwardDct(block);
  for (let k = 0; k < 64; k++) {
    const i = ZIGZAG[k];
    coeffs[k] = Math.round(block[i] * div[i]);
  }
  const diff = coeffs[0] - previousDc;
  const dcCat = category(diff);
  out.bits(dc.code[dcCat], dc.size[dcCat]);
  if (dcCat > 0) out.bits(diff < 0 ? diff + (1 << dcCat) - 1 : diff, dcCat);
  let run = 0;
  for (let k = 1; k < 64; k++) {
    const v = coeffs[k];
    if (v === 0) {
      run++;
      continue;
    }
    while (run > 15) {
      out.bits(ac.code[0xf0], ac.size[0xf0]);
      run -= 16;
    }
    const cat = category(v);
    const symbol = (run << 4) | cat;
    out.bits(ac.code[symbol], ac.size[symbol]);
    out.bits(v < 0 ? v + (1 << cat) - 1 : v, cat);
    run = 0;
  }
  if (run > 0) out.bits(ac.code[0x00], ac.size[0x00]);
  return coeffs[0];
}

/** In-place forward DCT of an 8×8 block (AAN; output scaled by 8·AAN[row]·AAN[col]). */
function forwardDct(d: Float32Array): void {
  for (let pass = 0; pass < 2; pass++) {
    const step = pass === 0 ? 1 : 8;
    const stride = pass === 0 ? 8 : 1;
    for (let line = 0; line < 8; line++) {
      const o = line * stride;
      const i0 = o, i1 = o + step, i2 = o + 2 * step, i3 = o + 3 * step;
      const i4 = o + 4 * step, i5 = o + 5 * step, i6 = o + 6 * step, i7 = o + 7 * step;
      const tmp0 = d[i0] + d[i7];
      const tmp7 = d[i0] - d[i7];
      const tmp1 = d[i1] + d[i6];
      const tmp6 = d[i1] - d[i6];
      const tmp2 = d[i2] + d[i5];
      const tmp5 = d[i2] - d[i5];
      const tmp3 = d[i3] + d[i4];
      const tmp4 = d[i3] - d[i4];

      const tmp10 = tmp0 + tmp3;
      const tmp13 = tmp0 - tmp3;
      const tmp11 = tmp1 + tmp2;
      const tmp12 = tmp1 - tmp2;
      d[i0] = tmp10 + tmp11;
      d[i4] = tmp10 - tmp11;
      const z1 = (tmp12 + tmp13) * 0.707106781;
      d[i2] = tmp13 + z1;
      d[i6] = tmp13 - z1;

      const t10 = tmp4 + tmp5;
      const t11 = tmp5 + tmp6;
      const t12 = tmp6 + tmp7;
      const z5 = (t10 - t12) * 0.382683433;
      const z2 = 0.5411961 * t10 + z5;
      const z4 = 1.306562965 * t12 + z5;
      const z3 = t11 * 0.707106781;
      const z11 = tmp7 + z3;
      const z13 = tmp7 - z3;
      d[i5] = z13 + z2;
      d[i3] = z13 - z2;
      d[i1] = z11 + z4;
      d[i7] = z11 - z4;
    }
  }
}
