/**
 * The model table: every USB camera of libgphoto2's canon driver (protocol
 * reference §1.2), with the class that decides how the protocol is spoken,
 * and the product ids the same cameras use in PTP mode (§1.3). What each class
 * decides on the wire is in `traits.ts`; what one model does differently from
 * its class is written here, beside the model, as its {@link ModelQuirks}.
 *
 * @module
 */

import type { CaptureRules } from "./capture/capture_sequence.ts";
import { type CustomFunctionInfo, EOS_20D_CUSTOM_FUNCTIONS } from "./capture/custom_functions.ts";
import { COMMANDS, type CommandSpec } from "./commands.ts";

/** How a camera locks its keys and which protocol generation it speaks (§1.1). */
export type CameraClass = 0 | 1 | 2 | 3 | 4 | 5 | 6;

/** Whether remote capture works on the model (gphoto2's CAP_NON, CAP_SUP, CAP_EXP). */
export type CaptureSupport = "none" | "supported" | "experimental";

/** How a body id is printed (§4.3.15). */
export type BodyIdFormat = "d30" | "decimal" | "ten-digit";

/** What a body's exposure controls take, where it is known. */
export interface ReleaseLimits {
  /** The ISO speeds it offers. */
  readonly iso: readonly number[];
  /** Widest and narrowest f-number. */
  readonly aperture: readonly [number, number];
  /** Longest and shortest shutter speed, as the shutter-speed table names them. */
  readonly shutter: readonly [string, string];
  /** Where the figures come from. */
  readonly source: string;
}

/**
 * What one model does differently from its class. `traitsOf(model)` lays
 * these over the class's traits; nothing else in the library tests a product
 * id or a model name to decide how to talk to a camera.
 */
export interface ModelQuirks {
  /** The picture-abilities command, where the class sends none (the G3 answers 0x1F). */
  readonly pictureAbilities?: CommandSpec;
  /** An EOS body (EOS exposure codes, EOS-only shooting modes, no zoom) or a PowerShot. */
  readonly eos?: boolean;
  /** The names of its custom functions, where they differ from the class's. */
  readonly customFunctionNames?: readonly CustomFunctionInfo[];
  /** The exposure limits of the body, where they are recorded. */
  readonly releaseLimits?: ReleaseLimits;
  /** How its capture sequence ends, where it differs from the class's rules. */
  readonly captureRules?: Partial<CaptureRules>;
  /** How its body id prints, where it differs from the class's format. */
  readonly bodyIdFormat?: BodyIdFormat;
}

/** One camera model. */
export interface CameraModel {
  /** The name used in messages, e.g. "PowerShot G3". */
  readonly name: string;
  /** Other names of the same camera (regional names, same firmware). */
  readonly aliases: readonly string[];
  /** USB product id in normal (Canon) mode; vendor is always 0x04a9. */
  readonly productId: number;
  /** The behavioural class (§1.1). */
  readonly cameraClass: CameraClass;
  /** Remote capture support. */
  readonly capture: CaptureSupport;
  /** Largest movie (and ordinary file) the driver accepts, bytes. */
  readonly maxMovieSize: number;
  /** Largest thumbnail the driver accepts, bytes. */
  readonly maxThumbnailSize: number;
  /** True when libgphoto2 names it "... (normal mode)" (it has a PTP mode too). */
  readonly hasPtpMode: boolean;
  /** What it does differently from its class (none when absent). */
  readonly quirks?: ModelQuirks;
}

const KIB = 1024;
const MIB = 1024 * KIB;
const SL_THUMB = 100 * KIB;
const SL_THUMB_CR2 = 10 * MIB;
const SL_MOVIE_SMALL = 100 * MIB;
const SL_MOVIE_LARGE = 2048 * MIB;

function model(
  name: string,
  aliases: string[],
  productId: number,
  cameraClass: CameraClass,
  capture: CaptureSupport,
  maxMovieSize: number,
  maxThumbnailSize: number,
  hasPtpMode = false,
  quirks?: ModelQuirks,
): CameraModel {
  return {
    name,
    aliases,
    productId,
    cameraClass,
    capture,
    maxMovieSize,
    maxThumbnailSize,
    hasPtpMode,
    ...(quirks ? { quirks } : {}),
  };
}

