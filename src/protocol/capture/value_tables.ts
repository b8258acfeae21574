/**
 * The value tables of the release-parameter block, each written once with
 * its meaning: shooting modes, ISO, apertures, shutter speeds, exposure
 * compensation, image formats, flash, focus, beep (§6.4–6.6; sources: gphoto2
 * `canon.h` checked against libgphoto2 2.5.30 by the errata, and the G3
 * RemoteCapture traces for SuperFine, Medium 2 and the macro byte).
 *
 * @module
 */

/** One row of a value table: the value the API uses, its label, and its byte. */
export interface ValueCode<T> {
  /** The value in the API's terms. */
  readonly value: T;
  /** How people (and gphoto2's menus) write it. */
  readonly label: string;
  /** The byte in the release-parameter block. */
  readonly code: number;
}

/** ISO speeds the release block can carry. */
export type IsoSpeed =
  | 50
  | 100
  | 125
  | 160
  | 200
  | 250
  | 320
  | 400
  | 500
  | 640
  | 800
  | 1000
  | 1250
  | 1600
  | 3200;

function rows<T>(entries: readonly (readonly [T, number, string?])[]): ValueCode<T>[] {
  return entries.map(([value, code, label]) => ({ value, code, label: label ?? String(value) }));
}

/** ISO (block byte 0x1A, §6.4): 8 units per stop, 0x48 = ISO 100. */
export const ISO_SPEEDS: readonly ValueCode<IsoSpeed>[] = rows<IsoSpeed>([
  [50, 0x40],
  [100, 0x48],
  [125, 0x4b],
  [160, 0x4d],
  [200, 0x50],
  [250, 0x53],
  [320, 0x55],
  [400, 0x58],
  [500, 0x5b],
  [640, 0x5d],
  [800, 0x60],
  [1000, 0x63],
  [1250, 0x65],
  [1600, 0x68],
  [3200, 0x70],
]);

/** Apertures (f-numbers) the release block can carry. */
export type Aperture =
  | 1.2
  | 1.4
  | 1.6
  | 1.8
  | 2
  | 2.2
  | 2.5
  | 2.8
  | 3.2
  | 3.5
  | 4
  | 4.5
  | 5
  | 5.6
  | 6.3
  | 6.7
  | 7.1
  | 8
  | 9
  | 9.5
  | 10
  | 11
  | 13
  | 14
  | 16
  | 18
  | 19
  | 20
  | 22
  | 25
  | 27
  | 29
  | 32;

/** Aperture (block byte 0x1C, §6.4): f/4 = 0x28, 8 units per stop. */
export const APERTURES: readonly ValueCode<Aperture>[] = rows<Aperture>([
  [1.2, 0x0d, "f/1.2"],
  [1.4, 0x10, "f/1.4"],
  [1.6, 0x13, "f/1.6"],
  [1.8, 0x15, "f/1.8"],
  [2, 0x18, "f/2.0"],
  [2.2, 0x1b, "f/2.2"],
  [2.5, 0x1d, "f/2.5"],
  [2.8, 0x20, "f/2.8"],
  [3.2, 0x23, "f/3.2"],
  [3.5, 0x25, "f/3.5"],
  [4, 0x28, "f/4.0"],
  [4.5, 0x2b, "f/4.5"],
  [5, 0x2d, "f/5.0"],
  [5.6, 0x30, "f/5.6"],
  [6.3, 0x33, "f/6.3"],
  [7.1, 0x35, "f/7.1"],
  [8, 0x38, "f/8"],
  [9, 0x3b, "f/9"],
  [10, 0x3d, "f/10"],
  [11, 0x40, "f/11"],
  [13, 0x43, "f/13"],
  [14, 0x45, "f/14"],
  [16, 0x48, "f/16"],
  [18, 0x4b, "f/18"],
  [20, 0x4d, "f/20"],
  [22, 0x50, "f/22"],
  [25, 0x53, "f/25"],
  [29, 0x55, "f/29"],
  [32, 0x58, "f/32"],
]);

