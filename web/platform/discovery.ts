/// <reference lib="dom" />
/**
 * Camera discovery in a browser, for the browser build (which maps
 * `src/camera/discovery.ts` here, `web/import_map.json`): the cameras are the
 * Canon devices this origin was granted through `navigator.usb` (by the
 * chooser of `navigator.usb.requestDevice`, or by the managed policy
 * `WebUsbAllowDevicesForUrls`). A page finds no device it was not granted.
 *
 * @module
 */

import { hex } from "../../src/protocol/commands.ts";
import { CameraNotFoundError } from "../../src/protocol/errors.ts";
import type { UsbDevice } from "../../src/usb/device.ts";
import {
  CANON_VENDOR_ID,
  modelByName,
  modelByProductId,
  OTHER_MODE_IDS,
} from "../../src/protocol/models.ts";

/** A Canon device this page may open. */
export interface CameraInfo {
  /** Position in `navigator.usb.getDevices()` (browsers show no bus numbers). */
  bus: number;
  /** The same index (there is no address either). */
  address: number;
  /** USB product id. */
  productId: number;
  /** The model name when the product id is known, else undefined. */
  modelName: string | undefined;
  /** The USB mode the product id means. */
  mode: "normal" | "ptp" | "mass-storage" | "unknown";
  /** Whether this library can drive it as it is. */
  supported: boolean;
}

/** Which camera {@link findCameraDevice} should choose. */
export interface CameraChoice {
  /** USB product id. */
  productId?: number;
  /** Index in the granted devices (with `address`). */
  bus?: number;
  /** Index in the granted devices (with `bus`). */
  address?: number;
  /** Model name (or alias). */
  model?: string | { productId: number };
  /** Accept Canon devices that are not in the model table. */
  allowUnknown?: unknown;
}

interface BrowserUsb {
  getDevices(): Promise<(UsbDevice & { vendorId: number; productId: number })[]>;
}

function browserUsb(): BrowserUsb {
  const usb = (globalThis.navigator as { usb?: BrowserUsb } | undefined)?.usb;
  if (!usb) {
    throw new CameraNotFoundError("this browser has no WebUSB (navigator.usb)", {
      hint: "Use a Chromium-based browser (Chrome, Edge, Opera) on a page served over " +
        "https:// or http://localhost",
    });
  }
  return usb;
}

/**
 * What a Canon device is, by its product id.
 *
 * @param productId the USB product id
 * @param index its position among the granted devices
 * @returns its model, mode and whether this library drives it
 */
export function cameraInfo(productId: number, index = 0): CameraInfo {
  const model = modelByProductId(productId);
  const other = OTHER_MODE_IDS[productId];
  return {
    bus: index,
    address: index,
    productId,
    modelName: model?.name ?? other?.name,
    mode: model ? "normal" : other ? other.mode : "unknown",
    supported: model !== undefined,
  };
}

/**
 * The Canon devices granted to this page.
 *
 * @returns the devices, in the browser's order
 */
export async function listCameras(): Promise<CameraInfo[]> {
  const devices = await browserUsb().getDevices();
  return devices.filter((d) => d.vendorId === CANON_VENDOR_ID)
    .map((d, i) => cameraInfo(d.productId, i));
}

/**
 * "found: PowerShot G3 (0x306e); ..." for messages.
 *
 * @param cameras what was found
 * @returns the description
 */
export function describeCameras(cameras: readonly CameraInfo[]): string {
  if (cameras.length === 0) return "this page was granted no Canon device";
  return "granted: " +
    cameras.map((c) => `${c.modelName ?? "unknown Canon device"} (${hex(c.productId)}, ${c.mode})`)
      .join("; ");
}

/**
 * The granted WebUSB device of the camera `choice` names (unopened), or a
 * {@link CameraNotFoundError} that says what was granted instead.
 *
 * @param choice product id, index or model; none = the first supported camera
 * @returns the device, ready to open
 */
export async function findCameraDevice(choice: CameraChoice = {}): Promise<UsbDevice> {
  const devices = (await browserUsb().getDevices()).filter((d) => d.vendorId === CANON_VENDOR_ID);
  const cameras = devices.map((d, i) => cameraInfo(d.productId, i));
  let wantedId = choice.productId;
  if (choice.model !== undefined && wantedId === undefined) {
    const model = typeof choice.model === "string" ? modelByName(choice.model) : choice.model;
    if (!model) {
      throw new CameraNotFoundError(`no camera model is called ${JSON.stringify(choice.model)}`);
    }
    wantedId = model.productId;
  }
  const index = cameras.findIndex((c, i) =>
    (wantedId === undefined || c.productId === wantedId) &&
    (choice.bus === undefined || i === choice.bus) &&
    (c.supported || (choice.allowUnknown && c.mode === "unknown"))
  );
  if (index < 0) {
    const ptp = cameras.find((c) => c.mode === "ptp");
    throw new CameraNotFoundError(
      `no supported Canon camera was found; ${describeCameras(cameras)}`,
      {
        hint: ptp
          ? `The ${ptp.modelName} is in PTP mode: switch its USB mode to normal, or use a PTP tool`
          : "Grant the camera to this page first: navigator.usb.requestDevice(" +
            "{ filters: [{ vendorId: 0x04a9 }] }) from a click",
      },
    );
  }
  return devices[index];
}

/**
 * Run `body` (the browser has no libusb to keep started; the host build's
 * `withUsbStarted` holds one libusb context across it).
 *
 * @param body the work
 * @returns what `body` returns
 */
export function withUsbStarted<T>(body: () => Promise<T>): Promise<T> {
  return body();
}