// ---- what single models do differently (§1.4) -------------------------------------------

/** The D30 prints its body id as `%04x%05d` of the two halves (§4.3.15). */
const EOS_D30_QUIRKS: ModelQuirks = { bodyIdFormat: "d30" };

/**
 * The G3 answers the picture-abilities command although its class sends none
 * (canon-remote trace; the reference lists the S45, D30 and D60 as not
 * implementing it); its published exposure limits.
 */
const POWERSHOT_G3_QUIRKS: ModelQuirks = {
  pictureAbilities: COMMANDS.pictureAbilities,
  releaseLimits: {
    iso: [50, 100, 200, 400],
    aperture: [2, 8],
    shutter: ["15", "1/2000"],
    source: "the PowerShot G3's published specifications",
  },
};

/** The 10D's sequence ends with "written to card" (0x0E), as class 6 does (§1.4). */
const EOS_10D_QUIRKS: ModelQuirks = { captureRules: { doneOnCardWrite: true } };

/** The 300D's ends with its last descriptor or with "written to card" (§1.4, §4.4.3). */
const EOS_300D_QUIRKS: ModelQuirks = {
  captureRules: { doneOnDescriptors: true, doneOnCardWrite: true },
};

/** The 20D's custom functions, named from its own table (§6.8). */
const EOS_20D_QUIRKS: ModelQuirks = { customFunctionNames: EOS_20D_CUSTOM_FUNCTIONS };

/**
 * PowerShots in the EOS classes 4 and 6: gphoto2 picks the exposure encoding
 * by the name ("EOS" or "Rebel"), so these use the PowerShot one.
 */
const POWERSHOT_IN_EOS_CLASS: ModelQuirks = { eos: false };

/** Canon's USB vendor id. */
export const CANON_VENDOR_ID = 0x04a9;