/**
 * Apertures as a body set to half stops reports them (the EOS custom
 * function "exposure level increments" = 1/2 stop, C.Fn-06 on the 20D): the
 * code halfway between two whole stops (+4 of the 8 units; a third is +3 or
 * +5, so no code is in both tables), named as the camera shows it. Read
 * only: `set()` writes the thirds of {@link APERTURES}. A real 20D reports
 * 0x1c, f/2.5 (Protocol.xml).
 */
export const HALF_STOP_APERTURES: readonly ValueCode<Aperture>[] = rows<Aperture>([
  [1.2, 0x0c, "f/1.2"],
  [1.8, 0x14, "f/1.8"],
  [2.5, 0x1c, "f/2.5"],
  [3.5, 0x24, "f/3.5"],
  [4.5, 0x2c, "f/4.5"],
  [6.7, 0x34, "f/6.7"],
  [9.5, 0x3c, "f/9.5"],
  [13, 0x44, "f/13"],
  [19, 0x4c, "f/19"],
  [27, 0x54, "f/27"],
]);

/** Shutter speeds the release block can carry, written as gphoto2 writes them (seconds). */
export type ShutterSpeed =
  | "Bulb"
  | "30"
  | "25"
  | "20"
  | "15"
  | "13"
  | "10"
  | "8"
  | "6"
  | "5"
  | "4"
  | "3.2"
  | "2.5"
  | "3"
  | "2"
  | "1.6"
  | "1.5"
  | "1.3"
  | "1"
  | "0.8"
  | "0.7"
  | "0.6"
  | "0.5"
  | "0.4"
  | "0.3"
  | "1/4"
  | "1/5"
  | "1/6"
  | "1/8"
  | "1/10"
  | "1/13"
  | "1/15"
  | "1/20"
  | "1/25"
  | "1/30"
  | "1/40"
  | "1/45"
  | "1/50"
  | "1/60"
  | "1/80"
  | "1/90"
  | "1/100"
  | "1/125"
  | "1/160"
  | "1/180"
  | "1/200"
  | "1/250"
  | "1/320"
  | "1/350"
  | "1/400"
  | "1/500"
  | "1/640"
  | "1/750"
  | "1/800"
  | "1/1000"
  | "1/1250"
  | "1/1500"
  | "1/1600"
  | "1/2000"
  | "1/2500"
  | "1/3000"
  | "1/3200"
  | "1/4000"
  | "1/5000"
  | "1/6000"
  | "1/6400"
  | "1/8000";

/**
 * Shutter speed (block byte 0x1E, §6.4): 0x38 = 1 s, 8 units per stop.
 *
 * 1.6 s is written as 0x33, the code the thirds-of-a-stop pattern gives
 * (2 s 0x30, 1.3 s 0x35) and libgphoto2's current code uses; libgphoto2
 * 2.5.30 (Debian 12) and canon-remote use 0x32 (errata E2), so 0x32 is read
 * as 1.6 s too (see {@link SHUTTER_SPEED_ALIASES}).
 */
export const SHUTTER_SPEEDS: readonly ValueCode<ShutterSpeed>[] = rows<ShutterSpeed>([
  ["Bulb", 0x04],
  ["30", 0x10],
  ["25", 0x13],
  ["20", 0x15],
  ["15", 0x18],
  ["13", 0x1b],
  ["10", 0x1d],
  ["8", 0x20],
  ["6", 0x23],
  ["5", 0x25],
  ["4", 0x28],
  ["3.2", 0x2b],
  ["2.5", 0x2d],
  ["2", 0x30],
  ["1.6", 0x33],
  ["1.3", 0x35],
  ["1", 0x38],
  ["0.8", 0x3b],
  ["0.6", 0x3d],
  ["0.5", 0x40],
  ["0.4", 0x43],
  ["0.3", 0x45],
  ["1/4", 0x48],
  ["1/5", 0x4b],
  ["1/6", 0x4d],
  ["1/8", 0x50],
  ["1/10", 0x53],
  ["1/13", 0x55],
  ["1/15", 0x58],
  ["1/20", 0x5b],
  ["1/25", 0x5d],
  ["1/30", 0x60],
  ["1/40", 0x63],
  ["1/50", 0x65],
  ["1/60", 0x68],
  ["1/80", 0x6b],
  ["1/100", 0x6d],
  ["1/125", 0x70],
  ["1/160", 0x73],
  ["1/200", 0x75],
  ["1/250", 0x78],
  ["1/320", 0x7b],
  ["1/400", 0x7d],
  ["1/500", 0x80],
  ["1/640", 0x83],
  ["1/800", 0x85],
  ["1/1000", 0x88],
  ["1/1250", 0x8b],
  ["1/1600", 0x8d],
  ["1/2000", 0x90],
  ["1/2500", 0x93],
  ["1/3200", 0x95],
  ["1/4000", 0x98],
  ["1/5000", 0x9a],
  ["1/6400", 0x9d],
  ["1/8000", 0xa0],
]);

