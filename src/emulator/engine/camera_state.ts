/**
 * What the camera remembers between commands (owner, clock, remote mode,
 * settings, pictures kept for the host) and what the command handlers may
 * use of the engine around them ({@link CameraContext}).
 *
 * @module
 */

import type { CardFileSystem } from "../card/card_model.ts";
import type { TakenPicture } from "./remote_capture.ts";
import type { EmulatedModel } from "./emulated_models.ts";
import type { FaultInjector } from "./faults.ts";

/**
 * A card that can take the pictures the camera shoots (an optional extension
 * of {@link CardFileSystem}; `MemoryCard` has it). Without it a release still
 * succeeds, but nothing new appears on the card.
 */
export interface CapturingCard extends CardFileSystem {
  /** Absolute path of the camera's next picture, e.g. "/DCIM/100CANON/IMG_0008.JPG". */
  nextImagePath(): string;
  /**
   * Store a file the camera made itself (directories created as needed).
   *
   * @param path absolute card path
   * @param bytes the file
   * @param mtime camera-local seconds
   */
  addFile(path: string, bytes: Uint8Array, mtime: number): void;
}

/** Power supply as POWER_STATUS reports it (§4.3.12). */
export interface PowerState {
  /** AC adapter or battery. */
  source: "ac" | "battery";
  /** Battery low ("power bad"). */
  low: boolean;
}

/**
 * What real cameras do that a camera written from the reference alone would
 * not. Each is on by default; a test switches one off to see the plain
 * behaviour. Sources: `docs/real-cameras/capture-and-models.md`.
 */
export interface RealCameraQuirks {
  /**
   * An idle poll of the interrupt endpoint is answered with a zero-length
   * packet at the endpoint's polling interval (a real G3: every 64 ms).
   */
  idleZeroLengthPackets: boolean;
  /**
   * The model's unsolicited interrupt packets after a capture (the G3's
   * `0e` packet about 2 s after its "capture finished").
   */
  unsolicitedPackets: boolean;
  /**
   * The 20D's init interrupt packet comes 8 bytes at a time (Protocol.xml).
   * `true`: both halves are in the pipe once the handshake is done (what a
   * host that polls for it at once, as gphoto2 does, needs; gphoto2 issue
   * #146 shows gphoto2 initialising a real 20D). `"after-power-status"`: the
   * halves come only after the "power supply status" command, as Protocol.xml
   * saw it from Canon's software (gphoto2 2.5.30 then fails its init).
   */
  lateInitPacket: boolean | "after-power-status";
  /**
   * Class 6 file commands as the bodies answer them: the 20D takes
   * set-attributes with status 0 and changes nothing; the 350D refuses
   * set-attributes and delete with 0x00000086.
   */
  fileCommandLimits: boolean;
}

/** Every real-camera behaviour on. */
export const ALL_QUIRKS: Readonly<RealCameraQuirks> = Object.freeze({
  idleZeroLengthPackets: true,
  unsolicitedPackets: true,
  lateInitPacket: true,
  fileCommandLimits: true,
});
/** The host's wall clock in local time, seconds since 1970. */
function hostLocalSeconds(): number {
  const now = Date.now();
  return Math.floor(now / 1000) - new Date(now).getTimezoneOffset() * 60;
}

function firmwareBytes(firmware: string): Uint8Array {
  const parts = firmware.split(".").map((part) => Number.parseInt(part, 10));
  if (parts.length !== 4 || parts.some((n) => !(n >= 0 && n <= 255))) {
    throw new RangeError(`firmware must look like "1.0.2.0", got "${firmware}"`);
  }
  // Stored reversed: byte 0x5B.0x5A.0x59.0x58 (§4.3.1).
  return Uint8Array.of(parts[3], parts[2], parts[1], parts[0]);
}

/**
 * Whether a card can take the pictures the camera shoots.
 *
 * @param card the card
 * @returns true when it has `nextImagePath` and `addFile`
 */
export function isCapturingCard(card: CardFileSystem): card is CapturingCard {
  const candidate = card as Partial<CapturingCard>;
  return typeof candidate.addFile === "function" && typeof candidate.nextImagePath === "function";
}

/** The longest owner name a camera keeps (31 bytes with its NUL). */
export const OWNER_MAX = 30;

