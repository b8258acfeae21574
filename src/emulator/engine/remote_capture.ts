/**
 * The virtual camera's side of remote capture, apart from the protocol
 * engine: what a release-parameter block means for the picture's EXIF (read
 * with the APEX pattern the reference describes, §6.4, not with the client's
 * tables), the interrupt packets of a shutter release (§4.4.3), the pictures
 * a release produces, and the viewfinder's frames (§4.4.4).
 *
 * @module
 */

import { encodeBaselineJpeg } from "../card/media/jpeg_encoder.ts";
import { renderPicture } from "../card/media/image.ts";
import { makeJpeg, THUMBNAIL_HEIGHT, THUMBNAIL_WIDTH } from "../card/media/photo.ts";
import { putU32 } from "./wire.ts";

/** Block offsets the camera reads when it takes a picture (§6.3). */
const FLASH = 0x06;
const ISO = 0x1a;
const APERTURE = 0x1c;
const SHUTTER = 0x1e;
const BIAS = 0x20;

/** Nominal values, to print an APEX value as a camera does. */
const NOMINAL_ISO = [
  50,
  64,
  80,
  100,
  125,
  160,
  200,
  250,
  320,
  400,
  500,
  640,
  800,
  1000,
  1250,
  1600,
  2000,
  2500,
  3200,
];
const NOMINAL_F = [
  1,
  1.1,
  1.2,
  1.4,
  1.6,
  1.8,
  2,
  2.2,
  2.5,
  2.8,
  3.2,
  3.5,
  4,
  4.5,
  5,
  5.6,
  6.3,
  7.1,
  8,
  9,
  10,
  11,
  13,
  14,
  16,
  18,
  20,
  22,
  25,
  29,
  32,
];
const NOMINAL_LONG = [
  30,
  25,
  20,
  15,
  13,
  10,
  8,
  6,
  5,
  4,
  3.2,
  2.5,
  2,
  1.6,
  1.3,
  1,
  0.8,
  0.6,
  0.5,
  0.4,
  0.3,
];
const NOMINAL_SHORT = [
  4,
  5,
  6,
  8,
  10,
  13,
  15,
  20,
  25,
  30,
  40,
  50,
  60,
  80,
  100,
  125,
  160,
  200,
  250,
  320,
  400,
  500,
  640,
  800,
  1000,
  1250,
  1600,
  2000,
  2500,
  3200,
  4000,
  5000,
  6400,
  8000,
];

function nearest(values: readonly number[], wanted: number): number {
  let best = values[0];
  for (const v of values) {
    if (Math.abs(Math.log(v / wanted)) < Math.abs(Math.log(best / wanted))) best = v;
  }
  return best;
}

/** What the camera records in a picture's EXIF. */
export interface Exposure {
  /** ISO speed. */
  iso: number;
  /** f-number. */
  fNumber: number;
  /** Exposure time in seconds as [numerator, denominator]. */
  exposureTime: [number, number];
  /** Whether the flash fired ("on"; "auto" is taken as not needed). */
  flash: boolean;
  /** Exposure compensation in EV. */
  exposureBias: number;
}

/** A signed eighths-of-a-stop value as the nearest third or half stop. */
function eighthsToEv(value: number): number {
  const sign = value < 0 ? -1 : 1;
  const magnitude = Math.abs(value);
  const whole = Math.floor(magnitude / 8);
  const rest = magnitude % 8;
  const fraction = rest === 0 ? 0 : rest <= 3 ? 1 / 3 : rest === 4 ? 1 / 2 : 2 / 3;
  return sign * (whole + fraction);
}

/**
 * The exposure a release-parameter block sets, as APEX values read from
 * their bytes (§6.4: 8 units per stop; ISO 100 = 0x48, f/1 = 0x08, 1 s = 0x38;
 * exposure compensation signed in EOS bodies, 0x18 − that in PowerShots),
 * rounded to the nominal values a camera prints.
 *
 * @param block the 0x30-byte release-parameter block
 * @param eos true for the EOS exposure-compensation encoding
 * @returns the exposure
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exposureOf } from "./remote_capture.ts";
 * const block = new Uint8Array(0x30);
 * block.set([0x40, 0, 0x28, 0, 0x70, 0, 0x18], 0x1a);
 * assert.deepEqual(exposureOf(block, false), {
 *   iso: 50,
 *   fNumber: 4,
 *   exposureTime: [1, 125],
 *   flash: false,
 *   exposureBias: 0,
 * });
 * ```
 */
export function exposureOf(block: Uint8Array, eos: boolean): Exposure {
  const iso = nearest(NOMINAL_ISO, 100 * 2 ** ((block[ISO] - 0x48) / 8));
  const fNumber = nearest(NOMINAL_F, 2 ** ((block[APERTURE] - 0x08) / 16));
  let exposureTime: [number, number];
  if (block[SHUTTER] <= 0x04) {
    exposureTime = [1, 1]; // bulb: as long as the button is held; the virtual button lets go at once
  } else {
    const seconds = 2 ** (-(block[SHUTTER] - 0x38) / 8);
    exposureTime = seconds >= 0.29
      ? [Math.round(nearest(NOMINAL_LONG, seconds) * 10), 10]
      : [1, nearest(NOMINAL_SHORT, 1 / seconds)];
  }
  const raw = block[BIAS];
  const signed = eos ? (raw << 24) >> 24 : 0x18 - raw;
  return {
    iso,
    fNumber,
    exposureTime,
    flash: block[FLASH] === 1,
    exposureBias: eighthsToEv(signed),
  };
}

