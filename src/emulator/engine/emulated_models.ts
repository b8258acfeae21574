/**
 * The cameras the virtual camera can be: one profile per model, holding
 * everything that differs between bodies on the wire (USB descriptors, the
 * init block, identify bytes, class, drive letter, reply quirks, default
 * settings). Facts come from the protocol reference (§0, §1.2, §2.3, §4.3,
 * §6.3, §6.7); a value no trace shows is marked as chosen.
 *
 * To add a model, add a profile to {@link EMULATED_MODELS}; the protocol
 * engine reads nothing model-specific from anywhere else.
 *
 * @module
 */

import type { AbilitiesEntry, EmulatedModel, UsbProfile } from "./model_profile.ts";

export { CANON_VENDOR_ID, ENDPOINTS, usbDescriptors } from "./model_profile.ts";
export type {
  AbilitiesEntry,
  AbilitiesReply,
  AcceptedReleaseBytes,
  EmulatedModel,
  UnsolicitedPacket,
  UsbProfile,
} from "./model_profile.ts";

function g3Abilities(): AbilitiesEntry[] {
  const sizes: [string, number, number][] = [
    ["Large", 1536, 2048],
    ["Medium 1", 1200, 1600],
    ["Medium 2", 768, 1024],
    ["Small", 480, 640],
  ];
  const qualities: [string, number][] = [["SuperFine", 1], ["Fine", 2], ["Normal", 3]];
  const table: AbilitiesEntry[] = [];
  for (const [size, height, width] of sizes) {
    for (const [quality, compression] of qualities) {
      table.push({ name: `${size}:${quality}`, height, width, compression });
    }
  }
  table.push({ name: "CRW", height: 1536, width: 2048, compression: 4 });
  return table;
}

/** The G3's late report after a capture (a real G3's gphoto2 debug log). */
const G3_LATE_CARD_WRITE = [2, 0, 0, 0, 0x0e, 0, 0, 0, 0x10, 0, 0, 0, 1, 0, 0, 0];

/**
 * Code 0x01, "sometimes seen with PowerShot G2" (Protocol.xml, interrupt
 * codes). Only the code is documented: the other bytes are chosen in the
 * layout of every other 0x10-byte packet.
 */
const G2_CODE_01 = [2, 0, 0, 0, 0x01, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0];

/**
 * PowerShot G3 (normal mode), 04a9:306e, class 5: the model the reference
 * documents best (canon-remote's traces and device dump, gphoto2's G3 log).
 */
