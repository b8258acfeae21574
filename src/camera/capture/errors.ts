/**
 * The errors of remote capture, each a `CanonError` (or, for a value the
 * camera does not take, a `RangeError` as well).
 *
 * @module
 */

import { CameraStatusError, CameraTimeoutError, CanonError } from "../../protocol/errors.ts";

/** A setting value the camera does not take; nothing was sent. */
export class UnsupportedSettingError extends RangeError {
  /** The setting, e.g. "iso". */
  readonly setting: string;
  /** The value asked for. */
  readonly value: unknown;
  /** The values the camera takes. */
  readonly choices: readonly unknown[];
  /**
   * Make the error.
   *
   * @param setting the setting
   * @param value the value asked for
   * @param choices the valid values
   * @param why a sentence saying why, when there is more to say than "not supported"
   */
  constructor(setting: string, value: unknown, choices: readonly unknown[], why?: string) {
    const shown = choices.map((c) => typeof c === "object" ? JSON.stringify(c) : String(c));
    super(
      `${setting}: ${JSON.stringify(value)} is not supported by this camera` +
        (why ? ` (${why})` : "") +
        (shown.length > 0 ? `; choose one of: ${shown.join(", ")}` : "; it has no such setting"),
    );
    this.name = "UnsupportedSettingError";
    this.setting = setting;
    this.value = value;
    this.choices = choices;
  }
}

/** The camera accepted a setting but reads back another value. */
export class SettingNotAppliedError extends CanonError {
  /** The setting, e.g. "iso". */
  readonly setting: string;
  /** The value written. */
  readonly wanted: unknown;
  /** The value read back. */
  readonly got: unknown;
  /**
   * Make the error.
   *
   * @param setting the setting
   * @param wanted the value written
   * @param got the value read back
   */
  constructor(setting: string, wanted: unknown, got: unknown) {
    super(
      `${setting}: the camera was set to ${JSON.stringify(wanted)} but reads back ${
        JSON.stringify(got)
      }`,
      {
        hint: "The camera does not take this value in its current mode or with its lens; " +
          "the other settings were applied",
      },
    );
    this.name = "SettingNotAppliedError";
    this.setting = setting;
    this.wanted = wanted;
    this.got = got;
  }
}

/** The camera has no room for a picture: no card, or a full one (status 0x0200002A). */
export class CardUnavailableError extends CameraStatusError {
  /** Why. */
  readonly reason: "no-card" | "card-full";
  /**
   * Make the error.
   *
   * @param command the command the camera refused
   * @param status its status word
   * @param reason no card, or a full card
   */
  constructor(command: string, status: number, reason: "no-card" | "card-full") {
    super(command, status, {
      hint: reason === "no-card"
        ? 'There is no memory card in the camera: insert one, or shoot with { to: "host" }'
        : 'The card is full: delete pictures (cam.storage.delete) or shoot with { to: "host" }',
    });
    this.name = "CardUnavailableError";
    this.reason = reason;
  }
}

/** The camera could not take the picture (interrupt packet 0x0A/0x0A, §4.4.3). */
export class PhotographicFailureError extends CanonError {
  /** The camera's failure code (1 = autofocus failure on the EOS 5D; 0 = none given). */
  readonly code: number;
  /**
   * Make the error.
   *
   * @param code the failure code of the packet
   */
  constructor(code: number) {
    super(`the camera could not take the picture (failure code ${code})`, {
      hint: code === 1
        ? "Code 1 is an autofocus failure on the EOS 5D: check the subject, the light, or focus manually"
        : "Check focus, light and the lens, then shoot again",
    });
    this.name = "PhotographicFailureError";
    this.code = code;
  }
}

/** The camera did not report the end of a capture in time. */
export class CaptureTimeoutError extends CameraTimeoutError {
  /**
   * Make the error.
   *
   * @param timeout milliseconds waited
   * @param seen what the camera did report
   */
  constructor(timeout: number, seen: string) {
    super(`the shutter release (${seen})`, timeout, {
      hint: "Pass a longer { timeout } for long exposures. The camera is still usable; " +
        "a late report is discarded before the next shot",
    });
    this.name = "CaptureTimeoutError";
  }
}