/** Interrupt packet codes and capture-status sub-codes the camera sends (§4.4.3, §5.4). */
export const CAPTURE_PACKET = {
  /** Thumbnail descriptor. */
  THUMBNAIL: 0x08,
  /** Capture status. */
  STATUS: 0x0a,
  /** Full-image descriptor. */
  IMAGE: 0x0c,
  /** Status: capture started. */
  STARTED: 0x1c,
  /** Status: capture finished. */
  FINISHED: 0x1d,
  /** Status: photographic failure. */
  FAILURE: 0x0a,
} as const;

/**
 * A 16-byte capture-status packet: word 2, word 0x0A, word 0x10, word sub-code.
 *
 * @param sub 0x1C started, 0x1D finished
 * @returns the packet
 */
export function statusPacket(sub: number): Uint8Array {
  const packet = new Uint8Array(0x10);
  putU32(packet, 0, 2);
  putU32(packet, 4, CAPTURE_PACKET.STATUS);
  putU32(packet, 8, 0x10);
  putU32(packet, 0x0c, sub);
  return packet;
}

/**
 * The 20-byte photographic-failure packet: status 0x0A/0x0A with the failure
 * code at 0x10.
 *
 * @param code the failure code (1 = autofocus failure on the 5D)
 * @returns the packet
 */
export function failurePacket(code: number): Uint8Array {
  const packet = new Uint8Array(0x14);
  putU32(packet, 0, 2);
  putU32(packet, 4, CAPTURE_PACKET.STATUS);
  putU32(packet, 8, 0x14);
  putU32(packet, 0x0c, CAPTURE_PACKET.FAILURE);
  putU32(packet, 0x10, code);
  return packet;
}

/**
 * A 23-byte image descriptor: key at 0x0C, byte 1 at 0x10 (old cameras), size
 * at 0x11, then `00 B0` as the G2 sends.
 *
 * @param code 0x08 thumbnail, 0x0C full image
 * @param key the key the host fetches it with
 * @param size its size in bytes
 * @param version byte 0x10: 1 on old cameras, 2 on the 20D
 * @returns the packet
 */
export function descriptorPacket(code: number, key: number, size: number, version = 1): Uint8Array {
  const packet = new Uint8Array(0x17);
  putU32(packet, 0, 2);
  putU32(packet, 4, code);
  putU32(packet, 8, 0x17);
  putU32(packet, 0x0c, key);
  packet[0x10] = version;
  putU32(packet, 0x11, size);
  packet[0x16] = 0xb0;
  return packet;
}

/**
 * A 16-byte EOS event packet: 0x0E "written to card", 0x0F "capture complete".
 *
 * @param code the packet code
 * @returns the packet
 */
export function eventPacket(code: number): Uint8Array {
  const packet = new Uint8Array(0x10);
  putU32(packet, 0, 2);
  putU32(packet, 4, code);
  putU32(packet, 8, 0x10);
  return packet;
}

/** A picture just taken: the JPEG file and its thumbnail. */
export interface TakenPicture {
  /** The JPEG (EXIF with the exposure, and the thumbnail). */
  full: Uint8Array;
  /** The 160×120 thumbnail on its own, as the camera hands it over (0x17 type 1). */
  thumbnail: Uint8Array;
}

/** What {@link takePicture} draws and records. */
export interface PictureRequest {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** The number drawn in the picture (the camera's file number). */
  number: number;
  /** Capture time, camera-local seconds. */
  date: number;
  /** EXIF Model. */
  model: string;
  /** The exposure. */
  exposure: Exposure;
}

/**
 * Take a picture: the test picture with the file number drawn large, EXIF
 * recording the exposure.
 *
 * @param request size, number, date, model, exposure
 * @returns the JPEG and its thumbnail
 */
export function takePicture(request: PictureRequest): TakenPicture {
  const label = String(request.number).padStart(4, "0");
  const { exposure } = request;
  const full = makeJpeg({
    width: request.width,
    height: request.height,
    label,
    seed: request.number,
    date: request.date,
    model: request.model,
    iso: exposure.iso,
    fNumber: exposure.fNumber,
    exposureTime: exposure.exposureTime,
    flash: exposure.flash,
    exposureBias: exposure.exposureBias,
  });
  // The same rendering makeJpeg embeds (equal options, equal bytes).
  const thumbnail = encodeBaselineJpeg(
    renderPicture({
      width: THUMBNAIL_WIDTH,
      height: THUMBNAIL_HEIGHT,
      label,
      seed: request.number,
    }),
    75,
  );
  return { full, thumbnail };
}

/** Width of a viewfinder frame (§4.4.4). */
export const VIEWFINDER_WIDTH = 320;
/** Height of a viewfinder frame (§4.4.4). */
export const VIEWFINDER_HEIGHT = 240;

/**
 * One viewfinder frame: a 320×240 baseline JPEG (no EXIF) with the frame
 * counter drawn large. About 3 ms once warm.
 *
 * @param counter the frame number (drawn modulo 10000)
 * @param zoom the zoom position (shifts the scene's colours, so zooming shows)
 * @returns the JPEG
 */
export function viewfinderFrame(counter: number, zoom = 0): Uint8Array {
  return encodeBaselineJpeg(
    renderPicture({
      width: VIEWFINDER_WIDTH,
      height: VIEWFINDER_HEIGHT,
      label: String(counter % 10000).padStart(4, "0"),
      seed: 0x5000 + zoom,
    }),
    60,
  );
}
