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

import type { UsbDescriptorSet } from "./usb_function.ts";
import { putU16 } from "./wire.ts";

/** Canon's USB vendor ID. */
export const CANON_VENDOR_ID = 0x04a9;

/** One row of the picture-abilities table (§4.3.13). */
export interface PictureAbility {
  /** Up to 19 characters, e.g. `Large:SuperFine`. */
  readonly name: string;
  /** Image height in pixels. */
  readonly height: number;
  /** Image width in pixels. */
  readonly width: number;
  /** 1 SuperFine, 2 Fine, 3 Normal, 4 RAW. */
  readonly compression: number;
}

/** The picture-abilities reply of an old-protocol camera (0x1F/0x12). */
export interface PictureAbilities {
  /** Total reply length (G3: 0x394). */
  readonly replyLength: number;
  /** Structure size at 0x54 (G3: 0x340). */
  readonly structureSize: number;
  /** The four bytes at 0x56 (G3: `00 00 19 01`). */
  readonly modelCode: readonly number[];
  /** Name at 0x5A, padded with 0xFF. */
  readonly name: string;
  /** The table at 0x7E. */
  readonly entries: readonly PictureAbility[];
}

/** USB-level facts of a model (§0). */
export interface UsbProfile {
  /** bcdUSB, e.g. 0x0110. */
  readonly bcdUsb: number;
  /** bcdDevice. */
  readonly bcdDevice: number;
  /** bMaxPacketSize0. */
  readonly maxPacketSize0: number;
  /** wMaxPacketSize of every endpoint. */
  readonly endpointPacketSize: number;
  /** bInterval of the interrupt endpoint. */
  readonly interruptInterval: number;
  /** MaxPower in mA. */
  readonly maxPowerMa: number;
  /** Bus speed in Mbit/s (12 = full speed). */
  readonly speedMbps: number;
  /** iManufacturer text. */
  readonly manufacturer: string;
  /** iProduct text. */
  readonly product: string;
}

/** Everything model-specific the protocol engine needs. */
export interface EmulatedModel {
  /** The name callers pass as `model`, e.g. `PowerShot G3`. */
  readonly name: string;
  /** idProduct in "normal" (non-PTP) mode. */
  readonly productId: number;
  /** gphoto2's camera class (§1.1): 0–5 old protocol, 6 new protocol. */
  readonly cameraClass: number;
  /** The model string of the identify reply (0x5C), e.g. `Canon PowerShot G3`. */
  readonly identifyName: string;
  /** Init-block bytes 0x40–0x43, also identify bytes 0x54–0x57 on the G3 (§2.3, §4.3.1). */
  readonly familyBytes: readonly number[];
  /** Init-block words 0x48, 0x4C (max transfer, 0xFFFFFFFF = host default), 0x50, 0x54. */
  readonly initWords: readonly [number, number, number, number];
  /** The drive name the flash-device query returns (`D:`). */
  readonly drive: string;
  /** cmd1 echoed in the generic lock-keys (0x20) reply: 0x1F on the G2 and G3 (§3.2). */
  readonly lockKeysEcho: number;
  /** Whether 0x20/0x12 (generic lock keys) exists: classes 1, 2, 3, 5. */
  readonly genericLockKeys: boolean;
  /** The picture-abilities reply, for models that answer 0x1F/0x12. */
  readonly pictureAbilities?: PictureAbilities;
  /** Maximum zoom position (RC 0x0B byte 0x5E; G3 0x11). */
  readonly zoomMax: number;
  /** The 0x30-byte release-parameter block after power-on (§6.3). */
  readonly releaseParams: readonly number[];
  /** The extended release-parameter block (RC 0x10/0x12, §6.7), first word = its size. */
  readonly extendedParams: readonly number[];
  /**
   * Unit of DISK_INFO's capacity and free words. `"bytes"`: what gphoto2
   * needs to display realistic sizes (errata §2.7); `"KiB"`: what the real G3
   * trace shows.
   */
  readonly diskInfoUnit: "bytes" | "KiB";
  /**
   * Word 0 of fixed replies: `"length"` (total − 0x40, G2/G3/20D) or
   * `"zero"` (D60, S20).
   */
  readonly fixedReplyWord0: "length" | "zero";
  /** Estimated bytes of one image at each image-format triple's quality byte, per pixel. */
  readonly bytesPerPixel: Readonly<Record<number, number>>;
  /** Image-format size byte (release block 0x03) → `[height, width]`. */
  readonly imageSizes: Readonly<Record<number, readonly [number, number]>>;
  /** USB descriptors' facts. */
  readonly usb: UsbProfile;
}

