/**
 * The public shapes of remote capture: what `cam.capture` reads, takes and
 * returns, and what it needs from its camera.
 *
 * @module
 */

import type {
  Aperture,
  FlashMode,
  FocusMode,
  ImageFormat,
  IsoSpeed,
  ReleaseSettings,
  ShootingMode,
  ShutterSpeed,
} from "../../protocol/capture_codec.ts";
import type { CommandPurpose, CommandSpec } from "../../protocol/commands.ts";
import type { CameraModel } from "../../protocol/models.ts";
import type { Session } from "../../protocol/session.ts";
import type { Storage } from "../storage.ts";

/** What {@link Capture} needs from its camera. */
export interface CaptureHost {
  /** The protocol session. */
  readonly session: Session;
  /** The model table entry. */
  readonly modelInfo: CameraModel;
  /** Run dialogues with the wire to themselves. */
  run<T>(body: () => Promise<T>): Promise<T>;
  /** The command for a purpose in this camera's protocol generation. */
  spec(purpose: CommandPurpose): CommandSpec;
  /** The camera's card (to find a picture stored there, and download it). */
  readonly storage: Storage;
}

/** The shooting settings, as {@link Capture.settings} reads them. */
export interface CaptureSettings extends ReleaseSettings {
  /** Zoom position (0 = wide); undefined on EOS bodies, which have no zoom command. */
  zoom: number | undefined;
  /** The largest zoom position; undefined on EOS bodies. */
  zoomMax: number | undefined;
  /** The release-parameter block as the camera sent it (0x30 bytes, §6.3). */
  raw: Uint8Array;
}

/** Settings to change with {@link Capture.set}; omitted ones stay as they are. */
export interface CaptureSettingsChange {
  /** Shooting mode, e.g. "P", "Av", "M". */
  shootingMode?: ShootingMode;
  /** ISO speed. */
  iso?: IsoSpeed;
  /** Aperture f-number, e.g. 2.8. */
  aperture?: Aperture;
  /** Shutter speed as written on the dial: "1/125", "2", "0.5", "Bulb". */
  shutterSpeed?: ShutterSpeed;
  /** Exposure compensation in EV, in thirds or halves: -2 … +2 (e.g. -1, 1/3, 0.5). */
  exposureCompensation?: number;
  /** Picture size and quality; missing fields keep their current values. */
  imageFormat?: Partial<ImageFormat>;
  /** Flash. */
  flash?: FlashMode;
  /** Focus mode. */
  focusMode?: FocusMode;
  /** Macro focusing (cameras with a macro byte, e.g. the G3). */
  macro?: boolean;
  /** Beep on focus and release. */
  beep?: boolean;
  /** Zoom position, 0 … zoomMax. */
  zoom?: number;
}

/** The values each setting takes on this camera, as {@link Capture.choices} lists them. */
export interface SettingChoices {
  /** Shooting modes. */
  shootingMode: readonly ShootingMode[];
  /** ISO speeds. */
  iso: readonly IsoSpeed[];
  /** Apertures. */
  aperture: readonly Aperture[];
  /** Shutter speeds. */
  shutterSpeed: readonly ShutterSpeed[];
  /** Exposure compensation steps in EV. */
  exposureCompensation: readonly number[];
  /** Image formats. */
  imageFormat: readonly ImageFormat[];
  /** Flash modes. */
  flash: readonly FlashMode[];
  /** Focus modes. */
  focusMode: readonly FocusMode[];
  /** Macro: [false, true], or empty when the camera has no macro byte. */
  macro: readonly boolean[];
  /** Beep. */
  beep: readonly boolean[];
  /** Zoom positions 0 … max, or empty on EOS bodies. */
  zoom: readonly number[];
}

/** Where a picture goes. */
export type CaptureTarget = "card" | "host" | "both";

/** Options of {@link Capture.shoot}. */
export interface ShootOptions {
  /**
   * "card": the camera stores the picture on its card (transfer mode 0x08);
   * "host": the camera hands it to the host and does not store it (0x02, and
   * 0x01 for the thumbnail); "both": stored and handed over (0x0B).
   * Default: "host" when `destination` is given, otherwise "card".
   */
  to?: CaptureTarget;
  /**
   * Write the picture to this file, or into this existing directory (under
   * the card's name, or `CAP_nnnn.JPG` for a picture not kept on the card).
   * Written under a temporary name and renamed when complete; an existing
   * file is never replaced unless `overwrite` is set. Without it, a picture
   * sent to the host is returned as bytes.
   */
  destination?: string;
  /** Replace an existing file at the destination. */
  overwrite?: boolean;
  /** Fetch the thumbnail too (default true). */
  thumbnail?: boolean;
  /** Settings to apply first (as {@link Capture.set}). */
  settings?: CaptureSettingsChange;
  /**
   * Milliseconds to wait for the camera to report the end of the capture
   * after the shutter release (default 30000; longer for long exposures).
   */
  timeout?: number;
  /** Called as the image arrives with the bytes done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** What {@link Capture.shoot} took. */
export interface Shot {
  /** Where the camera stored it ("card" and "both"), e.g. "/DCIM/100CANON/IMG_0104.JPG". */
  path: string | undefined;
  /** The image, when it came to the host and no destination was given. */
  image: Uint8Array | undefined;
  /** The file written, when a destination was given. */
  file: string | undefined;
  /** Size of the image in bytes (0 when it stayed on the card and was not downloaded). */
  size: number;
  /** The JPEG thumbnail (unless `thumbnail: false`). */
  thumbnail: Uint8Array | undefined;
  /** The second image of a RAW+JPEG shot sent to the host. */
  secondary: Uint8Array | undefined;
}

/** Options of {@link Capture.start}. */
export interface CaptureStartOptions {
  /** Milliseconds to wait for remote mode (the lens extends; about 3 s on a G3). Default 15000. */
  timeout?: number;
}

/** Options of {@link Capture.previews}. */
export interface PreviewOptions {
  /** Stop after this many frames. */
  frames?: number;
  /** Stop when aborted. */
  signal?: AbortSignal;
}

/**
 * The camera's stay in remote mode, as {@link Capture.start} hands it out:
 * `await using remote = await cam.capture.start()` leaves remote mode when the
 * scope ends, on every exit path.
 */
export interface RemoteMode extends AsyncDisposable {
  /** Whether the camera is still in remote mode through this stay. */
  readonly active: boolean;
  /** Leave remote mode (RC 0x01), stopping the viewfinder first. Safe to call twice. */
  stop(): Promise<void>;
}