/** Every USB model of the canon driver, in product-id order. */
export const MODELS: readonly CameraModel[] = [
  model("PowerShot S10", [], 0x3041, 0, "none", SL_MOVIE_SMALL, SL_THUMB),
  model("PowerShot S20", [], 0x3043, 0, "none", SL_MOVIE_SMALL, SL_THUMB),
  model("EOS D30", [], 0x3044, 4, "supported", SL_MOVIE_SMALL, SL_THUMB, false, EOS_D30_QUIRKS),
  model("PowerShot S100 (2000)", [], 0x3045, 0, "none", SL_MOVIE_SMALL, SL_THUMB),
  model("IXY DIGITAL", [], 0x3046, 0, "none", SL_MOVIE_SMALL, SL_THUMB),
  model("Digital IXUS", [], 0x3047, 0, "none", SL_MOVIE_SMALL, SL_THUMB),
  model("PowerShot G1", [], 0x3048, 0, "supported", SL_MOVIE_SMALL, SL_THUMB),
  model("PowerShot Pro90 IS", [], 0x3049, 0, "supported", SL_MOVIE_SMALL, SL_THUMB),
  model("IXY DIGITAL 300", [], 0x304b, 1, "supported", SL_MOVIE_SMALL, SL_THUMB),
  model("PowerShot S300", [], 0x304c, 1, "supported", SL_MOVIE_SMALL, SL_THUMB),
  model("Digital IXUS 300", [], 0x304d, 1, "supported", SL_MOVIE_SMALL, SL_THUMB),
  model("PowerShot A20", [], 0x304e, 1, "supported", SL_MOVIE_SMALL, SL_THUMB),
  model("PowerShot A10", [], 0x304f, 1, "supported", SL_MOVIE_SMALL, SL_THUMB),
  model("PowerShot unknown 1", [], 0x3050, 1, "supported", SL_MOVIE_SMALL, SL_THUMB),
  model("PowerShot S110 (2001)", [], 0x3051, 0, "supported", SL_MOVIE_SMALL, SL_THUMB),
  model("Digital IXUS v", [], 0x3052, 0, "supported", SL_MOVIE_SMALL, SL_THUMB),
  model("PowerShot G2", [], 0x3055, 1, "supported", SL_MOVIE_SMALL, SL_THUMB),
  model("PowerShot S40", [], 0x3056, 1, "supported", SL_MOVIE_SMALL, SL_THUMB),
  model("PowerShot S30", [], 0x3057, 1, "supported", SL_MOVIE_LARGE, SL_THUMB),
  model("PowerShot A40", [], 0x3058, 1, "supported", SL_MOVIE_SMALL, SL_THUMB),
  model("PowerShot A30", [], 0x3059, 1, "supported", SL_MOVIE_SMALL, SL_THUMB),
  model("PowerShot unknown 2", [], 0x305c, 1, "supported", SL_MOVIE_SMALL, SL_THUMB),
  model("EOS D60", [], 0x3060, 4, "supported", SL_MOVIE_SMALL, SL_THUMB),
  model("PowerShot A100", [], 0x3061, 1, "supported", SL_MOVIE_SMALL, SL_THUMB),
  model("PowerShot A200", [], 0x3062, 1, "supported", SL_MOVIE_SMALL, SL_THUMB),
  model("PowerShot S200", ["Digital IXUS v2"], 0x3065, 1, "supported", SL_MOVIE_SMALL, SL_THUMB),
  model("PowerShot S330", ["Digital IXUS 330"], 0x3066, 1, "supported", SL_MOVIE_SMALL, SL_THUMB),
  model("Digital unknown 3", [], 0x306a, 1, "supported", SL_MOVIE_SMALL, SL_THUMB),
  model("Optura 200 MC", ["MVX2i", "IXY DV M"], 0x306b, 1, "supported", SL_MOVIE_LARGE, SL_THUMB),
  model("PowerShot S45", [], 0x306c, 5, "supported", SL_MOVIE_LARGE, SL_THUMB, true),
  model(
    "PowerShot G3",
    [],
    0x306e,
    5,
    "supported",
    SL_MOVIE_LARGE,
    SL_THUMB,
    true,
    POWERSHOT_G3_QUIRKS,
  ),
  model(
    "PowerShot S230",
    ["Digital IXUS v3"],
    0x3070,
    4,
    "supported",
    SL_MOVIE_LARGE,
    SL_THUMB,
    true,
    POWERSHOT_IN_EOS_CLASS,
  ),
  model("ZR70MC", [], 0x3078, 1, "supported", SL_MOVIE_SMALL, SL_THUMB, true),
  model("MV650i", [], 0x307a, 1, "supported", SL_MOVIE_SMALL, SL_THUMB, true),
  model("MV630i", [], 0x307c, 1, "supported", SL_MOVIE_LARGE, SL_THUMB, true),
  model("Optura 20", [], 0x307f, 1, "supported", SL_MOVIE_LARGE, SL_THUMB),
  model("Optura 20", ["MVX150i"], 0x3080, 1, "supported", SL_MOVIE_LARGE, SL_THUMB, true),
  model("MVX100i", [], 0x3081, 1, "supported", SL_MOVIE_LARGE, SL_THUMB),
  model("Optura 10", [], 0x3082, 1, "supported", SL_MOVIE_LARGE, SL_THUMB),
  model("EOS 10D", [], 0x3083, 4, "supported", SL_MOVIE_SMALL, SL_THUMB, false, EOS_10D_QUIRKS),
  model(
    "EOS 300D",
    ["EOS Digital Rebel", "EOS Kiss Digital"],
    0x3084,
    4,
    "supported",
    SL_MOVIE_SMALL,
    SL_THUMB,
    true,
    EOS_300D_QUIRKS,
  ),
  model("Elura 50", [], 0x3088, 1, "supported", SL_MOVIE_LARGE, SL_THUMB, true),
  model("Optura Xi", ["MVX 3i", "FV M1"], 0x308e, 1, "supported", SL_MOVIE_LARGE, SL_THUMB, true),
  model(
    "Optura 300",
    ["MVX 10i", "IXY DV M2"],
    0x3096,
    1,
    "supported",
    SL_MOVIE_LARGE,
    SL_THUMB,
    true,
  ),
  model(
    "PowerShot SD10 Digital ELPH",
    ["Digital IXUS i", "PowerShot IXY Digital L"],
    0x309b,
    1,
    "supported",
    SL_MOVIE_LARGE,
    SL_THUMB,
    true,
  ),
  model("Optura 40", ["MVX25i"], 0x30a9, 1, "supported", SL_MOVIE_LARGE, SL_THUMB, true),
  model(
    "PowerShot SD200",
    ["Digital IXUS 30", "IXY Digital 40"],
    0x30c0,
    6,
    "supported",
    SL_MOVIE_LARGE,
    SL_THUMB,
    true,
    POWERSHOT_IN_EOS_CLASS,
  ),
  model(
    "PowerShot SD20",
    ["Digital IXUS i5", "IXY Digital L2"],
    0x30c4,
    5,
    "supported",
    SL_MOVIE_SMALL,
    SL_THUMB,
    true,
  ),
  model(
    "EOS 20D",
    [],
    0x30eb,
    6,
    "experimental",
    SL_MOVIE_LARGE,
    SL_THUMB_CR2,
    true,
    EOS_20D_QUIRKS,
  ),
  model(
    "EOS 350D",
    ["Digital Rebel XT", "EOS Kiss Digital N"],
    0x30ee,
    6,
    "experimental",
    SL_MOVIE_LARGE,
    SL_THUMB_CR2,
    true,
  ),
  model("EOS 5D", [], 0x3101, 6, "supported", SL_MOVIE_LARGE, SL_THUMB, true),
];

