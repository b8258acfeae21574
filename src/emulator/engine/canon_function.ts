/**
 * The camera side of Canon's native USB protocol: a {@link UsbFunction} that
 * answers the init handshake, parses command blocks, keeps the camera's state
 * (owner, clock, remote-capture mode, settings, memory card) and queues the
 * reply bytes a real camera sends, quirks included. Written from the protocol
 * reference and its errata (section numbers below refer to them), sharing no
 * code with the client.
 *
 * Choices where the reference is silent (all documented here once):
 * - A command block shorter than 0x50 bytes (other than the 0x40-byte upload
 *   pre-header) has no cmd1/cmd2 to answer: its control transfer stalls.
 * - A block whose length fields disagree with its size, or without the 0x02
 *   marker at 0x40, is answered with status 0x02000086 (fixed commands) or an
 *   empty long reply (long commands).
 * - An unknown command gets a 0x54 reply with status 0x02000086 (fixed) or a
 *   long-reply header announcing 0 bytes (long). Unknown remote-control
 *   sub-commands get a 0x5C reply with status 0x02000086.
 * - Remote-control sub-commands other than init (0x00) and exit (0x01) are
 *   refused with 0x02000086 outside remote mode; init while already in remote
 *   mode answers 0x02000085 (§4.4.2: "camera was left in control mode").
 * - GET_FILE of a missing file, or a thumbnail request for a file without an
 *   EXIF thumbnail, answers a long-reply header announcing 0 bytes (a long
 *   reply has no status word). A missing directory lists as 11 zero bytes, as
 *   the G3 does (§4.3.6).
 * - A new command (or upload block) discards unread reply bytes of earlier
 *   ones: a camera answers the newest command (errata §2.1, stale replies).
 * - A USB reset clears the pipes and halts but keeps the camera's state
 *   (remote mode, locked keys); unplugging is a power cycle.
 * - Remote capture (§4.3.17, §4.4): a release taken to the host keeps the
 *   picture under a key counting from 1 per remote session until remote mode
 *   is left; 0x17 (class 6: 0x26) with an unknown key or type, and 0x18
 *   outside the viewfinder (RC 0x02 … 0x03), answer an empty long reply.
 *   Pictures are always JPEG (RAW formats included), sized by the format
 *   triple, EXIF from the release block, the next file number drawn in them.
 *   A set-parameters value outside the profile's `releaseLimits` keeps the
 *   old byte, so only the host's read-back shows the refusal.
 *
 * @module
 */

import type {
  FunctionRead,
  FunctionWrite,
  SetupPacket,
  UsbDescriptorSet,
  UsbFunction,
} from "./usb_function.ts";
import { CARD_ATTRIBUTE, CARD_STATUS, CardError } from "../card/card_model.ts";
import type { CardFileSystem, CardNode } from "../card/card_model.ts";
import { type EmulatedModel, ENDPOINTS, usbDescriptors } from "./emulated_models.ts";
import type { Fault, FaultInjector } from "./faults.ts";
import {
  descriptorPacket,
  eventPacket,
  exposureOf,
  failurePacket,
  statusPacket,
  type TakenPicture,
  takePicture,
  viewfinderFrame,
} from "./remote_capture.ts";
import {
  ByteFifo,
  type ByteSource,
  bytesSource,
  dropSources,
  limitSources,
  segmentSource,
} from "./byte_fifo.ts";
import type { FullSpeedBus } from "./bus_model.ts";
import type { CommandTiming } from "./timing.ts";
import { concatBytes, latin1, putString, putU16, putU32, stringAt, u16At, u32At } from "./wire.ts";

/** Camera status words the engine answers with (§5.1). */
export const CAMERA_STATUS = {
  /** Success. */
  OK: 0,
  /** File not found. */
  FILE_NOT_FOUND: CARD_STATUS.FILE_NOT_FOUND,
  /** Card full (set transfer mode, release). */
  CARD_FULL: CARD_STATUS.CARD_FULL,
  /** Could not enter capture mode (remote init while already in remote mode). */
  CAPTURE_MODE_FAILED: 0x02000085,
  /** Invalid parameters / path not found / unknown command / not in remote mode. */
  INVALID_PARAMETERS: 0x02000086,
  /** No storage card. */
  NO_CARD: CARD_STATUS.NO_CARD,
} as const;

/** Transfer-mode bits of remote-control sub-command 0x09 (§4.4.2). */
export const TRANSFER_MODE = {
  /** Thumbnail to the host. */
  THUMB_TO_PC: 0x01,
  /** Full image to the host. */
  FULL_TO_PC: 0x02,
  /** Thumbnail to the card. */
  THUMB_TO_DRIVE: 0x04,
  /** Full image to the card. */
  FULL_TO_DRIVE: 0x08,
} as const;

/** One command the camera received, as kept in {@link CanonFunction.commandLog}. */
export interface CommandRecord {
  /** Function code (byte 0x44). */
  readonly cmd1: number;
  /** 0x11 storage / 0x12 camera (byte 0x47). */
  readonly cmd2: number;
  /** 0x201 fixed, 0x202 long, 0x203 upload pre-header, 0x403 upload block. */
  readonly cmd3: number;
  /** Serial number (word 0x4C), echoed in the reply. */
  readonly serial: number;
  /** Bytes after the 0x50-byte header. */
  readonly payloadLength: number;
  /** Remote-control sub-command (payload word 0), for 0x13/0x12. */
  readonly subcommand?: number;
  /** Status word answered (0 for long replies and unanswered commands). */
  readonly status: number;
}

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

/** What a {@link CanonFunction} starts with. */
export interface CanonFunctionOptions {
  /** Real-camera behaviours to switch off (default: all on, {@link ALL_QUIRKS}). */
  quirks?: Partial<RealCameraQuirks>;
  /** The model profile. */
  model: EmulatedModel;
  /** Owner name. */
  owner: string;
  /** Firmware version "a.b.c.d". */
  firmware: string;
  /** The memory card, or undefined for none. */
  card: CardFileSystem | undefined;
  /** Power supply. */
  power: PowerState;
  /** Camera clock minus the host's local wall clock, in seconds. */
  clockOffsetSeconds: number;
  /** Whether the first init handshake sees camstat 'C' (true) or 'A' (false). */
  firstContact: boolean;
  /** The fault switchboard. */
  faults: FaultInjector;
  /** Milliseconds from the release reply to the "capture started" interrupt packet. */
  captureLatencyMs: number;
  /** Deliver bulk IN data no faster than this full-speed bus model allows (default: as fast as asked). */
  bus?: FullSpeedBus;
  /** Have each reply ready only after this processing delay (`timing.ts`; default: at once). */
  timing?: CommandTiming;
}

/** A parsed command block (§3.1). */
interface Command {
  readonly cmd1: number;
  readonly cmd2: number;
  readonly cmd3: number;
  readonly serial: number;
  readonly payload: Uint8Array;
  readonly wellFormed: boolean;
}

/** A fixed reply before framing: the status and the data from 0x54. */
interface FixedAnswer {
  readonly status: number;
  readonly data?: Uint8Array;
  /** cmd1 echoed at 0x44 when it differs from the command's (the lock-keys quirk). */
  readonly echo?: number;
}

interface FixedHandler {
  readonly kind: "fixed";
  /** Total reply length, header included. */
  readonly length: (command: Command) => number;
  readonly run: (command: Command) => FixedAnswer;
}

interface LongHandler {
  readonly kind: "long";
  readonly run: (command: Command) => ByteSource;
}

type Handler = FixedHandler | LongHandler;

interface RemoteHandler {
  readonly length: (params: Uint8Array) => number;
  readonly needsRemoteMode: boolean;
  /** Returns the status and the data from 0x58 (after the sub-command echo). */
  readonly run: (params: Uint8Array) => FixedAnswer;
}

const FIXED = 0x201;
const LONG = 0x202;
const UPLOAD_HEADER = 0x203;
const UPLOAD_BLOCK = 0x403;
const REMOTE_CONTROL = 0x13;
const INIT_PACKET = Uint8Array.of(2, 0, 0, 0, 0x20, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0);
const RELEASE_GAP_MS = 50;

/**
 * How often the host controller polls the interrupt endpoint, in ms: a
 * full-speed bInterval in frames rounded down to a power of two (the G3's 96
 * gives the 64 ms of its gphoto2 log); high speed 2^(bInterval−1) microframes.
 */
export function interruptPollPeriod(model: EmulatedModel): number {
  const interval = Math.max(1, model.usb.interruptInterval);
  if (model.usb.speedMbps >= 480) return Math.max(1, 2 ** (Math.min(interval, 16) - 1) / 8);
  return 2 ** Math.floor(Math.log2(interval));
}
/** The command log keeps the newest this many commands. */
const COMMAND_LOG_LIMIT = 100_000;

function key(cmd1: number, cmd2: number, cmd3: number): number {
  return cmd1 | (cmd2 << 8) | (cmd3 << 16);
}

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

function isCapturingCard(card: CardFileSystem): card is CapturingCard {
  const candidate = card as Partial<CapturingCard>;
  return typeof candidate.addFile === "function" && typeof candidate.nextImagePath === "function";
}

/**
 * The Canon protocol engine: the device side of a camera, for any transport
 * that drives a {@link UsbFunction}.
 */
