/**
 * libusb hot-plug: be told when a USB device is plugged in.
 *
 * A {@link UsbHotplugWatch} owns a private libusb context (so that its event
 * handling never competes with the transfers of open devices on the shared
 * one), registers an arrival callback (a thread-safe `Deno.UnsafeCallback`)
 * and runs a loop of nonblocking `libusb_handle_events_timeout_completed`
 * calls of 100 ms each, from which libusb invokes the callback. Arrivals are
 * collected in the callback and handed to the listener after each call
 * returns. `stop()` ends the loop, deregisters and closes the callback and
 * exits the context, so nothing keeps the process alive afterwards.
 *
 * @module
 */

import {
  HOTPLUG_CALLBACK,
  LIBUSB_CAP_HAS_HOTPLUG,
  LIBUSB_HOTPLUG_EVENT,
  LIBUSB_HOTPLUG_MATCH_ANY,
  pointerFromBox,
  readDeviceDescriptor,
} from "../../ffi/libusb.ts";
import { libusb } from "./libusb_library.ts";
import type { UsbDeviceInfo, UsbSpeed } from "./libusb_context.ts";
import { LIBUSB_ERROR_CODES, UsbError, usbErrorCodeOf } from "./errors.ts";

/** Which arrivals a watch reports. */
export interface UsbHotplugFilter {
  /** Only devices with this idVendor. */
  vendorId?: number;
  /** Only devices with this idProduct. */
  productId?: number;
}

/** `enum libusb_speed`, by value. */
const SPEEDS: readonly UsbSpeed[] = ["unknown", "low", "full", "high", "super", "super-plus"];

/** How long one event-handling call waits, in microseconds (the stop latency). */
const EVENT_WAIT_US = 100_000n;

/**
 * Whether libusb reports device arrivals on this platform (Linux and macOS
 * do; Windows does not).
 *
 * @returns true when {@link UsbHotplugWatch.start} can work
 * @throws {LibusbNotFoundError} libusb-1.0 is not installed
 */
export function hotplugSupported(): boolean {
  return libusb().libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG) !== 0;
}

/** A running hot-plug watch; {@link UsbHotplugWatch.stop} ends it. */
export class UsbHotplugWatch implements AsyncDisposable {
  #context: Deno.PointerObject;
  #callback: Deno.UnsafeCallback<typeof HOTPLUG_CALLBACK>;
  #handle: number;
  #onArrival: (info: UsbDeviceInfo) => void;
  #onFailure: ((error: unknown) => void) | undefined;
  #arrived: UsbDeviceInfo[] = [];
  #running = true;
  #loop: Promise<void>;
  #stopping: Promise<void> | undefined;
  #failure: unknown;

  private constructor(
    context: Deno.PointerObject,
    callback: Deno.UnsafeCallback<typeof HOTPLUG_CALLBACK>,
    handle: number,
    onArrival: (info: UsbDeviceInfo) => void,
    onFailure: ((error: unknown) => void) | undefined,
    arrived: UsbDeviceInfo[],
  ) {
    this.#context = context;
    this.#callback = callback;
    this.#handle = handle;
    this.#onArrival = onArrival;
    this.#onFailure = onFailure;
    this.#arrived = arrived;
    this.#loop = this.#run();
  }

  /**
   * Start watching. Arrivals after the returned promise resolves are
   * reported; devices already attached are not (list them afterwards to
   * cover both without a gap).
   *
   * @param filter which devices to report
   * @param onArrival called once per arrival, on the main thread, outside libusb
   * @param onFailure called if libusb's event handling fails (the watch has then ended)
   * @returns the running watch
   * @throws {UsbError} `NOT_SUPPORTED` when the platform has no hot-plug; libusb errors
   * @throws {LibusbNotFoundError} libusb-1.0 is not installed
   */
  static async start(
    filter: UsbHotplugFilter,
    onArrival: (info: UsbDeviceInfo) => void,
    onFailure?: (error: unknown) => void,
  ): Promise<UsbHotplugWatch> {
    const L = libusb();
    if (!hotplugSupported()) {
      throw new UsbError("NOT_SUPPORTED", "libusb has no hot-plug support on this platform");
    }
    const box = new BigUint64Array(1);
    const r = await L.libusb_init(box);
    const context = pointerFromBox(box);
    if (r < 0 || !context) {
      throw new UsbError(usbErrorCodeOf(r), "libusb_init failed: cannot watch for devices");
    }
    const arrived: UsbDeviceInfo[] = [];
    // Runs on the main thread while the event-handling worker waits inside libusb:
    // only read the device's cached facts here.
    const callback = Deno.UnsafeCallback.threadSafe(HOTPLUG_CALLBACK, (_ctx, device, event) => {
      if (event !== LIBUSB_HOTPLUG_EVENT.DEVICE_ARRIVED || !device) return 0;
      const descriptor = readDeviceDescriptor(device);
      if (typeof descriptor === "number") return 0;
      arrived.push({
        bus: L.libusb_get_bus_number(device),
        address: L.libusb_get_device_address(device),
        vendorId: descriptor.vendorId,
        productId: descriptor.productId,
        bcdDevice: descriptor.bcdDevice,
        speed: SPEEDS[L.libusb_get_device_speed(device)] ?? "unknown",
      });
      return 0;
    });
    const handle = new Int32Array(1);
    const registered = L.libusb_hotplug_register_callback(
      context,
      LIBUSB_HOTPLUG_EVENT.DEVICE_ARRIVED,
      0,
      filter.vendorId ?? LIBUSB_HOTPLUG_MATCH_ANY,
      filter.productId ?? LIBUSB_HOTPLUG_MATCH_ANY,
      LIBUSB_HOTPLUG_MATCH_ANY,
      callback.pointer,
      null,
      handle,
    );
    if (registered < 0) {
      callback.close();
      await L.libusb_exit(context);
      throw new UsbError(
        usbErrorCodeOf(registered),
        "libusb_hotplug_register_callback failed: cannot watch for devices",
      );
    }
    return new UsbHotplugWatch(context, callback, handle[0], onArrival, onFailure, arrived);
  }

  /** The error that ended the watch early, if any. */
  get failure(): unknown {
    return this.#failure;
  }

  async #run(): Promise<void> {
    const L = libusb();
    // struct timeval { tv_sec, tv_usec }: two 64-bit longs on Linux; on macOS tv_usec is a
    // 32-bit int followed by padding, which the little-endian low half fills the same way.
    // (Windows, whose longs are 32-bit, has no hot-plug and never gets here.)
    const wait = new BigInt64Array([0n, EVENT_WAIT_US]);
    while (this.#running) {
      const r = await L.libusb_handle_events_timeout_completed(this.#context, wait, null);
      if (r < 0 && r !== LIBUSB_ERROR_CODES.INTERRUPTED) {
        this.#failure = new UsbError(usbErrorCodeOf(r), "libusb event handling failed");
        this.#running = false;
        this.#onFailure?.(this.#failure);
      }
      for (const info of this.#arrived.splice(0)) {
        if (!this.#running) break;
        try {
          this.#onArrival(info);
        } catch (error) {
          this.#failure ??= error;
        }
      }
    }
  }

  /**
   * Stop: the event loop ends (within 100 ms), the callback is deregistered
   * and closed, the private context exits. Idempotent.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#running = false;
      await this.#loop;
      const L = libusb();
      L.libusb_hotplug_deregister_callback(this.#context, this.#handle);
      this.#callback.close();
      await L.libusb_exit(this.#context);
    })();
    return this.#stopping;
  }

  /** `await using watch = ...` stops it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
