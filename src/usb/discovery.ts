/**
 * Finding USB devices through libusb: list what is attached, and pick one
 * by bus and address or by vendor and product ID.
 *
 * @module
 */

import {
  acquireLibusbContext,
  readConfiguration,
  type UsbDeviceInfo,
  withDeviceList,
} from "./libusb_context.ts";
import { LibusbDevice, type LibusbDeviceOptions } from "./libusb_device.ts";
import { UsbError } from "./errors.ts";
import type { UsbConfigurationInfo } from "./device.ts";

export type { UsbDeviceInfo, UsbSpeed } from "./libusb_context.ts";

/** Which devices {@link listUsbDevices} returns. */
export interface UsbDeviceFilter {
  /** Only devices with this idVendor. */
  vendorId?: number;
  /** Only devices with this idProduct. */
  productId?: number;
}

/** Where {@link openUsbDevice} looks: a bus position, or the first device with these IDs. */
export type UsbDeviceSelector =
  | { bus: number; address: number }
  | { vendorId: number; productId: number };

const hex4 = (n: number): string => n.toString(16).padStart(4, "0");
const pad3 = (n: number): string => String(n).padStart(3, "0");

/** `"001/002 04a9:306e"`: how devices are named in messages. */
export function describeUsbDevice(info: UsbDeviceInfo): string {
  return `${pad3(info.bus)}/${pad3(info.address)} ${hex4(info.vendorId)}:${hex4(info.productId)}`;
}

function matches(info: UsbDeviceInfo, filter: UsbDeviceFilter | undefined): boolean {
  if (filter?.vendorId !== undefined && info.vendorId !== filter.vendorId) return false;
  if (filter?.productId !== undefined && info.productId !== filter.productId) return false;
  return true;
}

/**
 * List the attached USB devices (sorted by bus and address). Opens nothing,
 * so it needs no permission on the devices themselves.
 *
 * @example List Canon devices
 * ```ts ignore
 * import { listUsbDevices } from "@canon-remote/canon-remote/usb";
 * for (const d of await listUsbDevices({ vendorId: 0x04a9 })) {
 *   console.log(d.bus, d.address, d.productId.toString(16), d.speed);
 * }
 * ```
 *
 * @param filter only devices with these IDs
 * @returns the devices
 * @throws {LibusbNotFoundError} libusb-1.0 is not installed
 * @throws {FfiPermissionError} `--allow-ffi` is missing
 */
export async function listUsbDevices(filter?: UsbDeviceFilter): Promise<UsbDeviceInfo[]> {
  const lease = await acquireLibusbContext();
  try {
    return await withDeviceList(
      lease.context,
      (devices) => devices.map((d) => d.info).filter((info) => matches(info, filter)),
    );
  } finally {
    await lease.release();
  }
}

/**
 * Find a device and return it unopened (WebUSB style: call `open()` next).
 *
 * @example Open the first PowerShot G3
 * ```ts ignore
 * import { openUsbDevice } from "@canon-remote/canon-remote/usb";
 * await using dev = await openUsbDevice({ vendorId: 0x04a9, productId: 0x306e });
 * await dev.open();
 * await dev.claimInterface(0);
 * ```
 *
 * @param where a bus position, or vendor and product IDs (the first such device)
 * @param options `readStrings: false`: its `open()` does not read the product,
 *   manufacturer and serial strings (two control round trips saved; the
 *   names stay undefined)
 * @returns the device, not yet opened
 * @throws {UsbError} code `NOT_FOUND` when no device matches; the message lists what is attached
 * @throws {LibusbNotFoundError} libusb-1.0 is not installed
 * @throws {FfiPermissionError} `--allow-ffi` is missing
 */
export async function openUsbDevice(
  where: UsbDeviceSelector,
  options: LibusbDeviceOptions = {},
): Promise<LibusbDevice> {
  const byPosition = "bus" in where;
  const wanted = (info: UsbDeviceInfo): boolean =>
    byPosition
      ? info.bus === where.bus && info.address === where.address
      : info.vendorId === where.vendorId && info.productId === where.productId;
  const lease = await acquireLibusbContext();
  let found: { info: UsbDeviceInfo; configuration: UsbConfigurationInfo | null } | undefined;
  let present: UsbDeviceInfo[] = [];
  try {
    await withDeviceList(lease.context, (devices) => {
      present = devices.map((d) => d.info);
      const hit = devices.find((d) => wanted(d.info));
      if (hit) found = { info: hit.info, configuration: readConfiguration(hit.device) };
    });
  } finally {
    await lease.release();
  }
  if (found) return new LibusbDevice(found.info, found.configuration, options);
  const what = byPosition
    ? `at bus ${where.bus} address ${where.address}`
    : `with ID ${hex4(where.vendorId)}:${hex4(where.productId)}`;
  const list = present.length > 0
    ? `Attached: ${present.map(describeUsbDevice).join(", ")}`
    : "libusb sees no USB devices at all";
  throw new UsbError("NOT_FOUND", `No USB device ${what}. ${list}`, {
    hint: "Check that the camera is plugged in, switched on, and in its normal (not PTP) USB mode.",
  });
}
