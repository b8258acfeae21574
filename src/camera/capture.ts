/**
 * `cam.capture`: remote capture — enter and leave remote mode, read and
 * change the shooting settings (checked against the values the camera
 * takes, then read back), release the shutter and collect what was shot
 * (on the card, to the host, or both), the viewfinder, picture abilities and
 * custom functions (protocol reference §4.3.13–4.3.17, §4.4, §6.3–6.8).
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Camera } from "@canon-remote/canon-remote";
 * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
 * await using cam = await Camera.connect(new VirtualCamera({ captureLatencyMs: 10 }));
 * await using session = await cam.capture.start();
 * await session.set({ iso: 200, flash: "off" });
 * const shot = await session.shoot({ to: "host" });
 * assert.equal(shot.image?.length, shot.size);
 * assert.deepEqual([...shot.image!.subarray(0, 2)], [0xff, 0xd8]); // a JPEG
 * ```
 *
 * @module
 */

import { basename, dirname, join } from "./host_path.ts";
import { readU32, words } from "../protocol/bytes.ts";
import {
  advanceCapture,
  type Aperture,
  APERTURES,
  BEEP_MODES,
  CAPTURED_IMAGE_TYPE,
  type CaptureProgress,
  captureRules,
  type CustomFunction,
  decodeCustomFunctionReply,
  decodeCustomFunctions2,
  decodeGetReleaseParams,
  decodePictureAbilities,
  decodeReleaseParams,
  decodeZoom,
  encodeGetCustomFunction,
  encodeGetReleaseParams,
  encodePreviewRequest,
  encodeReleaseSettings,
  encodeRemoteControl,
  encodeRetrieveCapture,
  encodeSetReleaseParams,
  EOS_20D_CUSTOM_FUNCTIONS,
  EOS_CUSTOM_FUNCTIONS,
  EXPOSURE_COMPENSATIONS,
  FLASH_MODES,
  type FlashMode,
  FOCUS_MODES,
  type FocusMode,
  IMAGE_FORMATS,
  type ImageDescriptor,
  type ImageFormat,
  ISO_SPEEDS,
  type IsoSpeed,
  type PictureAbilities,
  RELEASE_PARAM,
  type ReleaseSettings,
  type ReleaseSettingsChange,
  sameImageFormat,
  SHOOTING_MODES,
  type ShootingMode,
  SHUTTER_SPEEDS,
  type ShutterSpeed,
  startCapture,
  TRANSFER_MODE,
  usesEosExposureCodes,
  type ZoomPosition,
} from "../protocol/capture_codec.ts";
import type { FixedReply } from "../protocol/codec.ts";
import {
  CAPTURE_COMMANDS,
  type CommandPurpose,
  COMMANDS,
  type CommandSpec,
  hex,
  REMOTE,
  type RemotePurpose,
  STATUS,
} from "../protocol/commands.ts";
import {
  CameraStatusError,
  CameraTimeoutError,
  CanonError,
  ProtocolError,
} from "../protocol/errors.ts";
import { log } from "../protocol/log.ts";
import type { Session } from "../protocol/session.ts";
import { type CameraModel, EOS_ONLY_SHOOTING_MODES, RELEASE_LIMITS } from "./models.ts";
import { CardPathNotFoundError, type Storage, type StorageEntry } from "./storage.ts";
import { traitsOf } from "./traits.ts";
import { isDirectory, pathExists, PendingFile } from "./pending_file.ts";

// ---- public types -------------------------------------------------------------

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

/** The shooting settings, as {@link CaptureSession.settings} reads them. */
export interface CaptureSettings extends ReleaseSettings {
  /** Zoom position (0 = wide); undefined on EOS bodies, which have no zoom command. */
  zoom: number | undefined;
  /** The largest zoom position; undefined on EOS bodies. */
  zoomMax: number | undefined;
  /** The release-parameter block as the camera sent it (0x30 bytes, §6.3). */
  raw: Uint8Array;
}

/** Settings to change with {@link CaptureSession.set}; omitted ones stay as they are. */
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

/** The values each setting takes on this camera, as {@link CaptureSession.choices} lists them. */
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

/** Options of {@link CaptureSession.shoot}. */
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
  /** Settings to apply first (as {@link CaptureSession.set}). */
  settings?: CaptureSettingsChange;
  /**
   * Milliseconds to wait for the camera to report the end of the capture
   * after the shutter release (default 30000; longer for long exposures).
   */
  timeout?: number;
  /** Called as the image arrives with the bytes done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/** What {@link CaptureSession.shoot} took. */
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

/** Options of {@link CaptureSession.previews}. */
export interface PreviewOptions {
  /** Stop after this many frames. */
  frames?: number;
  /** Stop when aborted. */
  signal?: AbortSignal;
}

// ---- errors ---------------------------------------------------------------------

/** A setting value the camera does not take; nothing was sent. */
export class UnsupportedSettingError extends RangeError {
  /** The setting, e.g. "iso". */
  readonly setting: string;
  /** The value asked for. */
  readonly value: unknown;
  /** The values the camera takes. */
  readonly choices: readonly unknown[];
  /**
   * Make the error.
   *
   * @param setting the setting
   * @param value the value asked for
   * @param choices the valid values
   * @param why a sentence saying why, when there is more to say than "not supported"
   */
  constructor(setting: string, value: unknown, choices: readonly unknown[], why?: string) {
    const shown = choices.map((c) => typeof c === "object" ? JSON.stringify(c) : String(c));
    super(
      `${setting}: ${JSON.stringify(value)} is not supported by this camera` +
        (why ? ` (${why})` : "") +
        (shown.length > 0 ? `; choose one of: ${shown.join(", ")}` : "; it has no such setting"),
    );
    this.name = "UnsupportedSettingError";
    this.setting = setting;
    this.value = value;
    this.choices = choices;
  }
}

/** The camera accepted a setting but reads back another value. */
export class SettingNotAppliedError extends CanonError {
  /** The setting, e.g. "iso". */
  readonly setting: string;
  /** The value written. */
  readonly wanted: unknown;
  /** The value read back. */
  readonly got: unknown;
  /**
   * Make the error.
   *
   * @param setting the setting
   * @param wanted the value written
   * @param got the value read back
   */
  constructor(setting: string, wanted: unknown, got: unknown) {
    super(
      `${setting}: the camera was set to ${JSON.stringify(wanted)} but reads back ${
        JSON.stringify(got)
      }`,
      {
        hint: "The camera does not take this value in its current mode or with its lens; " +
          "the other settings were applied",
      },
    );
    this.name = "SettingNotAppliedError";
    this.setting = setting;
    this.wanted = wanted;
    this.got = got;
  }
}