/**
 * Product ids of these cameras (and their successors) in PTP mode, or in
 * mass-storage mode (§1.3): found on the bus, they get a clear message instead
 * of a failed handshake.
 */
export const OTHER_MODE_IDS: Readonly<
  Record<number, { name: string; mode: "ptp" | "mass-storage" }>
> = {
  0x305a: { name: "Canon camcorder", mode: "mass-storage" },
  0x305b: { name: "Canon camcorder", mode: "mass-storage" },
  0x306d: { name: "PowerShot S45", mode: "ptp" },
  0x306f: { name: "PowerShot G3", mode: "ptp" },
  0x3071: { name: "PowerShot S230", mode: "ptp" },
  0x3072: { name: "PowerShot SD100 / Digital IXUS II", mode: "ptp" },
  0x3073: { name: "PowerShot A70", mode: "ptp" },
  0x3074: { name: "PowerShot A60", mode: "ptp" },
  0x3075: { name: "PowerShot S400 / Digital IXUS 400", mode: "ptp" },
  0x3076: { name: "PowerShot A300", mode: "ptp" },
  0x3077: { name: "PowerShot S50", mode: "ptp" },
  0x3079: { name: "MV650i", mode: "ptp" },
  0x307b: { name: "MV630i", mode: "ptp" },
  0x3085: { name: "PowerShot G5", mode: "ptp" },
  0x3087: { name: "Elura 50", mode: "ptp" },
  0x308d: { name: "Optura Xi", mode: "ptp" },
  0x3093: { name: "Optura 300", mode: "mass-storage" },
  0x3095: { name: "Optura 300", mode: "ptp" },
  0x3099: { name: "EOS 300D", mode: "ptp" },
  0x309a: { name: "PowerShot A80", mode: "ptp" },
  0x309c: { name: "PowerShot S1 IS", mode: "ptp" },
  0x30a8: { name: "Elura 60E", mode: "ptp" },
  0x30b1: { name: "PowerShot S70", mode: "ptp" },
  0x30b2: { name: "PowerShot S60", mode: "ptp" },
  0x30b3: { name: "PowerShot G6", mode: "ptp" },
  0x30b4: { name: "PowerShot S500 / Digital IXUS 500", mode: "ptp" },
  0x30b5: { name: "PowerShot A75", mode: "ptp" },
  0x30b6: { name: "PowerShot SD110 / Digital IXUS IIs", mode: "ptp" },
  0x30b7: { name: "PowerShot A400", mode: "ptp" },
  0x30b8: { name: "PowerShot A310", mode: "ptp" },
  0x30b9: { name: "PowerShot A85", mode: "ptp" },
  0x30ba: { name: "PowerShot S410 / Digital IXUS 430", mode: "ptp" },
  0x30bb: { name: "PowerShot A95", mode: "ptp" },
  0x30bf: { name: "PowerShot SD300", mode: "ptp" },
  0x30c1: { name: "PowerShot SD400 / Digital IXUS 50", mode: "ptp" },
  0x30c2: { name: "PowerShot A510", mode: "ptp" },
  0x30ea: { name: "EOS-1D Mark II", mode: "ptp" },
  0x30ec: { name: "EOS 20D", mode: "ptp" },
  0x30ef: { name: "EOS 350D", mode: "ptp" },
  0x30f0: { name: "PowerShot S2 IS", mode: "ptp" },
  0x30f2: { name: "PowerShot SD500 / Digital IXUS 700", mode: "ptp" },
  0x30fd: { name: "PowerShot A610", mode: "ptp" },
  0x3102: { name: "EOS 5D", mode: "ptp" },
};