/**
 * Shutter speeds as a body set to half stops reports them (see
 * {@link HALF_STOP_APERTURES}): the code halfway between two whole stops,
 * named as the camera shows it. Read only: `set()` writes the thirds of
 * {@link SHUTTER_SPEEDS}. A real 20D reports 0x74, 1/180 s (Protocol.xml).
 */
export const HALF_STOP_SHUTTER_SPEEDS: readonly ValueCode<ShutterSpeed>[] = rows<ShutterSpeed>([
  ["20", 0x14],
  ["10", 0x1c],
  ["6", 0x24],
  ["3", 0x2c],
  ["1.5", 0x34],
  ["0.7", 0x3c],
  ["0.3", 0x44],
  ["1/6", 0x4c],
  ["1/10", 0x54],
  ["1/20", 0x5c],
  ["1/45", 0x64],
  ["1/90", 0x6c],
  ["1/180", 0x74],
  ["1/350", 0x7c],
  ["1/750", 0x84],
  ["1/1500", 0x8c],
  ["1/3000", 0x94],
  ["1/6000", 0x9c],
]);

/** Other bytes read as a shutter speed: 0x32 is 1.6 s in libgphoto2 2.5.30 and canon-remote (errata E2). */
export const SHUTTER_SPEED_ALIASES: Readonly<Record<number, ShutterSpeed>> = { 0x32: "1.6" };

/** One exposure-compensation step, with its byte in both encodings (§6.4). */
export interface ExposureCompensationCode {
  /** Exposure value, e.g. -1/3 (as a number, -0.333…). */
  readonly value: number;
  /** As written, e.g. "-1/3". */
  readonly label: string;
  /** Byte in EOS bodies (signed, 8 units per stop). */
  readonly eos: number;
  /** Byte in PowerShots (0x18 − the EOS value). */
  readonly powerShot: number;
}

/**
 * Exposure compensation (block byte 0x20, §6.4). gphoto2 uses the EOS column
 * when the model name contains "EOS" or "Rebel", the PowerShot column
 * otherwise; this library reads the choice from the model's traits (`eos`).
 */
export const EXPOSURE_COMPENSATIONS: readonly ExposureCompensationCode[] = (
  [
    [2, "+2", 0x10],
    [5 / 3, "+1 2/3", 0x0d],
    [1.5, "+1 1/2", 0x0c],
    [4 / 3, "+1 1/3", 0x0b],
    [1, "+1", 0x08],
    [2 / 3, "+2/3", 0x05],
    [0.5, "+1/2", 0x04],
    [1 / 3, "+1/3", 0x03],
    [0, "0", 0x00],
    [-1 / 3, "-1/3", 0xfd],
    [-0.5, "-1/2", 0xfc],
    [-2 / 3, "-2/3", 0xfb],
    [-1, "-1", 0xf8],
    [-4 / 3, "-1 1/3", 0xf5],
    [-1.5, "-1 1/2", 0xf4],
    [-5 / 3, "-1 2/3", 0xf3],
    [-2, "-2", 0xf0],
  ] as const
).map(([value, label, eos]) => ({ value, label, eos, powerShot: (0x18 - eos) & 0xff }));

/** Picture sizes of the image-format triple. */
export type ImageSize = "large" | "medium" | "medium2" | "small";

