/**
 * Canon raw ".CRW" files in CIFF (Camera Image File Format) layout: a 26-byte
 * header ("II", header length 0x1A, "HEAPCCDR", version 1.2) followed by the
 * root heap. A heap holds its records' values first, then the record table
 * (a 16-bit count, 10-byte records of type, length and heap-relative offset)
 * and, in its last 4 bytes, the table's offset. Sub-heaps (types 0x28xx and
 * 0x30xx) nest the same structure.
 *
 * The "sensor data" is a deterministic pseudo-random stream: the file is
 * structurally a CIFF file that CIFF parsers walk, not a decodable raw image.
 *
 * @module
 */

import { fillPattern } from "./prng.ts";

/** CIFF record types used here. */
export const CIFF_TAG = {
  /** Make and model: "Canon\0<model>\0". */
  MAKE_MODEL: 0x080a,
  /** Capture time: seconds (camera-local), time-zone code, time-zone info. */
  CAPTURED_TIME: 0x180e,
  /** Image spec: width, height, pixel aspect (float), rotation, bit depths. */
  IMAGE_SPEC: 0x1810,
  /** The raw sensor data. */
  RAW_DATA: 0x2005,
  /** Sub-heap: camera specification. */
  CAMERA_SPECIFICATION: 0x3004,
  /** Sub-heap: image properties. */
  IMAGE_PROPS: 0x300a,
  /** File number, stored in the record itself (0x4000 = in-record flag). */
  FILE_NUMBER: 0x5817,
} as const;

/** What {@link makeCrw} records. */
export interface CrwOptions {
  /** Capture time: seconds since 1970, camera-local. */
  date: number;
  /** Camera model, e.g. "Canon PowerShot G3". */
  model: string;
  /** DCF file number (e.g. 6 for CRW_0006.CRW). */
  fileNumber: number;
  /** Seed of the raw-data stream. */
  seed: number;
  /** Bytes of raw data; default 512 KiB. */
  rawSize?: number;
  /** Sensor image width recorded in the image spec; default 2048. */
  width?: number;
  /** Sensor image height recorded in the image spec; default 1536. */
  height?: number;
}

/** A CIFF record: either a value or a nested heap. */
type CiffRecord =
  | { type: number; value: Uint8Array }
  | { type: number; heap: CiffRecord[] }
  | { type: number; inRecord: Uint8Array };

/**
 * Makes a CIFF .CRW file: root heap with the raw data and an image-properties
 * sub-heap (capture time, image spec, camera-specification sub-heap with
 * make and model, file number).
 *
 * @param options what to record
 * @returns the file's bytes
 *
 * @example
 * ```ts
 * import { makeCrw } from "./crw.ts";
 * const crw = makeCrw({ date: 1044619200, model: "Canon PowerShot G3", fileNumber: 6, seed: 6 });
 * if (new TextDecoder().decode(crw.subarray(6, 14)) !== "HEAPCCDR") throw new Error("not CIFF");
 * ```
 */
export function makeCrw(options: CrwOptions): Uint8Array {
  const rawSize = options.rawSize ?? 512 * 1024;
  if (!Number.isInteger(rawSize) || rawSize < 0) {
    throw new RangeError(`raw size must be a non-negative integer, got ${rawSize}`);
  }
  const raw = new Uint8Array(rawSize);
  fillPattern(raw, options.seed, 0);

  const makeModel = new TextEncoder().encode(`Canon\0${options.model}\0`);
  const time = new Uint8Array(12);
  const tv = new DataView(time.buffer);
  tv.setUint32(0, options.date >>> 0, true);
  const spec = new Uint8Array(28);
  const sv = new DataView(spec.buffer);
  sv.setUint32(0, options.width ?? 2048, true);
  sv.setUint32(4, options.height ?? 1536, true);
  sv.setFloat32(8, 1.0, true);
  sv.setInt32(12, 0, true);
  sv.setUint32(16, 10, true); // bits per component
  sv.setUint32(20, 30, true); // bits per colour
  sv.setUint32(24, 1, true); // colour
  const fileNumber = new Uint8Array(8);
  new DataView(fileNumber.buffer).setUint32(0, options.fileNumber, true);

  const root: CiffRecord[] = [
    { type: CIFF_TAG.RAW_DATA, value: raw },
    {
      type: CIFF_TAG.IMAGE_PROPS,
      heap: [
        { type: CIFF_TAG.CAPTURED_TIME, value: time },
        { type: CIFF_TAG.IMAGE_SPEC, value: spec },
        {
          type: CIFF_TAG.CAMERA_SPECIFICATION,
          heap: [{ type: CIFF_TAG.MAKE_MODEL, value: makeModel }],
        },
        { type: CIFF_TAG.FILE_NUMBER, inRecord: fileNumber },
      ],
    },
  ];
  const heap = encodeHeap(root);
  const out = new Uint8Array(26 + heap.length);
  const v = new DataView(out.buffer);
  out.set([0x49, 0x49]);
  v.setUint32(2, 26, true);
  out.set(new TextEncoder().encode("HEAPCCDR"), 6);
  v.setUint32(14, 0x00010002, true);
  out.set(heap, 26);
  return out;
}

/** Encodes a heap: values (each padded to an even length), record table, table offset. */
function encodeHeap(records: readonly CiffRecord[]): Uint8Array {
  const values: Uint8Array[] = [];
  const table: { type: number; length: number; offset: number; inRecord?: Uint8Array }[] = [];
  let at = 0;
  for (const r of records) {
    if ("inRecord" in r) {
      table.push({ type: r.type, length: 0, offset: 0, inRecord: r.inRecord });
      continue;
    }
    const bytes = "heap" in r ? encodeHeap(r.heap) : r.value;
    table.push({ type: r.type, length: bytes.length, offset: at });
    values.push(bytes);
    at += bytes.length;
    if (bytes.length % 2 === 1) {
      values.push(new Uint8Array(1));
      at += 1;
    }
  }
  const tableAt = at;
  const out = new Uint8Array(tableAt + 2 + 10 * table.length + 4);
  const v = new DataView(out.buffer);
  let p = 0;
  for (const b of values) {
    out.set(b, p);
    p += b.length;
  }
  v.setUint16(tableAt, table.length, true);
  table.forEach((t, i) => {
    const q = tableAt + 2 + 10 * i;
    v.setUint16(q, t.type, true);
    if (t.inRecord !== undefined) {
      out.set(t.inRecord.subarray(0, 8), q + 2);
    } else {
      v.setUint32(q + 2, t.length, true);
      v.setUint32(q + 6, t.offset, true);
    }
  });
  v.setUint32(out.length - 4, tableAt, true);
  return out;
}
