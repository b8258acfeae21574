/**
 * Motion-JPEG ".AVI" movies as a PowerShot records them (video only here): a
 * RIFF "AVI " file with the header list (hdrl: avih, and one stream list strl
 * with strh "vids"/"MJPG" and a BITMAPINFOHEADER strf), the movie list (movi)
 * with one "00dc" chunk per JPEG frame, and the legacy index (idx1).
 *
 * @module
 */

import { renderPicture } from "./image.ts";
import { encodeBaselineJpeg } from "./jpeg_encoder.ts";

/** What {@link makeAvi} records. */
export interface AviOptions {
  /** Frame width in pixels; default 160. */
  width?: number;
  /** Frame height in pixels; default 120. */
  height?: number;
  /** Number of frames (at least 1); default 8. */
  frames?: number;
  /** Frames per second; default 15. */
  fps?: number;
  /** Text drawn in every frame, followed by the frame's number (1-based). */
  label: string;
  /** Picks the frames' colours. */
  seed: number;
}

/** AVIF_HASINDEX: the file has an idx1 chunk. */
const AVIF_HASINDEX = 0x10;
/** AVIIF_KEYFRAME: an index entry is a key frame. */
const AVIIF_KEYFRAME = 0x10;

/**
 * Makes an MJPEG AVI. Frame `i` shows `"<label> <i+1>"`.
 *
 * @param options frame size, count, rate, label and seed
 * @returns the file's bytes
 *
 * @example
 * ```ts
 * import { makeAvi } from "./avi.ts";
 * const avi = makeAvi({ label: "0007", seed: 7, frames: 2 });
 * if (new TextDecoder().decode(avi.subarray(8, 12)) !== "AVI ") throw new Error("not an AVI");
 * ```
 */
export function makeAvi(options: AviOptions): Uint8Array {
  const width = options.width ?? 160;
  const height = options.height ?? 120;
  const count = options.frames ?? 8;
  const fps = options.fps ?? 15;
  if (!Number.isInteger(count) || count < 1) {
    throw new RangeError(`frame count must be a positive integer, got ${count}`);
  }
  if (!Number.isInteger(fps) || fps < 1) {
    throw new RangeError(`frame rate must be a positive integer, got ${fps}`);
  }
  const frames: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const label = `${options.label} ${i + 1}`;
    frames.push(
      encodeBaselineJpeg(renderPicture({ width, height, label, seed: options.seed }), 75),
    );
  }
  const largest = Math.max(...frames.map((f) => f.length));
  const microSecPerFrame = Math.round(1_000_000 / fps);

  const avih = new Uint8Array(56);
  const ah = new DataView(avih.buffer);
  ah.setUint32(0, microSecPerFrame, true);
  ah.setUint32(4, largest * fps, true); // dwMaxBytesPerSec
  ah.setUint32(8, 0, true); // dwPaddingGranularity
  ah.setUint32(12, AVIF_HASINDEX, true);
  ah.setUint32(16, count, true); // dwTotalFrames
  ah.setUint32(20, 0, true); // dwInitialFrames
  ah.setUint32(24, 1, true); // dwStreams
  ah.setUint32(28, largest, true); // dwSuggestedBufferSize
  ah.setUint32(32, width, true);
  ah.setUint32(36, height, true);

  const strh = new Uint8Array(56);
  const sh = new DataView(strh.buffer);
  strh.set(ascii("vids"), 0);
  strh.set(ascii("MJPG"), 4);
  sh.setUint32(20, 1, true); // dwScale
  sh.setUint32(24, fps, true); // dwRate
  sh.setUint32(28, 0, true); // dwStart
  sh.setUint32(32, count, true); // dwLength
  sh.setUint32(36, largest, true); // dwSuggestedBufferSize
  sh.setInt32(40, -1, true); // dwQuality: default
  sh.setUint32(44, 0, true); // dwSampleSize: variable
  sh.setInt16(52, width, true); // rcFrame.right
  sh.setInt16(54, height, true); // rcFrame.bottom

  const strf = new Uint8Array(40);
  const sf = new DataView(strf.buffer);
  sf.setUint32(0, 40, true); // biSize
  sf.setInt32(4, width, true);
  sf.setInt32(8, height, true);
  sf.setUint16(12, 1, true); // biPlanes
  sf.setUint16(14, 24, true); // biBitCount
  strf.set(ascii("MJPG"), 16); // biCompression
  sf.setUint32(20, width * height * 3, true); // biSizeImage

  const hdrl = list("hdrl", [
    chunk("avih", avih),
    list("strl", [chunk("strh", strh), chunk("strf", strf)]),
  ]);
  const frameChunks = frames.map((f) => chunk("00dc", f));
  const movi = list("movi", frameChunks);

  const idx = new Uint8Array(16 * count);
  const iv = new DataView(idx.buffer);
  let offset = 4; // relative to the "movi" identifier
  frameChunks.forEach((c, i) => {
    idx.set(ascii("00dc"), 16 * i);
    iv.setUint32(16 * i + 4, AVIIF_KEYFRAME, true);
    iv.setUint32(16 * i + 8, offset, true);
    iv.setUint32(16 * i + 12, frames[i].length, true);
    offset += c.length;
  });
  const body = concat([ascii("AVI "), hdrl, movi, chunk("idx1", idx)]);
  return concat([ascii("RIFF"), u32(body.length), body]);
}

function ascii(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

function u32(value: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value, true);
  return b;
}

/** A RIFF chunk: id, size, data, pad byte when the size is odd. */
function chunk(id: string, data: Uint8Array): Uint8Array {
  return concat([ascii(id), u32(data.length), data, new Uint8Array(data.length & 1)]);
}

/** A RIFF LIST of the given type. */
function list(type: string, children: readonly Uint8Array[]): Uint8Array {
  return chunk("LIST", concat([ascii(type), ...children]));
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
