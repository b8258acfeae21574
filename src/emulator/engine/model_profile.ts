/**
 * What a model profile of the virtual camera holds (everything that differs
 * between bodies on the wire) and the USB descriptors that follow from it.
 * The profiles themselves are in `emulated_models.ts`.
 *
 * @module
 */

import type { UsbDescriptorSet } from "./usb_function.ts";
import { putU16 } from "./wire.ts";

/** Canon's USB vendor ID. */
export const CANON_VENDOR_ID = 0x04a9;

/** One row of the picture-abilities table (§4.3.13). */
export interface AbilitiesEntry {
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
export interface AbilitiesReply {
  /** Total reply length (G3: 0x394). */
  readonly replyLength: number;
  /** Structure size at 0x54 (G3: 0x340). */
  readonly structureSize: number;
  /** The four bytes at 0x56 (G3: `00 00 19 01`). */
  readonly modelCode: readonly number[];
  /** Name at 0x5A, padded with 0xFF. */
  readonly name: string;
  /** The table at 0x7E. */
  readonly entries: readonly AbilitiesEntry[];
}

/** What a body accepts in its release parameters (byte codes of §6.4). */
export interface AcceptedReleaseBytes {
  /** ISO bytes (block 0x1A) the body takes. */
  readonly iso: readonly number[];
  /** Aperture bytes (block 0x1C): widest and narrowest. */
  readonly aperture: readonly [number, number];
  /** Shutter bytes (block 0x1E): longest and shortest. */
  readonly shutter: readonly [number, number];
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
  /** Other names of the same camera (regional names, same product id); `model` accepts them. */
  readonly aliases: readonly string[];
  /** idProduct in "normal" (non-PTP) mode. */
  readonly productId: number;
  /**
   * gphoto2's camera class (§1.1): 0–5 old protocol, 6 new protocol. The class
   * decides the command set: 0x20 lock on 1, 2, 3, 5; EOS lock 0x1B/0x1C and
   * body id 0x1D on 4; the new codes, byte 0x46 and GetOwner on 6.
   */
  readonly cameraClass: number;
  /** The model string of the identify reply (0x5C), e.g. `Canon PowerShot G3`. */
  readonly identifyName: string;
  /** Init-block bytes 0x40–0x43 (§2.3). */
  readonly familyBytes: readonly number[];
  /** Identify reply bytes 0x54–0x57 (§4.3.1): the family bytes on the G3, `00 08 77 81` on the 20D. */
  readonly identifyBytes: readonly number[];
  /**
   * Init-block word 0x44: undefined = product id then vendor id (old
   * protocol); the model code on new-protocol bodies (20D 0x80000175).
   */
  readonly initModelWord?: number;
  /** Class 1: the generic lock (0x20) fails unless picture abilities (0x1F) were read first. */
  readonly lockNeedsAbilities: boolean;
  /** EOS body id (word 0x54 of 0x1D on class 4, 0x23 on class 6). */
  readonly bodyId?: number;
  /** Class 6 custom-function values, C.Fn 1 first (sent as value/number pairs from 0x58). */
  readonly customFunctions?: readonly number[];
  /** The default card's raw file ("crw" with .THM, "cr2", "none") and whether it has a movie. */
  readonly cardContent: { readonly raw: "crw" | "cr2" | "none"; readonly movie: boolean };
  /** Init-block words 0x48, 0x4C (max transfer, 0xFFFFFFFF = host default), 0x50, 0x54. */
  readonly initWords: readonly [number, number, number, number];
  /** The drive name the flash-device query returns (`D:`). */
  readonly drive: string;
  /** cmd1 echoed in the generic lock-keys (0x20) reply: 0x1F on the G2 and G3 (§3.2). */
  readonly lockKeysEcho: number;
  /** Whether 0x20/0x12 (generic lock keys) exists: classes 1, 2, 3, 5. */
  readonly genericLockKeys: boolean;
  /** The picture-abilities reply, for models that answer 0x1F/0x12. */
  readonly pictureAbilities?: AbilitiesReply;
  /** Maximum zoom position (RC 0x0B byte 0x5E; G3 0x11). */
  readonly zoomMax: number;
  /** The 0x30-byte release-parameter block after power-on (§6.3). */
  readonly releaseParams: readonly number[];
  /**
   * Release-parameter bytes the body takes (§6.4 codes); a set-parameters
   * command keeps the old byte for any other value, so the host's read-back
   * shows the refusal, as on a real body. Undefined: every byte is taken.
   */
  readonly releaseLimits?: AcceptedReleaseBytes;
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
  /**
   * Interrupt packets the body sends on its own after a capture's last report
   * (each `afterMs` later), whether or not anyone is waiting for them.
   */
  readonly unsolicitedAfterCapture?: readonly UnsolicitedPacket[];
  /** Class 6: delete and set attributes are refused with 0x00000086 (the 350D). */
  readonly refusesFileCommands?: boolean;
  /** The init interrupt packet comes 8 bytes at a time, late (the 20D; see `RealCameraQuirks`). */
  readonly lateInitPacket?: boolean;
}

/** An interrupt packet a body sends unasked. */
export interface UnsolicitedPacket {
  /** Milliseconds after the capture's last report. */
  readonly afterMs: number;
  /** The packet's bytes. */
  readonly packet: readonly number[];
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
