/**
 * `Camera`: one connected Canon camera, over libusb or any device that
 * implements the device contract.
 *
 * @module
 */

import { DEFAULT_TIMEOUT_MS, type UsbDevice } from "../usb/device.ts";
import {
  decodeIdentify,
  decodePowerStatus,
  encodeOwner,
  encodeSetTime,
  type IdentifyInfo,
  type PowerStatus,
} from "../protocol/codec.ts";
import { readCString, readU32 } from "../protocol/bytes.ts";
import { type CommandPurpose, type CommandSpec, hex, STATUS } from "../protocol/commands.ts";
import {
  CameraClosedError,
  CameraNotFoundError,
  CameraStatusError,
  CameraTimeoutError,
  CanonError,
  ProtocolError,
} from "../protocol/errors.ts";
import { fromCameraTime, toCameraTime } from "../protocol/clock.ts";
import { log } from "../protocol/log.ts";
import { type InitOutcome, Session } from "../protocol/session.ts";
import { findCameraDevice, withUsbStarted } from "./discovery.ts";
import { Storage } from "./storage.ts";
import { Capture, type CaptureHost, customFunctionsOf, pictureAbilitiesOf } from "./capture.ts";
import type { CustomFunction, PictureAbilities } from "../protocol/capture_codec.ts";
import {
  type CameraClass,
  type CameraModel,
  CANON_VENDOR_ID,
  modelByName,
  modelByProductId,
  OTHER_MODE_IDS,
  ptpOnlyMessage,
  sharedIdModel,
} from "../protocol/models.ts";
import {
  bodyIdFormat,
  type CameraTraits,
  formatBodyId,
  type ProtocolStep,
  traitsOf,
} from "../protocol/traits.ts";

/** Options of {@link Camera.connect}. */
export interface CameraConnectOptions {
  /**
   * The model to treat the camera as, by name or entry. Needed only for a
   * product id the model table does not know (see `allowUnknown`).
   */
  model?: string | CameraModel;
  /** Try a Canon product id the model table does not know, as this class (default 5). */
  allowUnknown?: boolean | { cameraClass: CameraClass };
  /** Timeout of one transfer in milliseconds (default 5000). */
  timeout?: number;
  /**
   * The longest one call's dialogue may take in all, in milliseconds.
   * Default: two transfer timeouts and a second for a fixed reply; for a long
   * one, a transfer timeout and a second plus its announced data at 128 KiB/s
   * (`callDeadline`), so a camera that drips data cannot hold a call for ever.
   */
  callTimeout?: number;
}

/** Options of {@link Camera.open}: which camera, and how to talk to it. */
export interface CameraOpenOptions extends CameraConnectOptions {
  /** Choose the camera with this USB product id. */
  productId?: number;
  /** Choose the camera on this bus (with `address`). */
  bus?: number;
  /** Choose the camera at this device address (with `bus`). */
  address?: number;
}

/** The identity of a connected camera, as {@link Camera.identify} returns it. */
export interface CameraIdentity {
  /** The model name the camera reports, e.g. "Canon PowerShot G3" (`Camera.modelName`). */
  modelName: string;
  /** The owner name stored in the camera (`Camera.owner`). */
  owner: string;
  /** The firmware version, "a.b.c.d" (`Camera.firmware`). */
  firmware: string;
}

/** Options of {@link Camera.powerStatus}. */
export interface PowerStatusOptions {
  /** Accept a reading at most this many milliseconds old instead of asking (default 0). */
  maxAgeMs?: number;
}

