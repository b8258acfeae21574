/**
 * Typed errors of the Canon protocol layer. Every error says what failed and,
 * where there is something to do about it, a hint.
 *
 * @module
 */

import { describeStatus } from "./commands.ts";
import { CanonError, type CanonErrorOptions } from "../usb/errors.ts";

// The base class lives in the lowest layer (src/usb/errors.ts) so that USB
// errors share it; it is re-exported here for the protocol and camera layers.
export { CanonError } from "../usb/errors.ts";
export type { CanonErrorOptions } from "../usb/errors.ts";

/** The camera answered a command with a non-zero status word. */
export class CameraStatusError extends CanonError {
  /** The status word, e.g. 0x02000029. */
  readonly status: number;
  /** The command's name, e.g. `DeleteFile`. */
  readonly command: string;
  /**
   * Make the error.
   *
   * @param command the command's name
   * @param status the status word
   * @param options hint and cause
   */
  constructor(command: string, status: number, options: CanonErrorOptions = {}) {
    super(`${command} failed: ${describeStatus(status)}`, options);
    this.name = "CameraStatusError";
    this.status = status >>> 0;
    this.command = command;
  }
}

/** The camera sent something that does not follow the protocol. */
export class ProtocolError extends CanonError {
  /**
   * Make the error.
   *
   * @param message what was wrong with the reply
   * @param options hint and cause
   */
  constructor(message: string, options: CanonErrorOptions = {}) {
    super(message, options);
    this.name = "ProtocolError";
  }
}

/** The camera did not answer in time. */
export class CameraTimeoutError extends CanonError {
  /** The timeout that ran out, in milliseconds. */
  readonly timeout: number;
  /**
   * Make the error.
   *
   * @param what what was waited for
   * @param timeout milliseconds waited
   * @param options hint and cause
   */
  constructor(what: string, timeout: number, options: CanonErrorOptions = {}) {
    super(`${what}: no answer from the camera within ${timeout} ms`, {
      hint: options.hint ??
        "Check that the camera is switched on and in its normal (not PTP) USB mode",
      cause: options.cause,
    });
    this.name = "CameraTimeoutError";
    this.timeout = timeout;
  }
}

/** The camera is closed, or vanished (unplugged, switched off). */
export class CameraClosedError extends CanonError {
  /**
   * Make the error.
   *
   * @param message why the camera is unusable
   * @param options hint and cause
   */
  constructor(message = "The camera is closed", options: CanonErrorOptions = {}) {
    super(message, options);
    this.name = "CameraClosedError";
  }
}

/** No suitable camera was found, or the one found cannot be driven by this library. */
export class CameraNotFoundError extends CanonError {
  /**
   * Make the error.
   *
   * @param message what was looked for and what was found
   * @param options hint and cause
   */
  constructor(message: string, options: CanonErrorOptions = {}) {
    super(message, options);
    this.name = "CameraNotFoundError";
  }
}

/**
 * The camera's replies fell out of step with the host's commands and could
 * not be brought back in bounded time (it kept sending, or never answered
 * the resynchronising command): the session is closed. Open the camera
 * again (on a real camera, after switching it off and on if that fails).
 */
export class CameraDesyncError extends CameraClosedError {
  /**
   * Make the error.
   *
   * @param message what the host saw
   * @param options hint and cause
   */
  constructor(message: string, options: CanonErrorOptions = {}) {
    super(message, {
      hint: options.hint ?? "Close the camera and open it again",
      cause: options.cause,
    });
    this.name = "CameraDesyncError";
  }
}
