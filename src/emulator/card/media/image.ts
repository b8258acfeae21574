/**
 * Deterministic pictures for the virtual camera: a seeded colour gradient
 * with a row of colour bars and a large label (a file or frame number)
 * drawn with the built-in bitmap font. Same options, same pixels, every run.
 *
 * @module
 */

import { glyph, GLYPH_ADVANCE, GLYPH_HEIGHT, GLYPH_WIDTH } from "./font.ts";
import { createPrng } from "./prng.ts";

/** An RGBA picture, 4 bytes per pixel, rows top to bottom (what the JPEG encoder takes). */
export interface RgbaImage {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** `width * height * 4` bytes: R, G, B, A per pixel. */
  readonly data: Uint8Array;
}

/** What {@link renderPicture} draws. */
export interface PictureOptions {
  /** Width in pixels (1..8192). */
  width: number;
  /** Height in pixels (1..8192). */
  height: number;
  /** Text drawn large in the middle, e.g. a file number "0001" or a frame counter. */
  label: string;
  /** Picks the background colours; equal seeds give equal backgrounds. */
  seed: number;
}

/** An RGB colour, each channel 0..255. */
export type Rgb = readonly [number, number, number];

/** The classic colour-bar sequence drawn along the bottom of every picture. */
const BARS: readonly Rgb[] = [
  [235, 235, 235],
  [235, 235, 16],
  [16, 235, 235],
  [16, 235, 16],
  [235, 16, 235],
  [235, 16, 16],
  [16, 16, 235],
  [16, 16, 16],
];

/**
 * Draws the camera's test picture: a gradient whose colours come from
 * `seed`, colour bars along the bottom eighth, and `label` centred in large
 * white letters on a darkened band.
 *
 * @param options size, label and seed
 * @returns the picture
 *
 * @example
 * ```ts
 * import { renderPicture } from "./image.ts";
 * const pic = renderPicture({ width: 64, height: 48, label: "7", seed: 1 });
 * if (pic.data.length !== 64 * 48 * 4) throw new Error("wrong size");
 * ```
 */
export function renderPicture(options: PictureOptions): RgbaImage {
  const { width, height, label, seed } = options;
  for (const [name, v] of [["width", width], ["height", height]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 8192) {
      throw new RangeError(`picture ${name} must be an integer in 1..8192, got ${v}`);
    }
  }
  const data = new Uint8Array(width * height * 4);
  const next = createPrng(seed);
  const corner = (): Rgb => [40 + (next() % 180), 40 + (next() % 180), 40 + (next() % 180)];
  const [tl, tr, bl, br] = [corner(), corner(), corner(), corner()];
  const barTop = height - Math.max(1, Math.floor(height / 8));
  const gradientHeight = Math.max(1, barTop - 1);
  const xs = width > 1 ? width - 1 : 1;
  for (let y = 0; y < barTop; y++) {
    const v = y / gradientHeight;
    const l0 = tl[0] + (bl[0] - tl[0]) * v, l1 = tl[1] + (bl[1] - tl[1]) * v;
    const l2 = tl[2] + (bl[2] - tl[2]) * v;
    const d0 = (tr[0] + (br[0] - tr[0]) * v - l0) / xs;
    const d1 = (tr[1] + (br[1] - tr[1]) * v - l1) / xs;
    const d2 = (tr[2] + (br[2] - tr[2]) * v - l2) / xs;
    let p = y * width * 4;
    for (let x = 0; x < width; x++) {
      data[p] = (l0 + d0 * x + 0.5) | 0;
      data[p + 1] = (l1 + d1 * x + 0.5) | 0;
      data[p + 2] = (l2 + d2 * x + 0.5) | 0;
      data[p + 3] = 255;
      p += 4;
    }
  }
  for (let y = barTop; y < height; y++) {
    let p = y * width * 4;
    for (let x = 0; x < width; x++) {
      const bar = BARS[Math.min(BARS.length - 1, Math.floor((x * BARS.length) / width))];
      data[p] = bar[0];
      data[p + 1] = bar[1];
      data[p + 2] = bar[2];
      data[p + 3] = 255;
      p += 4;
    }
  }
  const image: RgbaImage = { width, height, data };
  if (label.length > 0) {
    const scale = Math.max(
      1,
      Math.floor(Math.min((width * 0.8) / textWidth(label, 1), (barTop * 0.45) / GLYPH_HEIGHT)),
    );
    const w = textWidth(label, scale);
    const h = GLYPH_HEIGHT * scale;
    const x0 = Math.floor((width - w) / 2);
    const y0 = Math.floor((barTop - h) / 2);
    const pad = Math.max(1, Math.floor(scale / 2));
    darken(image, x0 - pad, y0 - pad, w + 2 * pad, h + 2 * pad);
    const shadow = Math.max(1, Math.floor(scale / 4));
    drawText(image, label, x0 + shadow, y0 + shadow, scale, [0, 0, 0]);
    drawText(image, label, x0, y0, scale, [255, 255, 255]);
  }
  return image;
}

