/**
 * `cam.capture`: remote capture — enter and leave remote mode, read and
 * change the shooting settings (checked against the values the camera
 * takes, then read back), release the shutter and collect what was shot
 * (on the card, to the host, or both), the viewfinder; and the picture
 * abilities and custom functions `Camera` reads with them (protocol reference
 * §4.3.13–4.3.17, §4.4, §6.3–6.8).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Camera } from "@canon-remote/canon-remote";
 * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
 * await using cam = await Camera.connect(new VirtualCamera({ captureLatencyMs: 10 }));
 * await using _remote = await cam.capture.start(); // remote mode until the end of the scope
 * await cam.capture.set({ iso: 200, flash: "off" });
 * const shot = await cam.capture.shoot({ to: "host" });
 * assert.equal(shot.image?.length, shot.size);
 * assert.deepEqual([...shot.image!.subarray(0, 2)], [0xff, 0xd8]); // a JPEG
 * ```
 *
 * This file is the API; the work is in `capture/`: `remote_stay.ts` (entering
 * and leaving remote mode, the release-parameter block), `settings.ts`,
 * `shot.ts`, `viewfinder.ts`, `camera_tables.ts` (picture abilities, custom
 * functions), `types.ts` and `errors.ts`.
 *
 * @module
 */

import { RemoteStay } from "./capture/remote_stay.ts";
import { changeSettings, readSettings, settingChoices } from "./capture/settings.ts";
import { remainingShots, shoot } from "./capture/shot.ts";
import type {
  CaptureHost,
  CaptureSettings,
  CaptureSettingsChange,
  CaptureStartOptions,
  PreviewOptions,
  RemoteMode,
  SettingChoices,
  ShootOptions,
  Shot,
} from "./capture/types.ts";
import { preview, previews } from "./capture/viewfinder.ts";

export type {
  CaptureHost,
  CaptureSettings,
  CaptureSettingsChange,
  CaptureStartOptions,
  CaptureTarget,
  PreviewOptions,
  RemoteMode,
  SettingChoices,
  ShootOptions,
  Shot,
} from "./capture/types.ts";
export {
  CaptureTimeoutError,
  CardUnavailableError,
  PhotographicFailureError,
  SettingNotAppliedError,
  UnsupportedSettingError,
} from "./capture/errors.ts";
export { customFunctionsOf, pictureAbilitiesOf } from "./capture/camera_tables.ts";

/**
 * Remote capture of a camera. Reached as `cam.capture`.
 *
 * Its shooting methods enter remote mode when the camera is not in it yet and
 * leave it there (as gphoto2 does) until {@link Capture.stop} or
 * `cam.close()`. For a scoped stay that leaves remote mode on every exit path,
 * use `await using remote = await cam.capture.start()`.
 */
export class Capture {
  #host: CaptureHost;
  #stay: RemoteStay | undefined;

  /**
   * Make the capture engine of a camera (use `cam.capture`).
   *
   * @param host the camera
   */
  constructor(host: CaptureHost) {
    this.#host = host;
  }

  /** Whether the camera is in remote mode through this object. */
  get active(): boolean {
    return this.#stay?.active ?? false;
  }