const POWERSHOT_G3: EmulatedModel = {
  name: "PowerShot G3",
  aliases: [],
  productId: 0x306e,
  cameraClass: 5,
  identifyName: "Canon PowerShot G3",
  familyBytes: [0x01, 0x06, 0x15, 0x83],
  identifyBytes: [0x01, 0x06, 0x15, 0x83],
  lockNeedsAbilities: false,
  cardContent: { raw: "crw", movie: true },
  initWords: [0x800, 0xffffffff, 0xfd00, 0xfd00],
  drive: "D:",
  lockKeysEcho: 0x1f,
  genericLockKeys: true,
  pictureAbilities: {
    replyLength: 0x394,
    structureSize: 0x340,
    modelCode: [0x00, 0x00, 0x19, 0x01],
    name: "PowerShot G3",
    entries: g3Abilities(),
  },
  zoomMax: 0x11,
  // The G3's published specifications (chosen, not from a trace): ISO 50/100/200/400,
  // f/2.0 to f/8.0, 15 s to 1/2000 s.
  releaseLimits: { iso: [0x40, 0x48, 0x50, 0x58], aperture: [0x18, 0x38], shutter: [0x18, 0x90] },
  // canon-remote's G3 trace (§6.3): large fine JPEG, flash off, beep off, P, ISO 50, f/4, 1/125.
  releaseParams: [
    0x20,
    0x03,
    0x01,
    0x00,
    0x64,
    0x00,
    0x00,
    0x00,
    0x01,
    0xff,
    0x00,
    0x00,
    0x03,
    0x01,
    0x03,
    0x30,
    0x00,
    0xff,
    0x00,
    0xff,
    0x00,
    0x00,
    0x00,
    0x7f,
    0xff,
    0xff,
    0x40,
    0x00,
    0x28,
    0x00,
    0x70,
    0x00,
    0x18,
    0x18,
    0xff,
    0xff,
    0x18,
    0x00,
    0x38,
    0x00,
    0xe6,
    0x00,
    0x9a,
    0x03,
    0xe6,
    0x00,
    0x20,
    0x00,
  ],
  // §6.7: the G3's 0x2C-byte extended block.
  extendedParams: [
    0x2c,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x04,
    0x00,
    0x00,
    0x00,
    0x18,
    0x00,
    0xe0,
    0x08,
    0x00,
    0x00,
    0x00,
    0x00,
    0x38,
    0x00,
    0x01,
    0x00,
    0x0d,
    0x00,
    0x9a,
    0x03,
    0x80,
    0x02,
    0x00,
    0x00,
    0x01,
    0x00,
    0x00,
    0x00,
    0xff,
    0xff,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
  ],
  // The brief asks for bytes so that gphoto2 shows realistic sizes (errata §2.7); the real G3
  // apparently answers in KiB (§4.3.5). One switch.
  diskInfoUnit: "KiB",
  fixedReplyWord0: "length",
  // Chosen estimates (G3 files: ~2 MB SuperFine, ~1.1 MB Fine, ~0.55 MB Normal at 3.1 MP; CRW ~4 MB).
  bytesPerPixel: { 0x05: 0.65, 0x03: 0.36, 0x02: 0.18, 0x04: 1.3 },
  // G3 size codes in the order its 0x1C/0x27 list gives them (0 L, 1 M1, 3 M2, 2 S; §6.5).
  imageSizes: { 0: [1536, 2048], 1: [1200, 1600], 3: [768, 1024], 2: [480, 640] },
  usb: {
    bcdUsb: 0x0110,
    bcdDevice: 0x0001,
    maxPacketSize0: 32,
    endpointPacketSize: 64,
    interruptInterval: 96,
    maxPowerMa: 100,
    speedMbps: 12,
    manufacturer: "Canon Inc.",
    product: "Canon Digital Camera",
  },
  // A real G3's gphoto2 log: this packet about 2 s after the capture's 0x0a/0x1d report.
  unsolicitedAfterCapture: [{ afterMs: 2000, packet: G3_LATE_CARD_WRITE }],
};

/** "20 03 01 00" → bytes: profiles quote the reference's hex dumps this way. */
function hexBytes(text: string): number[] {
  return text.trim().split(/\s+/).map((byte) => Number.parseInt(byte, 16));
}

function abilityTable(
  sizes: readonly (readonly [string, number, number])[],
  qualities: readonly (readonly [string, number])[],
  raw?: readonly [string, number, number],
): AbilitiesEntry[] {
  const table: AbilitiesEntry[] = [];
  for (const [size, height, width] of sizes) {
    for (const [quality, compression] of qualities) {
      table.push({ name: `${size}:${quality}`, height, width, compression });
    }
  }
  if (raw) table.push({ name: raw[0], height: raw[1], width: raw[2], compression: 4 });
  return table;
}

/** The USB facts of the G3 (§0); the other full-speed bodies are assumed to match (chosen). */
const FULL_SPEED_USB: UsbProfile = POWERSHOT_G3.usb;

/**
 * The USB 2.0 Hi-Speed EOS bodies (20D, 350D). Chosen: the reference has no
 * descriptor dump of them; bcdUSB 2.00, 512-byte endpoints, EP0 64 bytes.
 */
const HIGH_SPEED_USB: UsbProfile = {
  ...FULL_SPEED_USB,
  bcdUsb: 0x0200,
  maxPacketSize0: 64,
  endpointPacketSize: 512,
  interruptInterval: 8,
  speedMbps: 480,
};

/** A short extended-parameter block (the reference's old-protocol example size 0x10, §4.4.2); chosen content. */
const SHORT_EXTENDED_PARAMS = [0x10, 0, 0, 0, 0, 0, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0];

/**
 * The 20D's 0x3C-byte extended release-parameter block, as §6.7 spells it
 * (halves and words, −1 = all ones).
 */
const EOS_20D_EXTENDED_PARAMS: number[] = (() => {
  const block = new Uint8Array(0x3c);
  const view = new DataView(block.buffer);
  const words: [number, number][] = [
    [0x00, 0x3c],
    [0x08, 0],
    [0x0c, -1],
    [0x10, 0],
    [0x14, -1],
    [
      0x18,
      -1,
    ],
    [0x20, -1],
    [0x38, 0],
  ];
  const halves: [number, number][] = [
    [0x04, 0],
    [0x06, 5],
    [0x1c, 0],
    [0x1e, -1],
    [0x24, -1],
    [
      0x26,
      0,
    ],
    [0x28, 0x1450],
    [0x2a, -1],
    [0x2c, 1],
    [0x2e, -1],
    [0x30, -1],
    [0x32, 0],
    [0x34, -1],
    [
      0x36,
      0,
    ],
  ];
  for (const [at, value] of words) view.setUint32(at, value >>> 0, true);
  for (const [at, value] of halves) view.setUint16(at, value & 0xffff, true);
  return [...block];
})();

