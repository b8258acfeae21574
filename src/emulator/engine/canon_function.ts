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
import { CardError } from "../card/card_model.ts";
import type { CardFileSystem } from "../card/card_model.ts";
import { type EmulatedModel, ENDPOINTS, usbDescriptors } from "./emulated_models.ts";
import type { FaultInjector } from "./faults.ts";
import { type ByteSource, bytesSource } from "./byte_fifo.ts";
import type { FullSpeedBus } from "./bus_model.ts";
import type { CommandTiming } from "./timing.ts";
import {
  ALL_QUIRKS,
  type CameraContext,
  CameraState,
  type PowerState,
  type RealCameraQuirks,
} from "./camera_state.ts";
import {
  CAMERA_STATUS,
  type Command,
  type CommandTable,
  FIXED,
  type FixedAnswer,
  LONG,
  REMOTE_CONTROL,
  UPLOAD_BLOCK,
  UPLOAD_HEADER,
} from "./commands.ts";
import { commandTable } from "./command_table.ts";
import { Endpoints } from "./endpoints.ts";
import { frameFixed, frameLong, parseCommand } from "./framing.ts";
import { descriptorBytes, initBlock } from "./descriptors.ts";
import { StorageCommands } from "./storage_commands.ts";
import { concatBytes, putU16, putU32, u16At, u32At } from "./wire.ts";

const INIT_PACKET = Uint8Array.of(2, 0, 0, 0, 0x20, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0);