function g3Abilities(): PictureAbility[] {
  const sizes: [string, number, number][] = [
    ["Large", 1536, 2048],
    ["Medium 1", 1200, 1600],
    ["Medium 2", 768, 1024],
    ["Small", 480, 640],
  ];
  const qualities: [string, number][] = [["SuperFine", 1], ["Fine", 2], ["Normal", 3]];
  const table: PictureAbility[] = [];
  for (const [size, height, width] of sizes) {
    for (const [quality, compression] of qualities) {
      table.push({ name: `${size}:${quality}`, height, width, compression });
    }
  }
  table.push({ name: "CRW", height: 1536, width: 2048, compression: 4 });
  return table;
}

/**
 * PowerShot G3 (normal mode), 04a9:306e, class 5: the model the reference
 * documents best (canon-remote's traces and device dump, gphoto2's G3 log).
 */
const POWERSHOT_G3: EmulatedModel = {
  name: "PowerShot G3",
  productId: 0x306e,
  cameraClass: 5,
  identifyName: "Canon PowerShot G3",
  familyBytes: [0x01, 0x06, 0x15, 0x83],
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
};

/** Every model the virtual camera can be, by name. */
export const EMULATED_MODELS: Readonly<Record<string, EmulatedModel>> = {
  [POWERSHOT_G3.name]: POWERSHOT_G3,
};

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
    if (model.name.toLowerCase() === wanted) return model;
  }
  throw new RangeError(
    `The virtual camera cannot be a "${name}"; known models: ${
      Object.keys(EMULATED_MODELS).join(", ")
    }.`,
  );
}

/** Endpoint addresses every emulated model uses (§0). */
export const ENDPOINTS = {
  /** Bulk IN: command replies and file data. */
  BULK_IN: 0x81,
  /** Bulk OUT: upload blocks. */
  BULK_OUT: 0x02,
  /** Interrupt IN: event packets. */
  INTERRUPT_IN: 0x83,
} as const;

/**
 * The model's device, configuration and string descriptors, as a USB host
 * reads them.
 *
 * @param model the profile
 * @returns the descriptor set
 */
export function usbDescriptors(model: EmulatedModel): UsbDescriptorSet {
  const usb = model.usb;
  const device = new Uint8Array(18);
  device[0] = 18; // bLength
  device[1] = 1; // DEVICE
  putU16(device, 2, usb.bcdUsb);
  device[4] = 0xff; // vendor-specific class, subclass, protocol
  device[5] = 0xff;
  device[6] = 0xff;
  device[7] = usb.maxPacketSize0;
  putU16(device, 8, CANON_VENDOR_ID);
  putU16(device, 10, model.productId);
  putU16(device, 12, usb.bcdDevice);
  device[14] = 1; // iManufacturer
  device[15] = 2; // iProduct
  device[16] = 0; // no serial number string
  device[17] = 1; // one configuration

  const endpoint = (address: number, attributes: number, interval: number): number[] => [
    7,
    5,
    address,
    attributes,
    usb.endpointPacketSize & 0xff,
    usb.endpointPacketSize >> 8,
    interval,
  ];
  const body = [
    // interface 0, alt 0, 3 endpoints, vendor-specific
    ...[9, 4, 0, 0, 3, 0xff, 0xff, 0xff, 0],
    ...endpoint(ENDPOINTS.BULK_IN, 0x02, 0),
    ...endpoint(ENDPOINTS.BULK_OUT, 0x02, 0),
    ...endpoint(ENDPOINTS.INTERRUPT_IN, 0x03, usb.interruptInterval),
  ];
  const configuration = new Uint8Array(9 + body.length);
  configuration[0] = 9;
  configuration[1] = 2; // CONFIGURATION
  putU16(configuration, 2, configuration.length);
  configuration[4] = 1; // one interface
  configuration[5] = 1; // bConfigurationValue
  configuration[6] = 0; // no string
  configuration[7] = 0xc0; // bus-powered bit (always set) + self-powered
  configuration[8] = Math.round(usb.maxPowerMa / 2);
  configuration.set(body, 9);

  return {
    device,
    configuration,
    strings: { 1: usb.manufacturer, 2: usb.product },
    speedMbps: usb.speedMbps,
  };
}