/** The 20D's release-parameter block (§6.3). */
const EOS_20D_RELEASE_PARAMS = hexBytes(
  "20 04 02 00 00 00 FF 00 01 01 00 FF 03 FF 02 90 02 FF 00 FF 7F 7F 7F 7F FF FF 58 00 1C 00 74 00 " +
    "00 00 FF FF 18 00 50 00 FF FF FF FF FF FF 01 00",
);

// EOS image sizes per size code (§6.5: 0 L, 1 M, 2 S) and bytes per pixel at quality
// 2 normal, 3 fine, 4 raw; chosen estimates.
const EOS_BYTES_PER_PIXEL = { 0x02: 0.17, 0x03: 0.33, 0x04: 1.1 };

/**
 * PowerShot G1, 04a9:3048, class 0 (no key lock). Init-block bytes from §2.3
 * (G1 row); release block from the G1 dump in §6.3 (0x2F bytes, the 0x30th
 * chosen as 0); zoom range 0..40 from §4.4.2. Chosen: identify bytes = the
 * family bytes, drive "C:" and disk info in bytes (the reference's
 * old-protocol example), word 0 of fixed replies 0 (as the S20 of that
 * generation), no 0x20 and no 0x1F, the short extended block.
 */
const POWERSHOT_G1: EmulatedModel = {
  ...POWERSHOT_G3,
  name: "PowerShot G1",
  productId: 0x3048,
  cameraClass: 0,
  identifyName: "Canon PowerShot G1",
  familyBytes: [0x00, 0x05, 0x07, 0x00],
  identifyBytes: [0x00, 0x05, 0x07, 0x00],
  drive: "C:",
  lockKeysEcho: 0x20,
  genericLockKeys: false,
  pictureAbilities: undefined,
  zoomMax: 40,
  releaseParams: [
    ...hexBytes(
      "FF 03 02 00 64 00 01 01 00 00 00 00 00 01 00 10 00 FF 00 FF 00 00 00 7F FF FF 40 00 28 00 " +
        "70 00 18 18 FF FF 18 00 38 00 E0 00 A0 02 E0 00 20",
    ),
    0x00,
  ],
  extendedParams: SHORT_EXTENDED_PARAMS,
  diskInfoUnit: "bytes",
  fixedReplyWord0: "zero",
  // Inferred: no log of a G1 capture shows a late packet.
  unsolicitedAfterCapture: [],
};

/**
 * PowerShot S200 / Digital IXUS v2, 04a9:3065, class 1: picture abilities
 * (0x1F) must come before the lock (0x20). Init-block bytes from §2.3 (S200
 * row). Chosen: identify bytes = the family bytes, the 2-megapixel abilities
 * table in the G2's layout (reply 0x384, structure 0x330, as gphoto2's table
 * and the G2 dump), its model code, the lock echo 0x1F (as its class-1
 * sibling the G2), zoom 0..7, disk info in bytes, no raw files, the G3's
 * release and extended blocks.
 */
const POWERSHOT_S200: EmulatedModel = {
  ...POWERSHOT_G3,
  name: "PowerShot S200",
  aliases: ["Digital IXUS v2"],
  productId: 0x3065,
  cameraClass: 1,
  identifyName: "Canon PowerShot S200",
  familyBytes: [0x03, 0x05, 0x15, 0x81],
  identifyBytes: [0x03, 0x05, 0x15, 0x81],
  lockNeedsAbilities: true,
  pictureAbilities: {
    replyLength: 0x384,
    structureSize: 0x330,
    modelCode: [0x00, 0x00, 0x1c, 0x01],
    name: "PowerShot S200",
    entries: abilityTable(
      [["Large", 1200, 1600], ["Medium", 768, 1024], ["Small", 480, 640]],
      [["SuperFine", 1], ["Fine", 2], ["Normal", 3]],
    ),
  },
  zoomMax: 7,
  diskInfoUnit: "bytes",
  imageSizes: { 0: [1200, 1600], 1: [768, 1024], 2: [480, 640] },
  cardContent: { raw: "none", movie: true },
  // Inferred from its class-1 sibling the G2, which sometimes sends code 0x01 (Protocol.xml);
  // when it comes is not documented: chosen 1 s after the capture.
  unsolicitedAfterCapture: [{ afterMs: 1000, packet: G2_CODE_01 }],
};