/** The camera has no room for a picture: no card, or a full one (status 0x0200002A). */
export class CardUnavailableError extends CameraStatusError {
  /** Why. */
  readonly reason: "no-card" | "card-full";
  /**
   * Make the error.
   *
   * @param command the command the camera refused
   * @param status its status word
   * @param reason no card, or a full card
   */
  constructor(command: string, status: number, reason: "no-card" | "card-full") {
    super(command, status, {
      hint: reason === "no-card"
        ? 'There is no memory card in the camera: insert one, or shoot with { to: "host" }'
        : 'The card is full: delete pictures (cam.storage.delete) or shoot with { to: "host" }',
    });
    this.name = "CardUnavailableError";
    this.reason = reason;
  }
}

/** The camera could not take the picture (interrupt packet 0x0A/0x0A, §4.4.3). */
export class PhotographicFailureError extends CanonError {
  /** The camera's failure code (1 = autofocus failure on the EOS 5D; 0 = none given). */
  readonly code: number;
  /**
   * Make the error.
   *
   * @param code the failure code of the packet
   */
  constructor(code: number) {
    super(`the camera could not take the picture (failure code ${code})`, {
      hint: code === 1
        ? "Code 1 is an autofocus failure on the EOS 5D: check the subject, the light, or focus manually"
        : "Check focus, light and the lens, then shoot again",
    });
    this.name = "PhotographicFailureError";
    this.code = code;
  }
}

/** The camera did not report the end of a capture in time. */
export class CaptureTimeoutError extends CameraTimeoutError {
  /**
   * Make the error.
   *
   * @param timeout milliseconds waited
   * @param seen what the camera did report
   */
  constructor(timeout: number, seen: string) {
    super(`the shutter release (${seen})`, timeout, {
      hint: "Pass a longer { timeout } for long exposures. The camera is still usable; " +
        "a late report is discarded before the next shot",
    });
    this.name = "CaptureTimeoutError";
  }
}

// ---- helpers ------------------------------------------------------------------

/** The PowerShot G3, whose picture-abilities reply the canon-remote trace shows. */
const G3_PRODUCT_ID = 0x306e;
const RC_INIT_TIMEOUT = 15000;
const RELEASE_TIMEOUT = 15000;
const CAPTURE_TIMEOUT = 30000;
const INTERRUPT_POLL = 2000;
const DRAIN_WINDOW = 50;
const DRAIN_LIMIT = 64;
/** The shortest wait of one drain read (longer than any camera's polling interval). */
const DRAIN_READ = 250;
const PURGE_WINDOW = 200;
/** At most this many packets are named in a log line or an error message. */
const DETAIL_LIMIT = 16;
const MAX_IMAGE = 256 * 1024 * 1024;
const MAX_PREVIEW = 4 * 1024 * 1024;
const DCF_FOLDER = /^\d{3}[A-Z0-9_]{5}$/;
const IMAGE_FILE = /\.(JPG|CRW|CR2)$/;

const SETTING_KEYS: readonly (keyof CaptureSettingsChange)[] = [
  "shootingMode",
  "iso",
  "aperture",
  "shutterSpeed",
  "exposureCompensation",
  "imageFormat",
  "flash",
  "focusMode",
  "macro",
  "beep",
  "zoom",
];

function extensionOf(head: Uint8Array): string {
  if (head[0] === 0xff && head[1] === 0xd8) return "JPG";
  const text = String.fromCharCode(...head.subarray(0, 14));
  if (text.startsWith("II") && text.includes("HEAPCCDR")) return "CRW";
  if ((text.startsWith("II*\0") || text.startsWith("MM\0*")) && text.slice(8, 10) === "CR") {
    return "CR2";
  }
  return "JPG";
}