export class CanonFunction implements UsbFunction {
  /** Descriptors for enumeration and GET_DESCRIPTOR. */
  readonly descriptors: UsbDescriptorSet;
  /** The model profile. */
  readonly model: EmulatedModel;
  /** The fault switchboard. */
  readonly faults: FaultInjector;
  /** The bus model bulk IN data respects, if any (see `bus_model.ts`). */
  readonly bus: FullSpeedBus | undefined;
  /** Every command received, in order (the newest 100,000). */
  readonly commandLog: CommandRecord[] = [];
  /** The memory card, or undefined when none is inserted. */
  readonly card: CardFileSystem | undefined;
  /** Power supply (may be changed while running). */
  power: PowerState;
  /** The real-camera behaviours in force (may be changed while running). */
  readonly quirks: RealCameraQuirks;

  #connected = true;
  /** An idle interrupt poll is due a zero-length packet (the polling interval has passed). */
  #zlpDue = false;
  #zlpTimer = false;
  /** The last poll slot (time / period) that was due a zero-length packet. */
  #zlpSlot = -1;
  /** The 20D's init packet is withheld until power status or a delay. */
  #initPacketPending = false;
  #plugGeneration = 0;
  #owner: string;
  #firmware: Uint8Array;
  #clockOffset: number;
  #handshakeDone: boolean;
  #remoteMode = false;
  #keysLocked = false;
  /** Class 1: picture abilities were read since power-on (the lock needs them, §1.1). */
  #abilitiesRead = false;
  #transferMode = 0;
  #zoom = 0;
  #output = 1;
  #releaseParams: Uint8Array;
  #extendedParams: Uint8Array;
  #captureLatencyMs: number;
  readonly #timing: CommandTiming | undefined;
  #configuration = 1;
  /** Pictures kept for the host (transfer mode 0x01/0x02), by key; keys count from 1 per remote session. */
  readonly #captures = new Map<number, TakenPicture>();
  #captureKey = 0;
  #viewfinder = false;
  #frames = 0;

  readonly #bulkIn = new ByteFifo();
  readonly #interrupts: Uint8Array[] = [];
  readonly #halted = new Set<number>();
  readonly #listeners = new Set<() => void>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #replyGeneration = 0;
  /** Increases when the pipes are flushed (init handshake, reset, replug): held-back replies die. */
  #pipeGeneration = 0;
  /** Replies waiting behind a held-back ("delay") reply, in order (late replies on). */
  #heldBack: ByteSource[][] | undefined;
  #unplugAfter: number | undefined;
  /** Bytes until the transfer in progress ends short (the "split" fault). */
  #splitAfter: number | undefined;
  #dropNext40 = false;
  #uploadExpected: number | undefined;
  #uploadParts: Uint8Array[] = [];
  #uploadReceived = 0;
  readonly #handlers: Map<number, Handler>;
  readonly #remote: Map<number, RemoteHandler>;

  /**
   * A camera in its power-on state.
   *
   * @param options the model, initial state and fault switchboard
   */
  constructor(options: CanonFunctionOptions) {
    this.bus = options.bus;
    this.#timing = options.timing;
    this.model = options.model;
    this.quirks = { ...ALL_QUIRKS, ...options.quirks };
    this.descriptors = usbDescriptors(options.model);
    this.faults = options.faults;
    this.card = options.card;
    this.power = { ...options.power };
    this.#owner = options.owner;
    this.#firmware = firmwareBytes(options.firmware);
    this.#clockOffset = options.clockOffsetSeconds;
    this.#handshakeDone = !options.firstContact;
    this.#captureLatencyMs = options.captureLatencyMs;
    this.#releaseParams = Uint8Array.from(options.model.releaseParams);
    this.#extendedParams = Uint8Array.from(options.model.extendedParams);
    this.#handlers = this.#commandTable();
    this.#remote = this.#remoteTable();
    this.#checkOwner(options.owner);
  }

  // ---- observable state ---------------------------------------------------

  /** False while unplugged. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Increases at every {@link CanonFunction.replug}: a session opened before it is dead. */
  get plugGeneration(): number {
    return this.#plugGeneration;
  }

  /** The owner name the camera reports. */
  get owner(): string {
    return this.#owner;
  }

  /** Firmware version "a.b.c.d". */
  get firmware(): string {
    const f = this.#firmware;
    return `${f[3]}.${f[2]}.${f[1]}.${f[0]}`;
  }

  /** Whether the camera is in remote-capture mode (RC init received, no exit since). */
  get remoteMode(): boolean {
    return this.#remoteMode;
  }

  /** Whether the keys were locked (0x20/0x12); only a power cycle unlocks them on class 5. */
  get keysLocked(): boolean {
    return this.#keysLocked;
  }

  /** Transfer-mode bits last set with RC 0x09. */
  get transferMode(): number {
    return this.#transferMode;
  }

  /** Current zoom position. */
  get zoom(): number {
    return this.#zoom;
  }

  /** A copy of the 0x30-byte release-parameter block. */
  get releaseParams(): Uint8Array {
    return this.#releaseParams.slice();
  }

  /** Whether the next camera-status read answers 'A' (a handshake completed since power-on). */
  get handshakeDone(): boolean {
    return this.#handshakeDone;
  }

  /**
   * The camera clock: seconds since 1970 counted in camera-local time.
   *
   * @returns the current camera time
   */
  cameraTime(): number {
    return hostLocalSeconds() + this.#clockOffset;
  }

  // ---- power and plug -----------------------------------------------------