/**
 * PowerShot S45 (normal mode), 04a9:306c, class 5, like the G3 (same
 * init-block row of §2.3); picture abilities are not implemented on it
 * (§4.3.13). Chosen: identify bytes and lock echo as the G3, zoom 0..13, the
 * 4-megapixel sizes, the G3's release and extended blocks.
 */
const POWERSHOT_S45: EmulatedModel = {
  ...POWERSHOT_G3,
  name: "PowerShot S45",
  productId: 0x306c,
  identifyName: "Canon PowerShot S45",
  pictureAbilities: undefined,
  zoomMax: 13,
  imageSizes: { 0: [1704, 2272], 1: [1200, 1600], 3: [768, 1024], 2: [480, 640] },
};

/**
 * EOS 10D, 04a9:3083, class 4: EOS key lock 0x1B/0x1C around captures, body
 * id 0x1D, no 0x20 and no picture abilities (as the D30 and D60, §4.3.13).
 * Chosen (the reference has no 10D dump): the D60/300D init-block bytes, the
 * D60's identify bytes `00 05 77 00` and its zero word 0 of fixed replies,
 * the body id, disk info in bytes, the 20D's release block, the short
 * extended block, no zoom.
 */
const EOS_10D: EmulatedModel = {
  ...POWERSHOT_G3,
  name: "EOS 10D",
  productId: 0x3083,
  cameraClass: 4,
  identifyName: "Canon EOS 10D",
  familyBytes: [0x01, 0x00, 0x05, 0x03],
  identifyBytes: [0x00, 0x05, 0x77, 0x00],
  genericLockKeys: false,
  lockKeysEcho: 0x20,
  pictureAbilities: undefined,
  bodyId: 1120304567,
  zoomMax: 0,
  releaseParams: EOS_20D_RELEASE_PARAMS,
  extendedParams: SHORT_EXTENDED_PARAMS,
  diskInfoUnit: "bytes",
  fixedReplyWord0: "zero",
  bytesPerPixel: EOS_BYTES_PER_PIXEL,
  imageSizes: { 0: [2048, 3072], 1: [1360, 2048], 2: [1024, 1536] },
  cardContent: { raw: "crw", movie: false },
  unsolicitedAfterCapture: [],
};

/**
 * EOS 300D / Digital Rebel / Kiss Digital (normal mode), 04a9:3084, class 4.
 * Init-block bytes from §2.3 (300D row). Chosen as for the 10D otherwise,
 * with the 300D's identify string and body id.
 */
const EOS_300D: EmulatedModel = {
  ...EOS_10D,
  name: "EOS 300D",
  aliases: ["EOS Digital Rebel", "EOS Kiss Digital"],
  productId: 0x3084,
  identifyName: "Canon EOS 300D DIGITAL",
  bodyId: 560107143,
};

/**
 * EOS 20D (normal mode), 04a9:30eb, class 6: the new protocol. From the
 * reference: init block (family bytes, model code 0x80000175, transfer
 * length 0x10000, §2.3), identify bytes `00 08 77 81` (§4.3.1), drive "A:"
 * (§4.3.4), disk info in KiB (§4.3.5), picture abilities 0x474 with its
 * seven-entry table (§4.3.13), body id 0520308238 (§4.3.15), release and
 * extended blocks (§6.3, §6.7), word 0 = length (§3.2). Chosen: Hi-Speed USB
 * descriptors, the custom-function values, the abilities name.
 */
