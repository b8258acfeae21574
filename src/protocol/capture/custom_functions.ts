/**
 * Custom functions (§4.3.14, §4.4.2, §6.8): the old-protocol EOS table, the
 * 20D's, the RC 0x0F request and reply, the class-6 dump.
 *
 * @module
 */

import { readU16, readU32, writeU32 } from "../bytes.ts";
import { ProtocolError } from "../errors.ts";
import { encodeRemoteControl } from "./remote_control.ts";

/** A custom function: its number, its name and the meaning of each value. */
export interface CustomFunctionInfo {
  /** The function's number (C.Fn-n). */
  readonly index: number;
  /** What it controls. */
  readonly name: string;
  /** Meaning of each value. */
  readonly values: Readonly<Record<number, string>>;
}

function fn(index: number, name: string, values: string[]): CustomFunctionInfo {
  return { index, name, values: Object.fromEntries(values.map((v, i) => [i, v])) };
}

/** Old-protocol EOS custom functions (RC 0x0F), §6.8. 0 is the default of every one. */
export const EOS_CUSTOM_FUNCTIONS: readonly CustomFunctionInfo[] = [
  fn(1, "Long exposure noise reduction", ["off", "on"]),
  fn(2, "Shutter button/AE lock button", [
    "AF/AE lock",
    "AE lock/AF",
    "AF/AF lock",
    "AE+release/AE+AF",
  ]),
  fn(3, "Mirror lockup", ["off", "on"]),
  fn(4, "Tv/Av and exposure level steps", ["1/2 stop", "1/3 stop"]),
  fn(5, "AF-assist beam/flash firing", [
    "emits/fires",
    "does not emit/fires",
    "only external flash emits/fires",
    "emits/does not fire",
  ]),
  fn(6, "Shutter speed in Av mode", ["auto", "1/200 fixed"]),
  fn(7, "AEB sequence/auto cancellation", ["0", "1", "2", "3"]),
  fn(8, "Shutter curtain sync", ["1st curtain", "2nd curtain"]),
  fn(9, "Lens AF stop button", ["AF stop", "AF start", "AE lock while metering"]),
  fn(10, "Auto reduction of fill flash", ["enable", "disable"]),
  fn(11, "Menu button return position", [
    "top",
    "previous (top after power off)",
    "previous",
  ]),
  fn(12, "SET button when shooting", ["none", "image quality", "ISO speed", "parameters"]),
  fn(13, "Sensor cleaning", ["off", "on"]),
  fn(14, "Superimposed display", ["on", "off"]),
  fn(15, "Shutter release without CF card", ["possible", "not possible"]),
];

/** EOS 20D custom functions (0x1D/0x12 reply bytes in index order), §6.8. */
export const EOS_20D_CUSTOM_FUNCTIONS: readonly CustomFunctionInfo[] = [
  fn(1, "SET button function", ["none", "image quality", "parameters", "menu", "replay"]),
  fn(2, "Long exposure noise reduction", ["off", "on"]),
  fn(3, "Shutter speed in Av mode", ["auto", "1/250 fixed"]),
  fn(4, "Shutter button/AE lock button", ["0", "1", "2", "3"]),
  fn(5, "AF-assist beam", ["enabled", "disabled"]),
  fn(6, "Exposure level increments", ["1/2 stop", "1/3 stop"]),
  fn(7, "Flash firing", ["fires", "does not fire"]),
  fn(8, "ISO expansion", ["off", "on"]),
  fn(9, "AEB sequence/auto cancellation", ["0", "1", "2", "3"]),
  fn(10, "Superimposed display", ["on", "off"]),
  fn(11, "Menu button display position", ["previous (top after power off)", "previous", "top"]),
  fn(12, "Mirror lockup", ["off", "on"]),
  fn(13, "AF point selection method", [
    "normal",
    "multi-controller direct",
    "quick control dial direct",
  ]),
  fn(14, "E-TTL II", ["evaluative", "average"]),
  fn(15, "Shutter curtain sync", ["1st curtain", "2nd curtain"]),
  fn(16, "Safety shift in Av or Tv", ["off", "on"]),
  fn(17, "Lens AF stop button function", ["0", "1", "2", "3", "4", "5"]),
  fn(18, "Add original decision data", ["off", "on"]),
];

