/**
 * Backstop timers for transfers (internal, not exported by an entry point).
 *
 * Deno's first `setTimeout` or `setInterval` loads its Node timer code,
 * about 11 ms of CPU: more than a whole `canon info` spends on the camera.
 * A backstop over a transfer that keeps the process alive by itself (a
 * libusb transfer is a pending FFI call or a referenced callback) does not
 * need a timer that keeps the process alive, so it can use V8's own timed
 * wait, `Atomics.waitAsync`, which costs nothing to load and is cancelled by
 * a notify. Every other backstop (a WebUSB device, a device made of
 * promises) keeps its `setTimeout`, which holds the process until it fires.
 *
 * @module
 */

/** A timer that can be cancelled, and told whether to keep the process alive. */
export interface Watchdog {
  /** Stop it; it never fires after this. Safe to call twice. */
  cancel(): void;
  /** Keep the process alive while it runs (no effect on a quiet watchdog). */
  ref(): void;
  /** Let the process end while it runs (no effect on a quiet watchdog). */
  unref(): void;
}

/** Whether this runtime has `Atomics.waitAsync` (Deno and Chromium do, on the main thread). */
export const canWaitQuietly: boolean = typeof SharedArrayBuffer === "function" &&
  typeof (Atomics as { waitAsync?: unknown }).waitAsync === "function";

/**
 * Call `fire` once after `ms` milliseconds unless cancelled first.
 *
 * @param ms delay in milliseconds
 * @param fire what to run
 * @param quiet the watched work keeps the process alive by itself: use a
 *   timer that does not (and does not load Deno's timer code)
 * @returns the watchdog
 */
export function watchOnce(ms: number, fire: () => void, quiet: boolean): Watchdog {
  if (quiet && canWaitQuietly) return quietOnce(ms, fire);
  const timer = setTimeout(fire, ms);
  return {
    cancel: () => clearTimeout(timer),
    ref: () => Deno.refTimer(timer),
    unref: () => Deno.unrefTimer(timer),
  };
}

/**
 * Call `tick` every `ms` milliseconds until cancelled.
 *
 * @param ms period in milliseconds
 * @param tick what to run
 * @param quiet as for {@link watchOnce}
 * @returns the watchdog
 */
export function watchEvery(ms: number, tick: () => void, quiet: boolean): Watchdog {
  if (quiet && canWaitQuietly) {
    let live = true;
    let current: Watchdog;
    const arm = () => {
      current = quietOnce(ms, () => {
        if (!live) return;
        arm();
        tick();
      });
    };
    arm();
    return {
      cancel: () => {
        live = false;
        current.cancel();
      },
      ref: () => {},
      unref: () => {},
    };
  }
  const timer = setInterval(tick, ms);
  return {
    cancel: () => clearInterval(timer),
    ref: () => Deno.refTimer(timer),
    unref: () => Deno.unrefTimer(timer),
  };
}

// The quiet watchdogs share one timed wait, armed for the earliest
// deadline: a transfer that ends in time costs a set insertion and deletion,
// not a timer (V8's timed wait is cheap to load, not to start).
interface Due {
  at: number;
  fire: () => void;
}
const due = new Set<Due>();
/** When the shared wait ends (Infinity: none pending). */
let armedAt = Infinity;
/** Wakes the shared wait early, when a nearer deadline replaces it. */
let wakeArmed: (() => void) | undefined;

function arm(at: number): void {
  wakeArmed?.();
  armedAt = at;
  const cell = new Int32Array(new SharedArrayBuffer(4));
  const wait = Atomics.waitAsync(cell, 0, 0, Math.max(0, at - performance.now()));
  const ended = () => {
    if (armedAt !== at) return; // replaced by a nearer deadline
    armedAt = Infinity;
    wakeArmed = undefined;
    const now = performance.now();
    let next = Infinity;
    for (const entry of [...due]) {
      if (entry.at <= now) {
        due.delete(entry);
        entry.fire();
      } else next = Math.min(next, entry.at);
    }
    if (next < Infinity && next < armedAt) arm(next);
  };
  if (!wait.async) {
    wakeArmed = undefined;
    queueMicrotask(ended);
    return;
  }
  wakeArmed = () => Atomics.notify(cell, 0);
  void wait.value.then(ended);
}

function quietOnce(ms: number, fire: () => void): Watchdog {
  const entry: Due = { at: performance.now() + Math.max(0, ms), fire };
  due.add(entry);
  if (entry.at < armedAt) arm(entry.at);
  return {
    cancel: () => {
      due.delete(entry);
    },
    ref: () => {},
    unref: () => {},
  };
}
