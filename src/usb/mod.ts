/**
 * The USB layer of canon-remote: the device contract (WebUSB's `USBDevice`
 * shapes, which a browser's or node-usb's WebUSB device meets as it is), the
 * libusb-1.0 device behind it, and enumeration of the bus.
 *
 * ```ts ignore
 * import { listUsbDevices, openUsbDevice } from "@canon-remote/canon-remote/usb";
 *
 * for (const info of await listUsbDevices({ vendorId: 0x04a9 })) console.log(info);
 * await using device = await openUsbDevice({ vendorId: 0x04a9 });
 * ```
 *
 * @module
 */

export type {
  UsbBulkChunkOptions,
  UsbConfigurationInfo,
  UsbControlSetup,
  UsbData,
  UsbDevice,
  UsbDirection,
  UsbEndpointInfo,
  UsbInResult,
  UsbOutResult,
  UsbRecipient,
  UsbRequestType,
  UsbTransferOptions,
  UsbTransferStatus,
} from "./device.ts";
export { CanonError, LibusbNotFoundError, UsbError } from "./errors.ts";
export type { CanonErrorOptions, UsbErrorCode, UsbErrorOptions } from "./errors.ts";
export { LibusbDevice, type LibusbDeviceOptions, UsbTimeoutError } from "./libusb_device.ts";
export { listUsbDevices, openUsbDevice } from "./discovery.ts";
export type { UsbDeviceFilter, UsbDeviceInfo, UsbDeviceSelector, UsbSpeed } from "./discovery.ts";
export { hotplugSupported, UsbHotplugWatch } from "./hotplug.ts";
export type { UsbHotplugFilter } from "./hotplug.ts";