/**
 * Width in pixels of `text` drawn at `scale` with {@link drawText}.
 *
 * @param text the text
 * @param scale pixels per font pixel
 * @returns the width in pixels (0 for empty text)
 *
 * @example
 * ```ts
 * import { textWidth } from "./image.ts";
 * if (textWidth("12", 2) !== 22) throw new Error("two 5-pixel glyphs, one gap, doubled");
 * ```
 */
export function textWidth(text: string, scale: number): number {
  return text.length === 0 ? 0 : (text.length * GLYPH_ADVANCE - 1) * scale;
}

/**
 * Draws `text` into `image` with its top-left corner at (`x`, `y`), each font
 * pixel a `scale`×`scale` square; pixels outside the image are skipped.
 *
 * @param image the picture to draw into
 * @param text the text (upper-case letters, digits, a little punctuation)
 * @param x left edge in pixels
 * @param y top edge in pixels
 * @param scale pixels per font pixel (a positive integer)
 * @param colour the ink colour
 *
 * @example
 * ```ts
 * import { drawText } from "./image.ts";
 * const image = { width: 8, height: 8, data: new Uint8Array(8 * 8 * 4) };
 * drawText(image, "1", 0, 0, 1, [255, 255, 255]);
 * if (image.data[2 * 4] !== 255) throw new Error("the 1's top stroke is at column 2");
 * ```
 */
export function drawText(
  image: RgbaImage,
  text: string,
  x: number,
  y: number,
  scale: number,
  colour: Rgb,
): void {
  const { width, height, data } = image;
  let left = x;
  for (const char of text) {
    const rows = glyph(char);
    for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
      for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
        if (!rows[gy][gx]) continue;
        for (let py = y + gy * scale; py < y + (gy + 1) * scale; py++) {
          if (py < 0 || py >= height) continue;
          for (let px = left + gx * scale; px < left + (gx + 1) * scale; px++) {
            if (px < 0 || px >= width) continue;
            const p = (py * width + px) * 4;
            data[p] = colour[0];
            data[p + 1] = colour[1];
            data[p + 2] = colour[2];
            data[p + 3] = 255;
          }
        }
      }
    }
    left += GLYPH_ADVANCE * scale;
  }
}

/** Halves the brightness of a rectangle (clipped to the image), so white text stands out. */
function darken(image: RgbaImage, x: number, y: number, w: number, h: number): void {
  const { width, height, data } = image;
  for (let py = Math.max(0, y); py < Math.min(height, y + h); py++) {
    for (let px = Math.max(0, x); px < Math.min(width, x + w); px++) {
      const p = (py * width + px) * 4;
      data[p] >>= 1;
      data[p + 1] >>= 1;
      data[p + 2] >>= 1;
    }
  }
}
