/**
 * `Camera`: one connected Canon camera, over libusb or any device that
 * implements the device contract.
 *
 * @module
 */

import type { UsbDevice } from "../usb/device.ts";
import {
  decodeIdentify,
  decodePowerStatus,
  encodeOwner,
  type IdentifyInfo,
  type PowerStatus,
} from "../protocol/codec.ts";
import { readCString } from "../protocol/bytes.ts";
import {
  type CommandPurpose,
  COMMANDS,
  type CommandSpec,
  hex,
  NEW_PROTOCOL_COMMANDS,
  NEW_PROTOCOL_ONLY,
} from "../protocol/commands.ts";
import {
  CameraClosedError,
  CameraNotFoundError,
  CameraTimeoutError,
  CanonError,
  ProtocolError,
} from "../protocol/errors.ts";
import { log } from "../protocol/log.ts";
import { DEFAULT_TIMEOUT, type InitOutcome, Session } from "../protocol/session.ts";
import { findCameraDevice } from "./discovery.ts";
import { Storage } from "./storage.ts";
import {
  type CameraClass,
  type CameraModel,
  CANON_VENDOR_ID,
  isNewProtocol,
  modelByName,
  modelByProductId,
  OTHER_MODE_IDS,
} from "./models.ts";

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
export type CameraIdentity = IdentifyInfo;

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
  /** The model table entry (class, capture support, limits). */
  readonly modelInfo: CameraModel;
  /** The protocol session (for tools that need raw dialogues). */
  readonly session: Session;
  #identity: IdentifyInfo = { model: "", owner: "", firmware: "" };
  #closed = false;
  #ownsOpen: boolean;
  #keysLocked = false;
  #init: InitOutcome | undefined;
  #storage: Storage | undefined;

  private constructor(
    device: UsbDevice,
    modelInfo: CameraModel,
    ownsOpen: boolean,
    timeout: number,
  ) {
    this.device = device;
    this.modelInfo = modelInfo;
    this.#ownsOpen = ownsOpen;
    this.session = new Session(device, { newProtocol: isNewProtocol(modelInfo), timeout });
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
   * import { Camera } from "../../mod.ts";
   * await using cam = await Camera.open();
   * console.log(cam.model, cam.owner, cam.firmwareVersion);
   * ```
   */
  static async open(options: CameraOpenOptions = {}): Promise<Camera> {
    const device = await findCameraDevice(options);
    try {
      return await Camera.connect(device, options);
    } catch (error) {
      await device.close().catch(() => undefined);
      throw error;
    }
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
   * import { Camera, VirtualCamera } from "../../mod.ts";
   * await using cam = await Camera.connect(new VirtualCamera());
   * console.log(cam.model); // "Canon PowerShot G3"
   * ```
   */
  static async connect(device: UsbDevice, options: CameraConnectOptions = {}): Promise<Camera> {
    const modelInfo = resolveModel(device, options);
    const ownsOpen = !device.opened;
    if (ownsOpen) await device.open();
    const camera = new Camera(device, modelInfo, ownsOpen, options.timeout ?? DEFAULT_TIMEOUT);
    try {
      await device.claimInterface(0);
      await camera.#initialize();
      return camera;
    } catch (error) {
      await camera.close().catch(() => undefined);
      throw error;
    }
  }

  async #initialize(): Promise<void> {
    await this.session.exclusive(async () => {
      this.#init = await this.session.initialize();
      await this.#identifyWithRetries();
      await this.#lockKeysAtInit();
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

  async #lockKeysAtInit(): Promise<void> {
    switch (this.modelInfo.cameraClass) {
      case 1:
      case 2:
      case 3:
        // These need "get picture abilities" before the lock.
        await this.session.command(this.#spec("pictureAbilities"), undefined, { minData: 0 });
        await this.session.command(this.#spec("lockKeys"));
        this.#keysLocked = true;
        break;
      case 5:
        await this.session.command(this.#spec("lockKeys"));
        this.#keysLocked = true;
        break;
      default:
        // Class 0 has no key lock; classes 4 and 6 lock only around a capture.
        break;
    }
  }

  /** The command for `purpose` in this camera's protocol generation. */
  #spec(purpose: CommandPurpose): CommandSpec {
    if (isNewProtocol(this.modelInfo)) return NEW_PROTOCOL_COMMANDS[purpose] ?? COMMANDS[purpose];
    return COMMANDS[purpose];
  }

  async #identifyNow(timeout?: number): Promise<IdentifyInfo> {
    const reply = await this.session.command(COMMANDS.identify, undefined, { timeout });
    const identity = decodeIdentify(reply.data);
    if (isNewProtocol(this.modelInfo)) {
      const owner = await this.session.command(NEW_PROTOCOL_ONLY.getOwner, undefined, { timeout });
      identity.owner = readCString(owner.data, 0, 32);
    }
    this.#identity = identity;
    return { ...identity };
  }

  #run<T>(body: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new CameraClosedError());
    return this.session.exclusive(body);
  }

  /** The memory card: list, download, thumbnails, delete, upload. */
  get storage(): Storage {
    this.#storage ??= new Storage({
      session: this.session,
      modelInfo: this.modelInfo,
      run: (body) => this.#run(body),
      spec: (purpose) => this.#spec(purpose),
    });
    return this.#storage;
  }

  /** The model string the camera reports, e.g. "Canon PowerShot G3". */
  get model(): string {
    return this.#identity.model;
  }

  /** The owner name stored in the camera. */
  get owner(): string {
    return this.#identity.owner;
  }

  /** The firmware version, "a.b.c.d". */
  get firmwareVersion(): string {
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
   * import { Camera, VirtualCamera } from "../../mod.ts";
   * await using cam = await Camera.connect(new VirtualCamera({ owner: "Kiril" }));
   * const { model, owner, firmware } = await cam.identify();
   * ```
   */
  identify(): Promise<CameraIdentity> {
    return this.#run(() => this.#identifyNow());
  }

  /**
   * Store a new owner name in the camera, then identify again so that
   * {@link Camera.owner} shows what the camera now holds.
   *
   * @param name at most 30 printable ASCII characters
   * @throws {RangeError} for a name the camera cannot store (nothing is sent)
   * @example
   * ```ts
   * import { Camera, VirtualCamera } from "../../mod.ts";
   * await using cam = await Camera.connect(new VirtualCamera());
   * await cam.setOwner("Ada Lovelace");
   * console.log(cam.owner); // "Ada Lovelace"
   * ```
   */
  setOwner(name: string): Promise<void> {
    const payload = encodeOwner(name);
    return this.#run(async () => {
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
   * @returns `{ source: "battery" | "ac", ok, level }`
   * @example
   * ```ts
   * import { Camera, VirtualCamera } from "../../mod.ts";
   * await using cam = await Camera.connect(new VirtualCamera());
   * const power = await cam.powerStatus(); // { source: "ac", ok: true, level: 6 }
   * ```
   */
  powerStatus(): Promise<PowerStatus> {
    return this.#run(async () => {
      const reply = await this.session.command(this.#spec("powerStatus"));
      return decodePowerStatus(reply.data);
    });
  }

  /**
   * Close the camera: wait for queued work, release the interface and close
   * the device if this object opened it. Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.session.idle();
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