function join2(parts: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** What the camera dialogue of a shot ended with. */
type Taken =
  | { kind: "refused"; command: string; status: number }
  | {
    kind: "taken";
    image?: Uint8Array;
    size: number;
    thumbnail?: Uint8Array;
    secondary?: Uint8Array;
  };

function refused(command: string, status: number): Taken {
  return { kind: "refused", command, status };
}

/** The newest DCF folder of the card and its images: enough to spot a new picture. */
interface CardSnapshot {
  folders: Set<string>;
  newest: string | undefined;
  files: Set<string>;
}

// ---- dialogues shared by Capture and CaptureSession -------------------------------

/** Picture-abilities tables already read, per camera (null: the camera has none). */
const abilitiesCache = new WeakMap<CaptureHost, PictureAbilities | null>();

function isEos(host: CaptureHost): boolean {
  return usesEosExposureCodes(host.modelInfo.name);
}

function newProtocol(host: CaptureHost): boolean {
  return traitsOf(host.modelInfo).newProtocol;
}

/** One remote-control dialogue; the caller holds the wire (`host.run`). */
function remote(
  host: CaptureHost,
  purpose: RemotePurpose,
  params: readonly number[] | Uint8Array = [],
  options: { timeout?: number; allowStatus?: boolean; minData?: number } = {},
): Promise<FixedReply> {
  const sub = REMOTE[purpose];
  return host.session.command(
    host.spec("remoteControl"),
    encodeRemoteControl(sub.code, params, newProtocol(host)),
    {
      replyLength: sub.replyLength,
      minData: options.minData ?? 8,
      label: sub.name,
      timeout: options.timeout,
      allowStatus: options.allowStatus,
    },
  );
}

/** The picture-abilities table (§4.3.13), read once; the caller holds the wire. */
async function readPictureAbilities(host: CaptureHost): Promise<PictureAbilities | undefined> {
  const cached = abilitiesCache.get(host);
  if (cached !== undefined) return cached ?? undefined;
  // gphoto2 sends it for classes 1–3 and 6; the G3 answers it too (canon-remote trace), while
  // the reference lists the S45, D30 and D60 as not implementing it: of class 5, only the G3.
  const spec = traitsOf(host.modelInfo).pictureAbilities ??
    (host.modelInfo.productId === G3_PRODUCT_ID ? COMMANDS.pictureAbilities : undefined);
  let table: PictureAbilities | null = null;
  if (spec) {
    try {
      const reply = await host.session.command(spec, new Uint8Array(0), { minData: 0 });
      const decoded = decodePictureAbilities(reply.data);
      if (decoded.entries.length > 0) table = decoded;
    } catch (error) {
      if (
        !(error instanceof CameraStatusError || error instanceof ProtocolError ||
          error instanceof CameraTimeoutError)
      ) throw error;
      log.info(`picture abilities unavailable (${error.message}); using the format table`);
    }
  }
  abilitiesCache.set(host, table);
  return table ?? undefined;
}

/** Custom functions read with one command (class 6); the caller holds the wire. */
async function readCustomFunctionsCommand(
  host: CaptureHost,
  spec: CommandSpec,
): Promise<CustomFunction[]> {
  const reply = await host.session.command(spec, words(0));
  const table = /20D/.test(host.modelInfo.name) ? EOS_20D_CUSTOM_FUNCTIONS : [];
  return decodeCustomFunctions2(reply.data, table);
}

// ---- cam.capture --------------------------------------------------------------------

/**
 * Remote capture of a camera. Reached as `cam.capture`.
 *
 * Its shooting methods enter remote mode when the camera is not in it yet and
 * leave it there (as gphoto2 does) until {@link Capture.stop} or
 * `cam.close()`. For a scoped stay that leaves remote mode on every exit path,
 * use `await using session = await cam.capture.start()`.
 */
export class Capture {
  #host: CaptureHost;
  #session: CaptureSession | undefined;

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
    return this.#session?.active ?? false;
  }

  /** The current remote-capture session, if any. */
  get session(): CaptureSession | undefined {
    return this.active ? this.#session : undefined;
  }

  /**
   * Enter remote mode (RC 0x00). A camera left in remote mode by a script that
   * crashed answers 0x02000085; it is then told to leave and enter again.
   * When already in remote mode, returns the running session.
   *
   * @param options the timeout of entering (the lens extends)
   * @returns the session; `await using` it to leave remote mode on every exit path
   * @throws {CameraStatusError} when the camera cannot enter remote mode
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Camera } from "@canon-remote/canon-remote";
   * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
   * await using cam = await Camera.connect(new VirtualCamera());
   * {
   *   await using session = await cam.capture.start();
   *   assert.equal((await session.settings()).iso, 50);
   * } // remote mode left here
   * ```
   */
  async start(options: CaptureStartOptions = {}): Promise<CaptureSession> {
    if (this.#session?.active) return this.#session;
    this.#session = await CaptureSession.enter(this.#host, options);
    return this.#session;
  }

  /** Leave remote mode (RC 0x01), stopping the viewfinder first; nothing when not in it. */
  async stop(): Promise<void> {
    const session = this.#session;
    this.#session = undefined;
    await session?.stop();
  }

  async #live(): Promise<CaptureSession> {
    return this.#session?.active ? this.#session : await this.start();
  }

  /**
   * The shooting settings (entering remote mode if needed); see {@link CaptureSession.settings}.
   *
   * @returns the settings
   */
  async settings(): Promise<CaptureSettings> {
    return await (await this.#live()).settings();
  }

  /**
   * The values each setting takes (entering remote mode if needed); see {@link CaptureSession.choices}.
   *
   * @returns the choices
   */
  async choices(): Promise<SettingChoices> {
    return await (await this.#live()).choices();
  }

  /**
   * Change settings (entering remote mode if needed); see {@link CaptureSession.set}.
   *
   * @param changes the settings to change
   * @returns the settings read back
   */
  async set(changes: CaptureSettingsChange): Promise<CaptureSettings> {
    return await (await this.#live()).set(changes);
  }

  /**
   * Take a picture (entering remote mode if needed); see {@link CaptureSession.shoot}.
   *
   * @param options where the picture goes
   * @returns what was taken
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Camera } from "@canon-remote/canon-remote";
   * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
   * await using cam = await Camera.connect(new VirtualCamera({ captureLatencyMs: 10 }));
   * const shot = await cam.capture.shoot({ to: "host", settings: { iso: 200 } });
   * assert.equal(shot.image?.length, shot.size);
   * ```
   */
  async shoot(options: ShootOptions = {}): Promise<Shot> {
    return await (await this.#live()).shoot(options);
  }

  /**
   * One viewfinder frame (entering remote mode if needed); see {@link CaptureSession.preview}.
   *
   * @returns a baseline JPEG (320×240 on the G3)
   */
  async preview(): Promise<Uint8Array> {
    return await (await this.#live()).preview();
  }

  /**
   * Viewfinder frames (entering remote mode if needed); see {@link CaptureSession.previews}.
   *
   * @param options how many frames, abort signal
   * @returns the frames
   */
  async *previews(options: PreviewOptions = {}): AsyncGenerator<Uint8Array> {
    yield* (await this.#live()).previews(options);
  }

  /**
   * How many more pictures fit on the card (entering remote mode if needed).
   *
   * @returns the camera's estimate
   */
  async remainingShots(): Promise<number> {
    return await (await this.#live()).remainingShots();
  }

  /**
   * The camera's picture-abilities table: the sizes and qualities it records
   * (§4.3.13; classes 1–3, 5 and 6). Needs no remote mode.
   *
   * @returns the table
   * @throws {CanonError} when the camera answers none
   */
  async pictureAbilities(): Promise<PictureAbilities> {
    const table = await this.#host.run(() => readPictureAbilities(this.#host));
    if (!table) {
      throw new CanonError(`the ${this.#host.modelInfo.name} answers no picture-abilities table`);
    }
    return table;
  }

  /**
   * The custom functions of an EOS body, read-only: old EOS bodies answer RC
   * 0x0F one function at a time in remote mode (entered if needed); class 6
   * answers one 0x1D/0x12 command (names from the 20D's table for the 20D,
   * numbers only for other bodies). Writing them is not supported (RC 0x0E
   * was never seen on the wire).
   *
   * @returns the functions and their values
   * @throws {CanonError} for a camera without custom functions (PowerShots)
   */
  async customFunctions(): Promise<CustomFunction[]> {
    const where = traitsOf(this.#host.modelInfo).customFunctions;
    if (where === undefined) {
      throw new CanonError(`the ${this.#host.modelInfo.name} has no custom functions`);
    }
    if (where === "remote-control") return await (await this.#live()).customFunctions();
    return await this.#host.run(() => readCustomFunctionsCommand(this.#host, where));
  }
}

// ---- one stay in remote mode ------------------------------------------------------------

/**
 * One stay in remote mode, from {@link Capture.start} to {@link CaptureSession.stop}.
 * `await using` it to leave remote mode on every exit path. Its methods fail
 * once it has ended.
 */
export class CaptureSession implements AsyncDisposable {
  #host: CaptureHost;
  #ended = false;
  #viewfinder = 0;
  #hostShots = 0;

  private constructor(host: CaptureHost) {
    this.#host = host;
  }

  /**
   * Enter remote mode and make the session (what {@link Capture.start} does).
   *
   * @param host the camera
   * @param options the timeout of entering
   * @returns the session
   * @throws {CameraStatusError} when the camera cannot enter remote mode
   */
  static async enter(
    host: CaptureHost,
    options: CaptureStartOptions = {},
  ): Promise<CaptureSession> {
    const timeout = Math.max(options.timeout ?? RC_INIT_TIMEOUT, host.session.timeout);
    await host.run(async () => {
      let reply = await remote(host, "init", [], { timeout, allowStatus: true });
      if (reply.status === STATUS.CAPTURE_MODE_FAILED) {
        // Left in remote mode by an earlier session (§4.4.2): leave, then enter again.
        log.info("the camera is still in remote mode from an earlier session; leaving it first");
        await remote(host, "exit", [], { allowStatus: true });
        reply = await remote(host, "init", [], { timeout, allowStatus: true });
      }
      if (reply.status !== STATUS.OK) {
        throw new CameraStatusError(REMOTE.init.name, reply.status, {
          hint: reply.status === STATUS.CAPTURE_MODE_FAILED
            ? "The camera could not enter remote-capture mode: take the lens cap off, check " +
              "the card, and switch the camera off and on"
            : undefined,
        });
      }
    });
    return new CaptureSession(host);
  }

  /** Whether the camera is still in remote mode through this session. */
  get active(): boolean {
    return !this.#ended;
  }

  get #wire(): Session {
    return this.#host.session;
  }

  get #eos(): boolean {
    return isEos(this.#host);
  }

  #assertLive(): void {
    if (this.#ended) {
      throw new CanonError("this capture session has ended", {
        hint: "Start a new one with cam.capture.start()",
      });
    }
  }

  #run<T>(body: () => Promise<T>): Promise<T> {
    try {
      this.#assertLive();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#host.run(body);
  }

  /** Leave remote mode (RC 0x01), stopping the viewfinder first. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    await this.#host.run(async () => {
      if (this.#viewfinder > 0) {
        this.#viewfinder = 0;
        await remote(this.#host, "viewfinderStop", [], { allowStatus: true });
      }
      const reply = await remote(this.#host, "exit", [], { allowStatus: true });
      if (reply.status !== 0) {
        log.warn(`leaving remote mode: the camera answered ${hex(reply.status)}`);
      }
    });
  }

  /** `await using` leaves remote mode. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  // ---- settings -------------------------------------------------------------------

  async #readBlock(): Promise<Uint8Array> {
    const sub = REMOTE.getParams;
    const reply = await this.#wire.command(
      this.#host.spec("remoteControl"),
      encodeGetReleaseParams(newProtocol(this.#host)),
      { replyLength: sub.replyLength, minData: sub.replyLength - 0x50, label: sub.name },
    );
    return decodeGetReleaseParams(reply.data);
  }

  async #writeBlock(block: Uint8Array): Promise<void> {
    const sub = REMOTE.setParams;
    await this.#wire.command(
      this.#host.spec("remoteControl"),
      encodeSetReleaseParams(block, newProtocol(this.#host)),
      { replyLength: sub.replyLength, minData: 8, label: sub.name },
    );
  }

  /**
   * The zoom position, or undefined when the camera has none to report: a
   * refused or malformed zoom read (camcorders and some PowerShots have no
   * zoom; gphoto2 ignores the failure) leaves the other settings usable.
   */
  async #readZoom(): Promise<ZoomPosition | undefined> {
    if (this.#eos) return undefined; // gphoto2 asks EOS bodies no zoom (§1.4)
    try {
      const reply = await remote(this.#host, "getZoom", [0], { minData: 15 });
      return decodeZoom(reply.data);
    } catch (error) {
      if (!(error instanceof CameraStatusError || error instanceof ProtocolError)) throw error;
      log.info(`no zoom position (${error.message}); the settings go on without it`);
      return undefined;
    }
  }

  #settingsOf(block: Uint8Array, zoom: ZoomPosition | undefined): CaptureSettings {
    return {
      ...decodeReleaseParams(block, this.#eos),
      zoom: zoom?.position,
      zoomMax: zoom?.max,
      raw: block,
    };
  }

  /**
   * Read the shooting settings: release parameters (RC 0x0A) and zoom (RC 0x0B).
   *
   * @returns the settings; a byte the tables do not know reads as `undefined` (see `raw`)
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Camera } from "@canon-remote/canon-remote";
   * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
   * await using cam = await Camera.connect(new VirtualCamera());
   * await using session = await cam.capture.start();
   * const { iso, aperture, shutterSpeed } = await session.settings();
   * assert.deepEqual([iso, aperture, shutterSpeed], [50, 4, "1/125"]);
   * ```
   */
  async settings(): Promise<CaptureSettings> {
    return await this.#run(async () => {
      const block = await this.#readBlock();
      return this.#settingsOf(block, await this.#readZoom());
    });
  }

  async #choicesNow(block: Uint8Array, zoom: ZoomPosition | undefined): Promise<SettingChoices> {
    const abilities = await readPictureAbilities(this.#host);
    let formats = IMAGE_FORMATS.filter((row) => row.label !== "RAW 2").map((row) => row.value);
    if (abilities) {
      const offered = abilities.entries.flatMap((e) => e.format ? [e.format] : []);
      const hasRaw = offered.some((f) => f.quality === "raw");
      formats = formats.filter((f) =>
        f.raw && f.quality !== "raw"
          ? hasRaw && this.#eos &&
            offered.some((o) => o.size === f.size && o.quality === f.quality)
          : offered.some((o) => sameImageFormat(o, f))
      );
    }
    const macroKnown = decodeReleaseParams(block, this.#eos).macro !== undefined;
    // What this body takes, where the model table records it; the full tables otherwise.
    const limits = RELEASE_LIMITS[this.#host.modelInfo.productId];
    const codeOf = (value: string) => SHUTTER_SPEEDS.find((r) => r.value === value)?.code;
    const longest = limits ? codeOf(limits.shutter[0]) ?? 0 : 0;
    const shortest = limits ? codeOf(limits.shutter[1]) ?? 0xff : 0xff;
    return {
      shootingMode: SHOOTING_MODES.map((r) => r.value).filter((mode) =>
        this.#eos || !EOS_ONLY_SHOOTING_MODES.includes(mode)
      ),
      iso: ISO_SPEEDS.map((r) => r.value).filter((iso) => !limits || limits.iso.includes(iso)),
      aperture: APERTURES.map((r) => r.value).filter((f) =>
        !limits || (f >= limits.aperture[0] && f <= limits.aperture[1])
      ),
      shutterSpeed: SHUTTER_SPEEDS.filter((r) =>
        !limits || (r.code >= longest && r.code <= shortest)
      ).map((r) => r.value),
      exposureCompensation: EXPOSURE_COMPENSATIONS.map((r) => r.value),
      imageFormat: formats,
      flash: FLASH_MODES.map((r) => r.value),
      focusMode: FOCUS_MODES.map((r) => r.value),
      macro: macroKnown ? [false, true] : [],
      beep: BEEP_MODES.map((r) => r.value),
      zoom: zoom ? Array.from({ length: zoom.max + 1 }, (_, i) => i) : [],
    };
  }

  /**
   * The values each setting takes: the value tables of the protocol reference
   * (§6.4–6.6), image formats narrowed to the camera's picture-abilities table
   * when it has one, macro only where the release block has the G3's macro
   * byte, the zoom range the camera reports.
   *
   * @returns the choices
   */
  async choices(): Promise<SettingChoices> {
    return await this.#run(async () => {
      const block = await this.#readBlock();
      return await this.#choicesNow(block, await this.#readZoom());
    });
  }

  /**
   * Change settings. Every value is checked against {@link CaptureSession.choices}
   * before anything is written; then the release parameters are written (set,
   * get, set, as the camera's own software does), read back and compared, and
   * the zoom is moved and read back.
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
   * await using session = await cam.capture.start();
   * const now = await session.set({ iso: 200, aperture: 2.8, shutterSpeed: "1/60", flash: "auto" });
   * assert.deepEqual([now.iso, now.aperture, now.shutterSpeed], [200, 2.8, "1/60"]);
   * ```
   */
  async set(changes: CaptureSettingsChange): Promise<CaptureSettings> {
    return await this.#run(() => this.#setNow(changes));
  }

  async #setNow(changes: CaptureSettingsChange): Promise<CaptureSettings> {
    const block = await this.#readBlock();
    let zoom = await this.#readZoom();
    const current = decodeReleaseParams(block, this.#eos);
    const { release, zoom: newZoom } = validateChanges(
      changes,
      current,
      await this.#choicesNow(block, zoom),
    );
    let after = block;
    if (Object.keys(release).length > 0) {
      const wanted = encodeReleaseSettings(block, release, this.#eos);
      if (wanted.some((b, i) => b !== block[i])) {
        // SET, GET, SET, as gphoto2 and Canon RemoteCapture do (§4.4.5), then read back.
        await this.#writeBlock(wanted);
        await this.#readBlock();
        await this.#writeBlock(wanted);
        if (release.imageFormat) await new Promise((resolve) => setTimeout(resolve, 5));
        after = await this.#readBlock();
        const got = decodeReleaseParams(after, this.#eos);
        for (const [key, value] of Object.entries(release)) {
          const back = got[key as keyof ReleaseSettings];
          const same = key === "imageFormat"
            ? back !== undefined && sameImageFormat(back as ImageFormat, value as ImageFormat)
            : back === value;
          if (!same) throw new SettingNotAppliedError(key, value, back);
        }
      }
    }
    if (newZoom !== undefined && newZoom !== zoom?.position) {
      await remote(this.#host, "setZoom", [4, newZoom]);
      zoom = await this.#readZoom();
      if (zoom?.position !== newZoom) {
        throw new SettingNotAppliedError("zoom", newZoom, zoom?.position);
      }
    }
    return this.#settingsOf(after, zoom);
  }

  // ---- the shot ---------------------------------------------------------------------

  async #snapshot(): Promise<CardSnapshot> {
    let folders: StorageEntry[];
    try {
      folders = (await this.#host.storage.list("/DCIM")).filter((e) =>
        e.isDirectory && DCF_FOLDER.test(e.name)
      );
    } catch (error) {
      if (error instanceof CardPathNotFoundError || error instanceof CameraStatusError) {
        return { folders: new Set(), newest: undefined, files: new Set() };
      }
      throw error;
    }
    const names = folders.map((f) => f.name).sort((a, b) => parseInt(a) - parseInt(b));
    const newest = names[names.length - 1];
    const files = new Set<string>();
    if (newest) {
      for (const entry of await this.#host.storage.list(`/DCIM/${newest}`)) {
        if (!entry.isDirectory) files.add(entry.path);
      }
    }
    return { folders: new Set(names), newest, files };
  }

  /**
   * The picture the camera just stored: listed in the newest DCF folder (or
   * in a folder that appeared), compared with the listing before the shot.
   * Two small listings instead of gphoto2's full-card ones, same answer.
   */
  async #findNewPicture(before: CardSnapshot): Promise<string> {
    const after = await this.#snapshot();
    const candidates: string[] = [];
    for (const folder of after.folders) {
      if (before.folders.has(folder)) continue;
      const entries = await this.#host.storage.list(`/DCIM/${folder}`);
      candidates.push(...entries.filter((e) => !e.isDirectory).map((e) => e.path));
    }
    for (const path of after.files) if (!before.files.has(path)) candidates.push(path);
    const images = candidates.filter((p) => IMAGE_FILE.test(p)).sort();
    if (images.length === 0) {
      throw new CanonError("the camera took the picture, but no new file appeared on its card", {
        hint: "List the card (cam.storage.list) to look for it",
      });
    }
    return images[images.length - 1];
  }

  async #cardError(command: string, status: number): Promise<CardUnavailableError> {
    let reason: "no-card" | "card-full" = "card-full";
    try {
      await this.#host.storage.info();
    } catch (error) {
      if (error instanceof CameraStatusError && error.status === STATUS.NO_CARD) reason = "no-card";
    }
    return new CardUnavailableError(command, status, reason);
  }

  /**
   * Read the interrupt pipe until it has been quiet for `window` ms. A real
   * camera answers each poll with a zero-length packet while it has nothing to
   * say (the G3 every 64 ms): those are not stale packets and do not end the
   * drain early; only the quiet window does. Bounded in packets and in time.
   */
  async #drainInterrupts(window: number): Promise<void> {
    const start = performance.now();
    const giveUp = start + window * (DRAIN_LIMIT + 1);
    let quietUntil = start + window;
    let stale = 0;
    const codes: string[] = [];
    while (stale < DRAIN_LIMIT) {
      const now = performance.now();
      if (now >= giveUp) break;
      // Each read waits long enough for the camera's next empty packet: a read that
      // times out is cancelled, and a packet completing at that moment can be lost.
      const wait = Math.max(DRAIN_READ, quietUntil - now);
      const packet = await this.#wire.readInterrupt(Math.ceil(Math.min(wait, giveUp - now)));
      if (!packet) break;
      if (packet.length === 0) {
        if (performance.now() >= quietUntil) break;
        continue;
      }
      stale++;
      if (codes.length < DETAIL_LIMIT) codes.push(hex(packet[4] ?? 0));
      quietUntil = performance.now() + window;
    }
    if (stale > 0) {
      log.info(
        `discarded ${stale} stale interrupt packet(s) (codes ${codes.join(", ")}${
          stale > codes.length ? ", ..." : ""
        })`,
      );
    }
  }

  async #fetchCaptured(
    type: number,
    descriptor: ImageDescriptor,
    sink: (chunk: Uint8Array) => void | Promise<void>,
    onProgress?: (done: number, total: number) => void,
  ): Promise<number> {
    let total = 0;
    let done = 0;
    const size = await this.#wire.longCommand(
      this.#host.spec("retrieveCapture"),
      encodeRetrieveCapture(type, descriptor.key, this.#wire.transferLength),
      async (chunk) => {
        await sink(chunk);
        done += chunk.length;
        onProgress?.(done, total);
      },
      {
        maxLength: MAX_IMAGE,
        label: type === CAPTURED_IMAGE_TYPE.THUMBNAIL
          ? "RetrieveCapturedThumbnail"
          : "RetrieveCapturedImage",
        onLength: (n) => {
          total = n;
          onProgress?.(0, n);
        },
      },
    );
    if (size === 0) {
      throw new ProtocolError(`the camera has no captured image with key ${descriptor.key}`);
    }
    if (descriptor.size !== 0 && size !== descriptor.size) {
      log.info(`captured image: ${size} bytes sent, ${descriptor.size} announced`);
    }
    return size;
  }

  async #fetchToMemory(
    type: number,
    descriptor: ImageDescriptor,
    onProgress?: (done: number, total: number) => void,
  ): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    const size = await this.#fetchCaptured(type, descriptor, (chunk) => {
      parts.push(chunk.slice());
    }, onProgress);
    return join2(parts, size);
  }

  async #lockForCapture(): Promise<boolean> {
    const traits = traitsOf(this.#host.modelInfo);
    if (traits.lockAtInit || traits.lockKeys.length === 0) return false;
    for (const step of traits.lockKeys) {
      try {
        await this.#wire.command(step.command, step.payload ?? new Uint8Array(0));
      } catch (error) {
        if (step.optional && error instanceof CanonError) continue;
        if (error instanceof CameraStatusError && error.status === STATUS.LOCK_FAILED) {
          throw new CameraStatusError(error.command, error.status, {
            hint: "Release the shutter button and leave review or menu mode, then shoot again",
          });
        }
        throw error;
      }
    }
    return true;
  }

  async #unlockAfterCapture(): Promise<void> {
    const unlock = traitsOf(this.#host.modelInfo).unlockKeys;
    if (!unlock) return;
    await this.#wire.command(unlock.command, unlock.payload ?? new Uint8Array(0), {
      allowStatus: true,
    }).catch((error) => log.warn(`unlocking the keys after the capture failed: ${error}`));
  }

  /**
   * Follow the capture's interrupt reports until its sequence ends. Empty
   * packets (the camera's "nothing yet") are counted; a packet the sequence
   * does not expect (a late "written to card" of the previous shot, the G2's
   * code 0x01, a late init packet) is logged and skipped, never fatal: only a
   * failure report ends the capture early. What is kept for an error message
   * is bounded, whatever the camera sends.
   */
  async #awaitCapture(initial: CaptureProgress, timeout: number): Promise<CaptureProgress> {
    const rules = captureRules(this.#host.modelInfo.cameraClass, this.#host.modelInfo.productId);
    const deadline = performance.now() + timeout;
    let progress = initial;
    const seen: string[] = [];
    let reports = 0;
    let skipped = 0;
    let empty = 0;
    const detail = (): string => {
      const parts = [
        reports === 0
          ? "no report at all"
          : `reports seen: ${seen.join(", ")}${
            reports > seen.length ? ` and ${reports - seen.length} more` : ""
          }`,
      ];
      if (skipped > 0) parts.push(`${skipped} unexpected packet(s) skipped`);
      if (empty > 0) parts.push(`${empty} empty poll(s)`);
      return parts.join("; ");
    };
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) throw new CaptureTimeoutError(timeout, detail());
      const packet = await this.#wire.readInterrupt(Math.max(1, Math.min(INTERRUPT_POLL, left)));
      if (!packet) continue;
      const step = advanceCapture(progress, packet, rules);
      if (step.kind === "continue" && step.idle) {
        empty++;
        continue;
      }
      reports++;
      if (seen.length < DETAIL_LIMIT) seen.push(`${hex(packet[4] ?? 0)}/${hex(packet[0x0c] ?? 0)}`);
      progress = step.progress;
      switch (step.kind) {
        case "continue":
          if (step.note) log.info(`capture: ${step.note}`);
          break;
        case "done":
          if (skipped > 0) log.info(`capture: ${skipped} unexpected interrupt packet(s) skipped`);
          return progress;
        case "failed":
          throw new PhotographicFailureError(step.code);
        case "unexpected":
          skipped++;
          if (skipped <= DETAIL_LIMIT) log.warn(`capture: skipped ${step.reason}`);
          else if (skipped === DETAIL_LIMIT + 1) {
            log.warn("capture: skipping further unexpected packets");
          }
          break;
      }
    }
  }

  /**
   * Release the shutter and collect the picture: the camera stores it on its
   * card, hands it to the host, or both; with a `destination` it is written to
   * a file. The release follows the camera's interrupt reports (§4.4.3) and
   * gives up after `timeout` ms.
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
   * await using session = await cam.capture.start();
   * const kept = await session.shoot({ to: "card" });
   * assert.match(kept.path ?? "", /^\/DCIM\/\d{3}CANON\/IMG_\d{4}\.JPG$/);
   * const sent = await session.shoot({ to: "host", settings: { iso: 400 } });
   * assert.deepEqual([...sent.image!.subarray(0, 2)], [0xff, 0xd8]); // a JPEG
   * ```
   */
  async shoot(options: ShootOptions = {}): Promise<Shot> {
    this.#assertLive();
    const to: CaptureTarget = options.to ?? (options.destination ? "host" : "card");
    if (to !== "card" && to !== "host" && to !== "both") {
      throw new UnsupportedSettingError("to", to, ["card", "host", "both"]);
    }
    const keep = to !== "host";
    const toHost = to !== "card";
    const wantThumbnail = options.thumbnail ?? true;
    const timeout = options.timeout ?? CAPTURE_TIMEOUT;
    if (!(timeout > 0)) throw new RangeError(`timeout must be positive, got ${timeout}`);
    let targetDir: string | undefined;
    let targetFile: string | undefined;
    if (options.destination !== undefined) {
      if (await isDirectory(options.destination)) targetDir = options.destination;
      else targetFile = options.destination;
      if (targetFile && !options.overwrite && await pathExists(targetFile)) {
        throw new Deno.errors.AlreadyExists(
          `${targetFile} already exists; pass { overwrite: true } to replace it`,
        );
      }
    }
    if (options.settings) await this.set(options.settings);

    const before = keep ? await this.#snapshot() : undefined;
    let mode = 0;
    if (keep) mode |= TRANSFER_MODE.FULL_TO_DRIVE;
    if (toHost) {
      mode |= TRANSFER_MODE.FULL_TO_PC | (wantThumbnail ? TRANSFER_MODE.THUMB_TO_PC : 0);
    }
    let pending: PendingFile | undefined;
    try {
      const taken = await this.#run(async (): Promise<Taken> => {
        const block = await this.#readBlock();
        const secondaryExpected = (block[RELEASE_PARAM.IMAGE_FORMAT + 1] & 0xf0) !== 0;
        const modeReply = await remote(this.#host, "setTransferMode", [4, mode], {
          timeout: Math.max(RC_INIT_TIMEOUT, this.#wire.timeout),
          allowStatus: true,
        });
        if (modeReply.status !== 0) {
          return refused(REMOTE.setTransferMode.name, modeReply.status);
        }
        await this.#drainInterrupts(DRAIN_WINDOW);
        const locked = await this.#lockForCapture();
        try {
          const release = await remote(this.#host, "release", [0], {
            timeout: Math.max(RELEASE_TIMEOUT, this.#wire.timeout),
            allowStatus: true,
          });
          if (release.status !== 0) return refused(REMOTE.release.name, release.status);
          if (newProtocol(this.#host)) {
            await this.#wire.command(CAPTURE_COMMANDS.afterRelease2, words(0x0f), {
              allowStatus: true,
            });
          }
          const progress = await this.#awaitCapture(
            startCapture(mode, secondaryExpected),
            timeout,
          );
          if (!toHost) return { kind: "taken", size: 0 };
          if (!progress.image) {
            throw new ProtocolError("the capture ended without announcing the image for the host");
          }
          let image: Uint8Array | undefined;
          let size: number;
          if (options.destination !== undefined) {
            const file = pending = await PendingFile.create(
              targetDir ?? dirname(targetFile!),
              "capture",
            );
            size = await this.#fetchCaptured(
              CAPTURED_IMAGE_TYPE.FULL,
              progress.image,
              (chunk) => file.write(chunk),
              options.onProgress,
            );
            file.close();
          } else {
            image = await this.#fetchToMemory(
              CAPTURED_IMAGE_TYPE.FULL,
              progress.image,
              options.onProgress,
            );
            size = image.length;
          }
          const secondary = progress.secondary
            ? await this.#fetchToMemory(CAPTURED_IMAGE_TYPE.SECONDARY, progress.secondary)
            : undefined;
          const thumbnail = wantThumbnail && progress.thumbnail
            ? await this.#fetchToMemory(CAPTURED_IMAGE_TYPE.THUMBNAIL, progress.thumbnail)
            : undefined;
          return { kind: "taken", image, size, secondary, thumbnail };
        } catch (error) {
          // Whatever the camera still says about this shot is not for the next one.
          await this.#drainInterrupts(PURGE_WINDOW).catch(() => undefined);
          throw error;
        } finally {
          if (locked) await this.#unlockAfterCapture();
        }
      });
      if (taken.kind === "refused") {
        if (taken.status === STATUS.CARD_FULL) {
          throw await this.#cardError(taken.command, taken.status);
        }
        throw new CameraStatusError(taken.command, taken.status);
      }
      const path = before ? await this.#findNewPicture(before) : undefined;
      const shot: Shot = {
        path,
        image: taken.image,
        file: undefined,
        size: taken.size,
        thumbnail: taken.thumbnail,
        secondary: taken.secondary,
      };
      if (pending) {
        const file = pending;
        const name = path
          ? basename(path)
          : await this.#freeName(targetDir ?? dirname(targetFile!), extensionOf(file.head));
        const target = targetFile ?? join(targetDir!, name);
        await file.commit(target, options.overwrite ?? false);
        pending = undefined;
        shot.file = target;
      } else if (path && options.destination !== undefined) {
        const result = await this.#host.storage.download(path, options.destination, {
          overwrite: options.overwrite,
          onProgress: options.onProgress,
        });
        shot.file = result.file;
        shot.size = result.size;
      }
      if (path && wantThumbnail && !shot.thumbnail) {
        shot.thumbnail = await this.#host.storage.thumbnail(path);
      }
      return shot;
    } finally {
      await pending?.discard();
    }
  }

  async #freeName(directory: string, extension: string): Promise<string> {
    for (let n = this.#hostShots + 1; n <= 9999; n++) {
      const name = `CAP_${String(n).padStart(4, "0")}.${extension}`;
      if (!(await pathExists(join(directory, name)))) {
        this.#hostShots = n;
        return name;
      }
    }
    throw new Deno.errors.AlreadyExists(`${directory} holds CAP_0001 … CAP_9999 already`);
  }

  // ---- viewfinder ---------------------------------------------------------------------

  async #viewfinderOn(): Promise<void> {
    if (this.#viewfinder++ > 0) return;
    try {
      await remote(this.#host, "viewfinderStart");
      // Canon RemoteCapture switches the camera's own display off before the stream (§4.4.4).
      const output = await remote(this.#host, "selectOutput", Uint8Array.of(1, 0, 0, 0, 3), {
        allowStatus: true,
      });
      if (output.status !== 0) log.info(`select output: status ${hex(output.status)} (ignored)`);
    } catch (error) {
      this.#viewfinder--;
      throw error;
    }
  }

  async #viewfinderOff(): Promise<void> {
    if (this.#viewfinder === 0 || --this.#viewfinder > 0) return;
    await remote(this.#host, "viewfinderStop", [], { allowStatus: true });
  }

  async #frame(): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    const size = await this.#wire.longCommand(
      COMMANDS.retrievePreview,
      encodePreviewRequest(),
      (chunk) => {
        parts.push(chunk.slice());
      },
      { maxLength: MAX_PREVIEW, label: "RetrievePreview" },
    );
    const frame = join2(parts, size);
    if (size === 0 || frame[0] !== 0xff || frame[1] !== 0xd8) {
      throw new ProtocolError(
        size === 0
          ? "the camera sent an empty viewfinder frame"
          : "the viewfinder frame is not a JPEG",
      );
    }
    return frame;
  }

  /**
   * One viewfinder frame: the viewfinder is started (RC 0x02, then RC 0x14
   * output off, as Canon RemoteCapture does), one frame fetched (0x18/0x12),
   * and stopped (RC 0x03), unless a {@link CaptureSession.previews} loop keeps
   * it running.
   *
   * @returns a baseline JPEG (320×240 on the G3)
   */
  async preview(): Promise<Uint8Array> {
    return await this.#run(async () => {
      await this.#viewfinderOn();
      try {
        return await this.#frame();
      } finally {
        await this.#viewfinderOff();
      }
    });
  }

  /**
   * Viewfinder frames, one per iteration; the viewfinder stops when the loop
   * ends (`break`, an error, `frames` reached or `signal` aborted). Other calls
   * (settings, zoom) may run between frames.
   *
   * @param options how many frames, abort signal
   * @returns the frames
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Camera } from "@canon-remote/canon-remote";
   * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
   * await using cam = await Camera.connect(new VirtualCamera());
   * await using session = await cam.capture.start();
   * let frames = 0;
   * for await (const frame of session.previews({ frames: 3 })) if (frame.length > 0) frames++;
   * assert.equal(frames, 3);
   * ```
   */
  async *previews(options: PreviewOptions = {}): AsyncGenerator<Uint8Array> {
    await this.#run(() => this.#viewfinderOn());
    try {
      for (let n = 0; options.frames === undefined || n < options.frames; n++) {
        options.signal?.throwIfAborted();
        yield await this.#run(() => this.#frame());
      }
    } finally {
      if (!this.#ended) {
        await this.#run(() => this.#viewfinderOff()).catch((error) =>
          log.warn(`stopping the viewfinder failed: ${error}`)
        );
      }
    }
  }

  // ---- the rest ------------------------------------------------------------------------

  /**
   * How many more pictures fit on the card, by the camera's estimate (RC 0x0D).
   *
   * @returns the number of shots
   */
  async remainingShots(): Promise<number> {
    return await this.#run(async () => {
      const reply = await remote(this.#host, "availableShots", [0], { minData: 0x10 });
      return readU32(reply.data, 8);
    });
  }

  /**
   * The custom functions of an EOS body; see {@link Capture.customFunctions}.
   *
   * @returns the functions and their values
   * @throws {CanonError} for a camera without custom functions (PowerShots)
   */
  async customFunctions(): Promise<CustomFunction[]> {
    const where = traitsOf(this.#host.modelInfo).customFunctions;
    if (where === undefined) {
      return Promise.reject(
        new CanonError(`the ${this.#host.modelInfo.name} has no custom functions`),
      );
    }
    return await this.#run(async () => {
      if (where !== "remote-control") return await readCustomFunctionsCommand(this.#host, where);
      const sub = REMOTE.getCustomFunction;
      const out: CustomFunction[] = [];
      for (const info of EOS_CUSTOM_FUNCTIONS) {
        const reply = await this.#wire.command(
          this.#host.spec("remoteControl"),
          encodeGetCustomFunction(info.index),
          { replyLength: sub.replyLength, minData: sub.replyLength - 0x50, label: sub.name },
        );
        out.push(decodeCustomFunctionReply(reply.data));
      }
      return out;
    });
  }
}