/** Resolve which model entry describes a device. */
function resolveModel(device: UsbDevice, options: CameraConnectOptions): CameraModel {
  if (options.model !== undefined) {
    const found = typeof options.model === "string" ? modelByName(options.model) : options.model;
    if (!found) {
      throw new CameraNotFoundError(`no camera model is called ${JSON.stringify(options.model)}`, {
        hint: "See MODELS (or `canon cameras --all`) for the supported names",
      });
    }
    return found;
  }
  const known = modelByProductId(device.productId);
  if (known) return known;
  // Same id in PTP and native mode, no switch: try the native protocol (see connect).
  const shared = sharedIdModel(device.productId);
  if (shared && device.vendorId === CANON_VENDOR_ID) return shared;
  const id = `${hex(device.vendorId)}:${hex(device.productId)}`;
  const other = OTHER_MODE_IDS[device.productId];
  if (device.vendorId === CANON_VENDOR_ID && other) {
    throw new CameraNotFoundError(
      other.mode === "ptp"
        ? `the ${other.name} (${id}) is in PTP mode, which this library does not speak`
        : `the ${other.name} (${id}) is in mass-storage mode`,
      {
        hint: other.mode === "ptp"
          ? "Switch the camera's USB mode to normal (on most models: Set-up menu, " +
            '"Communication" or "PTP" setting; on some, hold SET and DISP while connecting), ' +
            "or use a PTP tool such as gphoto2's ptp2 driver"
          : "Mount it as a disk instead",
      },
    );
  }
  if (device.vendorId === CANON_VENDOR_ID && options.allowUnknown) {
    const cameraClass = typeof options.allowUnknown === "object"
      ? options.allowUnknown.cameraClass
      : 5;
    log.warn(`trying unknown Canon product id ${id} as a class-${cameraClass} camera`);
    return {
      name: `Canon camera ${id}`,
      aliases: [],
      productId: device.productId,
      cameraClass,
      capture: "experimental",
      maxMovieSize: 2048 * 1024 * 1024,
      maxThumbnailSize: 10 * 1024 * 1024,
      hasPtpMode: false,
    };
  }
  throw new CameraNotFoundError(
    device.vendorId === CANON_VENDOR_ID
      ? `the Canon device ${id} is not in the model table`
      : `the device ${id} is not a Canon camera`,
    {
      hint: device.vendorId === CANON_VENDOR_ID
        ? "Pass { allowUnknown: true } (CLI: --allow-unknown) to try it anyway"
        : undefined,
    },
  );
}

/** A connected Canon camera. */
export class Camera implements AsyncDisposable {
  /** The device the camera is reached through. */
  readonly device: UsbDevice;
  /**
   * The model table entry (name, class, capture support, limits); the name
   * the camera itself reports is {@link Camera.modelName}.
   */
  readonly model: CameraModel;
  /** The protocol session (for tools that need raw dialogues). */
  readonly session: Session;
  /** What the camera's class decides: command codes, key locking, units. */
  readonly traits: CameraTraits;
  #identity: IdentifyInfo = { model: "", owner: "", firmware: "" };
  /** The last power reading (the handshake of some classes takes one) and when. */
  #power: { status: PowerStatus; at: number } | undefined;
  /** The body id once read (it never changes). */
  #bodyId: number | undefined;
  #closed = false;
  #ownsOpen: boolean;
  #keysLocked = false;
  #init: InitOutcome | undefined;
  #storage: Storage | undefined;
  #capture: Capture | undefined;
  #storageView: Storage | undefined;
  #captureView: Capture | undefined;
  /** `close()` was called: new calls are refused, those made before it finish. */
  #closing = false;
  #closeWork = false;
  /** Storage and capture calls in progress. */
  #calls = 0;
  readonly #callsDone: (() => void)[] = [];

  private constructor(
    device: UsbDevice,
    model: CameraModel,
    ownsOpen: boolean,
    timeout: number,
    callTimeout?: number,
  ) {
    this.device = device;
    this.model = model;
    this.traits = traitsOf(model);
    this.#ownsOpen = ownsOpen;
    this.session = new Session(device, {
      newProtocol: this.traits.newProtocol,
      timeout,
      callTimeout,
    });
  }

  /**
   * Open the first supported camera found through libusb, or the one chosen
   * by product id, bus/address or model name.
   *
   * @param options which camera and how to talk to it
   * @returns the connected camera, identified
   * @throws {CameraNotFoundError} saying what was found when nothing suitable is
   * @example
   * ```ts ignore
   * import { Camera } from "@canon-remote/canon-remote";
   * await using cam = await Camera.open();
   * console.log(cam.modelName, cam.owner, cam.firmware);
   * ```
   */
  static async open(options: CameraOpenOptions = {}): Promise<Camera> {
    // One libusb context from the search to the open device: otherwise the
    // search, the open and the device would each start libusb (which scans
    // the bus) and end it again.
    return await withUsbStarted(async () => {
      const device = await findCameraDevice(options);
      try {
        return await Camera.connect(device, options);
      } catch (error) {
        await device.close().catch(() => undefined);
        throw error;
      }
    });
  }

