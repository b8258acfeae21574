/**
 * The numbers the `canon` command takes on its command line, checked: whole
 * decimal numbers in a stated range, and `--port`'s bus and address, so that
 * a typo or an absurd value is a usage error and never a silently clamped
 * timer or a wrong device.
 *
 * @module
 */

import { UsageError } from "./exit.ts";

/**
 * The longest delay a JavaScript timer keeps: `setTimeout` treats anything
 * above 2^31 - 1 ms as 1 ms (about 24.8 days).
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The longest `--timeout`: one hour. The library waits a little longer than
 * the transfer timeout (and twice it for some first commands), so the limit
 * keeps every timer it derives far below {@link MAX_TIMER_MS}.
 */
export const MAX_TIMEOUT_MS = 3_600_000;

/** The range and wording of one number. */
export interface CountRange {
  /** The smallest value allowed. */
  min: number;
  /** The largest value allowed. */
  max: number;
  /** The unit, for the message ("ms"). */
  unit?: string;
  /** The sub-command, to show its usage with the error. */
  command?: string;
}

/**
 * Parse a whole decimal number given on the command line.
 *
 * @param text what the user typed
 * @param option the option's name for the message, e.g. "--timeout"
 * @param range the values allowed
 * @returns the number
 * @throws {UsageError} for anything but a whole number in the range
 */
export function parseCount(text: string, option: string, range: CountRange): number {
  const unit = range.unit ? ` ${range.unit}` : "";
  const wanted = `${option} wants a whole number from ${range.min} to ${range.max}${unit}`;
  if (!/^\s*\d+\s*$/.test(text)) {
    throw new UsageError(`${wanted}, not ${JSON.stringify(text)}`, range.command);
  }
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
    throw new UsageError(`${wanted}, not ${text.trim()}`, range.command);
  }
  return value;
}

/**
 * Parse `--port`: `usb:BUS,ADDRESS` as gphoto2 writes it (also `BUS,ADDRESS`,
 * `BUS:ADDRESS`, `BUS.ADDRESS`).
 *
 * @param text the option's value
 * @returns bus and address
 * @throws {UsageError} for anything else
 */
export function parsePort(text: string): { bus: number; address: number } {
  const match = /^(?:usb:)?(\d{1,3})[,:.](\d{1,3})$/.exec(text.trim());
  if (!match) {
    throw new UsageError(
      `--port wants usb:BUS,ADDRESS (e.g. usb:001,005), not ${JSON.stringify(text)}`,
    );
  }
  const bus = Number(match[1]);
  const address = Number(match[2]);
  // USB addresses are 1..127; Linux numbers buses from 1.
  if (bus < 1 || bus > 255 || address < 1 || address > 127) {
    throw new UsageError(
      `--port: bus ${bus}, address ${address} cannot be (a bus is 1 to 255, an address 1 to 127)`,
    );
  }
  return { bus, address };
}
