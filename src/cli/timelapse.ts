/**
 * Time-lapse for `canon capture --interval 10s --frames 100` (or `--until`):
 * when each shot is due, what to do when one fails, when to stop.
 *
 * Shots are due at start + n × interval. A shot that runs late is taken at
 * once and the schedule is kept (no catching up with a burst). One failed
 * shot is reported and the series goes on; three in a row end it (the
 * camera is gone or keeps refusing).
 *
 * @module
 */

import { UsageError } from "./exit.ts";

/** Failed shots in a row after which the series stops. */
export const MAX_FAILURES_IN_A_ROW = 3;

/**
 * An interval as written: "10s", "500ms", "2m", "2min", "1h", or a number of
 * seconds (gphoto2's `--interval` counts seconds).
 *
 * @param text the option's value
 * @returns milliseconds
 * @throws {UsageError} for anything else or less than 100 ms
 */
export function parseInterval(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?$/.exec(text.trim());
  if (!match) {
    throw new UsageError(
      `--interval wants a time like 10s, 500ms, 2m or 1h, not ${JSON.stringify(text)}`,
      "capture",
    );
  }
  const unit = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 }[match[2] ?? "s"]!;
  const ms = Number(match[1]) * unit;
  if (ms < 100) throw new UsageError("--interval must be at least 100ms", "capture");
  return ms;
}

/**
 * `--until`: "HH:MM[:SS]" (the next time the clock shows it) or
 * "YYYY-MM-DD HH:MM[:SS]" (local time).
 *
 * @param text the option's value
 * @param now the time now
 * @returns the end of the series
 * @throws {UsageError} for anything else, an impossible date or a time past
 */
export function parseUntil(text: string, now: Date = new Date()): Date {
  const full = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text.trim());
  const clock = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(text.trim());
  let date: Date;
  let fields: number[];
  if (full) {
    fields = full.slice(1).map((v) => Number(v ?? 0));
    date = new Date(fields[0], fields[1] - 1, fields[2], fields[3], fields[4], fields[5]);
  } else if (clock) {
    const [h, mi, s] = clock.slice(1).map((v) => Number(v ?? 0));
    fields = [now.getFullYear(), now.getMonth() + 1, now.getDate(), h, mi, s];
    date = new Date(now.getFullYear(), now.getMonth(), now.getDate(), h, mi, s);
    if (date.getTime() <= now.getTime()) date.setDate(date.getDate() + 1);
  } else {
    throw new UsageError(
      `--until wants a time like 18:30 or "2024-07-01 18:30", not ${JSON.stringify(text)}`,
      "capture",
    );
  }
  const [, mo, d, h, mi, s] = fields;
  if (
    mo < 1 || mo > 12 || d < 1 || d > new Date(fields[0], mo, 0).getDate() || h > 23 ||
    mi > 59 || s > 59
  ) {
    throw new UsageError(`--until ${JSON.stringify(text)} is not a date and time`, "capture");
  }
  if (date.getTime() <= now.getTime()) {
    throw new UsageError(`--until ${JSON.stringify(text)} is already past`, "capture");
  }
  return date;
}

/** What to take and when to stop. */
export interface TimelapsePlan {
  /** Milliseconds from one shot's start to the next. */
  interval: number;
  /** Shots to take (at most). */
  frames?: number;
  /** No shot starts after this time. */
  until?: Date;
}

/** How {@link runTimelapse} waits and reports. */
export interface TimelapseHooks {
  /** Take and save shot `frame` (1-based); throws when it failed. */
  shoot(frame: number): Promise<void>;
  /** Shot `frame` failed with `error` (the series goes on unless it was too many). */
  failed(frame: number, error: unknown): void;
  /** Waiting `ms` for shot `frame` (called before each wait). */
  waiting?(frame: number, ms: number): void;
  /** Clock in milliseconds (default `Date.now`). */
  now?: () => number;
  /** Wait (default a timer); resolves early when the signal aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Stop the series (after the shot under way). */
  signal?: AbortSignal;
}

/** What a series did. */
export interface TimelapseResult {
  /** Shots saved. */
  saved: number;
  /** Shots that failed. */
  failed: number;
  /** Why it stopped. */
  stopped: "frames" | "until" | "failures" | "aborted";
  /** Milliseconds from the first shot to the end. */
  elapsed: number;
}

function timer(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const id = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(id);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

/**
 * Run a series of shots on a schedule.
 *
 * @param plan interval and when to stop
 * @param hooks the shot, failure reports, clock
 * @returns how many were saved and failed, and why it stopped
 */
export async function runTimelapse(
  plan: TimelapsePlan,
  hooks: TimelapseHooks,
): Promise<TimelapseResult> {
  if (plan.frames === undefined && plan.until === undefined) {
    throw new RangeError("a time-lapse needs frames or until");
  }
  const now = hooks.now ?? Date.now;
  const sleep = hooks.sleep ?? timer;
  const start = now();
  let saved = 0;
  let failed = 0;
  let inARow = 0;
  let stopped: TimelapseResult["stopped"] = "frames";
  for (let frame = 1;; frame++) {
    if (plan.frames !== undefined && frame > plan.frames) break;
    const due = start + (frame - 1) * plan.interval;
    if (plan.until !== undefined && due > plan.until.getTime()) {
      stopped = "until";
      break;
    }
    const wait = due - now();
    if (wait > 0) {
      hooks.waiting?.(frame, wait);
      await sleep(wait, hooks.signal);
    }
    if (hooks.signal?.aborted) {
      stopped = "aborted";
      break;
    }
    try {
      await hooks.shoot(frame);
      saved++;
      inARow = 0;
    } catch (error) {
      failed++;
      inARow++;
      hooks.failed(frame, error);
      if (inARow >= MAX_FAILURES_IN_A_ROW) {
        stopped = "failures";
        break;
      }
    }
  }
  return { saved, failed, stopped, elapsed: now() - start };
}