  /**
   * Connect to a camera through any object implementing the device contract:
   * a libusb device, a WebUSB device, or a `VirtualCamera`. Runs the init
   * handshake, identifies the camera and locks its keys as its class needs.
   *
   * @param device the USB device (opened or not)
   * @param options model override and timeout
   * @returns the connected camera
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Camera } from "@canon-remote/canon-remote";
   * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
   * await using cam = await Camera.connect(new VirtualCamera());
   * assert.equal(cam.modelName, "Canon PowerShot G3");
   * ```
   */
  static async connect(device: UsbDevice, options: CameraConnectOptions = {}): Promise<Camera> {
    const modelInfo = resolveModel(device, options);
    const ownsOpen = !device.opened;
    if (ownsOpen) await device.open();
    // A WebUSB device may open unconfigured (configuration null); Canon cameras
    // have one configuration, and the session reads its endpoints from it.
    if (device.configuration === null && device.selectConfiguration) {
      try {
        await device.selectConfiguration(1);
      } catch (error) {
        if (ownsOpen) await device.close().catch(() => undefined);
        throw error;
      }
    }
    const camera = new Camera(
      device,
      modelInfo,
      ownsOpen,
      options.timeout ?? DEFAULT_TIMEOUT_MS,
      options.callTimeout,
    );
    try {
      await device.claimInterface(0);
      await camera.#initialize();
      return camera;
    } catch (error) {
      await camera.close().catch(() => undefined);
      if (sharedIdModel(modelInfo.productId) === modelInfo && camera.#init === undefined) {
        // The handshake itself failed: a camera of this id that is in PTP mode refuses
        // Canon's vendor requests.
        const { message, hint } = ptpOnlyMessage(modelInfo);
        throw new CameraNotFoundError(message, { hint, cause: error });
      }
      throw error;
    }
  }