/**
 * The model with this product id (normal mode), or undefined.
 *
 * @param productId USB idProduct
 * @returns the model
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modelByProductId } from "@canon-remote/canon-remote/protocol";
 * assert.equal(modelByProductId(0x306e)?.name, "PowerShot G3");
 * ```
 */
export function modelByProductId(productId: number): CameraModel | undefined {
  return MODELS.find((m) => m.productId === productId);
}

function normalise(name: string): string {
  return name.toLowerCase().replace(/^canon[: ]\s*/, "").replace(/\(normal mode\)/, "").replace(
    /[\s_-]+/g,
    " ",
  ).trim();
}

/**
 * The model called `name` (its name or an alias; case, a "Canon" prefix and
 * "(normal mode)" do not matter), or undefined.
 *
 * @param name e.g. "PowerShot G3", "canon powershot g3", "Digital IXUS v2"
 * @returns the model
 */
export function modelByName(name: string): CameraModel | undefined {
  const wanted = normalise(name);
  return MODELS.find((m) => [m.name, ...m.aliases].some((n) => normalise(n) === wanted));
}

/**
 * Cameras that present the same product id in PTP and in native mode, with
 * no switch between them (libgphoto2's canon.c lists them, most in blocks it
 * compiled out with "served better by ptp2"; the class and capture support
 * are its). The library tries the native protocol with them; when the
 * camera answers as a PTP camera, {@link ptpOnlyMessage} says what to use.
 */
