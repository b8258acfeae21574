/**
 * Text formatting for the `canon` command: sizes, dates, durations, tables.
 *
 * @module
 */

/**
 * A byte count for people: "812 B", "45.3 kB", "1.2 MB", "3.91 GB".
 *
 * @param bytes the count
 * @returns the text
 */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)} ${
    units[unit]
  }`;
}

const two = (n: number): string => String(n).padStart(2, "0");

/**
 * A date as the camera's wall clock shows it: "2024-05-17 14:03:12".
 *
 * @param date the date (local time), or undefined
 * @returns the text, or "-" for no date
 */
export function formatDate(date: Date | undefined): string {
  if (!date) return "-";
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())} ` +
    `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
}

/**
 * A duration in seconds as "m:ss" (or "h:mm:ss").
 *
 * @param seconds the duration
 * @returns the text, "-:--" when unknown
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "-:--";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

/**
 * Lay out rows in columns (left-aligned; columns listed in `right` are right-aligned).
 *
 * @param rows the cells
 * @param right indexes of right-aligned columns
 * @returns one line per row, without trailing spaces
 */
export function table(
  rows: readonly (readonly string[])[],
  right: readonly number[] = [],
): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => widths[i] = Math.max(widths[i] ?? 0, cell.length));
  }
  return rows.map((row) =>
    row.map((cell, i) =>
      i === row.length - 1 && !right.includes(i)
        ? cell
        : right.includes(i)
        ? cell.padStart(widths[i])
        : cell.padEnd(widths[i])
    ).join("  ").trimEnd()
  );
}

/** The months' English names, January first (dates in messages and file-name patterns). */
export const MONTHS: readonly string[] = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
