/**
 * JPEG encoding and decoding for the virtual camera. Encoding uses the
 * project's own baseline encoder ({@link encodeBaselineJpeg}); decoding uses
 * the npm codec `jpeg-js`, and this is the one module that imports it, so it
 * can be swapped. (Decoding with an independent codec is also what makes the
 * tests of the encoder meaningful.)
 *
 * @module
 */

// The one place that names the npm codec (deno.json has no import map for it).
import jpegJs from "jpeg-js";
import type { RgbaImage } from "./image.ts";
import { encodeBaselineJpeg } from "./jpeg_encoder.ts";

/**
 * Encodes `image` as a baseline JPEG (YCbCr 4:2:2, standard Huffman tables)
 * in the form cameras embed and write: SOI directly followed by the
 * quantisation tables (`FF D8 FF DB`), no JFIF APP0 segment. Deterministic.
 *
 * @param image the RGBA picture
 * @param quality 1..100
 * @returns the JPEG bytes
 *
 * @example
 * ```ts
 * import { encodeJpeg } from "./jpeg.ts";
 * import { renderPicture } from "./image.ts";
 * const jpeg = encodeJpeg(renderPicture({ width: 32, height: 24, label: "1", seed: 1 }), 80);
 * if (jpeg[3] !== 0xdb) throw new Error("expected DQT right after SOI");
 * ```
 */
export function encodeJpeg(image: RgbaImage, quality: number): Uint8Array {
  return encodeBaselineJpeg(image, quality);
}

/**
 * Decodes a baseline JPEG to RGBA pixels.
 *
 * @param bytes the JPEG file
 * @returns the picture
 * @throws Error when the data is not a decodable JPEG
 *
 * @example
 * ```ts
 * import { decodeJpeg, encodeJpeg } from "./jpeg.ts";
 * import { renderPicture } from "./image.ts";
 * const jpeg = encodeJpeg(renderPicture({ width: 32, height: 24, label: "1", seed: 1 }), 80);
 * if (decodeJpeg(jpeg).width !== 32) throw new Error("wrong width");
 * ```
 */
export function decodeJpeg(bytes: Uint8Array): RgbaImage {
  const decoded = jpegJs.decode(bytes, { useTArray: true, formatAsRGBA: true });
  return { width: decoded.width, height: decoded.height, data: decoded.data };
}