/** The camera's state: what a power cycle resets and the commands change. */
export class CameraState {
  /** The owner name. */
  owner: string;
  /** Firmware version, stored reversed as §4.3.1 sends it. */
  readonly firmware: Uint8Array;
  /** Camera clock minus the host's local wall clock, in seconds. */
  clockOffset: number;
  /** Whether the next camera-status read answers 'A' (a handshake completed since power-on). */
  handshakeDone: boolean;
  /** Increases at every power cycle (replug). */
  plugGeneration = 0;
  /** The configuration SET_CONFIGURATION chose. */
  configuration = 1;
  /** The 20D's init packet is withheld until power status or a delay. */
  initPacketPending = false;
  /** In remote-capture mode (RC init received, no exit since). */
  remoteMode = false;
  /** The keys were locked (0x20/0x12). */
  keysLocked = false;
  /** Class 1: picture abilities were read since power-on (the lock needs them, §1.1). */
  abilitiesRead = false;
  /** Transfer-mode bits last set with RC 0x09. */
  transferMode = 0;
  /** Zoom position. */
  zoom = 0;
  /** Video output chosen with RC 0x14 (1 … 3). */
  output = 1;
  /** The 0x30-byte release-parameter block. */
  readonly releaseParams: Uint8Array;
  /** The extended release parameters (RC 0x10, 0x12, 0x13). */
  readonly extendedParams: Uint8Array;
  /** Pictures kept for the host (transfer mode 0x01/0x02), by key; keys count from 1 per remote session. */
  readonly captures: Map<number, TakenPicture> = new Map();
  /** The last key given to a picture kept for the host. */
  captureKey = 0;
  /** The viewfinder runs (RC 0x02 … 0x03). */
  viewfinder = false;
  /** Viewfinder frames sent so far. */
  frames = 0;

  /**
   * A camera at power-on.
   *
   * @param model the model profile
   * @param owner the owner name
   * @param firmware "a.b.c.d"
   * @param clockOffset camera clock minus the host's local clock, seconds
   * @param firstContact whether the first handshake sees camstat 'C'
   */
  constructor(
    model: EmulatedModel,
    owner: string,
    firmware: string,
    clockOffset: number,
    firstContact: boolean,
  ) {
    if (owner.length > OWNER_MAX) {
      throw new RangeError(`owner names are at most 30 characters, got ${owner.length}`);
    }
    this.owner = owner;
    this.firmware = firmwareBytes(firmware);
    this.clockOffset = clockOffset;
    this.handshakeDone = !firstContact;
    this.releaseParams = Uint8Array.from(model.releaseParams);
    this.extendedParams = Uint8Array.from(model.extendedParams);
  }

  /**
   * The camera clock: seconds since 1970 counted in camera-local time.
   *
   * @returns the current camera time
   */
  cameraTime(): number {
    return hostLocalSeconds() + this.clockOffset;
  }

  /**
   * Set the camera clock.
   *
   * @param seconds camera-local seconds since 1970
   */
  setCameraTime(seconds: number): void {
    this.clockOffset = seconds - hostLocalSeconds();
  }

  /** Out of remote mode: the viewfinder stops and pictures not fetched are gone (§4.3.17). */
  leaveRemoteMode(): void {
    this.remoteMode = false;
    this.viewfinder = false;
    this.captures.clear();
  }

  /** A power cycle: camstat 'C', not in remote mode, keys free (clock, owner and settings kept). */
  powerCycle(): void {
    this.plugGeneration++;
    this.handshakeDone = false;
    this.keysLocked = false;
    this.abilitiesRead = false;
    this.transferMode = 0;
    this.zoom = 0;
    this.configuration = 1;
    this.initPacketPending = false;
    this.leaveRemoteMode();
  }
}

/** What the command handlers may use of the engine around them. */
export interface CameraContext {
  /** The model profile. */
  readonly model: EmulatedModel;
  /** The memory card, or undefined when none is inserted. */
  readonly card: CardFileSystem | undefined;
  /** The fault switchboard. */
  readonly faults: FaultInjector;
  /** The real-camera behaviours in force. */
  readonly quirks: RealCameraQuirks;
  /** The power supply. */
  readonly power: PowerState;
  /** The camera's state. */
  readonly state: CameraState;
  /** Class 6: the new protocol generation (§1.1). */
  readonly newProtocol: boolean;
  /** False while unplugged. */
  readonly connected: boolean;
  /** Milliseconds from the release reply to the "capture started" interrupt packet. */
  readonly captureLatencyMs: number;
  /** Run `action` after `ms` (cancelled by a flush of the pipes or dispose). */
  schedule(ms: number, action: () => void): void;
  /** Queue an interrupt packet for the host. */
  queueInterrupt(packet: Uint8Array): void;
  /** Send the 20D's withheld init packet, if it is still withheld. */
  sendLateInitPacket(): void;
}