  async #initialize(): Promise<void> {
    await this.session.exclusive(async () => {
      this.#init = await this.session.initialize();
      await this.#identifyWithRetries();
      await this.#initSteps();
    });
  }

  /** Identify, retried with doubling timeouts: after 'A' the first reply is often lost (§2.2 step 7). */
  async #identifyWithRetries(): Promise<void> {
    let timeout = 100;
    let lastError: unknown;
    for (let attempt = 1; attempt <= 5; attempt++) {
      try {
        await this.#identifyNow(timeout);
        return;
      } catch (error) {
        if (error instanceof CameraClosedError) throw error;
        lastError = error;
        log.info(
          `identify attempt ${attempt} failed: ${error instanceof Error ? error.message : error}`,
        );
        timeout *= 2;
      }
    }
    throw new CanonError("the camera did not answer the identify command after 5 attempts", {
      hint: "Switch the camera off and on, reconnect it, and try again",
      cause: lastError,
    });
  }

  /** What the class sends after identify (§2.2 step 8); a failure aborts the init. */
  async #initSteps(): Promise<void> {
    for (const step of this.traits.init) {
      switch (step) {
        case "lockKeys":
          await this.#lockKeysNow();
          break;
        case "bodyId":
          await this.#bodyIdNow();
          break;
        case "pictureAbilities":
          await this.#step({ command: this.traits.pictureAbilities!, optional: true });
          break;
        case "powerStatus":
          await this.#powerStatusNow();
          break;
      }
    }
  }

  /** Send one step; an optional step's failure is only logged. */
  async #step(step: ProtocolStep): Promise<void> {
    try {
      await this.session.command(step.command, step.payload, { minData: 0 });
    } catch (error) {
      if (!step.optional || error instanceof CameraClosedError) throw error;
      log.info(`${step.command.name} failed (${error}); carrying on`);
    }
  }

  async #lockKeysNow(): Promise<void> {
    const steps = this.traits.lockKeys;
    if (steps.length === 0) return;
    for (const step of steps.slice(0, -1)) await this.#step(step);
    const last = steps[steps.length - 1];
    await this.session.command(last.command, last.payload);
    this.#keysLocked = true;
  }

  async #unlockKeysNow(): Promise<void> {
    const unlock = this.traits.unlockKeys;
    if (!unlock || !this.#keysLocked) return;
    const reply = await this.session.command(unlock.command, unlock.payload, {
      allowStatus: true,
    });
    // "Not locked" (0x02000082 old, 0x00000086 new) leaves the keys as wanted: unlocked.
    if (
      reply.status !== STATUS.OK && reply.status !== STATUS.UNLOCK_FAILED &&
      reply.status !== 0x86
    ) {
      throw new CameraStatusError(unlock.command.name, reply.status);
    }
    this.#keysLocked = false;
  }

  async #bodyIdNow(): Promise<number> {
    const command = this.traits.bodyId;
    if (!command) {
      throw new CanonError(`the ${this.model.name} has no body id (only EOS bodies do)`);
    }
    const reply = await this.session.command(command);
    this.#bodyId = readU32(reply.data, 0);
    return this.#bodyId;
  }

  /** The command for `purpose` in this camera's protocol generation. */
  #spec(purpose: CommandPurpose): CommandSpec {
    return this.traits.commands[purpose];
  }

  async #identifyNow(timeout?: number): Promise<CameraIdentity> {
    const reply = await this.session.command(this.#spec("identify"), undefined, { timeout });
    const identity = decodeIdentify(reply.data);
    if (this.traits.getOwner) {
      const owner = await this.session.command(this.traits.getOwner, undefined, { timeout });
      identity.owner = readCString(owner.data, 0, 32);
    }
    this.#identity = identity;
    return { modelName: identity.model, owner: identity.owner, firmware: identity.firmware };
  }

  /** A call made on the camera itself: refused once `close()` was called. */
  #run<T>(body: () => Promise<T>): Promise<T> {
    if (this.#closed || this.#closing) return Promise.reject(new CameraClosedError());
    return this.session.exclusive(body);
  }

  /**
   * A dialogue of a storage or capture call. Such a call may reach the wire
   * some time after it was made (it checks the host's file system first):
   * while the camera closes, its dialogues still run if the call was made
   * before `close()` ({@link Camera.close}).
   */
  #runForCall<T>(body: () => Promise<T>): Promise<T> {
    if (this.#closed || (this.#closing && this.#calls === 0 && !this.#closeWork)) {
      return Promise.reject(new CameraClosedError());
    }
    return this.session.exclusive(body);
  }

  /**
   * `target` with its methods counted as calls in progress: one made after
   * `close()` is refused; `close()` waits for those made before it.
   */
  #counted<T extends object>(target: T): T {
    return new Proxy(target, {
      get: (object, property) => {
        const value = Reflect.get(object, property, object);
        if (typeof value !== "function") return value;
        const method = value as (...args: unknown[]) => unknown;
        // Generators (walk, previews) run their dialogues step by step, each checked when it runs.
        if (method.constructor.name === "AsyncGeneratorFunction") return method.bind(object);
        return (...args: unknown[]) => {
          if (this.#closed || this.#closing) return Promise.reject(new CameraClosedError());
          this.#calls++;
          let result: unknown;
          try {
            result = method.apply(object, args);
          } catch (error) {
            this.#callEnded();
            throw error;
          }
          if (!(result instanceof Promise)) {
            this.#callEnded();
            return result;
          }
          return result.finally(() => this.#callEnded());
        };
      },
    });
  }

  #callEnded(): void {
    this.#calls--;
    if (this.#calls === 0) { for (const wake of this.#callsDone.splice(0)) wake(); }
  }

  #rawStorage(): Storage {
    this.#storage ??= new Storage({
      session: this.session,
      modelInfo: this.model,
      run: (body) => this.#runForCall(body),
      spec: (purpose) => this.#spec(purpose),
    });
    return this.#storage;
  }

  /** The memory card: list, download, thumbnails, delete, upload. */
  get storage(): Storage {
    this.#storageView ??= this.#counted(this.#rawStorage());
    return this.#storageView;
  }

  #captureHost(): CaptureHost {
    this.#captureHostValue ??= {
      session: this.session,
      modelInfo: this.model,
      run: (body) => this.#runForCall(body),
      spec: (purpose) => this.#spec(purpose),
      storage: this.#rawStorage(),
    };
    return this.#captureHostValue;
  }

  #captureHostValue: CaptureHost | undefined;

  #rawCapture(): Capture {
    this.#capture ??= new Capture(this.#captureHost());
    return this.#capture;
  }

  /** Remote capture: settings, shutter release, viewfinder (`await using remote = await cam.capture.start()`). */
  get capture(): Capture {
    this.#captureView ??= this.#counted(this.#rawCapture());
    return this.#captureView;
  }

  /** The model name the camera reports, e.g. "Canon PowerShot G3" (the table entry: {@link Camera.model}). */
  get modelName(): string {
    return this.#identity.model;
  }

  /** The owner name stored in the camera. */
  get owner(): string {
    return this.#identity.owner;
  }

  /** The firmware version, "a.b.c.d". */
  get firmware(): string {
    return this.#identity.firmware;
  }

  /** Whether the init handshake found the camera already active ('A') or woke it ('C'). */
  get wokenUp(): boolean {
    return this.#init?.camstat === "C";
  }

  /** The largest bulk read the camera allows (from its init block). */
  get transferLength(): number {
    return this.session.transferLength;
  }

  /** Whether the keys are locked (the camera's own buttons are disabled). */
  get keysLocked(): boolean {
    return this.#keysLocked;
  }

  /** True once the camera is closed or was disconnected. */
  get closed(): boolean {
    return this.#closed || this.session.closed;
  }

  /**
   * Ask the camera who it is.
   *
   * @returns model, owner and firmware version
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Camera } from "@canon-remote/canon-remote";
   * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
   * await using cam = await Camera.connect(new VirtualCamera({ owner: "Kiril" }));
   * const { modelName, owner, firmware } = await cam.identify();
   * assert.deepEqual([modelName, owner, firmware], ["Canon PowerShot G3", "Kiril", "1.0.2.0"]);
   * ```
   */
  async identify(): Promise<CameraIdentity> {
    return await this.#run(() => this.#identifyNow());
  }

  /**
   * Store a new owner name in the camera, then identify again so that
   * {@link Camera.owner} shows what the camera now holds.
   *
   * @param name at most 30 printable ASCII characters
   * @throws {RangeError} for a name the camera cannot store (nothing is sent)
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Camera } from "@canon-remote/canon-remote";
   * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
   * await using cam = await Camera.connect(new VirtualCamera());
   * await cam.setOwner("Ada Lovelace");
   * assert.equal(cam.owner, "Ada Lovelace");
   * ```
   */
  async setOwner(name: string): Promise<void> {
    const payload = encodeOwner(name);
    return await this.#run(async () => {
      await this.session.command(this.#spec("setOwner"), payload);
      await this.#identifyNow();
      if (this.#identity.owner !== name) {
        throw new ProtocolError(
          `the camera accepted the owner name but now reports ${
            JSON.stringify(this.#identity.owner)
          }`,
        );
      }
    });
  }

  /**
   * Where the camera's power comes from, and whether it is good.
   *
   * @param options `maxAgeMs`: a reading taken at most this long ago (by the
   *   handshake, which asks on some classes, or an earlier call) is returned
   *   without asking the camera again; default 0, always ask
   * @returns `{ source: "battery" | "ac", ok, level }`
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Camera } from "@canon-remote/canon-remote";
   * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
   * await using cam = await Camera.connect(new VirtualCamera());
   * const power = await cam.powerStatus();
   * assert.deepEqual(power, { source: "ac", ok: true, level: 6 });
   * ```
   */
  async powerStatus(options: PowerStatusOptions = {}): Promise<PowerStatus> {
    const maxAge = options.maxAgeMs ?? 0;
    if (!Number.isFinite(maxAge) || maxAge < 0) {
      throw new RangeError(`maxAgeMs must be a finite number >= 0, not ${maxAge}`);
    }
    return await this.#run(async () => {
      const last = this.#power;
      if (last && maxAge > 0 && performance.now() - last.at <= maxAge) return { ...last.status };
      return await this.#powerStatusNow();
    });
  }

  async #powerStatusNow(): Promise<PowerStatus> {
    const reply = await this.session.command(this.#spec("powerStatus"));
    const status = decodePowerStatus(reply.data);
    this.#power = { status, at: performance.now() };
    return { ...status };
  }

  /**
   * The camera's clock. The camera keeps wall-clock time without a zone
   * (§4.3.3); the `Date` returned reads the same wall-clock time in the
   * host's zone (`getHours()` etc.), whatever the zone and DST.
   *
   * @returns the camera's time
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Camera } from "@canon-remote/canon-remote";
   * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
   * await using cam = await Camera.connect(new VirtualCamera());
   * const clock = await cam.time(); // the virtual camera keeps the host's wall-clock time
   * assert.ok(Math.abs(clock.getTime() - Date.now()) < 60_000);
   * ```
   */
  async time(): Promise<Date> {
    return await this.#run(() => this.#timeNow());
  }

  async #timeNow(): Promise<Date> {
    const reply = await this.session.command(this.#spec("getTime"));
    const seconds = readU32(reply.data, 0);
    return fromCameraTime(seconds) ?? new Date(1970, 0, 1);
  }

  /**
   * Set the camera's clock to the wall-clock time `date` shows in the host's
   * zone (DST included): `setTime(new Date(2024, 6, 1, 14, 30))` makes the
   * camera show 14:30 on 1 July 2024, wherever the host is.
   *
   * @param date the time to set (whole seconds; milliseconds are dropped)
   * @throws {RangeError} for an invalid date or one the camera cannot hold (1970–2106)
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Camera } from "@canon-remote/canon-remote";
   * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
   * await using cam = await Camera.connect(new VirtualCamera());
   * await cam.setTime(new Date(2024, 6, 1, 14, 30));
   * assert.equal((await cam.time()).getHours(), 14);
   * ```
   */
  async setTime(date: Date): Promise<void> {
    const seconds = date instanceof Date ? toCameraTime(date) : NaN;
    if (!Number.isFinite(seconds) || seconds < 0 || seconds > 0xffffffff) {
      return Promise.reject(
        new RangeError(`the camera's clock cannot be set to ${String(date)} (1970–2106 only)`),
      );
    }
    return await this.#run(async () => {
      await this.session.command(this.#spec("setTime"), encodeSetTime(seconds));
    });
  }

  /**
   * Set the camera's clock to the host's local time now.
   *
   * @returns how far the camera's clock was ahead of the host's before, in
   *   seconds (negative: behind)
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Camera } from "@canon-remote/canon-remote";
   * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
   * await using cam = await Camera.connect(new VirtualCamera({ clockOffsetSeconds: 90 }));
   * const drift = await cam.syncClock();
   * assert.ok(Math.abs(drift - 90) <= 2, `off by ${drift} s`);
   * ```
   */
  async syncClock(): Promise<number> {
    return await this.#run(async () => {
      const before = await this.#timeNow();
      const now = new Date();
      const drift = toCameraTime(before) - toCameraTime(now);
      await this.session.command(this.#spec("setTime"), encodeSetTime(toCameraTime(new Date())));
      return drift;
    });
  }

  /**
   * The body serial number of an EOS camera (§4.3.15), printed as Canon's
   * software prints it: the D30 as `%04x%05d`, the 20D generation as ten
   * digits, other EOS bodies in decimal. A body's number never changes: it
   * is asked once (by the handshake on the bodies whose handshake asks).
   *
   * @returns e.g. "0520308238"
   * @throws {CanonError} for a camera without a body id (PowerShots)
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Camera } from "@canon-remote/canon-remote";
   * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
   * await using cam = await Camera.connect(new VirtualCamera({ model: "EOS 20D" }));
   * assert.equal(await cam.bodyId(), "0520308238");
   * ```
   */
  async bodyId(): Promise<string> {
    return await this.#run(async () =>
      formatBodyId(this.#bodyId ?? await this.#bodyIdNow(), bodyIdFormat(this.model))
    );
  }

  /**
   * Lock the camera's own buttons, as its class does it (§4.3.16): PowerShots
   * lock with 0x20 (classes 1–3 after reading the picture abilities), old EOS
   * bodies with 0x1B, the new generation with 0x35. PowerShots of classes 1,
   * 2, 3 and 5 are locked from the init on; class 0 has no lock (nothing is
   * sent). Captures on EOS bodies lock and unlock around the shutter release.
   *
   * @returns whether the keys are now locked
   */
  async lockKeys(): Promise<boolean> {
    return await this.#run(async () => {
      await this.#lockKeysNow();
      return this.#keysLocked;
    });
  }

  /**
   * Unlock the camera's buttons (EOS: 0x1C old, 0x36 new). PowerShots cannot
   * unlock over USB (only unplugging the cable does it): for them, and when
   * the keys are not locked, nothing is sent.
   *
   * @returns whether the keys are still locked (true only for PowerShots that locked them)
   */
  async unlockKeys(): Promise<boolean> {
    return await this.#run(async () => {
      await this.#unlockKeysNow();
      return this.#keysLocked;
    });
  }

  /**
   * The custom functions of an EOS body, read-only, with their names where
   * the body's table is known (the 20D's; numbers only for other class-6
   * bodies). Class 6 answers one 0x1D/0x12 command, two bytes per function;
   * old EOS bodies answer RC 0x0F one at a time in remote mode (entered if
   * needed, and left as `cam.capture` leaves it). Writing them is not
   * supported (RC 0x0E was never seen on the wire).
   *
   * @returns one entry per function: number, value, name, meaning
   * @throws {CanonError} for a camera without custom functions (PowerShots)
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Camera } from "@canon-remote/canon-remote";
   * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
   * await using cam = await Camera.connect(new VirtualCamera({ model: "EOS 20D" }));
   * const functions = await cam.customFunctions();
   * assert.equal(functions.find((f) => f.index === 2)?.name, "Long exposure noise reduction");
   * ```
   */
  async customFunctions(): Promise<CustomFunction[]> {
    if (this.#closed || this.#closing) return Promise.reject(new CameraClosedError());
    return await customFunctionsOf(this.#captureHost(), () => this.capture.start());
  }

  /**
   * The camera's picture-abilities table: the sizes and qualities it records
   * (§4.3.13; classes 1–3 and 6, and the G3). Needs no remote mode; read once.
   *
   * @returns the table
   * @throws {CanonError} when the camera answers none
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Camera } from "@canon-remote/canon-remote";
   * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
   * await using cam = await Camera.connect(new VirtualCamera());
   * const { cameraName, entries } = await cam.pictureAbilities();
   * assert.equal(cameraName, "PowerShot G3");
   * assert.ok(entries.some((e) => e.format?.quality === "superfine"));
   * ```
   */
  async pictureAbilities(): Promise<PictureAbilities> {
    if (this.#closed || this.#closing) return Promise.reject(new CameraClosedError());
    return await pictureAbilitiesOf(this.#captureHost());
  }

  /**
   * Close the camera: wait for queued work, release the interface and close
   * the device if this object opened it. Safe to call twice.
   *
   * Every call made before `close()` finishes (or fails on its own merits),
   * however long it takes to reach the wire (a download first checks the
   * destination on the host); every call made after it rejects with
   * {@link CameraClosedError}.
   */
  async close(): Promise<void> {
    if (this.#closed || this.#closing) return await this.#closeDone;
    this.#closing = true;
    let done!: () => void;
    this.#closeDone = new Promise((resolve) => done = resolve);
    try {
      await this.#closeNow();
    } finally {
      done();
    }
  }

  #closeDone: Promise<void> = Promise.resolve();

  async #closeNow(): Promise<void> {
    // Every call made before close() finishes (or fails) first.
    while (this.#calls > 0) await new Promise<void>((wake) => this.#callsDone.push(wake));
    await this.session.idle();
    this.#closeWork = true;
    // A camera left in remote mode keeps its lens out: leave it (as gphoto2 at exit, §5.2).
    if (this.#capture?.active) {
      await this.#capture.stop().catch((error) => log.info(`leaving remote mode failed: ${error}`));
    }
    this.#closed = true;
    await this.session.idle();
    // As gphoto2 at exit (§5.2): EOS keys a capture left locked are unlocked first.
    if (this.#keysLocked && this.traits.unlockKeys && !this.session.closed) {
      await this.session.exclusive(() => this.#unlockKeysNow()).catch((error) =>
        log.info(`unlocking the keys at close failed: ${error}`)
      );
    }
    this.session.markClosed(new CameraClosedError());
    try {
      await this.device.releaseInterface?.(0);
    } catch (error) {
      if (!(error instanceof CameraTimeoutError)) log.info(`release interface: ${error}`);
    }
    if (this.#ownsOpen) {
      try {
        await this.device.close();
      } catch (error) {
        log.info(`close: ${error}`);
      }
    }
  }

  /** `await using cam = ...` closes the camera. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
