/**
 * The device side of USB, as the virtual camera presents it to its two
 * transports: the in-process device contract (`VirtualCamera` itself) and the
 * umockdev bridge that puts it in front of the real libusb.
 *
 * A function is synchronous and passive: the transport asks it for bytes when
 * the host reads, and it says "nothing yet" (`null`) when it has none. When
 * something becomes available later (an interrupt packet after a delay, a
 * reply that was held back), it notifies its subscribers so that a transport
 * with a waiting read can ask again.
 *
 * @module
 */

import type { FullSpeedBus } from "./bus_model.ts";

/** A USB setup packet, as the host sent it (all fields numeric). */
export interface SetupPacket {
  /** bmRequestType; bit 7 set = device to host. */
  bmRequestType: number;
  /** bRequest. */
  bRequest: number;
  /** wValue. */
  wValue: number;
  /** wIndex. */
  wIndex: number;
  /** wLength. */
  wLength: number;
}

/** Device, configuration and string descriptors, as sent on the wire. */
export interface UsbDescriptorSet {
  /** The 18-byte device descriptor. */
  device: Uint8Array;
  /** The whole configuration descriptor (interface and endpoint descriptors included). */
  configuration: Uint8Array;
  /** String descriptors by index (index 0, the language list, is implied: 0x0409). */
  strings: Readonly<Record<number, string>>;
  /** Bus speed in Mbit/s as sysfs writes it: 1.5, 12 (full speed) or 480. */
  speedMbps: number;
}

/** What a read from the device produced. */
export type FunctionRead =
  /** Bytes (at most the length asked for; possibly empty for a zero-length packet). */
  | Uint8Array
  /** The endpoint is halted. */
  | "stall"
  /** Nothing to send yet: the host's read stays pending. */
  | null;

/** What a write to the device produced. */
export type FunctionWrite = "ok" | "stall";

/** The device side of a USB device, as the virtual camera implements it. */
export interface UsbFunction {
  /** Descriptors for enumeration and GET_DESCRIPTOR. */
  readonly descriptors: UsbDescriptorSet;
  /** False once the device is unplugged: every transfer then fails with "no device". */
  readonly connected: boolean;
  /** A control transfer, device to host: at most `setup.wLength` bytes, or a stall. */
  controlIn(setup: SetupPacket): Uint8Array | "stall";
  /** A control transfer, host to device, with its data stage. */
  controlOut(setup: SetupPacket, data: Uint8Array): FunctionWrite;
  /**
   * A bulk or interrupt IN transfer on `endpointAddress` (0x81, 0x83, ...):
   * at most `maxLength` bytes, never more.
   */
  read(endpointAddress: number, maxLength: number): FunctionRead;
  /** A bulk or interrupt OUT transfer on `endpointAddress` (0x02, ...). */
  write(endpointAddress: number, data: Uint8Array): FunctionWrite;
  /** The host cleared a halt on an endpoint. */
  clearHalt(endpointAddress: number): void;
  /** The host reset the device (USBDEVFS_RESET / libusb_reset_device). */
  reset(): void;
  /**
   * Call `listener` whenever a read that returned `null` may now succeed, or
   * when the device is disconnected. Returns the unsubscribe function.
   */
  subscribe(listener: () => void): () => void;
  /**
   * Optional: the bus model the function's bulk IN data must respect. When
   * it is set (and {@link UsbFunction.available} is there), transports
   * complete bulk IN transfers no earlier than the model allows, taking the
   * data from {@link UsbFunction.read} only when a transfer completes.
   */
  readonly bus?: FullSpeedBus | undefined;
  /**
   * Optional (needed by a bus model): how many bytes an IN endpoint could
   * send now, without taking them; `"stall"` when it is halted.
   */
  available?(endpointAddress: number): number | "stall";
}