/** A custom function's current value. */
export interface CustomFunction {
  /** The function's number. */
  index: number;
  /** Its value. */
  value: number;
  /** What it controls, when the table knows. */
  name: string | undefined;
  /** What the value means, when the table knows. */
  meaning: string | undefined;
}

/**
 * The payload of RC 0x0F "get custom function" (old-protocol EOS, §4.4.2):
 * sub 0x0F, word 0x0A, half index, then 8 bytes (`FF FF 00 00 00 00 00 00`,
 * one of the trace's two forms).
 *
 * @param index the function's number
 * @returns the 18-byte payload
 */
export function encodeGetCustomFunction(index: number): Uint8Array {
  const params = new Uint8Array(14);
  writeU32(params, 0, 0x0a);
  params[4] = index & 0xff;
  params[5] = (index >>> 8) & 0xff;
  params[6] = 0xff;
  params[7] = 0xff;
  return encodeRemoteControl(0x0f, params, false);
}

function describe(table: readonly CustomFunctionInfo[], index: number, value: number) {
  const info = table.find((f) => f.index === index);
  return { index, value, name: info?.name, meaning: info?.values[value] };
}

/**
 * Decode an RC 0x0F reply (0x66 bytes): echo 0x0F, word 0x0A, half index,
 * the index again, the value at 0x60 (read as 16 bits; its width is
 * unverified).
 *
 * @param data the reply from 0x54
 * @param table the names to use (default: the old-protocol EOS table)
 * @returns the function and its value
 * @throws {ProtocolError} for a reply that is not a custom-function reply
 */
export function decodeCustomFunctionReply(
  data: Uint8Array,
  table: readonly CustomFunctionInfo[] = EOS_CUSTOM_FUNCTIONS,
): CustomFunction {
  if (data.length < 0x0e || readU32(data, 0) !== 0x0f) {
    throw new ProtocolError("GetCustomFunction: the reply is not a custom-function reply");
  }
  return describe(table, readU16(data, 0x08), readU16(data, 0x0c));
}

/**
 * Decode a class-6 custom-functions reply (0x1D/0x12, 0x94 bytes): word byte
 * count at 0x54 (including itself), then two bytes per function from 0x58,
 * the value first, then the function's number. A real 20D answers count 0x28
 * and `00 01 00 02 00 03 00 04 00 05 01 06 …` up to function 18
 * (Protocol.xml): 18 pairs. Names come from `table` (default: the 20D's,
 * §6.8); other bodies number theirs differently, so pass `table: []` for
 * them and get numbers only.
 *
 * @param data the reply from 0x54
 * @param table the names to use (default: the 20D's)
 * @returns one entry per pair the count announces, in the camera's order
 * @throws {ProtocolError} when the count does not fit the reply or is odd
 */
export function decodeCustomFunctions2(
  data: Uint8Array,
  table: readonly CustomFunctionInfo[] = EOS_20D_CUSTOM_FUNCTIONS,
): CustomFunction[] {
  if (data.length < 4) throw new ProtocolError("GetCustomFunctions: empty reply");
  const count = readU32(data, 0);
  if (count < 4 || count > data.length) {
    throw new ProtocolError(`GetCustomFunctions: byte count ${count} does not fit the reply`);
  }
  if ((count - 4) % 2 !== 0) {
    throw new ProtocolError(
      `GetCustomFunctions: ${
        count - 4
      } bytes of settings, not a whole number of (value, function) pairs`,
    );
  }
  const out: CustomFunction[] = [];
  for (let at = 4; at < count; at += 2) out.push(describe(table, data[at + 1], data[at]));
  return out;
}
