/**
 * Access to the loaded libusb-1.0 library for the USB layer: the FFI layer's
 * loader (`ffi/libusb.ts`), with its "could not load" error given the
 * library's own class, {@link LibusbNotFoundError} (a `CanonError`). Every
 * file of the USB layer reaches libusb's functions through {@link libusb}
 * here, so the first call anywhere reports a missing library the same way.
 *
 * @module
 */

import {
  libusb as ffiLibusb,
  LibusbLoadError,
  type LibusbSymbols,
  loadLibusb as ffiLoadLibusb,
  type symbols,
} from "../../ffi/libusb.ts";
import { LibusbNotFoundError } from "./errors.ts";

function translate(e: unknown): unknown {
  return e instanceof LibusbLoadError ? new LibusbNotFoundError(e.tried, e.hint, e.cause) : e;
}

/**
 * Load libusb-1.0 (once; later calls return the cached library).
 *
 * @returns the loaded library
 * @throws {LibusbNotFoundError} no candidate loaded; lists the names tried and what to install
 * @throws {FfiPermissionError} `--allow-ffi` is missing
 */
export function loadLibusb(): Deno.DynamicLibrary<typeof symbols> {
  try {
    return ffiLoadLibusb();
  } catch (e) {
    throw translate(e);
  }
}

/**
 * The bound libusb functions, loading the library on first use.
 *
 * @returns the symbols of the cached library
 * @throws {LibusbNotFoundError} libusb-1.0 is not installed
 * @throws {FfiPermissionError} `--allow-ffi` is missing
 */
export function libusb(): LibusbSymbols {
  try {
    return ffiLibusb();
  } catch (e) {
    throw translate(e);
  }
}
