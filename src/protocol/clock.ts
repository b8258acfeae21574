/**
 * The camera's clock: camera-local seconds (counted since 1970 on the
 * camera's wall clock, with no time zone) to and from a `Date`. Listings,
 * SetFileTime, GetTime and SetTime all carry this count.
 *
 * @module
 */

/**
 * Camera time (seconds since 1970 counted in the camera's wall clock, no
 * zone) as a `Date` whose local wall-clock reading is the same: a picture
 * taken at 14:00 on the camera shows as 14:00 on the host, in any zone, DST
 * included.
 *
 * @param cameraSeconds camera-local seconds; 0 means unknown
 * @returns the date, or undefined for 0
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromCameraTime } from "@canon-remote/canon-remote/protocol";
 * // 0x3E43E644 is 2003-02-07 17:00:52 on the camera: 17:00 on the host, in every time zone
 * assert.equal(fromCameraTime(0x3e43e644)?.getHours(), 17);
 * ```
 */
export function fromCameraTime(cameraSeconds: number): Date | undefined {
  if (cameraSeconds === 0) return undefined;
  const wall = new Date(cameraSeconds * 1000);
  const local = new Date(
    wall.getUTCFullYear(),
    wall.getUTCMonth(),
    wall.getUTCDate(),
    wall.getUTCHours(),
    wall.getUTCMinutes(),
    wall.getUTCSeconds(),
  );
  // Years 0–99 would be taken as 1900–1999 by the constructor.
  local.setFullYear(wall.getUTCFullYear());
  return local;
}

/**
 * A `Date` as camera time: its local wall-clock reading counted as seconds
 * since 1970.
 *
 * @param date the moment, read on the host's local clock
 * @returns camera-local seconds
 */
export function toCameraTime(date: Date): number {
  return Math.floor(
    Date.UTC(
      date.getFullYear(),
      date.getMonth(),
      date.getDate(),
      date.getHours(),
      date.getMinutes(),
      date.getSeconds(),
    ) / 1000,
  );
}