export const SHARED_ID_MODELS: readonly CameraModel[] = [
  model("PowerShot SD100", ["Digital IXUS II"], 0x3072, 5, "supported", SL_MOVIE_LARGE, SL_THUMB),
  model("PowerShot A70", [], 0x3073, 1, "supported", SL_MOVIE_LARGE, SL_THUMB),
  model("PowerShot A60", [], 0x3074, 1, "supported", SL_MOVIE_LARGE, SL_THUMB),
  model("PowerShot S400", ["Digital IXUS 400"], 0x3075, 1, "supported", SL_MOVIE_LARGE, SL_THUMB),
  model(
    "PowerShot S50",
    [],
    0x3077,
    4,
    "supported",
    SL_MOVIE_LARGE,
    SL_THUMB,
    false,
    POWERSHOT_IN_EOS_CLASS,
  ),
  model("PowerShot G5", [], 0x3085, 5, "supported", SL_MOVIE_LARGE, SL_THUMB),
  model("PowerShot A80", [], 0x309a, 1, "supported", SL_MOVIE_LARGE, SL_THUMB),
  model("PowerShot S1 IS", [], 0x309c, 5, "supported", SL_MOVIE_LARGE, SL_THUMB),
  model("PowerShot S70", [], 0x30b1, 5, "supported", SL_MOVIE_LARGE, SL_THUMB),
  model("PowerShot S60", [], 0x30b2, 5, "supported", SL_MOVIE_LARGE, SL_THUMB),
  model("PowerShot G6", [], 0x30b3, 5, "supported", SL_MOVIE_LARGE, SL_THUMB),
  model("PowerShot S500", ["Digital IXUS 500"], 0x30b4, 5, "supported", SL_MOVIE_LARGE, SL_THUMB),
  model("PowerShot A75", [], 0x30b5, 1, "supported", SL_MOVIE_LARGE, SL_THUMB),
  model("PowerShot SD110", ["Digital IXUS IIs"], 0x30b6, 1, "supported", SL_MOVIE_LARGE, SL_THUMB),
  model("PowerShot A400", [], 0x30b7, 5, "supported", SL_MOVIE_LARGE, SL_THUMB),
  model("PowerShot A310", [], 0x30b8, 5, "supported", SL_MOVIE_LARGE, SL_THUMB),
  model("PowerShot A85", [], 0x30b9, 5, "supported", SL_MOVIE_LARGE, SL_THUMB),
  model("PowerShot S410", ["Digital IXUS 430"], 0x30ba, 5, "supported", SL_MOVIE_LARGE, SL_THUMB),
  model("PowerShot A95", [], 0x30bb, 5, "supported", SL_MOVIE_LARGE, SL_THUMB),
  model(
    "PowerShot SD400",
    ["Digital IXUS 50"],
    0x30c1,
    4,
    "none",
    SL_MOVIE_LARGE,
    SL_THUMB,
    false,
    POWERSHOT_IN_EOS_CLASS,
  ),
  model("PowerShot A510", [], 0x30c2, 1, "supported", SL_MOVIE_LARGE, SL_THUMB),
  model("PowerShot S2 IS", [], 0x30f0, 1, "experimental", SL_MOVIE_LARGE, SL_THUMB),
  model("PowerShot SD500", ["Digital IXUS 700"], 0x30f2, 5, "none", SL_MOVIE_LARGE, SL_THUMB),
  model("PowerShot A610", [], 0x30fd, 5, "supported", SL_MOVIE_LARGE, SL_THUMB),
];

/**
 * The camera that uses `productId` in both PTP and native mode, or undefined.
 *
 * @param productId USB idProduct
 * @returns the model
 */
export function sharedIdModel(productId: number): CameraModel | undefined {
  return SHARED_ID_MODELS.find((m) => m.productId === productId);
}

/**
 * What to tell the user of a shared-id camera that answered the native
 * handshake as a PTP camera would (it refused Canon's vendor requests).
 *
 * @param model the shared-id model
 * @returns the message and the hint
 */
export function ptpOnlyMessage(model: CameraModel): { message: string; hint: string } {
  const id = `0x${model.productId.toString(16).padStart(4, "0")}`;
  return {
    message: `the ${model.name} (04a9:${id.slice(2)}) answers only as a PTP camera over this ` +
      "cable: it has no normal-mode switch, and it refused the native Canon protocol",
    hint: `Use a PTP client for it, such as gphoto2's ptp2 driver ` +
      `(gphoto2 --camera "Canon ${model.name}" --summary), or libgphoto2 through its PTP camlib`,
  };
}

/**
 * What real cameras' bytes prove about a model, as replayed or checked by the
 * tests (`docs/real-cameras/capture-and-models.md` names each source). A
 * model not listed here is driven from its class and the reference alone.
 */
export const REAL_BYTES_EVIDENCE: Readonly<Record<number, string>> = {
  0x30eb: "identify, owner, body id, abilities, power, disk info (KiB), listing, custom " +
    "functions (Protocol.xml, replayed); zero-length interrupt polls (gphoto2 #146)",
  0x30ee: "delete and set-attributes refused with 0x00000086 (gphoto2 #92, pibooth #613)",
  0x306e:
    "zero-length interrupt polls, the late 0x0e packet, disk info in KiB (a G3's gphoto2 log)",
  0x3060: "identify and power status (Protocol.xml, replayed)",
  0x3043: "identify (Protocol.xml, replayed)",
};

/**
 * Shooting modes only EOS bodies have (A-DEP, M-DEP, Bulb as a mode); a
 * PowerShot is not offered them.
 */
export const EOS_ONLY_SHOOTING_MODES: readonly string[] = ["A-DEP", "M-DEP", "Bulb"];
