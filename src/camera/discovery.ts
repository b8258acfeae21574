/**
 * Finding Canon cameras on the USB bus through libusb.
 *
 * @module
 */

import { listUsbDevices, type UsbDeviceInfo } from "../usb/discovery.ts";
import { LibusbDevice } from "../usb/libusb_device.ts";
import { acquireLibusbContext } from "../usb/libusb_context.ts";
import type { UsbDevice } from "../usb/device.ts";
import { hex } from "../protocol/commands.ts";
import { CameraNotFoundError } from "../protocol/errors.ts";
import {
  CANON_VENDOR_ID,
  modelByName,
  modelByProductId,
  OTHER_MODE_IDS,
  SHARED_ID_MODELS,
  sharedIdModel,
} from "../protocol/models.ts";

/** A Canon device on the bus. */
export interface CameraInfo {
  /** USB bus number. */
  bus: number;
  /** Device address on the bus. */
  address: number;
  /** USB product id. */
  productId: number;
  /** The model name when the product id is known, else undefined. */
  modelName: string | undefined;
  /** The USB mode the product id means. */
  mode: "normal" | "ptp" | "mass-storage" | "ptp-or-normal" | "unknown";
  /** Whether this library can drive it as it is. */
  supported: boolean;
}

/**
 * Every Canon device (vendor 0x04a9) on the USB bus, with the model name when
 * the product id is known.
 *
 * @returns the devices, in bus order
 * @example
 * ```ts ignore
 * import { listCameras } from "@canon-remote/canon-remote";
 * for (const cam of await listCameras()) console.log(cam.bus, cam.address, cam.modelName);
 * ```
 */
export async function listCameras(): Promise<CameraInfo[]> {
  const devices = await listUsbDevices({ vendorId: CANON_VENDOR_ID });
  return devices.map(cameraInfo);
}

/**
 * What a Canon device on the bus is, by its product id.
 *
 * @param device a Canon device as enumeration saw it
 * @returns its model, mode and whether this library drives it
 */
export function cameraInfo(device: UsbDeviceInfo): CameraInfo {
  const model = modelByProductId(device.productId);
  // The same id in PTP and native mode: which one it speaks shows only when it is asked.
  const shared = model ? undefined : sharedIdModel(device.productId);
  const other = OTHER_MODE_IDS[device.productId];
  return {
    bus: device.bus,
    address: device.address,
    productId: device.productId,
    modelName: model?.name ?? shared?.name ?? other?.name,
    mode: model ? "normal" : shared ? "ptp-or-normal" : other ? other.mode : "unknown",
    supported: model !== undefined || shared !== undefined,
  };
}

/**
 * "found: PowerShot G3 (0x306e) at bus 1 address 2; ..." for messages.
 *
 * @param cameras what was found
 * @returns the description ("no Canon device is connected" for none)
 */
export function describeCameras(cameras: readonly CameraInfo[]): string {
  if (cameras.length === 0) return "no Canon device is connected";
  return "found: " +
    cameras.map((c) =>
      `${c.modelName ?? "unknown Canon device"} (${
        hex(c.productId)
      }) at bus ${c.bus} address ${c.address}` +
      (c.mode === "normal" ? "" : `, ${c.mode} mode`)
    ).join("; ");
}

/** Which camera {@link findCameraDevice} should choose. */
export interface CameraChoice {
  /** USB product id. */
  productId?: number;
  /** Bus number (with `address`). */
  bus?: number;
  /** Device address (with `bus`). */
  address?: number;
  /** Model name (or alias). */
  model?: string | { productId: number };
  /** Accept Canon devices that are not in the model table. */
  allowUnknown?: unknown;
}

/**
 * The libusb device of the camera `choice` names (unopened), or a
 * {@link CameraNotFoundError} that says what was found instead.
 *
 * @param choice product id, bus/address or model; none = the first supported camera
 * @returns the device, ready to open
 */
export async function findCameraDevice(choice: CameraChoice = {}): Promise<UsbDevice> {
  const devices = await listUsbDevices({ vendorId: CANON_VENDOR_ID });
  const cameras = devices.map(cameraInfo);
  let wantedId = choice.productId;
  if (choice.model !== undefined && wantedId === undefined) {
    const model = typeof choice.model === "string"
      ? modelByName(choice.model) ??
        SHARED_ID_MODELS.find((m) =>
          [m.name, ...m.aliases].some((n) => n.toLowerCase() === String(choice.model).toLowerCase())
        )
      : choice.model;
    if (!model) {
      throw new CameraNotFoundError(`no camera model is called ${JSON.stringify(choice.model)}`);
    }
    wantedId = model.productId;
  }
  const matches = cameras.filter((c) =>
    (wantedId === undefined || c.productId === wantedId) &&
    (choice.bus === undefined || c.bus === choice.bus) &&
    (choice.address === undefined || c.address === choice.address)
  );
  const usable = matches.filter((c) =>
    c.supported || (choice.allowUnknown && c.mode === "unknown")
  );
  const chosen = usable[0] ??
    (matches.length > 0 && (choice.productId !== undefined || choice.bus !== undefined)
      ? matches[0]
      : undefined);
  if (!chosen) {
    const what = [
      wantedId !== undefined ? `product id ${hex(wantedId)}` : "",
      choice.bus !== undefined ? `bus ${choice.bus}` : "",
      choice.address !== undefined ? `address ${choice.address}` : "",
    ].filter(Boolean).join(", ");
    const ptp = cameras.find((c) => c.mode === "ptp");
    throw new CameraNotFoundError(
      `no supported Canon camera${what ? ` with ${what}` : ""} was found; ${
        describeCameras(cameras)
      }`,
      {
        hint: ptp
          ? `The ${ptp.modelName} is in PTP mode: switch its USB mode to normal, or use a PTP tool`
          : "Check the cable, switch the camera on (in playback mode on most PowerShots), and see `canon cameras`",
      },
    );
  }
  // The device as this listing saw it: opening it looks it up once more (by
  // bus and address, checking its ids), so no second listing is made here.
  // Nothing above the USB layer shows the string descriptors: not reading them
  // saves two control round trips at every connect.
  return new LibusbDevice(devices[cameras.indexOf(chosen)], null, { readStrings: false });
}

/**
 * Run `body` with libusb kept started, so that a search, an open and the
 * opened device share one libusb context instead of each starting libusb
 * (which scans the bus) and ending it again.
 *
 * @param body the work (e.g. find a camera and connect to it)
 * @returns what `body` returns
 */
export async function withUsbStarted<T>(body: () => Promise<T>): Promise<T> {
  const lease = await acquireLibusbContext();
  try {
    return await body();
  } finally {
    await lease.release();
  }
}