/** JPEG compression of the image-format triple, or "raw" for a RAW file alone. */
export type ImageQuality = "superfine" | "fine" | "normal" | "raw";

/** What the camera records: size and quality, and whether a RAW file is kept. */
export interface ImageFormat {
  /** The picture size; RAW files are always full size ("large"). */
  readonly size: ImageSize;
  /** JPEG compression, or "raw" when only a RAW file is recorded. */
  readonly quality: ImageQuality;
  /** True when a RAW file is recorded (alone when `quality` is "raw", else beside the JPEG). */
  readonly raw: boolean;
}

/** One image-format triple (block bytes 0x01–0x03). */
export interface ImageFormatCode {
  /** The format. */
  readonly value: ImageFormat;
  /** gphoto2's name, e.g. "Large Fine JPEG". */
  readonly label: string;
  /** Bytes 0x01 (quality), 0x02 (format: 1 JPEG, 2 RAW, 0x12 both), 0x03 (size). */
  readonly code: readonly [number, number, number];
  /** Where the triple comes from. */
  readonly source: "gphoto2" | "G3 trace";
}

function format(
  label: string,
  code: [number, number, number],
  size: ImageSize,
  quality: ImageQuality,
  raw: boolean,
  source: "gphoto2" | "G3 trace" = "gphoto2",
): ImageFormatCode {
  return { label, code, value: { size, quality, raw }, source };
}

/**
 * Image formats (block bytes 0x01–0x03, §6.5): gphoto2's table (tested on
 * the EOS 5D) and the SuperFine and "Medium 2" triples of the G3 traces
 * (quality 5 = SuperFine; size 3 = Medium 2 is read from the order of the
 * G3's own format list, unverified). "RAW 2" (03 02 00) is read as RAW;
 * RAW is written as 04 02 00.
 */
export const IMAGE_FORMATS: readonly ImageFormatCode[] = [
  format("RAW", [0x04, 0x02, 0x00], "large", "raw", true),
  format("RAW 2", [0x03, 0x02, 0x00], "large", "raw", true),
  format("Small Normal JPEG", [0x02, 0x01, 0x02], "small", "normal", false),
  format("Small Fine JPEG", [0x03, 0x01, 0x02], "small", "fine", false),
  format("Small SuperFine JPEG", [0x05, 0x01, 0x02], "small", "superfine", false, "G3 trace"),
  format("Medium Normal JPEG", [0x02, 0x01, 0x01], "medium", "normal", false),
  format("Medium Fine JPEG", [0x03, 0x01, 0x01], "medium", "fine", false),
  format("Medium SuperFine JPEG", [0x05, 0x01, 0x01], "medium", "superfine", false, "G3 trace"),
  format("Medium 2 Normal JPEG", [0x02, 0x01, 0x03], "medium2", "normal", false, "G3 trace"),
  format("Medium 2 Fine JPEG", [0x03, 0x01, 0x03], "medium2", "fine", false, "G3 trace"),
  format(
    "Medium 2 SuperFine JPEG",
    [0x05, 0x01, 0x03],
    "medium2",
    "superfine",
    false,
    "G3 trace",
  ),
  format("Large Normal JPEG", [0x02, 0x01, 0x00], "large", "normal", false),
  format("Large Fine JPEG", [0x03, 0x01, 0x00], "large", "fine", false),
  format("Large SuperFine JPEG", [0x05, 0x01, 0x00], "large", "superfine", false, "G3 trace"),
  format("RAW + Small Normal JPEG", [0x24, 0x12, 0x20], "small", "normal", true),
  format("RAW + Small Fine JPEG", [0x34, 0x12, 0x20], "small", "fine", true),
  format("RAW + Medium Normal JPEG", [0x24, 0x12, 0x10], "medium", "normal", true),
  format("RAW + Medium Fine JPEG", [0x34, 0x12, 0x10], "medium", "fine", true),
  format("RAW + Large Normal JPEG", [0x24, 0x12, 0x00], "large", "normal", true),
  format("RAW + Large Fine JPEG", [0x34, 0x12, 0x00], "large", "fine", true),
];

