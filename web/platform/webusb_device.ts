/**
 * A browser's `USBDevice` with the one libusb behaviour the capture code
 * leans on: an interrupt read that gives up (its `timeout` passes) does not
 * lose the packet that arrives afterwards.
 *
 * WebUSB transfers take no timeout: a `transferIn` waits until data comes or
 * the device is closed. The protocol layer bounds such waits itself, but the
 * transfer it stopped waiting for stays in flight and takes the next packet
 * the camera sends, which then reaches no one (seen: the drain before a
 * shutter release leaves a read pending that swallows "capture started").
 * Here the interrupt endpoint has at most one read in flight; a caller that
 * times out leaves it there, and whatever it brings goes to the next caller,
 * as the camera's packet would wait for the next read under libusb.
 *
 * @module
 */

import type {
  UsbConfigurationInfo,
  UsbControlSetup,
  UsbData,
  UsbDevice,
  UsbDirection,
  UsbInResult,
  UsbOutResult,
  UsbTransferOptions,
} from "../../src/usb/device.ts";
import { UsbError } from "../../src/usb/errors.ts";

interface InterruptRead {
  promise: Promise<UsbInResult>;
  /** A caller has taken (or will take) its result. */
  taken: boolean;
}

/** The camera's interrupt IN endpoint number from the configuration, or 3. */
function interruptEndpoint(configuration: UsbConfigurationInfo | null | undefined): number {
  const found = configuration?.interfaces?.flatMap((i) => i.alternate?.endpoints ?? [])
    .find((e) => e.direction === "in" && e.type === "interrupt");
  return found?.endpointNumber ?? 3;
}

/** A WebUSB device for `Camera.connect`, keeping late interrupt packets for the next read. */
export class WebUsbDevice implements UsbDevice {
  /** The browser's device. */
  readonly usb: UsbDevice;
  #interrupt: number | undefined;
  #inFlight: InterruptRead | undefined;
  #late: (UsbInResult | Error)[] = [];

  /**
   * @param usb the browser's `USBDevice` (or anything with its surface)
   */
  constructor(usb: UsbDevice) {
    this.usb = usb;
  }

  /** idVendor. */
  get vendorId(): number {
    return this.usb.vendorId;
  }
  /** idProduct. */
  get productId(): number {
    return this.usb.productId;
  }
  /** iProduct. */
  get productName(): string | null | undefined {
    return this.usb.productName;
  }
  /** iManufacturer. */
  get manufacturerName(): string | null | undefined {
    return this.usb.manufacturerName;
  }
  /** The active configuration. */
  get configuration(): UsbConfigurationInfo | null | undefined {
    return this.usb.configuration;
  }
  /** Whether open. */
  get opened(): boolean {
    return this.usb.opened;
  }
  /** As `USBDevice.open`. */
  open(): Promise<void> {
    this.#inFlight = undefined;
    this.#late = [];
    return this.usb.open();
  }
  /** As `USBDevice.close` (a read in flight ends with it). */
  close(): Promise<void> {
    this.#late = [];
    return this.usb.close();
  }
  /** As `USBDevice.claimInterface`. */
  claimInterface(n: number): Promise<void> {
    return this.usb.claimInterface(n);
  }
  /** As `USBDevice.releaseInterface`. */
  releaseInterface(n: number): Promise<void> {
    return this.usb.releaseInterface?.(n) ?? Promise.resolve();
  }
  /** As `USBDevice.controlTransferIn`. */
  controlTransferIn(setup: UsbControlSetup, length: number): Promise<UsbInResult> {
    return this.usb.controlTransferIn(setup, length);
  }
  /** As `USBDevice.controlTransferOut`. */
  controlTransferOut(setup: UsbControlSetup, data?: UsbData): Promise<UsbOutResult> {
    return this.usb.controlTransferOut(setup, data);
  }
  /** As `USBDevice.transferOut`. */
  transferOut(endpoint: number, data: UsbData): Promise<UsbOutResult> {
    return this.usb.transferOut(endpoint, data);
  }
  /** As `USBDevice.clearHalt`. */
  clearHalt(direction: UsbDirection, endpoint: number): Promise<void> {
    return this.usb.clearHalt?.(direction, endpoint) ?? Promise.resolve();
  }

  /**
   * As `USBDevice.transferIn`; on the interrupt endpoint, `options.timeout`
   * bounds the wait without abandoning the transfer.
   */
  transferIn(endpoint: number, length: number, options?: UsbTransferOptions): Promise<UsbInResult> {
    this.#interrupt ??= interruptEndpoint(this.usb.configuration);
    if (endpoint !== this.#interrupt || !options?.timeout) {
      return this.usb.transferIn(endpoint, length);
    }
    return this.#interruptIn(length, options.timeout);
  }

  async #interruptIn(length: number, timeout: number): Promise<UsbInResult> {
    const late = this.#late.shift();
    if (late instanceof Error) throw late;
    if (late) return late;
    let read = this.#inFlight;
    if (!read) {
      const promise = this.usb.transferIn(this.#interrupt!, length);
      const fresh: InterruptRead = { promise, taken: true };
      read = this.#inFlight = fresh;
      promise.then(
        (result) => {
          if (this.#inFlight === fresh) this.#inFlight = undefined;
          if (!fresh.taken) this.#late.push(result);
        },
        (error: unknown) => {
          if (this.#inFlight === fresh) this.#inFlight = undefined;
          // A read cancelled by close() is nobody's business.
          if (!fresh.taken && !(error instanceof DOMException && error.name === "AbortError")) {
            this.#late.push(error instanceof Error ? error : new Error(String(error)));
          }
        },
      );
    }
    read.taken = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<"expired">((resolve) => {
      timer = setTimeout(() => resolve("expired"), timeout);
    });
    try {
      const first = await Promise.race([read.promise, expired]);
      if (first !== "expired") return first;
      read.taken = false; // its packet, when it comes, waits for the next read
      throw new UsbError("TIMEOUT", `no interrupt packet within ${timeout} ms`);
    } finally {
      clearTimeout(timer);
    }
  }
}