  /** The cable is pulled: every transfer fails until {@link CanonFunction.replug}. */
  unplug(): void {
    if (!this.#connected) return;
    this.#connected = false;
    this.#flushPipes();
    this.#notify();
  }

  /** The camera comes back in its power-on state (camstat 'C', not in remote mode, keys free). */
  replug(): void {
    if (this.#connected) return;
    this.#flushPipes();
    this.#connected = true;
    this.#plugGeneration++;
    this.#handshakeDone = false;
    this.#remoteMode = false;
    this.#keysLocked = false;
    this.#abilitiesRead = false;
    this.#transferMode = 0;
    this.#zoom = 0;
    this.#configuration = 1;
    this.#leaveRemoteMode();
    this.#notify();
  }

  /** Cancel every timer (pending interrupt packets, held-back replies). */
  dispose(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  // ---- UsbFunction --------------------------------------------------------

  /**
   * A control transfer, device to host.
   *
   * @param setup the setup packet
   * @returns at most `wLength` bytes, or a stall
   */
  controlIn(setup: SetupPacket): Uint8Array | "stall" {
    if (!this.#connected) return "stall";
    const answer = this.#controlIn(setup);
    return answer === "stall" ? answer : answer.subarray(0, setup.wLength);
  }

  /**
   * A control transfer, host to device.
   *
   * @param setup the setup packet
   * @param data the data stage
   * @returns ok or stall
   */
  controlOut(setup: SetupPacket, data: Uint8Array): FunctionWrite {
    if (!this.#connected) return "stall";
    const type = setup.bmRequestType & 0x7f;
    if (type === 0x00) return this.#standardDeviceOut(setup);
    if (type === 0x01) return setup.bRequest === 0x0b && setup.wValue === 0 ? "ok" : "stall";
    if (type === 0x02) return this.#standardEndpointOut(setup);
    if (type !== 0x40) return "stall";
    if (setup.bRequest !== (setup.wLength > 1 ? 0x04 : 0x0c)) return "stall";
    if (data.length !== setup.wLength) return "stall";
    if (setup.wValue === 0x11) return this.#handshake(data);
    if (setup.wValue === 0x10) return this.#receiveCommand(data);
    return "stall";
  }

  /**
   * A bulk or interrupt IN transfer.
   *
   * @param endpointAddress 0x81 or 0x83
   * @param maxLength the most the host accepts
   * @returns bytes, a stall, or null (nothing yet)
   */
  read(endpointAddress: number, maxLength: number): FunctionRead {
    if (!this.#connected) return null;
    if (endpointAddress === ENDPOINTS.BULK_IN) {
      if (this.#halted.has(endpointAddress)) return "stall";
      const limit = Math.min(
        maxLength,
        this.#unplugAfter ?? maxLength,
        this.#splitAfter ?? maxLength,
      );
      const bytes = this.#bulkIn.take(this.#overflowing(limit));
      if (this.#splitAfter !== undefined) {
        this.#splitAfter -= bytes?.length ?? 0;
        if (this.#splitAfter <= 0) this.#splitAfter = undefined;
      }
      if (this.#unplugAfter !== undefined) {
        this.#unplugAfter -= bytes?.length ?? 0;
        if (this.#unplugAfter <= 0) {
          this.#unplugAfter = undefined;
          queueMicrotask(() => this.unplug());
        }
      }
      return bytes;
    }
    if (endpointAddress === ENDPOINTS.INTERRUPT_IN) {
      if (this.#halted.has(endpointAddress)) return "stall";
      const packet = this.#interrupts.shift();
      if (packet) {
        this.#zlpDue = false;
        return packet.subarray(0, maxLength);
      }
      return this.#idlePoll();
    }
    return "stall";
  }

  /**
   * A bulk IN transfer of `limit` bytes of a long reply's data that is not a
   * whole number of packets while the camera has more to send in it: the
   * last packet is a full one and overflows the host's buffer
   * (packetOverflow, on by default). Returns how many bytes the camera puts
   * on the bus.
   */
  #overflowing(limit: number): number {
    const packet = this.model.usb.endpointPacketSize;
    if (!this.faults.packetOverflow || limit % packet === 0 || !this.#bulkIn.atLongData) {
      return limit;
    }
    const inTransfer = Math.min(
      this.#bulkIn.untilTransferEnd,
      this.#unplugAfter ?? Infinity,
      this.#splitAfter ?? Infinity,
    );
    if (inTransfer <= limit) return limit;
    return Math.min(inTransfer, limit - (limit % packet) + packet);
  }

  /**
   * How many bytes an IN endpoint could send now (for a bus model: the data
   * is taken by {@link CanonFunction.read} only when the transfer completes).
   *
   * @param endpointAddress 0x81 or 0x83
   * @returns bytes ready, or "stall" when the endpoint is halted
   */
  available(endpointAddress: number): number | "stall" {
    if (!this.#connected) return 0;
    if (this.#halted.has(endpointAddress)) return "stall";
    if (endpointAddress === ENDPOINTS.BULK_IN) {
      return Math.min(
        this.#bulkIn.untilTransferEnd,
        this.#unplugAfter ?? Infinity,
        this.#splitAfter ?? Infinity,
      );
    }
    if (endpointAddress === ENDPOINTS.INTERRUPT_IN) return this.#interrupts[0]?.length ?? 0;
    return "stall";
  }

  /**
   * A bulk OUT transfer (uploads).
   *
   * @param endpointAddress 0x02
   * @param data the bytes
   * @returns ok or stall
   */
  write(endpointAddress: number, data: Uint8Array): FunctionWrite {
    if (!this.#connected) return "stall";
    if (endpointAddress !== ENDPOINTS.BULK_OUT || this.#halted.has(endpointAddress)) return "stall";
    if (this.#uploadExpected === undefined) {
      return this.#receiveUploadBlock(data.slice());
    }
    this.#uploadParts.push(data.slice());
    this.#uploadReceived += data.length;
    if (this.#uploadReceived < this.#uploadExpected) return "ok";
    const block = concatBytes(...this.#uploadParts);
    this.#uploadExpected = undefined;
    this.#uploadParts = [];
    this.#uploadReceived = 0;
    return this.#receiveUploadBlock(block);
  }

  /**
   * The host cleared a halt.
   *
   * @param endpointAddress the endpoint
   */
  clearHalt(endpointAddress: number): void {
    this.#halted.delete(endpointAddress);
    this.#notify();
  }

  /** A USB reset: pipes and halts cleared, camera state kept. */
  reset(): void {
    this.#flushPipes();
    this.#notify();
  }

  /**
   * Be told when a read that returned null may now succeed, or on unplug.
   *
   * @param listener called without arguments
   * @returns the unsubscribe function
   */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  // ---- plumbing -----------------------------------------------------------

  #log(record: CommandRecord): void {
    this.commandLog.push(record);
    // Bounded, so that a long-running emulator does not grow without end.
    if (this.commandLog.length > COMMAND_LOG_LIMIT) {
      this.commandLog.splice(0, this.commandLog.length - COMMAND_LOG_LIMIT);
    }
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  #schedule(ms: number, action: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      action();
    }, Math.max(0, ms));
    this.#timers.add(timer);
  }

  #flushPipes(): void {
    this.dispose();
    this.#pipeGeneration++;
    this.#heldBack = undefined;
    this.#zlpTimer = false;
    this.#zlpDue = false;
    this.#initPacketPending = false;
    this.#bulkIn.clear();
    this.#interrupts.length = 0;
    this.#halted.clear();
    this.#replyGeneration++;
    this.#unplugAfter = undefined;
    this.#splitAfter = undefined;
    this.#dropNext40 = false;
    this.#uploadExpected = undefined;
    this.#uploadParts = [];
    this.#uploadReceived = 0;
  }

  /**
   * An interrupt read with nothing queued: a real camera answers the next
   * poll of the endpoint with a zero-length packet; the read waits for that
   * poll (the endpoint's interval, as the host controller schedules it).
   */
  #idlePoll(): Uint8Array | null {
    if (!this.quirks.idleZeroLengthPackets) return null;
    if (this.#zlpDue) {
      this.#zlpDue = false;
      return new Uint8Array(0);
    }
    if (!this.#zlpTimer) {
      this.#zlpTimer = true;
      const period = interruptPollPeriod(this.model);
      const now = performance.now();
      // The next poll slot, never the one already answered (a timer may fire a little early).
      const slot = Math.max(Math.floor(now / period) + 1, this.#zlpSlot + 1);
      const generation = this.#plugGeneration;
      this.#schedule(slot * period - now, () => {
        this.#zlpTimer = false;
        this.#zlpSlot = slot;
        if (generation !== this.#plugGeneration || !this.#connected) return;
        this.#zlpDue = true;
        this.#notify();
      });
    }
    return null;
  }

  #queueInterrupt(packet: Uint8Array): void {
    this.#interrupts.push(packet);
    this.#notify();
  }

  // ---- standard requests --------------------------------------------------

  #controlIn(setup: SetupPacket): Uint8Array | "stall" {
    switch (setup.bmRequestType) {
      case 0x80:
        if (setup.bRequest === 0x06) return this.#descriptor(setup.wValue);
        if (setup.bRequest === 0x00) return Uint8Array.of(0x01, 0x00); // self-powered
        if (setup.bRequest === 0x08) return Uint8Array.of(this.#configuration);
        return "stall";
      case 0x81:
        if (setup.bRequest === 0x0a) return Uint8Array.of(0); // alternate setting 0
        if (setup.bRequest === 0x00) return Uint8Array.of(0, 0);
        return "stall";
      case 0x82:
        if (setup.bRequest === 0x00) {
          return Uint8Array.of(this.#halted.has(setup.wIndex & 0xff) ? 1 : 0, 0);
        }
        return "stall";
      case 0xc0:
        return this.#vendorIn(setup);
      default:
        return "stall";
    }
  }

  #descriptor(wValue: number): Uint8Array | "stall" {
    const type = wValue >> 8;
    const index = wValue & 0xff;
    if (type === 1) return this.descriptors.device;
    if (type === 2) return this.descriptors.configuration;
    if (type !== 3) return "stall";
    if (index === 0) return Uint8Array.of(4, 3, 0x09, 0x04); // English (US)
    const text = this.descriptors.strings[index];
    if (text === undefined) return "stall";
    const out = new Uint8Array(2 + text.length * 2);
    out[0] = out.length;
    out[1] = 3;
    for (let i = 0; i < text.length; i++) putU16(out, 2 + i * 2, text.charCodeAt(i));
    return out;
  }

  #standardDeviceOut(setup: SetupPacket): FunctionWrite {
    if (setup.bRequest === 0x09) { // SET_CONFIGURATION
      if (setup.wValue > 1) return "stall";
      this.#configuration = setup.wValue;
      return "ok";
    }
    // SET_ADDRESS, CLEAR_FEATURE / SET_FEATURE (remote wakeup)
    return setup.bRequest === 0x05 || setup.bRequest === 0x01 || setup.bRequest === 0x03
      ? "ok"
      : "stall";
  }

  #standardEndpointOut(setup: SetupPacket): FunctionWrite {
    const endpoint = setup.wIndex & 0xff;
    if (setup.wValue !== 0) return "stall"; // only ENDPOINT_HALT exists
    if (setup.bRequest === 0x01) {
      this.clearHalt(endpoint);
      return "ok";
    }
    if (setup.bRequest === 0x03) {
      this.#halted.add(endpoint);
      this.#notify();
      return "ok";
    }
    return "stall";
  }

  // ---- init handshake (§2.2, §2.3) ----------------------------------------

  #vendorIn(setup: SetupPacket): Uint8Array | "stall" {
    if (setup.bRequest !== (setup.wLength > 1 ? 0x04 : 0x0c)) return "stall";
    switch (setup.wValue) {
      case 0x55: {
        const forced = this.faults.takeCamstat();
        const status = forced ?? (this.#handshakeDone ? "A" : "C");
        return Uint8Array.of(status.charCodeAt(0));
      }
      case 0x01:
        return this.#initBlock();
      case 0x04: {
        // The 'A' path: the host reads the block it would otherwise write.
        if (this.faults.missingFirst40AfterA) this.#dropNext40 = true;
        const block = new Uint8Array(0x50);
        putU32(block, 0, 0x10);
        block.set(this.#initBlock().subarray(0x48, 0x58), 0x40);
        return block;
      }
      default:
        return "stall";
    }
  }

  #initBlock(): Uint8Array {
    const model = this.model;
    const block = new Uint8Array(0x58);
    putU32(block, 0, 0x18);
    block.set(model.familyBytes, 0x40);
    if (model.initModelWord !== undefined) putU32(block, 0x44, model.initModelWord);
    else {
      putU16(block, 0x44, model.productId);
      putU16(block, 0x46, 0x04a9);
    }
    const [w48, w4c, w50, w54] = model.initWords;
    putU32(block, 0x48, w48);
    putU32(block, 0x4c, w4c);
    putU32(block, 0x50, w50);
    putU32(block, 0x54, w54);
    return block;
  }

  #handshake(data: Uint8Array): FunctionWrite {
    if (data.length !== 0x50) return "stall";
    this.#replyGeneration++;
    this.#pipeGeneration++;
    this.#heldBack = undefined;
    this.#bulkIn.clear();
    const reply = new Uint8Array(0x44);
    putU32(reply, 0, 4);
    reply[4] = 0x02;
    reply[5] = 0x03;
    this.#bulkIn.push(bytesSource(reply));
    this.#handshakeDone = true;
    this.#notify();
    if (this.quirks.lateInitPacket && this.model.lateInitPacket) {
      // The 20D sends it 8 bytes at a time; in the strict mode only after "power supply status".
      this.#initPacketPending = true;
      if (this.quirks.lateInitPacket !== "after-power-status") this.#sendLateInitPacket();
    } else {
      this.#queueInterrupt(INIT_PACKET.slice());
    }
    return "ok";
  }

  // ---- command framing (§3) -----------------------------------------------

  #parse(block: Uint8Array): Command | undefined {
    if (block.length < 0x50) return undefined;
    const length = u32At(block, 0);
    const cmd3 = u32At(block, 4);
    const wellFormed = length === block.length - 0x40 && u32At(block, 0x48) === length &&
      block[0x40] === 0x02 && this.#byte46Ok(cmd3, block[0x46]);
    return {
      cmd1: block[0x44],
      cmd2: block[0x47],
      cmd3,
      serial: u32At(block, 0x4c),
      payload: block.slice(0x50),
      wellFormed,
    };
  }

  /** The new protocol requires byte 0x46 = 0x10 (fixed) or 0x20 (long) (§3.1); the old, anything. */
  #byte46Ok(cmd3: number, value: number): boolean {
    if (!this.#newProtocol) return true;
    if (cmd3 === FIXED) return value === 0x10;
    if (cmd3 === LONG) return value === 0x20;
    return true;
  }

  /** Class 6: the new protocol generation (§1.1). */
  get #newProtocol(): boolean {
    return this.model.cameraClass === 6;
  }

  /** cmd1 of remote control: 0x13 old, 0x25 new (§4.4). */
  get #remoteCode(): number {
    return this.#newProtocol ? 0x25 : REMOTE_CONTROL;
  }

  #receiveCommand(block: Uint8Array): FunctionWrite {
    // The pre-header's cmd3 is a half-word: its length word at offset 6 follows right after.
    if (block.length === 0x40 && u16At(block, 4) === UPLOAD_HEADER) {
      return this.#receiveUploadHeader(block);
    }
    const command = this.#parse(block);
    if (!command) return "stall";
    this.#answer(command);
    return "ok";
  }

  /**
   * A command arrived. A real camera leaves a reply the host did not read in
   * the pipe, to be read before the new one (late replies, on by default);
   * off, the new command supersedes it.
   */
  #newReply(): void {
    this.#replyGeneration++;
    this.#bulkIn.dropSurplus();
    if (!this.faults.lateReplies) {
      this.#bulkIn.clear();
      this.#heldBack = undefined;
    }
  }

