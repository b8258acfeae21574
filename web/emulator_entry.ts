/**
 * The virtual camera for the page's `?emulate` mode, built into its own
 * module (`emulator.js`) so the app and the API bundle never carry it: the
 * app loads it only when asked.
 *
 * The page sees the virtual camera through {@link WebUsbView}, which offers
 * exactly what a browser's `USBDevice` offers (no per-transfer timeouts, no
 * pipelined bulk reads), so the demo runs the same code path as a real camera
 * on `navigator.usb`.
 *
 * @module
 */

import { VirtualCamera, type VirtualCameraOptions } from "../src/emulator/host/virtual_camera.ts";
import type {
  UsbConfigurationInfo,
  UsbControlSetup,
  UsbDevice,
  UsbDirection,
  UsbInResult,
  UsbOutResult,
} from "../src/usb/device.ts";

export { VirtualCamera };
export type { VirtualCameraOptions };

/** A {@link VirtualCamera} with only the surface of a WebUSB `USBDevice`. */
export class WebUsbView implements UsbDevice {
  /** The camera behind it (for unplugging it in a demo or a test). */
  readonly camera: VirtualCamera;

  /**
   * @param camera the virtual camera to show
   */
  constructor(camera: VirtualCamera) {
    this.camera = camera;
  }

  /** idVendor. */
  get vendorId(): number {
    return this.camera.vendorId;
  }
  /** idProduct. */
  get productId(): number {
    return this.camera.productId;
  }
  /** iProduct. */
  get productName(): string {
    return this.camera.productName;
  }
  /** iManufacturer. */
  get manufacturerName(): string {
    return this.camera.manufacturerName;
  }
  /** The configuration. */
  get configuration(): UsbConfigurationInfo {
    return this.camera.configuration;
  }
  /** Whether open. */
  get opened(): boolean {
    return this.camera.opened;
  }
  /** As `USBDevice.open`. */
  open(): Promise<void> {
    return this.camera.open();
  }
  /** As `USBDevice.close`. */
  close(): Promise<void> {
    return this.camera.close();
  }
  /** As `USBDevice.claimInterface`. */
  claimInterface(n: number): Promise<void> {
    return this.camera.claimInterface(n);
  }
  /** As `USBDevice.releaseInterface`. */
  releaseInterface(n: number): Promise<void> {
    return this.camera.releaseInterface(n);
  }
  /** As `USBDevice.controlTransferIn` (no timeout, as in a browser). */
  controlTransferIn(setup: UsbControlSetup, length: number): Promise<UsbInResult> {
    return this.camera.controlTransferIn(setup, length);
  }
  /** As `USBDevice.controlTransferOut` (no timeout). */
  controlTransferOut(
    setup: UsbControlSetup,
    data?: Parameters<VirtualCamera["controlTransferOut"]>[1],
  ): Promise<UsbOutResult> {
    return this.camera.controlTransferOut(setup, data);
  }
  /** As `USBDevice.transferIn` (no timeout). */
  transferIn(endpoint: number, length: number): Promise<UsbInResult> {
    return this.camera.transferIn(endpoint, length);
  }
  /** As `USBDevice.transferOut` (no timeout). */
  transferOut(
    endpoint: number,
    data: Parameters<VirtualCamera["transferOut"]>[1],
  ): Promise<UsbOutResult> {
    return this.camera.transferOut(endpoint, data);
  }
  /** As `USBDevice.clearHalt`. */
  clearHalt(direction: UsbDirection, endpoint: number): Promise<void> {
    return this.camera.clearHalt(direction, endpoint);
  }
}

/**
 * A virtual camera (quirks on, as a real one) seen as a browser's USB device.
 *
 * @param options the virtual camera's options (model, owner, card, ...)
 * @returns the device for `Camera.connect`
 */
export function virtualUsbDevice(options: VirtualCameraOptions = {}): WebUsbView {
  return new WebUsbView(new VirtualCamera(options));
}