/** The command log keeps the newest this many commands. */
const COMMAND_LOG_LIMIT = 100_000;

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
  readonly #state: CameraState;
  readonly #timing: CommandTiming | undefined;
  readonly #endpoints: Endpoints;
  readonly #listeners = new Set<() => void>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #uploadExpected: number | undefined;
  #uploadParts: Uint8Array[] = [];
  #uploadReceived = 0;
  readonly #handlers: CommandTable;
  readonly #storage: StorageCommands;

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
    this.#state = new CameraState(
      options.model,
      options.owner,
      options.firmware,
      options.clockOffsetSeconds,
      options.firstContact,
    );
    // What the endpoints and the command handlers see of this camera.
    const connected = () => this.#connected;
    const power = () => this.power;
    const plugGeneration = () => this.#state.plugGeneration;
    const context: CameraContext = {
      model: this.model,
      card: this.card,
      faults: this.faults,
      quirks: this.quirks,
      get power() {
        return power();
      },
      state: this.#state,
      newProtocol: this.#newProtocol,
      get connected() {
        return connected();
      },
      captureLatencyMs: options.captureLatencyMs,
      schedule: (ms, action) => this.#schedule(ms, action),
      queueInterrupt: (packet) => this.#endpoints.queueInterrupt(packet),
      sendLateInitPacket: () => this.#sendLateInitPacket(),
    };
    this.#endpoints = new Endpoints({
      model: this.model,
      faults: this.faults,
      quirks: this.quirks,
      get connected() {
        return connected();
      },
      get plugGeneration() {
        return plugGeneration();
      },
      schedule: (ms, action) => this.#schedule(ms, action),
      notify: () => this.#notify(),
      unplug: () => this.unplug(),
    });
    this.#handlers = commandTable(context);
    this.#storage = new StorageCommands(context);
  }

  // ---- observable state ---------------------------------------------------

  /** False while unplugged. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Increases at every {@link CanonFunction.replug}: a session opened before it is dead. */
  get plugGeneration(): number {
    return this.#state.plugGeneration;
  }

  /** The owner name the camera reports. */
  get owner(): string {
    return this.#state.owner;
  }

  /** Firmware version "a.b.c.d". */
  get firmware(): string {
    const f = this.#state.firmware;
    return `${f[3]}.${f[2]}.${f[1]}.${f[0]}`;
  }

  /** Whether the camera is in remote-capture mode (RC init received, no exit since). */
  get remoteMode(): boolean {
    return this.#state.remoteMode;
  }

  /** Whether the keys were locked (0x20/0x12); only a power cycle unlocks them on class 5. */
  get keysLocked(): boolean {
    return this.#state.keysLocked;
  }

  /** Transfer-mode bits last set with RC 0x09. */
  get transferMode(): number {
    return this.#state.transferMode;
  }

  /** Current zoom position. */
  get zoom(): number {
    return this.#state.zoom;
  }

  /** A copy of the 0x30-byte release-parameter block. */
  get releaseParams(): Uint8Array {
    return this.#state.releaseParams.slice();
  }

  /** Whether the next camera-status read answers 'A' (a handshake completed since power-on). */
  get handshakeDone(): boolean {
    return this.#state.handshakeDone;
  }

  /**
   * The camera clock: seconds since 1970 counted in camera-local time.
   *
   * @returns the current camera time
   */
  cameraTime(): number {
    return this.#state.cameraTime();
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
    this.#state.powerCycle();
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
    return this.#endpoints.read(endpointAddress, maxLength);
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
    return this.#endpoints.available(endpointAddress);
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
    if (endpointAddress !== ENDPOINTS.BULK_OUT || this.#endpoints.isHalted(endpointAddress)) {
      return "stall";
    }
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
    this.#endpoints.clearHalt(endpointAddress);
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
    this.#endpoints.flush();
    this.#state.initPacketPending = false;
    this.#uploadExpected = undefined;
    this.#uploadParts = [];
    this.#uploadReceived = 0;
  }

  // ---- standard requests --------------------------------------------------

  #controlIn(setup: SetupPacket): Uint8Array | "stall" {
    switch (setup.bmRequestType) {
      case 0x80:
        if (setup.bRequest === 0x06) return descriptorBytes(this.descriptors, setup.wValue);
        if (setup.bRequest === 0x00) return Uint8Array.of(0x01, 0x00); // self-powered
        if (setup.bRequest === 0x08) return Uint8Array.of(this.#state.configuration);
        return "stall";
      case 0x81:
        if (setup.bRequest === 0x0a) return Uint8Array.of(0); // alternate setting 0
        if (setup.bRequest === 0x00) return Uint8Array.of(0, 0);
        return "stall";
      case 0x82:
        if (setup.bRequest === 0x00) {
          return Uint8Array.of(this.#endpoints.isHalted(setup.wIndex & 0xff) ? 1 : 0, 0);
        }
        return "stall";
      case 0xc0:
        return this.#vendorIn(setup);
      default:
        return "stall";
    }
  }

  #standardDeviceOut(setup: SetupPacket): FunctionWrite {
    if (setup.bRequest === 0x09) { // SET_CONFIGURATION
      if (setup.wValue > 1) return "stall";
      this.#state.configuration = setup.wValue;
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
      this.#endpoints.halt(endpoint);
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
        const status = forced ?? (this.#state.handshakeDone ? "A" : "C");
        return Uint8Array.of(status.charCodeAt(0));
      }
      case 0x01:
        return initBlock(this.model);
      case 0x04: {
        // The 'A' path: the host reads the block it would otherwise write.
        if (this.faults.missingFirst40AfterA) this.#endpoints.dropNextHeader();
        const block = new Uint8Array(0x50);
        putU32(block, 0, 0x10);
        block.set(initBlock(this.model).subarray(0x48, 0x58), 0x40);
        return block;
      }
      default:
        return "stall";
    }
  }

  #handshake(data: Uint8Array): FunctionWrite {
    if (data.length !== 0x50) return "stall";
    const reply = new Uint8Array(0x44);
    putU32(reply, 0, 4);
    reply[4] = 0x02;
    reply[5] = 0x03;
    this.#state.handshakeDone = true;
    this.#endpoints.handshakeReply(bytesSource(reply));
    if (this.quirks.lateInitPacket && this.model.lateInitPacket) {
      // The 20D sends it 8 bytes at a time; in the strict mode only after "power supply status".
      this.#state.initPacketPending = true;
      if (this.quirks.lateInitPacket !== "after-power-status") this.#sendLateInitPacket();
    } else {
      this.#endpoints.queueInterrupt(INIT_PACKET.slice());
    }
    return "ok";
  }

  #sendLateInitPacket(): void {
    if (!this.#state.initPacketPending) return;
    this.#state.initPacketPending = false;
    this.#endpoints.queueInterrupt(INIT_PACKET.slice(0, 8));
    this.#endpoints.queueInterrupt(INIT_PACKET.slice(8));
  }

  // ---- commands (§3, §4.1) ------------------------------------------------

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
    const command = parseCommand(block, this.#newProtocol);
    if (!command) return "stall";
    this.#answer(command);
    return "ok";
  }

  #answer(command: Command): void {
    this.#endpoints.newCommand();

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
    const handler = this.#handlers.handlerOf(command);
    const isLong = handler ? handler.kind === "long" : command.cmd3 === LONG;
    if (isLong) {
      const data = handler?.kind === "long" && command.wellFormed
        ? this.#guardLong(() => handler.run(command))
        : bytesSource(new Uint8Array(0));
      sources = frameLong(this.model, this.faults, data, fault);
    } else {
      const fixed = handler?.kind === "fixed" ? handler : undefined;
      const length = fixed ? fixed.length(command) : 0x54;
      let answer: FixedAnswer;
      if (fault?.kind === "status") answer = { status: fault.status };
      else if (!fixed || !command.wellFormed) {
        answer = { status: CAMERA_STATUS.INVALID_PARAMETERS };
      } else answer = this.#guardFixed(() => fixed.run(command));
      record.status = answer.status;
      const reply = frameFixed(this.model, command, length, answer, fault);
      // A reply that ends in a short packet ends its transfer there.
      const short = reply.length % this.model.usb.endpointPacketSize !== 0;
      sources = [{ ...bytesSource(reply), endsTransfer: short }];
    }
    this.#log(record);
    if (this.#timing && !fault) {
      const replyBytes = sources.reduce((n, source) => n + source.size, 0) - 0x40;
      const delay = this.#timing.replyDelayMs({ ...command, subcommand }, replyBytes);
      if (delay > 0) {
        const generation = this.#endpoints.replyGeneration;
        this.#schedule(delay, () => {
          if (generation !== this.#endpoints.replyGeneration || !this.#connected) return;
          this.#endpoints.deliver(sources);
        });
        return;
      }
    }
    this.#endpoints.deliver(sources, fault);
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

  // ---- upload (§4.3.10) ---------------------------------------------------

  #receiveUploadHeader(block: Uint8Array): FunctionWrite {
    this.#endpoints.newReply();
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
    this.#endpoints.deliver([bytesSource(reply)], fault);
    return "ok";
  }

  #receiveUploadBlock(block: Uint8Array): FunctionWrite {
    const command = parseCommand(block, this.#newProtocol);
    if (!command || command.cmd3 !== UPLOAD_BLOCK) return "stall";
    this.#endpoints.newReply();
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
      ? this.#guardFixed(() => this.#storage.uploadData(command.payload))
      : { status: CAMERA_STATUS.INVALID_PARAMETERS };
    record.status = answer.status;
    this.#log(record);
    this.#endpoints.deliver(
      [bytesSource(frameFixed(this.model, command, 0x5c, answer, fault))],
      fault,
    );
    return "ok";
  }
}