  #answer(command: Command): void {
    this.#newReply();
    this.#unplugAfter = undefined;
    this.#splitAfter = undefined;

    const subcommand = command.cmd1 === this.#remoteCode && command.cmd2 === 0x12 &&
        command.cmd3 === FIXED && command.payload.length >= 4
      ? u32At(command.payload, 0)
      : undefined;
    const fault = this.faults.takeFor({ ...command, subcommand });
    const record = {
      cmd1: command.cmd1,
      cmd2: command.cmd2,
      cmd3: command.cmd3,
      serial: command.serial,
      payloadLength: command.payload.length,
      ...(subcommand === undefined ? {} : { subcommand }),
      status: 0,
    };
    if (fault?.kind === "unplug" && fault.afterBytes === undefined) {
      this.#log(record);
      this.unplug();
      return;
    }

    let sources: ByteSource[];
    const handler = this.#handlers.get(key(command.cmd1, command.cmd2, command.cmd3));
    const isLong = handler ? handler.kind === "long" : command.cmd3 === LONG;
    if (isLong) {
      const data = handler?.kind === "long" && command.wellFormed
        ? this.#guardLong(() => handler.run(command))
        : bytesSource(new Uint8Array(0));
      sources = this.#frameLong(data, fault);
    } else {
      const fixed = handler?.kind === "fixed" ? handler : undefined;
      const length = fixed ? fixed.length(command) : 0x54;
      let answer: FixedAnswer;
      if (fault?.kind === "status") answer = { status: fault.status };
      else if (!fixed || !command.wellFormed) {
        answer = { status: CAMERA_STATUS.INVALID_PARAMETERS };
      } else answer = this.#guardFixed(() => fixed.run(command));
      record.status = answer.status;
      const reply = this.#frameFixed(command, length, answer, fault);
      // A reply that ends in a short packet ends its transfer there.
      const short = reply.length % this.model.usb.endpointPacketSize !== 0;
      sources = [{ ...bytesSource(reply), endsTransfer: short }];
    }
    this.#log(record);
    if (this.#timing && !fault) {
      const replyBytes = sources.reduce((n, source) => n + source.size, 0) - 0x40;
      const delay = this.#timing.replyDelayMs({ ...command, subcommand }, replyBytes);
      if (delay > 0) {
        const generation = this.#replyGeneration;
        this.#schedule(delay, () => {
          if (generation !== this.#replyGeneration || !this.#connected) return;
          this.#deliver(sources);
        });
        return;
      }
    }
    this.#deliver(sources, fault);
  }

  #guardFixed(run: () => FixedAnswer): FixedAnswer {
    try {
      return run();
    } catch (error) {
      if (error instanceof CardError) return { status: error.status };
      throw error;
    }
  }

  #guardLong(run: () => ByteSource): ByteSource {
    try {
      return run();
    } catch (error) {
      if (error instanceof CardError) return bytesSource(new Uint8Array(0));
      throw error;
    }
  }

  #frameFixed(command: Command, length: number, answer: FixedAnswer, fault?: Fault): Uint8Array {
    let total = length;
    if (fault?.kind === "oversize") total += Math.max(0, fault.extra);
    const reply = new Uint8Array(total);
    const claimed = fault?.kind === "garble" ? total - 0x40 + 0x100 : total - 0x40;
    const lies = fault?.kind === "garble" || fault?.kind === "oversize";
    putU32(reply, 0, this.model.fixedReplyWord0 === "length" || lies ? claimed : 0);
    const cmd3Echo = command.cmd3 === UPLOAD_BLOCK ? 0x303 : command.cmd3 + 0x100;
    putU16(reply, 4, fault?.kind === "garble" ? 0xeeee : cmd3Echo);
    putU32(reply, 0x40, 2);
    reply[0x44] = answer.echo ?? command.cmd1;
    reply[0x46] = this.model.cameraClass === 6 ? 0x10 : 0;
    reply[0x47] = command.cmd2 + 0x10;
    putU32(reply, 0x48, claimed);
    putU32(reply, 0x4c, command.serial);
    putU32(reply, 0x50, answer.status);
    if (answer.data) reply.set(answer.data.subarray(0, Math.max(0, length - 0x54)), 0x54);
    return reply;
  }

  #frameLong(data: ByteSource, fault?: Fault): ByteSource[] {
    const header = new Uint8Array(0x40);
    putU16(header, 4, 0x302);
    const announced = fault?.kind === "length-claim" ? fault.length : data.size;
    header[6] = announced & 0xff;
    header[7] = (announced >>> 8) & 0xff;
    header[8] = (announced >>> 16) & 0xff;
    header[9] = (announced >>> 24) & 0xff;
    if (fault?.kind === "garble") {
      putU16(header, 4, 0xeeee);
      putU32(header, 0, data.size + 0x100);
    }
    // The header is a transfer of its own (a short packet at high speed).
    const sources = [{ ...bytesSource(header), endsTransfer: true }, ...this.#transfersOf(data)];
    if (fault?.kind === "oversize") {
      // The surplus comes as a transfer of its own, after the reply's.
      sources.splice(0, sources.length, ...endEachReply(sources));
      sources.push({ ...bytesSource(new Uint8Array(fault.extra)), surplus: true });
    }
    return sources;
  }

  /**
   * A long reply's data as the camera sends it: a class-6 camera ends its
   * transfers early (shortTransfers, on by default), in the blocks the EOS
   * 20D's download shows in Protocol.xml: one transfer length, 0x10c0, then
   * 0x40 and transfer length − 0x140 in turn.
   */
  #transfersOf(source: ByteSource): ByteSource[] {
    const data: ByteSource = { size: source.size, bytes: source.bytes, longData: true };
    if (!this.#newProtocol || !this.faults.shortTransfers || data.size === 0) return [data];
    const word = this.model.initWords[1];
    const length = word === 0xffffffff || word < 0x200 ? 0x1400 : word - (word % 0x40);
    return segmentSource(data, [length, 0x10c0, 0x40, length - 0x140], 2);
  }

  #deliver(framed: ByteSource[], fault?: Fault): void {
    let sources = endEachReply(framed);
    if (this.#heldBack && fault?.kind !== "delay") {
      // The camera is still busy with an earlier command: this reply comes after its.
      this.#heldBack.push(
        fault?.kind === "truncate" ? limitSources(sources, fault.length) : sources,
      );
      return;
    }
    if (fault?.kind === "truncate") sources = limitSources(sources, fault.length);
    if (this.#dropNext40) {
      this.#dropNext40 = false;
      sources = dropSources(sources, 0x40);
    }
    switch (fault?.kind) {
      case "silent":
        return;
      case "stall":
        this.#halted.add(ENDPOINTS.BULK_IN);
        this.#notify();
        return;
      case "delay": {
        const generation = this.#replyGeneration;
        const pipes = this.#pipeGeneration;
        const late = this.faults.lateReplies;
        if (late) this.#heldBack ??= [];
        this.#schedule(fault.ms, () => {
          if (!this.#connected || pipes !== this.#pipeGeneration) return;
          if (!late && generation !== this.#replyGeneration) return;
          this.#bulkIn.push(...sources);
          if (late) {
            // The replies to the commands that came meanwhile follow, in order.
            for (const held of this.#heldBack ?? []) this.#bulkIn.push(...held);
            this.#heldBack = undefined;
          }
          this.#notify();
        });
        return;
      }
      case "drip": {
        const pipes = this.#pipeGeneration;
        const step = Math.max(1, Math.floor(fault.bytes));
        const all = sources.reduce((n, source) => n + source.size, 0);
        let sent = 0;
        // The camera is busy until the reply is out: later replies wait behind it.
        this.#heldBack ??= [];
        const next = () => {
          if (!this.#connected || pipes !== this.#pipeGeneration) return;
          if (sent >= all) {
            for (const held of this.#heldBack ?? []) this.#bulkIn.push(...held);
            this.#heldBack = undefined;
            this.#notify();
            return;
          }
          // A long reply's header comes whole (it is a transfer of its own); the rest drips.
          const size = sent === 0 && sources.length > 1 && sources[0].endsTransfer
            ? sources[0].size
            : step;
          const part = limitSources(dropSources(sources, sent), size);
          sent += size;
          this.#bulkIn.push(...part.map((p) => ({ ...p, endsTransfer: true })));
          this.#notify();
          this.#schedule(fault.everyMs, next);
        };
        next();
        return;
      }
      case "flood":
        this.#bulkIn.push(...sources, {
          size: Number.MAX_SAFE_INTEGER,
          bytes: (_offset, n) => new Uint8Array(n),
        });
        this.#notify();
        return;
      case "unplug":
        this.#unplugAfter = fault.afterBytes;
        break;
      case "split":
        this.#splitAfter = fault.at > 0 ? fault.at : undefined;
        break;
    }
    this.#bulkIn.push(...sources);
    if (this.#unplugAfter === 0) {
      this.#unplugAfter = undefined;
      this.unplug();
      return;
    }
    this.#notify();
  }

  // ---- the command table (§4.1) -------------------------------------------

  #commandTable(): Map<number, Handler> {
    const table = new Map<number, Handler>();
    const fixed = (
      cmd1: number,
      cmd2: number,
      length: number | ((command: Command) => number),
      run: (command: Command) => FixedAnswer,
    ) => {
      const lengthOf = typeof length === "number" ? () => length : length;
      table.set(key(cmd1, cmd2, FIXED), { kind: "fixed", length: lengthOf, run });
    };
    const long = (cmd1: number, cmd2: number, run: (command: Command) => ByteSource) => {
      table.set(key(cmd1, cmd2, LONG), { kind: "long", run });
    };

    // camera control (cmd2 0x12), both generations
    fixed(0x01, 0x12, 0x9c, () => this.#identify());
    fixed(0x03, 0x12, 0x60, () => this.#getTime());
    fixed(0x04, 0x12, 0x54, (c) => this.#setTime(c));
    const rc = (c: Command) => this.#remoteControl(c);
    if (this.#newProtocol) {
      // The overloaded codes of §4.1: 0x05 get owner, 0x13 power, 0x1D custom functions.
      fixed(0x05, 0x12, 0x74, () => this.#getOwner());
      fixed(0x06, 0x12, 0x54, (c) => this.#setOwner(c));
      fixed(0x13, 0x12, 0x58, () => this.#powerStatus());
      fixed(0x25, 0x12, (c) => this.#remoteLength(c), rc);
      fixed(0x1d, 0x12, 0x94, () => this.#customFunctions());
      fixed(0x23, 0x12, 0x58, () => this.#bodyId());
      // Lock keys 2 answers 12 zero data bytes; unlock when not locked 0x00000086 (§4.3.16).
      fixed(0x35, 0x12, 0x5c, () => this.#eosLockKeys());
      fixed(0x36, 0x12, 0x54, () => this.#eosUnlockKeys(0x00000086));
      // "20D unknown 2", sent after a release (§4.5): answered, meaning unknown.
      fixed(0x22, 0x12, 0x54, () => ({ status: 0 }));
    } else {
      fixed(0x05, 0x12, 0x54, (c) => this.#setOwner(c));
      fixed(0x0a, 0x12, 0x58, () => this.#powerStatus());
      fixed(REMOTE_CONTROL, 0x12, (c) => this.#remoteLength(c), rc);
      if (this.model.cameraClass === 4) {
        fixed(0x1b, 0x12, 0x54, () => this.#eosLockKeys());
        fixed(0x1c, 0x12, 0x54, () => this.#eosUnlockKeys(0x02000082));
        fixed(0x1d, 0x12, 0x58, () => this.#bodyId());
      }
    }
    if (this.model.genericLockKeys) fixed(0x20, 0x12, 0x54, () => this.#lockKeys());
    // §4.3.17 and §4.4.4: pictures kept for the host, viewfinder frames.
    long(this.model.cameraClass === 6 ? 0x26 : 0x17, 0x12, (c) => this.#retrieveCapture(c));
    long(0x18, 0x12, () => this.#viewfinderFrame());
    const abilities = this.model.pictureAbilities;
    if (abilities) {
      fixed(
        this.#newProtocol ? 0x24 : 0x1f,
        0x12,
        abilities.replyLength,
        () => this.#pictureAbilities(),
      );
    }

    // storage (cmd2 0x11)
    long(0x01, 0x11, (c) => this.#getFile(c));
    fixed(0x05, 0x11, 0x54, (c) => this.#mkdir(c));
    fixed(0x06, 0x11, 0x54, (c) => this.#rmdir(c));
    long(0x0b, 0x11, (c) => this.#getDirectory(c));
    fixed(0x0f, 0x11, 0x54, (c) => this.#setFileTime(c));
    if (this.#newProtocol) {
      fixed(0x0d, 0x11, 0x5c, (c) => this.#diskInfo(c));
      long(0x0e, 0x11, () => this.#flashDeviceIdent());
      // The 350D refuses delete and set attributes with 0x00000086 (gphoto2 issue #92,
      // pibooth issue #613); the 20D answers set attributes with 0 and changes nothing
      // (Protocol.xml). With the quirk off, both do what they are asked.
      const limited = () => this.quirks.fileCommandLimits;
      const refuses = this.model.refusesFileCommands === true;
      fixed(
        0x0a,
        0x11,
        0x54,
        (c) => limited() && refuses ? { status: 0x00000086 } : this.#deleteFileNew(c),
      );
      fixed(
        0x07,
        0x11,
        0x54,
        (c) => limited() ? { status: refuses ? 0x00000086 : 0 } : this.#setAttributes(c),
      );
    } else {
      fixed(0x09, 0x11, 0x5c, (c) => this.#diskInfo(c));
      long(0x0a, 0x11, () => this.#flashDeviceIdent());
      fixed(0x0d, 0x11, 0x54, (c) => this.#deleteFile(c));
      fixed(0x0e, 0x11, 0x54, (c) => this.#setAttributes(c));
    }
    return table;
  }

  // ---- camera commands (§4.3.1–4.3.3, 4.3.12, 4.3.13, 4.3.16) -------------

  #identify(): FixedAnswer {
    const data = new Uint8Array(0x9c - 0x54);
    data.set(this.model.identifyBytes, 0x00); // 0x54
    data.set(this.#firmware, 0x04); // 0x58
    putString(data, 0x08, 32, this.model.identifyName); // 0x5C
    // The new protocol leaves 0x7C zero: the owner comes from GetOwner (§4.3.1).
    if (!this.#newProtocol) putString(data, 0x28, 32, this.#owner); // 0x7C
    return { status: 0, data };
  }

  #getOwner(): FixedAnswer {
    const data = new Uint8Array(0x74 - 0x54);
    putString(data, 0, 32, this.#owner); // 0x54
    return { status: 0, data };
  }

  #bodyId(): FixedAnswer {
    const data = new Uint8Array(4);
    putU32(data, 0, this.model.bodyId ?? 0); // 0x54
    return { status: 0, data };
  }

  #customFunctions(): FixedAnswer {
    // Two bytes per function from 0x58: its value, then its number (a real 20D's reply).
    const values = (this.model.customFunctions ?? []).slice(0, (0x94 - 0x58) / 2);
    const data = new Uint8Array(0x94 - 0x54);
    putU32(data, 0, 4 + 2 * values.length); // 0x54: byte count, itself included
    values.forEach((value, i) => data.set([value, i + 1], 4 + 2 * i));
    return { status: 0, data };
  }

  /** EOS lock (0x1B old, 0x35 new); the new reply carries 12 zero data bytes. */
  #eosLockKeys(): FixedAnswer {
    this.#keysLocked = true;
    return { status: 0, data: new Uint8Array(8) };
  }

  /** EOS unlock (0x1C old, 0x36 new); `notLocked` is the status when nothing was locked. */
  #eosUnlockKeys(notLocked: number): FixedAnswer {
    if (!this.#keysLocked) return { status: notLocked };
    this.#keysLocked = false;
    return { status: 0 };
  }

  #getTime(): FixedAnswer {
    const data = new Uint8Array(0x0c);
    putU32(data, 0, this.cameraTime());
    return { status: 0, data };
  }

  #setTime(command: Command): FixedAnswer {
    if (command.payload.length !== 12) return { status: CAMERA_STATUS.INVALID_PARAMETERS };
    this.#clockOffset = u32At(command.payload, 0) - hostLocalSeconds();
    return { status: 0 };
  }

  #checkOwner(owner: string): void {
    if (owner.length + 1 > 31) {
      throw new RangeError(`owner names are at most 30 characters, got ${owner.length}`);
    }
  }

  #setOwner(command: Command): FixedAnswer {
    const name = stringAt(command.payload, 0).text;
    if (name.length + 1 > 31) return { status: CAMERA_STATUS.INVALID_PARAMETERS };
    this.#owner = name;
    return { status: 0 };
  }

  #sendLateInitPacket(): void {
    if (!this.#initPacketPending) return;
    this.#initPacketPending = false;
    this.#queueInterrupt(INIT_PACKET.slice(0, 8));
    this.#queueInterrupt(INIT_PACKET.slice(8));
  }

  #powerStatus(): FixedAnswer {
    if (this.#initPacketPending) queueMicrotask(() => this.#sendLateInitPacket());
    const data = new Uint8Array(4);
    data[0] = this.power.low ? 0x04 : 0x06; // 0x54
    data[3] = this.power.source === "battery" ? 0x30 : 0x10; // 0x57
    return { status: 0, data };
  }

  #lockKeys(): FixedAnswer {
    // Class 1 needs "get picture abilities" first (§1.1); chosen: refused as a failed lock.
    if (this.model.lockNeedsAbilities && !this.#abilitiesRead) return { status: 0x02000081 };
    this.#keysLocked = true;
    return { status: 0, echo: this.model.lockKeysEcho };
  }

  #pictureAbilities(): FixedAnswer {
    this.#abilitiesRead = true;
    const abilities = this.model.pictureAbilities!;
    const data = new Uint8Array(abilities.replyLength - 0x54);
    putU16(data, 0x00, abilities.structureSize); // 0x54
    data.set(abilities.modelCode, 0x02); // 0x56
    putString(data, 0x06, 32, abilities.name, 0xff); // 0x5A
    putU32(data, 0x26, abilities.entries.length); // 0x7A
    abilities.entries.forEach((entry, i) => {
      const at = 0x2a + i * 32; // 0x7E + i * 32
      putString(data, at, 20, entry.name);
      putU32(data, at + 20, entry.height);
      putU32(data, at + 24, entry.width);
      putU32(data, at + 28, entry.compression);
    });
    return { status: 0, data };
  }

  // ---- remote control (§4.4, errata E3) -----------------------------------

  #remoteTable(): Map<number, RemoteHandler> {
    const table = new Map<number, RemoteHandler>();
    const add = (
      code: number,
      length: number | ((params: Uint8Array) => number),
      run: (params: Uint8Array) => FixedAnswer,
      needsRemoteMode = true,
    ) => {
      const lengthOf = typeof length === "number" ? () => length : length;
      table.set(code, { length: lengthOf, run, needsRemoteMode });
    };
    add(0x00, 0x5c, () => this.#remoteInit(), false);
    add(0x01, 0x5c, () => {
      this.#leaveRemoteMode();
      return { status: 0 };
    }, false);
    add(0x02, 0x5c, () => {
      this.#viewfinder = true;
      return { status: 0 };
    });
    add(0x03, 0x5c, () => {
      this.#viewfinder = false;
      return { status: 0 };
    });
    add(0x04, 0x5c, () => this.#release());
    add(0x07, 0x5c, (p) => this.#setReleaseParams(p));
    add(0x09, 0x5c, (p) => this.#setTransferMode(p));
    add(0x0a, 0x8c, () => {
      const data = new Uint8Array(0x8c - 0x58);
      putU32(data, 0, 0x30); // 0x58: byte count
      data.set(this.#releaseParams, 4); // 0x5C
      return { status: 0, data };
    });
    add(0x0b, 0x60, () => {
      const data = new Uint8Array(8);
      putU32(data, 0, 4); // 0x58
      data[4] = this.#zoom; // 0x5C
      data[6] = this.model.zoomMax; // 0x5E
      return { status: 0, data };
    });
    add(0x0c, 0x5c, (p) => {
      const position = u32At(p, 4);
      if (p.length < 8 || position > this.model.zoomMax) {
        return { status: CAMERA_STATUS.INVALID_PARAMETERS };
      }
      this.#zoom = position;
      return { status: 0 };
    });
    add(0x0d, 0x60, () => {
      const data = new Uint8Array(8);
      putU32(data, 0, 4);
      putU32(data, 4, this.#availableShots());
      return { status: 0, data };
    });
    add(0x10, 0x60, () => {
      const data = new Uint8Array(8);
      putU32(data, 0, 4);
      putU32(data, 4, this.#extendedParams.length);
      return { status: 0, data };
    });
    add(0x12, (p) => 0x5c + this.#extendedSizeAsked(p), (p) => {
      const size = this.#extendedSizeAsked(p);
      if (size !== this.#extendedParams.length) {
        return { status: CAMERA_STATUS.INVALID_PARAMETERS };
      }
      const data = new Uint8Array(4 + size);
      putU32(data, 0, size); // 0x58
      data.set(this.#extendedParams, 4); // 0x5C
      return { status: 0, data };
    });
    add(0x13, 0x5c, (p) => {
      const size = u32At(p, 0);
      const block = p.subarray(4, 4 + size);
      if (size !== this.#extendedParams.length || block.length !== size) {
        return { status: CAMERA_STATUS.INVALID_PARAMETERS };
      }
      this.#extendedParams.set(block);
      return { status: 0 };
    });
    // Old EOS custom functions (§4.4.2): one per request, 0 (the default) unless the profile says.
    if (this.model.cameraClass === 4) add(0x0f, 0x66, (p) => this.#customFunction(p));
    add(0x14, 0x5c, (p) => {
      const output = p[4];
      if (u32At(p, 0) !== 1 || !(output >= 1 && output <= 3)) {
        return { status: CAMERA_STATUS.INVALID_PARAMETERS };
      }
      this.#output = output;
      return { status: 0 };
    });
    return table;
  }

  /** RC 0x0F: word 0x0A, half index, 8 bytes → word 0x0A, index twice, the value at 0x60. */
  #customFunction(params: Uint8Array): FixedAnswer {
    const index = params.length >= 6 ? params[4] | (params[5] << 8) : 0;
    if (u32At(params, 0) !== 0x0a || index < 1 || index > 0x0f) {
      return { status: CAMERA_STATUS.INVALID_PARAMETERS };
    }
    const data = new Uint8Array(0x66 - 0x58);
    putU32(data, 0, 0x0a); // 0x58
    putU16(data, 4, index); // 0x5C
    putU16(data, 6, index); // 0x5E
    putU16(data, 8, this.model.customFunctions?.[index - 1] ?? 0); // 0x60
    return { status: 0, data };
  }

  #extendedSizeAsked(params: Uint8Array): number {
    const size = u32At(params, 4);
    return size <= 0x400 ? size : 0;
  }

  #remoteLength(command: Command): number {
    if (command.payload.length < 4) return 0x5c;
    const sub = this.#remote.get(u32At(command.payload, 0));
    return sub ? sub.length(command.payload.subarray(4)) : 0x5c;
  }

  #remoteControl(command: Command): FixedAnswer {
    if (this.#newProtocol) {
      // New protocol: the payload ends with one extra zero byte, so the block is odd (§4.4.1).
      const p = command.payload;
      if (p.length % 2 === 0 || p[p.length - 1] !== 0) {
        return { status: CAMERA_STATUS.INVALID_PARAMETERS };
      }
      command = { ...command, payload: p.subarray(0, p.length - 1) };
    }
    if (command.payload.length < 4) return { status: CAMERA_STATUS.INVALID_PARAMETERS };
    const code = u32At(command.payload, 0);
    const sub = this.#remote.get(code);
    const echo = (answer: FixedAnswer): FixedAnswer => {
      const data = new Uint8Array(4 + (answer.data?.length ?? 4));
      putU32(data, 0, code); // 0x54
      if (answer.data) data.set(answer.data, 4); // 0x58
      return { status: answer.status, data };
    };
    if (!sub || (sub.needsRemoteMode && !this.#remoteMode)) {
      return echo({ status: CAMERA_STATUS.INVALID_PARAMETERS });
    }
    return echo(sub.run(command.payload.subarray(4)));
  }

  #remoteInit(): FixedAnswer {
    if (this.#remoteMode) return { status: CAMERA_STATUS.CAPTURE_MODE_FAILED };
    this.#remoteMode = true;
    this.#captureKey = 0;
    return { status: 0 };
  }

  /** Out of remote mode: the viewfinder stops and pictures not fetched are gone (§4.3.17). */
  #leaveRemoteMode(): void {
    this.#remoteMode = false;
    this.#viewfinder = false;
    this.#captures.clear();
  }

  #setTransferMode(params: Uint8Array): FixedAnswer {
    if (params.length < 8 || u32At(params, 0) !== 4) {
      return { status: CAMERA_STATUS.INVALID_PARAMETERS };
    }
    const mode = u32At(params, 4) & 0x0f;
    if (
      mode & (TRANSFER_MODE.THUMB_TO_DRIVE | TRANSFER_MODE.FULL_TO_DRIVE) && !this.#roomForShot()
    ) {
      return { status: CAMERA_STATUS.CARD_FULL };
    }
    this.#transferMode = mode;
    return { status: 0 };
  }

  #setReleaseParams(params: Uint8Array): FixedAnswer {
    const count = u32At(params, 0);
    const block = params.subarray(4);
    // gphoto2 announces 0x30 bytes and sends 0x2F (§4.4.5); accept what arrives, up to 0x30.
    if (count === 0 || count > 0x30 || block.length === 0) {
      return { status: CAMERA_STATUS.INVALID_PARAMETERS };
    }
    const next = this.#releaseParams.slice();
    next.set(block.subarray(0, Math.min(count, block.length, 0x30)));
    // A value the body does not take leaves the old byte: the host sees it on reading back.
    const limits = this.model.releaseLimits;
    if (limits) {
      const keep = (at: number, ok: boolean) => {
        if (!ok) next[at] = this.#releaseParams[at];
      };
      keep(0x1a, limits.iso.includes(next[0x1a]));
      keep(0x1c, next[0x1c] >= limits.aperture[0] && next[0x1c] <= limits.aperture[1]);
      keep(0x1e, next[0x1e] >= limits.shutter[0] && next[0x1e] <= limits.shutter[1]);
    }
    this.#releaseParams.set(next);
    return { status: 0 };
  }

  #imageSize(): { width: number; height: number; bytes: number } {
    const quality = this.#releaseParams[0x01];
    const format = this.#releaseParams[0x02];
    const sizeCode = this.#releaseParams[0x03];
    const [height, width] = format === 0x02
      ? this.model.imageSizes[0]
      : this.model.imageSizes[sizeCode] ?? this.model.imageSizes[0];
    const perPixel = this.model.bytesPerPixel[format === 0x02 ? 0x04 : quality] ?? 0.36;
    return { width, height, bytes: Math.ceil(width * height * perPixel) };
  }

  #availableShots(): number {
    const card = this.card;
    if (!card?.present) return 0;
    return Math.floor(card.free / this.#imageSize().bytes);
  }

  #roomForShot(): boolean {
    return this.#availableShots() > 0;
  }

  #release(): FixedAnswer {
    const toDrive = this.#transferMode &
      (TRANSFER_MODE.THUMB_TO_DRIVE | TRANSFER_MODE.FULL_TO_DRIVE);
    if (toDrive && !this.#roomForShot()) return { status: CAMERA_STATUS.CARD_FULL };
    const plug = this.#plugGeneration;
    const mode = this.#transferMode;
    const block = this.#releaseParams.slice();
    const fault = this.faults.takeCapture();
    if (fault?.kind === "capture-silent") return { status: 0 };
    const live = () => plug === this.#plugGeneration && this.#connected;
    const eos = this.model.cameraClass === 4;
    // Each event is its own interrupt transfer (errata §2.1), in the order of §4.4.3:
    // started, the descriptors asked for, finished; EOS bodies of class 4 then "written to
    // card" (when storing) and "complete" (not the 300D). The 20D (class 6) sends only its
    // descriptors (byte 0x10 = 2) and "written to card": no started/finished.
    this.#schedule(this.#captureLatencyMs, () => {
      if (!live()) return;
      if (!this.#newProtocol || fault) this.#queueInterrupt(statusPacket(0x1c));
      this.#schedule(RELEASE_GAP_MS, () => {
        if (!live()) return;
        if (fault?.kind === "capture-failure") {
          this.#queueInterrupt(failurePacket(fault.code));
          return;
        }
        const picture = this.#takePicture(block, toDrive !== 0);
        const version = this.#newProtocol ? 2 : 1;
        if (picture && mode & (TRANSFER_MODE.THUMB_TO_PC | TRANSFER_MODE.FULL_TO_PC)) {
          const key = ++this.#captureKey;
          this.#captures.set(key, picture);
          if (mode & TRANSFER_MODE.THUMB_TO_PC) {
            this.#queueInterrupt(descriptorPacket(0x08, key, picture.thumbnail.length, version));
          }
          if (mode & TRANSFER_MODE.FULL_TO_PC) {
            this.#queueInterrupt(descriptorPacket(0x0c, key, picture.full.length, version));
          }
        }
        if (!this.#newProtocol) this.#queueInterrupt(statusPacket(0x1d));
        if ((eos || this.#newProtocol) && toDrive) this.#queueInterrupt(eventPacket(0x0e));
        if (eos && this.model.productId !== 0x3084) this.#queueInterrupt(eventPacket(0x0f));
        if (this.quirks.unsolicitedPackets) {
          for (const late of this.model.unsolicitedAfterCapture ?? []) {
            this.#schedule(late.afterMs, () => {
              if (live()) this.#queueInterrupt(Uint8Array.from(late.packet));
            });
          }
        }
      });
    });
    return { status: 0 };
  }

  /**
   * The picture just taken, with the settings of `block` in its EXIF and the
   * number the camera gives its next file drawn in it; written to the card as
   * that file when `toCard`.
   */
  #takePicture(block: Uint8Array, toCard: boolean): TakenPicture | undefined {
    const card = this.card;
    const capturing = card?.present && isCapturingCard(card) ? card : undefined;
    let path: string | undefined;
    try {
      path = capturing?.nextImagePath();
    } catch (error) {
      if (!(error instanceof CardError)) throw error;
    }
    const number = Number.parseInt(/(\d{4})\.JPG$/.exec(path ?? "")?.[1] ?? "0", 10) ||
      this.#captureKey + 1;
    const { width, height } = this.#imageSize();
    const date = this.cameraTime();
    const picture = takePicture({
      width,
      height,
      number,
      date,
      model: this.model.identifyName,
      exposure: exposureOf(block, /EOS|Rebel/.test(this.model.identifyName)),
    });
    if (toCard && capturing && path) {
      try {
        capturing.addFile(path, picture.full, date);
      } catch (error) {
        // A full or protected card: the shot is lost, as on a camera whose card filled up.
        if (!(error instanceof CardError)) throw error;
      }
    }
    return picture;
  }

  /** 0x17/0x12 (class 6: 0x26): word 0, block size, type (1 thumbnail, 2 full, 3 secondary), key. */
  #retrieveCapture(command: Command): ByteSource {
    const empty = bytesSource(new Uint8Array(0));
    if (!this.#remoteMode || command.payload.length < 16) return empty;
    const type = u32At(command.payload, 8);
    const picture = this.#captures.get(u32At(command.payload, 12));
    if (!picture) return empty;
    if (type === 1) return bytesSource(picture.thumbnail);
    if (type === 2) return bytesSource(picture.full);
    return empty; // no secondary image: the virtual camera records JPEG only
  }

  /** 0x18/0x12: one 320×240 frame while the viewfinder runs (RC 0x02 … 0x03), else nothing. */
  #viewfinderFrame(): ByteSource {
    if (!this.#remoteMode || !this.#viewfinder) return bytesSource(new Uint8Array(0));
    return bytesSource(viewfinderFrame(++this.#frames, this.#zoom));
  }

  // ---- storage (§4.3.4–4.3.11) --------------------------------------------

  /** The card, or a NO_CARD error. */
  #presentCard(): CardFileSystem {
    const card = this.card;
    if (!card?.present) throw new CardError(CARD_STATUS.NO_CARD, "no card in the camera");
    return card;
  }

  /**
   * "D:\DCIM\100CANON" → ["DCIM", "100CANON"]; undefined for another drive.
   * Backslashes or slashes, any case (FAT is case-insensitive), trailing
   * separator ignored.
   */
  #cardPath(text: string): string[] | undefined {
    const drive = this.model.drive.toUpperCase();
    if (text.slice(0, drive.length).toUpperCase() !== drive) return undefined;
    const rest = text.slice(drive.length);
    if (rest.length > 0 && rest[0] !== "\\" && rest[0] !== "/") return undefined;
    return rest.split(/[\\/]/).filter((part) => part.length > 0).map((part) => part.toUpperCase());
  }

  #pathOrInvalid(text: string): string[] {
    const path = this.#cardPath(text);
    if (!path) throw new CardError(CARD_STATUS.PATH_NOT_FOUND, `no drive in "${text}"`);
    return path;
  }

  #flashDeviceIdent(): ByteSource {
    const data = new Uint8Array(4);
    data.set(latin1(this.model.drive).subarray(0, 3));
    return bytesSource(data);
  }

  #diskInfo(command: Command): FixedAnswer {
    const path = this.#pathOrInvalid(stringAt(command.payload, 0).text);
    if (path.length !== 0) return { status: CAMERA_STATUS.INVALID_PARAMETERS };
    const card = this.#presentCard();
    const scale = this.model.diskInfoUnit === "KiB" ? 1024 : 1;
    const clamp = (n: number) => Math.min(0xffffffff, Math.floor(n / scale));
    const data = new Uint8Array(8);
    putU32(data, 0, clamp(card.capacity)); // 0x54
    putU32(data, 4, clamp(card.free)); // 0x58
    return { status: 0, data };
  }

  #getDirectory(command: Command): ByteSource {
    const depth = command.payload[0] ?? 0;
    const requested = stringAt(command.payload, 1).text;
    const terminator = new Uint8Array(11);
    const path = this.#cardPath(requested);
    const card = this.card;
    const node = path && card?.present ? card.find(path) : undefined;
    if (!node?.isDirectory) return bytesSource(terminator);
    const parts: Uint8Array[] = [entry(CARD_ATTRIBUTE.DESCENDED, 0, node.mtime, requested)];
    listInto(parts, node, depth);
    parts.push(terminator);
    return bytesSource(concatBytes(...parts));
  }

  #getFile(command: Command): ByteSource {
    const empty = bytesSource(new Uint8Array(0));
    const payload = command.payload;
    if (payload.length < 9) return empty;
    const thumbnail = u32At(payload, 0) === 1;
    // Old: flag, block size, path; new: flag, path, two NULs (§4.3.7).
    const path = this.#cardPath(stringAt(payload, this.#newProtocol ? 4 : 8).text);
    const card = this.card;
    if (!path || !card?.present) return empty;
    const node = card.find(path);
    if (!node || node.isDirectory) return empty;
    if (thumbnail) {
      const blob = card.thumbnailBlob(path);
      return blob ? bytesSource(blob) : empty;
    }
    // Streamed from the card as the host reads: memory stays bounded for any file size.
    return {
      size: node.size,
      bytes: (offset, length) => card.read(path, offset, length),
    };
  }

  /** dir NUL name NUL [name NUL ...] NUL → the directory and the names. */
  #dirAndNames(payload: Uint8Array, start: number): { dir: string[]; names: string[] } {
    const first = stringAt(payload, start);
    const dir = this.#pathOrInvalid(first.text);
    const names: string[] = [];
    let at = first.next;
    while (first.terminated && at < payload.length) {
      const next = stringAt(payload, at);
      if (next.text.length === 0) break;
      names.push(next.text.toUpperCase());
      at = next.next;
    }
    if (names.length === 0) {
      throw new CardError(CARD_STATUS.PATH_NOT_FOUND, "no file name given");
    }
    return { dir, names };
  }

  #directory(card: CardFileSystem, dir: readonly string[]): void {
    if (!card.find(dir)?.isDirectory) {
      throw new CardError(CARD_STATUS.PATH_NOT_FOUND, `no directory ${dir.join("\\")}`);
    }
  }

  #deleteFile(command: Command): FixedAnswer {
    const card = this.#presentCard();
    const { dir, names } = this.#dirAndNames(command.payload, 0);
    this.#directory(card, dir);
    for (const name of names) card.delete([...dir, name]);
    return { status: 0 };
  }

  /**
   * New-protocol delete (§4.3.9): "dir\\file" + NUL in a 0x30-byte field, then
   * the directory with its trailing separator and no NUL.
   */
  #deleteFileNew(command: Command): FixedAnswer {
    const card = this.#presentCard();
    const payload = command.payload;
    if (payload.length <= 0x30) return { status: 0x82220040 };
    const full = stringAt(payload.subarray(0, 0x30), 0);
    const dirText = stringAt(payload.subarray(0x30), 0).text;
    const path = this.#cardPath(full.text);
    const dir = this.#cardPath(dirText);
    if (!full.terminated || !path || path.length === 0 || !dir || !/[\\/]$/.test(dirText)) {
      return { status: 0x82220040 };
    }
    if (dir.join("\\") !== path.slice(0, -1).join("\\")) return { status: 0x82220040 };
    this.#directory(card, dir);
    card.delete(path);
    return { status: 0 };
  }

  #setAttributes(command: Command): FixedAnswer {
    const card = this.#presentCard();
    if (command.payload.length < 5) return { status: CAMERA_STATUS.INVALID_PARAMETERS };
    const attributes = u32At(command.payload, 0);
    const { dir, names } = this.#dirAndNames(command.payload, 4);
    this.#directory(card, dir);
    for (const name of names) card.setAttributes([...dir, name], attributes);
    return { status: 0 };
  }

  #mkdir(command: Command): FixedAnswer {
    const card = this.#presentCard();
    const path = this.#pathOrInvalid(stringAt(command.payload, 0).text);
    if (path.length === 0) return { status: CAMERA_STATUS.INVALID_PARAMETERS };
    card.mkdir(path);
    return { status: 0 };
  }

  #rmdir(command: Command): FixedAnswer {
    const card = this.#presentCard();
    const path = this.#pathOrInvalid(stringAt(command.payload, 0).text);
    if (path.length === 0) return { status: CAMERA_STATUS.INVALID_PARAMETERS };
    card.rmdir(path);
    return { status: 0 };
  }

  #setFileTime(command: Command): FixedAnswer {
    const card = this.#presentCard();
    if (command.payload.length < 5) return { status: CAMERA_STATUS.INVALID_PARAMETERS };
    const path = this.#pathOrInvalid(stringAt(command.payload, 4).text);
    const node = card.find(path);
    if (!node || node.isDirectory) return { status: CAMERA_STATUS.FILE_NOT_FOUND };
    card.setMtime(path, u32At(command.payload, 0));
    return { status: 0 };
  }

  // ---- upload (§4.3.10) ---------------------------------------------------

  #receiveUploadHeader(block: Uint8Array): FunctionWrite {
    this.#newReply();
    const expected = u32At(block, 6);
    const command = {
      cmd1: 0,
      cmd2: 0,
      cmd3: UPLOAD_HEADER,
      serial: u32At(block, 0x4c),
      payloadLength: 0,
      status: 0,
    };
    const fault = this.faults.takeFor(command);
    this.#log(command);
    if (fault?.kind === "unplug" && fault.afterBytes === undefined) {
      this.unplug();
      return "ok";
    }
    this.#uploadExpected = expected >= 0x50 ? expected : undefined;
    this.#uploadParts = [];
    this.#uploadReceived = 0;
    const reply = new Uint8Array(0x40);
    putU16(reply, 4, 0x303);
    if (fault?.kind === "garble") putU32(reply, 0, 0x100);
    this.#deliver([bytesSource(reply)], fault);
    return "ok";
  }

  #receiveUploadBlock(block: Uint8Array): FunctionWrite {
    const command = this.#parse(block);
    if (!command || command.cmd3 !== UPLOAD_BLOCK) return "stall";
    this.#newReply();
    const fault = this.faults.takeFor(command);
    const record = {
      cmd1: command.cmd1,
      cmd2: command.cmd2,
      cmd3: command.cmd3,
      serial: command.serial,
      payloadLength: command.payload.length,
      status: 0,
    };
    if (fault?.kind === "unplug" && fault.afterBytes === undefined) {
      this.#log(record);
      this.unplug();
      return "ok";
    }
    const answer: FixedAnswer = fault?.kind === "status"
      ? { status: fault.status }
      : command.wellFormed && command.cmd1 === 0x03 && command.cmd2 === 0x11
      ? this.#guardFixed(() => this.#uploadData(command.payload))
      : { status: CAMERA_STATUS.INVALID_PARAMETERS };
    record.status = answer.status;
    this.#log(record);
    this.#deliver([bytesSource(this.#frameFixed(command, 0x5c, answer, fault))], fault);
    return "ok";
  }

  #uploadData(payload: Uint8Array): FixedAnswer {
    const card = this.#presentCard();
    const offset = u32At(payload, 4);
    const length = u32At(payload, 8);
    const name = stringAt(payload, 0x0c);
    const data = payload.subarray(name.next, name.next + length);
    if (!name.terminated || data.length !== length || payload.length !== name.next + length) {
      return { status: CAMERA_STATUS.INVALID_PARAMETERS };
    }
    const path = this.#pathOrInvalid(name.text);
    if (path.length === 0) return { status: CAMERA_STATUS.INVALID_PARAMETERS };
    card.write(path, offset, data);
    const answer = new Uint8Array(8);
    putU32(answer, 0, offset + length); // 0x54: bytes of the file so far
    putU32(answer, 4, length); // 0x58: bytes accepted from this block
    return { status: 0, data: answer };
  }
}

/** One directory entry (§4.3.6): attribute, 0, size, time, name, NUL. */
function entry(attributes: number, size: number, mtime: number, name: string): Uint8Array {
  const text = latin1(name);
  const out = new Uint8Array(11 + text.length);
  out[0] = attributes;
  putU32(out, 2, size);
  putU32(out, 6, mtime);
  out.set(text, 10);
  return out;
}

/**
 * The contents of `dir`: files with their attributes; sub-directories as
 * plain 0x10 names when `depth` is 0, otherwise descended as ".\NAME" (0x80),
 * their contents, and a closing ".." (0x80).
 */
function listInto(parts: Uint8Array[], dir: CardNode, depth: number): void {
  for (const child of dir.children ?? []) {
    if (!child.isDirectory) {
      parts.push(entry(child.attributes, child.size, child.mtime, child.name));
    } else if (depth === 0) {
      parts.push(entry(CARD_ATTRIBUTE.DIRECTORY, 0, child.mtime, child.name));
    } else {
      parts.push(entry(CARD_ATTRIBUTE.DESCENDED, 0, child.mtime, `.\\${child.name}`));
      listInto(parts, child, depth - 1);
      parts.push(entry(CARD_ATTRIBUTE.DESCENDED, 0, 0, ".."));
    }
  }
}

/**
 * A reply's sources with the last one (before any surplus) ending its
 * transfer: a camera sends each reply in transfers of its own, so a host
 * read never runs on into the next reply.
 */
function endEachReply(sources: ByteSource[]): ByteSource[] {
  const out = [...sources];
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i].surplus) continue;
    if (!out[i].endsTransfer) out[i] = { ...out[i], endsTransfer: true };
    break;
  }
  return out;
}