const EOS_20D: EmulatedModel = {
  ...POWERSHOT_G3,
  name: "EOS 20D",
  productId: 0x30eb,
  cameraClass: 6,
  identifyName: "Canon EOS 20D",
  familyBytes: [0x01, 0x06, 0x15, 0x83],
  identifyBytes: [0x00, 0x08, 0x77, 0x81],
  initModelWord: 0x80000175,
  initWords: [0x800, 0x10000, 0xfd00, 0x10000],
  drive: "A:",
  genericLockKeys: false,
  lockKeysEcho: 0x35,
  pictureAbilities: {
    replyLength: 0x474,
    structureSize: 0x420,
    modelCode: [0x75, 0x01, 0x00, 0x80],
    name: "EOS 20D",
    entries: [
      ...abilityTable(
        [["Large", 2336, 3504], ["Middle", 1696, 2544], ["Small", 1152, 1728]],
        [["Fine", 2], ["Normal", 3]],
      ),
      { name: "RAW", height: 2336, width: 3504, compression: 4 },
    ],
  },
  bodyId: 520308238,
  // C.Fn 1..18 as the real 20D of Protocol.xml had them (6 and 8 set to 1; count 0x28).
  customFunctions: [0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
  zoomMax: 0,
  releaseParams: EOS_20D_RELEASE_PARAMS,
  extendedParams: EOS_20D_EXTENDED_PARAMS,
  diskInfoUnit: "KiB",
  fixedReplyWord0: "length",
  bytesPerPixel: EOS_BYTES_PER_PIXEL,
  imageSizes: { 0: [2336, 3504], 1: [1696, 2544], 2: [1152, 1728] },
  usb: HIGH_SPEED_USB,
  cardContent: { raw: "cr2", movie: false },
  unsolicitedAfterCapture: [],
  // Protocol.xml (init step 6): the 20D returns the 16 bytes 8 at a time, after "power supply
  // status" in the traces of Canon's software. The 350D inherits it (inferred).
  lateInitPacket: true,
};

/**
 * EOS 350D / Digital Rebel XT / Kiss Digital N (normal mode), 04a9:30ee,
 * class 6. From the reference: model code 0x80000189 and the 20D's init
 * block otherwise (§2.3). Chosen as for the 20D otherwise, with the 350D's
 * 8-megapixel sizes, its identify string, body id and nine custom functions.
 */
const EOS_350D: EmulatedModel = {
  ...EOS_20D,
  name: "EOS 350D",
  aliases: ["Digital Rebel XT", "EOS Kiss Digital N"],
  productId: 0x30ee,
  identifyName: "Canon EOS 350D DIGITAL",
  initModelWord: 0x80000189,
  pictureAbilities: {
    replyLength: 0x474,
    structureSize: 0x420,
    modelCode: [0x89, 0x01, 0x00, 0x80],
    name: "EOS 350D",
    entries: [
      ...abilityTable(
        [["Large", 2304, 3456], ["Middle", 1664, 2496], ["Small", 1152, 1728]],
        [["Fine", 2], ["Normal", 3]],
      ),
      { name: "RAW", height: 2304, width: 3456, compression: 4 },
    ],
  },
  bodyId: 1370512345,
  // gphoto2 issue #92 and pibooth issue #613: delete and set attributes answer 0x00000086.
  refusesFileCommands: true,
  // Nine C.Fn (chosen values; the layout is the 20D's, inferred).
  customFunctions: [0, 0, 1, 0, 0, 0, 0, 0, 0],
  imageSizes: { 0: [2304, 3456], 1: [1664, 2496], 2: [1152, 1728] },
};

/** Every model the virtual camera can be, by name, in product-id order. */
export const EMULATED_MODELS: Readonly<Record<string, EmulatedModel>> = Object.fromEntries(
  [
    POWERSHOT_G1,
    POWERSHOT_S200,
    POWERSHOT_S45,
    POWERSHOT_G3,
    EOS_10D,
    EOS_300D,
    EOS_20D,
    EOS_350D,
  ].map((model) => [model.name, model]),
);

/** The model used when none is asked for. */
export const DEFAULT_EMULATED_MODEL = "PowerShot G3";

/**
 * The profile of `name` (case-insensitive; a leading `Canon ` or `Canon:` and a
 * trailing `(normal mode)` are ignored).
 *
 * @param name a model name, e.g. `PowerShot G3`
 * @returns the profile
 * @throws RangeError listing the known models when `name` is unknown
 */
export function emulatedModel(name: string): EmulatedModel {
  const wanted = name.trim().replace(/^canon[: ]\s*/i, "").replace(/\s*\(normal mode\)$/i, "")
    .toLowerCase();
  for (const model of Object.values(EMULATED_MODELS)) {
    if ([model.name, ...model.aliases].some((n) => n.toLowerCase() === wanted)) return model;
  }
  throw new RangeError(
    `The virtual camera cannot be a "${name}"; known models: ${
      Object.keys(EMULATED_MODELS).join(", ")
    }.`,
  );
}