/** Shooting modes the release block can carry, as gphoto2 names them. */
export type ShootingMode =
  | "AUTO"
  | "P"
  | "Tv"
  | "Av"
  | "M"
  | "A-DEP"
  | "M-DEP"
  | "Bulb"
  | "Manual 2"
  | "Far scene"
  | "Fast shutter"
  | "Slow shutter"
  | "Night scene"
  | "Gray scale"
  | "Sepia"
  | "Portrait"
  | "Spot"
  | "Macro"
  | "BW"
  | "PanFocus"
  | "Vivid"
  | "Neutral"
  | "Flash off"
  | "Long shutter"
  | "Super macro"
  | "Foliage"
  | "Indoor"
  | "Fireworks"
  | "Beach"
  | "Underwater"
  | "Snow"
  | "Kids and pets"
  | "Night snapshot"
  | "Digital macro"
  | "MyColors"
  | "Photo in movie";

/** Shooting mode (block byte 0x08, §6.6). Not every camera takes every mode. */
export const SHOOTING_MODES: readonly ValueCode<ShootingMode>[] = rows<ShootingMode>([
  ["AUTO", 0x00],
  ["P", 0x01],
  ["Tv", 0x02],
  ["Av", 0x03],
  ["M", 0x04],
  ["A-DEP", 0x05],
  ["M-DEP", 0x06],
  ["Bulb", 0x07],
  ["Manual 2", 0x65],
  ["Far scene", 0x66],
  ["Fast shutter", 0x67],
  ["Slow shutter", 0x68],
  ["Night scene", 0x69],
  ["Gray scale", 0x6a],
  ["Sepia", 0x6b],
  ["Portrait", 0x6c],
  ["Spot", 0x6d],
  ["Macro", 0x6e],
  ["BW", 0x6f],
  ["PanFocus", 0x70],
  ["Vivid", 0x71],
  ["Neutral", 0x72],
  ["Flash off", 0x73],
  ["Long shutter", 0x74],
  ["Super macro", 0x75],
  ["Foliage", 0x76],
  ["Indoor", 0x77],
  ["Fireworks", 0x78],
  ["Beach", 0x79],
  ["Underwater", 0x7a],
  ["Snow", 0x7b],
  ["Kids and pets", 0x7c],
  ["Night snapshot", 0x7d],
  ["Digital macro", 0x7e],
  ["MyColors", 0x7f],
  ["Photo in movie", 0x80],
]);

/** Focus modes. */
export type FocusMode = "one-shot" | "ai-servo" | "ai-focus" | "manual";

/** Focus mode (block byte 0x12, §6.3); "manual" also follows the lens's AF/MF switch. */
export const FOCUS_MODES: readonly ValueCode<FocusMode>[] = rows<FocusMode>([
  ["one-shot", 0x00, "Auto focus: one-shot"],
  ["ai-servo", 0x01, "Auto focus: AI servo"],
  ["ai-focus", 0x02, "Auto focus: AI focus"],
  ["manual", 0x03, "Manual focus"],
]);

/** Flash modes. */
export type FlashMode = "off" | "on" | "auto";

/** Flash (block byte 0x06, §6.3; confirmed by the G3 RemoteCapture traces). */
export const FLASH_MODES: readonly ValueCode<FlashMode>[] = rows<FlashMode>([
  ["off", 0x00, "Flash off"],
  ["on", 0x01, "Flash on"],
  ["auto", 0x02, "Flash auto"],
]);

/** Beep (block byte 0x07, §6.3). */
export const BEEP_MODES: readonly ValueCode<boolean>[] = rows<boolean>([
  [false, 0x00, "Beep off"],
  [true, 0x01, "Beep on"],
]);

/**
 * Macro (block byte 0x0D; canon-remote from the G3 trace, not in gphoto2).
 * Other cameras carry other bytes there (0xFF in the document's and the
 * 20D's samples), which read as "no macro setting".
 */
export const MACRO_MODES: readonly ValueCode<boolean>[] = rows<boolean>([
  [false, 0x01, "Macro off"],
  [true, 0x03, "Macro on"],
]);
