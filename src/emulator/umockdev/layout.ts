/**
 * The parts of a function's descriptors that sysfs shows and the bridge
 * checks transfers against (interfaces, alternate settings, endpoint types).
 *
 * @module
 */

import { UmockdevError } from "./ffi.ts";
import { ERRNO, URB_TYPE } from "./usbdevfs.ts";

/** The parts of the descriptors that sysfs shows and the bridge checks against. */
export interface DeviceLayout {
  /** bcdUSB. */
  bcdUSB: number;
  /** bDeviceClass. */
  deviceClass: number;
  /** bDeviceSubClass. */
  deviceSubClass: number;
  /** bDeviceProtocol. */
  deviceProtocol: number;
  /** bMaxPacketSize0. */
  maxPacketSize0: number;
  /** idVendor. */
  vendorId: number;
  /** idProduct. */
  productId: number;
  /** bcdDevice. */
  bcdDevice: number;
  /** iManufacturer. */
  iManufacturer: number;
  /** iProduct. */
  iProduct: number;
  /** iSerialNumber. */
  iSerialNumber: number;
  /** bNumConfigurations. */
  numConfigurations: number;
  /** bConfigurationValue of the (one) configuration. */
  configurationValue: number;
  /** bNumInterfaces. */
  numInterfaces: number;
  /** The configuration's bmAttributes. */
  configAttributes: number;
  /** bMaxPower (units of 2 mA at full and high speed). */
  maxPower: number;
  /** Interface number -> alternate settings. */
  interfaces: Map<number, Set<number>>;
  /** Endpoint address -> transfer type (bmAttributes & 3: 1 iso, 2 bulk, 3 interrupt). */
  endpoints: Map<number, number>;
}

/** bmAttributes & 3 of an isochronous endpoint. */
export const ENDPOINT_ISO = 1;
/** bmAttributes & 3 of a bulk endpoint. */
export const ENDPOINT_BULK = 2;
/** bmAttributes & 3 of an interrupt endpoint. */
export const ENDPOINT_INTERRUPT = 3;

/**
 * Read the descriptors of a function.
 *
 * @param device the 18-byte device descriptor
 * @param configuration the whole configuration descriptor
 * @returns what sysfs shows and the bridge checks against
 * @throws {UmockdevError} when the descriptors are malformed
 */
export function parseLayout(device: Uint8Array, configuration: Uint8Array): DeviceLayout {
  if (device.length !== 18 || device[0] !== 18 || device[1] !== 1) {
    throw new UmockdevError("the function's device descriptor is not an 18-byte device descriptor");
  }
  if (configuration.length < 9 || configuration[0] !== 9 || configuration[1] !== 2) {
    throw new UmockdevError(
      "the function's configuration descriptor does not start with a configuration descriptor",
    );
  }
  const dev = new DataView(device.buffer, device.byteOffset, device.byteLength);
  const cfg = new DataView(
    configuration.buffer,
    configuration.byteOffset,
    configuration.byteLength,
  );
  const totalLength = cfg.getUint16(2, true);
  if (totalLength !== configuration.length) {
    throw new UmockdevError(
      `the configuration descriptor's wTotalLength (${totalLength}) is not its length (${configuration.length})`,
    );
  }
  const interfaces = new Map<number, Set<number>>();
  const endpoints = new Map<number, number>();
  for (let offset = 9; offset < configuration.length;) {
    const length = configuration[offset];
    if (length < 2 || offset + length > configuration.length) {
      throw new UmockdevError(
        `malformed descriptor at offset ${offset} of the configuration descriptor`,
      );
    }
    const type = configuration[offset + 1];
    if (type === 4 && length >= 9) {
      const number = configuration[offset + 2];
      const alternates = interfaces.get(number) ?? new Set<number>();
      alternates.add(configuration[offset + 3]);
      interfaces.set(number, alternates);
    } else if (type === 5 && length >= 7) {
      endpoints.set(configuration[offset + 2], configuration[offset + 3] & 3);
    }
    offset += length;
  }
  return {
    bcdUSB: dev.getUint16(2, true),
    deviceClass: device[4],
    deviceSubClass: device[5],
    deviceProtocol: device[6],
    maxPacketSize0: device[7],
    vendorId: dev.getUint16(8, true),
    productId: dev.getUint16(10, true),
    bcdDevice: dev.getUint16(12, true),
    iManufacturer: device[14],
    iProduct: device[15],
    iSerialNumber: device[16],
    numConfigurations: device[17],
    configurationValue: configuration[5],
    numInterfaces: configuration[4],
    configAttributes: configuration[7],
    maxPower: configuration[8],
    interfaces,
    endpoints,
  };
}

/**
 * Whether an endpoint exists in the configuration chosen (endpoint 0 always does).
 *
 * @param layout the device's layout
 * @param configuration the configuration value chosen (0: unconfigured)
 * @param endpoint the endpoint address
 * @returns true when it exists
 */
export function endpointExists(
  layout: DeviceLayout,
  configuration: number,
  endpoint: number,
): boolean {
  if ((endpoint & 0x7f) === 0) return true;
  return configuration !== 0 && layout.endpoints.has(endpoint);
}

/**
 * The kernel's verdict on a URB of `type` for `endpoint`.
 *
 * @param layout the device's layout
 * @param configuration the configuration value chosen
 * @param type the URB type (usbdevfs numbering)
 * @param endpoint the endpoint address
 * @returns 0, or the errno the kernel gives
 */
export function checkUrb(
  layout: DeviceLayout,
  configuration: number,
  type: number,
  endpoint: number,
): number {
  if (type === URB_TYPE.CONTROL) return (endpoint & 0x7f) === 0 ? 0 : ERRNO.EINVAL;
  if (type === URB_TYPE.ISO) return ERRNO.EINVAL; // no isochronous endpoints emulated
  if ((endpoint & 0x7f) === 0 || !endpointExists(layout, configuration, endpoint)) {
    return ERRNO.ENOENT;
  }
  const kind = layout.endpoints.get(endpoint);
  if (kind === ENDPOINT_ISO) return ERRNO.EINVAL;
  if (type === URB_TYPE.INTERRUPT && kind !== ENDPOINT_INTERRUPT) return ERRNO.EINVAL;
  if (type === URB_TYPE.BULK && kind !== ENDPOINT_BULK && kind !== ENDPOINT_INTERRUPT) {
    return ERRNO.EINVAL;
  }
  return 0;
}