// ---- validation ---------------------------------------------------------------------------

function validateChanges(
  changes: CaptureSettingsChange,
  current: ReleaseSettings,
  choices: SettingChoices,
): { release: ReleaseSettingsChange; zoom: number | undefined } {
  if (typeof changes !== "object" || changes === null) {
    throw new TypeError("set() takes an object of settings, e.g. { iso: 200 }");
  }
  for (const key of Object.keys(changes)) {
    if (!SETTING_KEYS.includes(key as keyof CaptureSettingsChange)) {
      throw new UnsupportedSettingError(
        key,
        (changes as Record<string, unknown>)[key],
        SETTING_KEYS,
        `there is no setting called ${JSON.stringify(key)}; the settings are listed`,
      );
    }
  }
  const release: ReleaseSettingsChange = {};
  const pick = (key: Exclude<keyof ReleaseSettingsChange, "imageFormat" | "macro">): void => {
    const value = changes[key];
    if (value === undefined) return;
    const allowed = choices[key] as readonly unknown[];
    const found = key === "exposureCompensation"
      ? allowed.find((v) => typeof value === "number" && Math.abs((v as number) - value) < 0.01)
      : allowed.find((v) => v === value);
    if (found === undefined) throw new UnsupportedSettingError(key, value, allowed);
    (release as Record<string, unknown>)[key] = found;
  };
  pick("shootingMode");
  pick("iso");
  pick("aperture");
  pick("shutterSpeed");
  pick("exposureCompensation");
  pick("flash");
  pick("focusMode");
  pick("beep");
  if (changes.macro !== undefined) {
    if (choices.macro.length === 0) {
      throw new UnsupportedSettingError(
        "macro",
        changes.macro,
        [],
        "this camera has no macro byte in its release parameters",
      );
    }
    if (typeof changes.macro !== "boolean") {
      throw new UnsupportedSettingError("macro", changes.macro, choices.macro);
    }
    release.macro = changes.macro;
  }
  if (changes.imageFormat !== undefined) {
    const asked = changes.imageFormat;
    const wanted: { -readonly [K in keyof ImageFormat]?: ImageFormat[K] } = {
      ...current.imageFormat,
      ...asked,
    };
    if (asked.quality === "raw") {
      wanted.raw = true;
      wanted.size = asked.size ?? "large";
    } else if (
      asked.quality !== undefined && asked.raw === undefined &&
      current.imageFormat?.quality === "raw"
    ) {
      wanted.raw = false;
    }
    const match = choices.imageFormat.find((f) =>
      f.size === wanted.size && f.quality === wanted.quality && f.raw === (wanted.raw ?? false)
    );
    if (!match) throw new UnsupportedSettingError("imageFormat", asked, choices.imageFormat);
    release.imageFormat = match;
  }
  let zoom: number | undefined;
  if (changes.zoom !== undefined) {
    if (!choices.zoom.includes(changes.zoom)) {
      throw new UnsupportedSettingError(
        "zoom",
        changes.zoom,
        choices.zoom.length > 0 ? [`0 … ${choices.zoom.length - 1}`] : [],
        choices.zoom.length > 0 ? undefined : "EOS bodies have no zoom command",
      );
    }
    zoom = changes.zoom;
  }
  return { release, zoom };
}
