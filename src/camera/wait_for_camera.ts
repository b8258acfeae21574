/**
 * `waitForCamera()`: wait until a supported Canon camera is connected.
 *
 * @module
 */

import { hotplugSupported, UsbHotplugWatch } from "../usb/hotplug.ts";
import { CameraNotFoundError } from "../protocol/errors.ts";
import { log } from "../protocol/log.ts";
import { type CameraInfo, cameraInfo, describeCameras, listCameras } from "./discovery.ts";
import { CANON_VENDOR_ID } from "../protocol/models.ts";

/** How {@link waitForCamera} learns about new devices. */
export type WaitMethod = "auto" | "hotplug" | "poll";

/** Options of {@link waitForCamera}. */
export interface WaitForCameraOptions {
  /** Stop waiting: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Give up after this many milliseconds with a {@link CameraNotFoundError}; default: never. */
  timeout?: number;
  /**
   * `"hotplug"`: libusb's arrival events only; `"poll"`: list the bus every
   * `interval`; `"auto"` (default): hot-plug where libusb has it (with a
   * slow listing every 2 s as a safety net), polling elsewhere (Windows).
   */
  method?: WaitMethod;
  /** Milliseconds between listings when polling; default 500. */
  interval?: number;
}

/** The camera {@link waitForCamera} found, and how. */
export interface CameraArrival extends CameraInfo {
  /** `"connected"`: it was there already; `"hotplug"`: an arrival event; `"poll"`: a listing. */
  via: "connected" | "hotplug" | "poll";
}

/** The safety-net listing interval of `"auto"` with hot-plug, in milliseconds. */
const SAFETY_POLL_MS = 2000;

/**
 * Wait until a supported Canon camera (normal USB mode, in the model table)
 * is connected, and say where. A camera already connected answers at once.
 * Cameras in PTP or mass-storage mode do not count, but are named if the
 * wait times out.
 *
 * Nothing is left behind once the promise settles (resolved, timed out or
 * aborted): the hot-plug callback is deregistered and closed, its event loop
 * stopped and its libusb context exited, the timers cleared, so the process
 * can end.
 *
 * @param options abort signal, timeout, method, polling interval
 * @returns the camera's bus, address, model and how it was found
 * @throws {CameraNotFoundError} when `timeout` runs out
 * @throws the signal's reason when aborted
 * @example
 * ```ts ignore
 * import { Camera, waitForCamera } from "@canon-remote/canon-remote";
 * const found = await waitForCamera({ timeout: 60_000 });
 * await using cam = await Camera.open({ bus: found.bus, address: found.address });
 * ```
 */
export async function waitForCamera(options: WaitForCameraOptions = {}): Promise<CameraArrival> {
  const { signal } = options;
  signal?.throwIfAborted();
  const method = options.method ?? "auto";
  const interval = options.interval ?? 500;
  if (!(interval > 0)) throw new RangeError(`interval must be positive, got ${interval}`);
  if (options.timeout !== undefined && !(options.timeout >= 0)) {
    throw new RangeError(`timeout must be zero or more milliseconds, got ${options.timeout}`);
  }
  const useHotplug = method === "hotplug" || (method === "auto" && hotplugSupported());
  if (method === "hotplug" && !hotplugSupported()) {
    throw new CameraNotFoundError("libusb has no hot-plug support on this platform", {
      hint: 'Use { method: "poll" } (or "auto")',
    });
  }

  const seen = new Map<string, CameraInfo>();
  let settle!: (outcome: { value: CameraArrival } | { error: unknown }) => void;
  const outcome = new Promise<{ value: CameraArrival } | { error: unknown }>((resolve) => {
    settle = resolve;
  });
  let done = false;
  const finish = (result: { value: CameraArrival } | { error: unknown }) => {
    if (done) return;
    done = true;
    settle(result);
  };
  const consider = (camera: CameraInfo, via: CameraArrival["via"]) => {
    if (done) return;
    seen.set(`${camera.bus}/${camera.address}`, camera);
    if (camera.supported) finish({ value: { ...camera, via } });
  };
  const onAbort = () => finish({ error: signal!.reason });
  signal?.addEventListener("abort", onAbort, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (options.timeout !== undefined) {
    timer = setTimeout(() => {
      const cameras = [...seen.values()];
      const ptp = cameras.find((c) => c.mode === "ptp");
      finish({
        error: new CameraNotFoundError(
          `no supported Canon camera was connected within ${options.timeout} ms; ${
            describeCameras(cameras)
          }`,
          {
            hint: ptp
              ? `The ${ptp.modelName} is in PTP mode: switch its USB mode to normal, or use a PTP tool`
              : "Connect the camera and switch it on (in playback mode on most PowerShots)",
          },
        ),
      });
    }, options.timeout);
  }

  let watch: UsbHotplugWatch | undefined;
  let pollTimer: ReturnType<typeof setTimeout> | undefined;
  let polling: Promise<void> | undefined;
  const poll = async (via: CameraArrival["via"]) => {
    try {
      for (const camera of await listCameras()) consider(camera, via);
    } catch (error) {
      finish({ error });
    }
  };
  const schedulePoll = (ms: number) => {
    if (done) return;
    pollTimer = setTimeout(() => {
      polling = poll("poll").then(() => schedulePoll(ms));
    }, ms);
  };
  try {
    if (useHotplug) {
      // Registered before the first listing: nothing can arrive unseen in between.
      watch = await UsbHotplugWatch.start(
        { vendorId: CANON_VENDOR_ID },
        (device) => consider(cameraInfo(device), "hotplug"),
        (error) => finish({ error }),
      );
    }
    if (!done) await poll("connected");
    if (!done && (!useHotplug || method === "auto")) {
      schedulePoll(useHotplug ? Math.max(interval, SAFETY_POLL_MS) : interval);
    }
  } catch (error) {
    finish({ error });
  }
  const result = await outcome;
  // Clean up before settling: once the caller sees the result, nothing is left running.
  clearTimeout(timer);
  clearTimeout(pollTimer);
  signal?.removeEventListener("abort", onAbort);
  await polling;
  clearTimeout(pollTimer);
  if (watch) {
    await watch.stop();
    if (watch.failure) log.info(`hot-plug watch: ${watch.failure}`);
  }
  if ("error" in result) throw result.error;
  return result.value;
}
