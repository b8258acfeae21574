/**
 * The `canon` logger: INFO traces every command and transfer, DEBUG adds hex
 * dumps. Off by default; `CANON_LOG=info` or `CANON_LOG=debug` in the
 * environment switches it on for any script, and {@link setLogLevel} from
 * code.
 *
 * @module
 */

/** Log levels, least to most verbose. */
export type LogLevel = "off" | "warn" | "info" | "debug";

const RANK: Record<LogLevel, number> = { off: 0, warn: 1, info: 2, debug: 3 };

/** Where log lines go. */
export type LogSink = (line: string) => void;

/**
 * `CANON_LOG`, read without ever asking: a script run without `--allow-env`
 * (or with access to other variables only) gets no permission prompt at
 * import time, and logging keeps its default.
 */
function readLogVariable(): string | undefined {
  try {
    if (Deno.permissions.querySync({ name: "env", variable: "CANON_LOG" }).state !== "granted") {
      return undefined;
    }
    return Deno.env.get("CANON_LOG");
  } catch {
    return undefined;
  }
}

function initialLevel(): LogLevel {
  const value = readLogVariable()?.toLowerCase();
  if (value === "info" || value === "debug" || value === "warn" || value === "off") return value;
  if (value === "1" || value === "trace") return "info";
  return "warn";
}

let level: LogLevel = initialLevel();
let sink: LogSink = (line) => console.error(line);

/**
 * Set how much the `canon` logger writes.
 *
 * @param newLevel `"off"`, `"warn"` (the default), `"info"` (every command and transfer) or `"debug"` (and hex dumps)
 * @returns the previous level
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { setLogLevel } from "@canon-remote/canon-remote";
 * const before = setLogLevel("info");
 * assert.equal(setLogLevel(before), "info");
 * ```
 */
export function setLogLevel(newLevel: LogLevel): LogLevel {
  const before = level;
  level = newLevel;
  return before;
}

/** The current level of the `canon` logger. */
export function getLogLevel(): LogLevel {
  return level;
}

/**
 * Send log lines somewhere else than standard error.
 *
 * @param newSink receives each line without a trailing newline
 * @returns the previous sink
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { setLogSink } from "@canon-remote/canon-remote";
 * const lines: string[] = [];
 * const before = setLogSink((line) => lines.push(line));
 * setLogSink(before);
 * assert.equal(lines.length, 0);
 * ```
 */
export function setLogSink(newSink: LogSink): LogSink {
  const before = sink;
  sink = newSink;
  return before;
}

/** True when lines of `at` are written. */
export function logEnabled(at: LogLevel): boolean {
  return RANK[level] >= RANK[at] && at !== "off";
}

/** The `canon` logger. */
export const log = {
  /** A warning (written unless the level is `off`). */
  warn(message: string): void {
    if (logEnabled("warn")) sink(`canon WARNING ${message}`);
  },
  /** A trace line (INFO). */
  info(message: string): void {
    if (logEnabled("info")) sink(`canon INFO ${message}`);
  },
  /** A hex dump of `bytes` (DEBUG). */
  dump(bytes: Uint8Array, limit = 0x400): void {
    if (!logEnabled("debug")) return;
    for (const line of hexdump(bytes, limit)) sink(`canon DEBUG ${line}`);
  },
};

/**
 * Hex dump lines: offset, 8 + 8 hex bytes, ASCII.
 *
 * @param bytes what to dump
 * @param limit at most this many bytes are shown; a final line says how many were left out
 * @returns one string per 16 bytes
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hexdump } from "@canon-remote/canon-remote/protocol";
 * const lines = hexdump(new TextEncoder().encode("Canon PowerShot G3"));
 * assert.equal(lines[0], "0000  43 61 6e 6f 6e 20 50 6f  77 65 72 53 68 6f 74 20  Canon PowerShot ");
 * ```
 */
export function hexdump(bytes: Uint8Array, limit = Infinity): string[] {
  const lines: string[] = [];
  const end = Math.min(bytes.length, limit);
  for (let offset = 0; offset < end; offset += 16) {
    const row = bytes.subarray(offset, Math.min(offset + 16, end));
    let hexPart = "";
    let ascii = "";
    for (let i = 0; i < 16; i++) {
      if (i === 8) hexPart += " ";
      if (i < row.length) {
        hexPart += row[i].toString(16).padStart(2, "0") + " ";
        ascii += row[i] >= 0x20 && row[i] < 0x7f ? String.fromCharCode(row[i]) : ".";
      } else {
        hexPart += "   ";
      }
    }
    lines.push(`${offset.toString(16).padStart(4, "0")}  ${hexPart} ${ascii}`);
  }
  if (end < bytes.length) lines.push(`... ${bytes.length - end} more bytes`);
  return lines;
}