  /**
   * Enter remote mode (RC 0x00). A camera left in remote mode by a script that
   * crashed answers 0x02000085; it is then told to leave and enter again.
   * When already in remote mode, returns the running stay.
   *
   * @param options the timeout of entering (the lens extends)
   * @returns the stay; `await using` it to leave remote mode on every exit path
   * @throws {CameraStatusError} when the camera cannot enter remote mode
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Camera } from "@canon-remote/canon-remote";
   * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
   * await using cam = await Camera.connect(new VirtualCamera());
   * {
   *   await using remote = await cam.capture.start();
   *   assert.equal((await cam.capture.settings()).iso, 50);
   *   assert.ok(remote.active);
   * } // remote mode left here
   * assert.equal(cam.capture.active, false);
   * ```
   */
  async start(options: CaptureStartOptions = {}): Promise<RemoteMode> {
    if (!this.#stay?.active) this.#stay = await RemoteStay.enter(this.#host, options);
    return this.#stay.handle;
  }

  /** Leave remote mode (RC 0x01), stopping the viewfinder first; nothing when not in it. */
  async stop(): Promise<void> {
    const stay = this.#stay;
    this.#stay = undefined;
    await stay?.stop();
  }

  async #live(): Promise<RemoteStay> {
    if (!this.#stay?.active) await this.start();
    return this.#stay!;
  }

  /**
   * Read the shooting settings (entering remote mode if needed): release
   * parameters (RC 0x0A) and zoom (RC 0x0B).
   *
   * @returns the settings; a byte the tables do not know reads as `undefined` (see `raw`)
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Camera } from "@canon-remote/canon-remote";
   * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
   * await using cam = await Camera.connect(new VirtualCamera());
   * const { iso, aperture, shutterSpeed } = await cam.capture.settings();
   * assert.deepEqual([iso, aperture, shutterSpeed], [50, 4, "1/125"]);
   * ```
   */
  async settings(): Promise<CaptureSettings> {
    return await readSettings(await this.#live());
  }

  /**
   * The values each setting takes (entering remote mode if needed): the value
   * tables of the protocol reference (§6.4–6.6), image formats narrowed to
   * the camera's picture-abilities table when it has one, macro only where
   * the release block has the G3's macro byte, the zoom range the camera
   * reports, the body's exposure limits where the model table records them.
   *
   * @returns the choices
   */
  async choices(): Promise<SettingChoices> {
    return await settingChoices(await this.#live());
  }

  /**
   * Change settings (entering remote mode if needed). Every value is checked
   * against {@link Capture.choices} before anything is written; then the
   * release parameters are written (set, get, set, as the camera's own
   * software does), read back and compared, and the zoom is moved and read
   * back.
   *
   * @param changes the settings to change
   * @returns the settings as read back
   * @throws {UnsupportedSettingError} for a value the camera does not take (its `choices` list the valid ones)
   * @throws {SettingNotAppliedError} when the camera reads back another value
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Camera } from "@canon-remote/canon-remote";
   * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
   * await using cam = await Camera.connect(new VirtualCamera());
   * const now = await cam.capture.set({ iso: 200, aperture: 2.8, shutterSpeed: "1/60", flash: "auto" });
   * assert.deepEqual([now.iso, now.aperture, now.shutterSpeed], [200, 2.8, "1/60"]);
   * ```
   */
  async set(changes: CaptureSettingsChange): Promise<CaptureSettings> {
    return await changeSettings(await this.#live(), changes);
  }

  /**
   * Release the shutter and collect the picture (entering remote mode if
   * needed): the camera stores it on its card, hands it to the host, or both;
   * with a `destination` it is written to a file. The release follows the
   * camera's interrupt reports (§4.4.3) and gives up after `timeout` ms.
   *
   * @param options where the picture goes, settings to apply first, timeout
   * @returns the card path, the image or file, the thumbnail
   * @throws {UnsupportedSettingError} for a bad `to` or setting (nothing is shot)
   * @throws {CardUnavailableError} with no card or a full one (pictures kept on the card)
   * @throws {PhotographicFailureError} when the camera could not take the picture
   * @throws {CaptureTimeoutError} when the camera does not report the end of the capture in time
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Camera } from "@canon-remote/canon-remote";
   * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
   * await using cam = await Camera.connect(new VirtualCamera({ captureLatencyMs: 10 }));
   * await using _remote = await cam.capture.start();
   * const kept = await cam.capture.shoot({ to: "card" });
   * assert.match(kept.path ?? "", /^\/DCIM\/\d{3}CANON\/IMG_\d{4}\.JPG$/);
   * const sent = await cam.capture.shoot({ to: "host", settings: { iso: 400 } });
   * assert.deepEqual([...sent.image!.subarray(0, 2)], [0xff, 0xd8]); // a JPEG
   * assert.equal(sent.image?.length, sent.size);
   * ```
   */
  async shoot(options: ShootOptions = {}): Promise<Shot> {
    return await shoot(await this.#live(), options);
  }

  /**
   * One viewfinder frame (entering remote mode if needed): the viewfinder is
   * started (RC 0x02, then RC 0x14 output off, as Canon RemoteCapture does),
   * one frame fetched (0x18/0x12), and stopped (RC 0x03), unless a
   * {@link Capture.previews} loop keeps it running.
   *
   * @returns a baseline JPEG (320×240 on the G3)
   */
  async preview(): Promise<Uint8Array> {
    return await preview(await this.#live());
  }

  /**
   * Viewfinder frames, one per iteration (entering remote mode if needed);
   * the viewfinder stops when the loop ends (`break`, an error, `frames`
   * reached or `signal` aborted). Other calls (settings, zoom) may run
   * between frames.
   *
   * @param options how many frames, abort signal
   * @returns the frames
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Camera } from "@canon-remote/canon-remote";
   * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
   * await using cam = await Camera.connect(new VirtualCamera());
   * let frames = 0;
   * for await (const frame of cam.capture.previews({ frames: 3 })) if (frame.length > 0) frames++;
   * assert.equal(frames, 3);
   * ```
   */
  async *previews(options: PreviewOptions = {}): AsyncGenerator<Uint8Array> {
    yield* previews(await this.#live(), options);
  }

  /**
   * How many more pictures fit on the card, by the camera's estimate (RC
   * 0x0D), entering remote mode if needed.
   *
   * @returns the number of shots
   */
  async remainingShots(): Promise<number> {
    return await remainingShots(await this.#live());
  }
}
