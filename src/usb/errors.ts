/**
 * The library's error base class, {@link CanonError}, and the USB-level
 * errors: what went wrong under the Canon protocol, with a hint that says
 * what to do about it.
 *
 * Every error the library raises for a failure of the camera, the cable, the
 * USB stack or a trace file is a `CanonError`; the kinds are told apart by
 * subclass (`UsbError`, `CameraTimeoutError`, `CameraStatusError`, ...).
 * Wrong arguments are `RangeError`s or `TypeError`s, as in the platform.
 *
 * @module
 */

/** Options shared by the error classes. */
export interface CanonErrorOptions {
  /** What the user can do about it. */
  hint?: string;
  /** The underlying error. */
  cause?: unknown;
}

/**
 * Base class of every error the library raises: catch it to catch them all,
 * and tell the kinds apart by subclass.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CanonError, UsbError } from "@canon-remote/canon-remote";
 * const error: unknown = new UsbError("NO_DEVICE", "The camera is gone");
 * assert.ok(error instanceof CanonError); // one class catches every error of the library
 * ```
 */
export class CanonError extends Error {
  /** What the user can do about it, when there is something. */
  readonly hint?: string;
  /**
   * Make the error.
   *
   * @param message what failed
   * @param options hint and cause
   */
  constructor(message: string, options: CanonErrorOptions = {}) {
    super(
      options.hint ? `${message}. ${options.hint}` : message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "CanonError";
    if (options.hint) this.hint = options.hint;
  }
}

/**
 * The libusb error names (`LIBUSB_ERROR_*` without the prefix), which every
 * device implementation uses to classify failures.
 */
export type UsbErrorCode =
  | "IO"
  | "INVALID_PARAM"
  | "ACCESS"
  | "NO_DEVICE"
  | "NOT_FOUND"
  | "BUSY"
  | "TIMEOUT"
  | "OVERFLOW"
  | "PIPE"
  | "INTERRUPTED"
  | "NO_MEM"
  | "NOT_SUPPORTED"
  | "OTHER";

/** libusb's numeric error codes, by name. */
export const LIBUSB_ERROR_CODES: Readonly<Record<UsbErrorCode, number>> = {
  IO: -1,
  INVALID_PARAM: -2,
  ACCESS: -3,
  NO_DEVICE: -4,
  NOT_FOUND: -5,
  BUSY: -6,
  TIMEOUT: -7,
  OVERFLOW: -8,
  PIPE: -9,
  INTERRUPTED: -10,
  NO_MEM: -11,
  NOT_SUPPORTED: -12,
  OTHER: -99,
};

/** The {@link UsbErrorCode} for a libusb return value. */
export function usbErrorCodeOf(libusbCode: number): UsbErrorCode {
  for (const [name, value] of Object.entries(LIBUSB_ERROR_CODES)) {
    if (value === libusbCode) return name as UsbErrorCode;
  }
  return "OTHER";
}

/** Options of {@link UsbError}. */
export interface UsbErrorOptions {
  /** What to do about it. */
  hint?: string;
  /** The underlying error. */
  cause?: unknown;
}

/** A USB transfer or device operation failed. */
export class UsbError extends CanonError {
  /** The libusb error name, e.g. `"TIMEOUT"`. */
  readonly code: UsbErrorCode;

  /**
   * Make the error.
   *
   * @param code the libusb error name
   * @param message what failed
   * @param options hint and cause
   */
  constructor(code: UsbErrorCode, message: string, options: UsbErrorOptions = {}) {
    super(`${message} (LIBUSB_ERROR_${code})`, options);
    this.name = "UsbError";
    this.code = code;
  }
}

/** libusb-1.0 could not be loaded. */
export class LibusbNotFoundError extends CanonError {
  /** The library names and paths that were tried. */
  readonly tried: readonly string[];
  /**
   * Make the error.
   *
   * @param tried the names and paths tried, in order
   * @param hint what to install
   * @param cause the last loading error
   */
  constructor(tried: readonly string[], hint: string, cause?: unknown) {
    super(`libusb-1.0 could not be loaded (tried: ${tried.join(", ")})`, { hint, cause });
    this.name = "LibusbNotFoundError";
    this.tried = tried;
  }
}

/** The hint for a device that the user may not open. */
export const ACCESS_HINT: string =
  "You may not open this USB device. Install the udev rule for Canon cameras " +
  "(`canon udev-rules | sudo tee /etc/udev/rules.d/60-canon-remote.rules`, then " +
  "`sudo udevadm control --reload && sudo udevadm trigger`) and plug the camera in again.";

/** The hint for a device that another program holds. */
export const BUSY_HINT: string =
  "Another program holds the camera: on Linux desktops this is usually gvfs " +
  "(`gvfs-gphoto2-volume-monitor`) or a running gphoto2. Quit it " +
  "(e.g. `pkill -f gvfs-gphoto2`) or unmount the camera in the file manager, then try again.";
