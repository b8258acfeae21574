/**
 * One protocol session with a camera over a {@link UsbDevice}: the init
 * handshake, command dialogues with fixed and long replies, interrupt reads,
 * serial numbers, timeouts, recovery after a failed dialogue, and the wire
 * trace. One dialogue is on the wire at a time: callers hold
 * {@link Session.exclusive} around each dialogue or group of dialogues.
 *
 * @module
 */

import {
  DEFAULT_TIMEOUT_MS,
  inResultBytes,
  type UsbControlSetup,
  type UsbDevice,
  type UsbInResult,
  type UsbOutResult,
  webUsbFailure,
} from "../usb/device.ts";
import { UsbError } from "../usb/errors.ts";
import { canPipeline } from "../usb/pipeline.ts";
import { type Watchdog, watchEvery, watchOnce } from "../usb/watchdog.ts";
import { nextChunkLength, queuedChunkLengths } from "./chunk_plan.ts";
import { concat, joinBytes, readU16, readU32 } from "./bytes.ts";
import { replyBytes, replyStream } from "./reply_stream.ts";
import {
  announcedLength,
  decodeFixedReply,
  decodeInitBlock,
  decodeLongHeader,
  DEFAULT_TRANSFER_LENGTH,
  encodeCommand,
  encodeInitWrite,
  type FixedReply,
  type InitBlock,
} from "./codec.ts";
import { COMMANDS, type CommandSpec, hex, NEW_PROTOCOL_COMMANDS } from "./commands.ts";
import { encodeUploadBlock, encodeUploadPreHeader } from "./storage_codec.ts";
import {
  CameraClosedError,
  CameraDesyncError,
  CameraStatusError,
  CameraTimeoutError,
  CanonError,
  ProtocolError,
} from "./errors.ts";
import { log, logEnabled } from "./log.ts";

/** Transfers in flight when a long reply is read pipelined. */
export const DEFAULT_PIPELINE_DEPTH = 8;

/** Control request codes (§2.1). */
const REQUEST_SHORT = 0x0c;
const REQUEST_LONG = 0x04;

/** The largest fixed reply believed; longer claims are protocol errors. */
const MAX_FIXED_REPLY = 0x10000;

/** Endpoint numbers (without direction bit) the session uses. */
export interface SessionEndpoints {
  /** Bulk IN: replies and file data (0x81 on every known camera). */
  bulkIn: number;
  /** Bulk OUT: upload data (0x02). */
  bulkOut: number;
  /** Interrupt IN: events (0x83). */
  interruptIn: number;
}

/** Options of a {@link Session}. */
export interface SessionOptions {
  /** True for class-6 cameras (new protocol generation). */
  newProtocol: boolean;
  /** Default timeout of one transfer in milliseconds (5000). */
  timeout?: number;
  /**
   * The longest one call (one dialogue) may take in all, in milliseconds.
   * Default: from the transfer timeout and the size the reply announces
   * ({@link callDeadline}).
   */
  callTimeout?: number;
}

/** The slowest data rate a long reply is allowed by default (bytes per second). */
export const MIN_DATA_RATE = 128 * 1024;

/**
 * The default deadline of one call: a fixed dialogue gets two transfer
 * timeouts and a second; a long one a transfer timeout and a second plus
 * its data at {@link MIN_DATA_RATE} (a USB 1.1 camera sends 5–10 times faster).
 *
 * @param timeout the transfer timeout in ms
 * @param longBytes the long reply's announced data length, if any
 * @returns milliseconds
 */
export function callDeadline(timeout: number, longBytes?: number): number {
  if (longBytes === undefined) return 2 * timeout + 1000;
  return timeout + 1000 + Math.ceil((longBytes / MIN_DATA_RATE) * 1000);
}

/** What the init handshake found. */
export interface InitOutcome {
  /** 'A' (camera was already active) or 'C' (camera was woken up). */
  camstat: "A" | "C";
  /** The init block. */
  init: InitBlock;
  /** Whether the interrupt packet of the 'C' path arrived. */
  interruptPacket: boolean;
}

/** Options of one dialogue. */
export interface DialogueOptions {
  /** Timeout of each transfer in milliseconds. */
  timeout?: number;
  /** Do not throw on a non-zero status; return it. */
  allowStatus?: boolean;
  /** Override the reply length the command table gives (remote-control sub-commands). */
  replyLength?: number;
  /** Override the required data length. */
  minData?: number;
  /** Name for the wire log (default: the command's). */
  label?: string;
  /** The longest the whole dialogue may take, in ms (default {@link callDeadline}). */
  deadline?: number;
}

/** Options of a long dialogue. */
export interface LongDialogueOptions {
  /** Timeout of each transfer in milliseconds. */
  timeout?: number;
  /** A reply announcing more than this many bytes is refused before anything is read. */
  maxLength?: number;
  /** Abort the transfer; the rest of the reply is then drained before the next command. */
  signal?: AbortSignal;
  /** Called once the length is known, before any data. */
  onLength?: (total: number) => void | Promise<void>;
  /** Name for the wire log. */
  label?: string;
  /**
   * The longest the whole dialogue may take, in ms (default
   * {@link callDeadline} of the announced length).
   */
  deadline?: number;
}

function elapsed(start: number): string {
  return ((performance.now() - start) / 1000).toFixed(4);
}

function vendorSetup(request: number, value: number): UsbControlSetup {
  return { requestType: "vendor", recipient: "device", request, value, index: 0 };
}

/** A protocol session with one camera. */
export class Session {
  /** The device the session talks through. */
  readonly device: UsbDevice;
  /** Whether the camera speaks the new protocol (class 6). */
  readonly newProtocol: boolean;
  /** Endpoint numbers. */
  endpoints: SessionEndpoints = { bulkIn: 1, bulkOut: 2, interruptIn: 3 };
  /** wMaxPacketSize of bulk IN (64 at full speed, 512 at high speed). */
  bulkInPacketSize = 64;
  /** The largest bulk read asked for, from the init block. */
  transferLength: number = DEFAULT_TRANSFER_LENGTH;
  /** Default timeout of a transfer. */
  timeout: number;
  /** The longest one call may take in all (ms); undefined: {@link callDeadline}. */
  callTimeout: number | undefined;
  /** When the dialogue on the wire must be over (performance.now() ms), if it has a deadline. */
  #deadlineAt: number | undefined;
  #deadlineMs = 0;
  /**
   * Transfers kept in flight when a long reply is read pipelined (devices
   * with `readBulkChunks`); 1 reads one transfer at a time all the same.
   */
  pipelineDepth: number = DEFAULT_PIPELINE_DEPTH;
  #serial = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #closedReason: Error | undefined;
  /** Bytes of an abandoned reply still to drain before the next command (-1: unknown). */
  #pendingDrain = 0;
  /** A transfer the device did not time out is still pending: reopen before the next dialogue. */
  #stuck = false;
  /** The device was seen not to honour transfer timeouts (a WebUSB device): no probing reads. */
  #noTimeouts = false;
  /**
   * The device ends every transfer by its timeout itself, and a pending
   * transfer keeps the process alive: the backstop timers need not.
   */
  readonly #quietTimers: boolean;
  /** The interrupt read in progress, kept across calls of {@link Session.readInterrupt}. */
  #interrupt: Promise<{ result?: UsbInResult; error?: unknown }> | undefined;
  /** Serial numbers of dialogues whose reply may still come (the host gave up on them). */
  readonly #abandoned = new Set<number>();

  /**
   * Start a session on a device.
   *
   * @param device an opened device with its interface claimed
   * @param options protocol generation and timeout
   */
  constructor(device: UsbDevice, options: SessionOptions) {
    this.device = device;
    this.#quietTimers = device.enforcesTimeouts === true;
    this.newProtocol = options.newProtocol;
    this.timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
    this.callTimeout = options.callTimeout;
    this.#pickEndpoints();
  }

  /** True once the session is closed or the device vanished. */
  get closed(): boolean {
    return this.#closedReason !== undefined;
  }

  /** Mark the session unusable; later dialogues fail with `reason`. */
  markClosed(reason: Error = new CameraClosedError()): void {
    this.#closedReason ??= reason;
  }

  /**
   * Run `body` with the wire to itself: dialogues from other callers wait.
   *
   * @param body the dialogue(s)
   * @returns what `body` returns
   */
  exclusive<T>(body: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(async () => {
      this.#assertOpen();
      if (this.#stuck) await this.#reopen();
      if (this.#pendingDrain !== 0) await this.#drain();
      return await body();
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Wait until every queued dialogue has finished. */
  async idle(): Promise<void> {
    await this.#queue;
  }

  #assertOpen(): void {
    if (this.#closedReason) throw this.#closedReason;
  }

  /**
   * Run one dialogue under a deadline of `ms`, counted from when its command
   * has gone out (`#startDeadline`): the camera's replies, however
   * it sends them, must be in by then.
   */
  async #withDeadline<T>(ms: number, body: () => Promise<T>): Promise<T> {
    this.#deadlineAt = undefined;
    this.#deadlineMs = ms;
    try {
      return await body();
    } finally {
      this.#deadlineAt = undefined;
      this.#deadlineMs = 0;
    }
  }

  /** The command went out: the dialogue's deadline runs from now. */
  #startDeadline(): number {
    const now = performance.now();
    if (this.#deadlineMs > 0) this.#deadlineAt = now + this.#deadlineMs;
    return now;
  }

  /** Move the running dialogue's deadline to `ms` from its start (a long reply's length is known). */
  #extendDeadline(startedAt: number, ms: number): void {
    if (this.#deadlineAt === undefined) return;
    this.#deadlineAt = startedAt + ms;
    this.#deadlineMs = ms;
  }

  /** The timeout of the next transfer: `timeout`, cut to what the call's deadline leaves. */
  #bounded(what: string, timeout: number): number {
    if (this.#deadlineAt === undefined) return timeout;
    const left = Math.floor(this.#deadlineAt - performance.now());
    if (left <= 0) {
      throw new CameraTimeoutError(`${what}: the call did not finish`, this.#deadlineMs, {
        hint: "The camera is sending too slowly; pass a longer timeout if it is just slow",
      });
    }
    return timeout > 0 ? Math.min(timeout, left) : left;
  }

  #pickEndpoints(): void {
    const iface = this.device.configuration?.interfaces?.[0];
    const endpoints = iface?.alternate?.endpoints;
    if (!endpoints || endpoints.length === 0) return;
    const find = (direction: "in" | "out", type: string) =>
      endpoints.find((e) => e.direction === direction && e.type === type)?.endpointNumber;
    const bulkIn = endpoints.find((e) => e.direction === "in" && e.type === "bulk");
    if (bulkIn && bulkIn.packetSize > 0) this.bulkInPacketSize = bulkIn.packetSize;
    this.endpoints = {
      bulkIn: find("in", "bulk") ?? 1,
      bulkOut: find("out", "bulk") ?? 2,
      interruptIn: find("in", "interrupt") ?? 3,
    };
  }

  // ---- transfers -------------------------------------------------------

  async #guard<T>(what: string, timeout: number, transfer: Promise<T>): Promise<T> {
    // The device honours `timeout` itself when it can; this guard bounds the
    // wait for devices that cannot (a plain WebUSB device).
    let watchdog: Watchdog | undefined;
    const guard = new Promise<never>((_, reject) => {
      watchdog = watchOnce(timeout + 1000, () => {
        // The transfer is still pending on the device and would take the
        // next bytes meant for someone else: reopen the device before the
        // next dialogue.
        this.#stuck = true;
        this.#noTimeouts = true;
        reject(new CameraTimeoutError(what, timeout));
      }, this.#quietTimers);
    });
    try {
      return await Promise.race([transfer, guard]);
    } catch (error) {
      throw this.#translate(what, timeout, error);
    } finally {
      watchdog?.cancel();
    }
  }

  #translate(what: string, timeout: number, error: unknown): Error {
    // UsbError is a CanonError too: its timeouts and disconnects get their camera-level kind.
    if (error instanceof UsbError) {
      if (error.code === "TIMEOUT") return new CameraTimeoutError(what, timeout, { cause: error });
      if (error.code === "NO_DEVICE") {
        const closed = new CameraClosedError(
          `${what}: the camera was disconnected (unplugged or switched off)`,
          { hint: "Reconnect it and open it again", cause: error },
        );
        this.markClosed(closed);
        return closed;
      }
      return error;
    }
    if (error instanceof CanonError) return error;
    switch (webUsbFailure(error)) {
      case "gone": {
        const closed = new CameraClosedError(`${what}: the camera was disconnected`, {
          cause: error,
        });
        this.markClosed(closed);
        return closed;
      }
      case "not-open": {
        const closed = new CameraClosedError(`${what}: the USB device is not open`, {
          hint: "Open the camera again",
          cause: error,
        });
        this.markClosed(closed);
        return closed;
      }
      case "aborted":
        return new CameraClosedError(
          `${what}: the transfer was aborted (the device was closed or reset)`,
          { cause: error },
        );
      case "transfer":
        return new ProtocolError(`${what}: the USB transfer failed`, {
          hint: "Check the cable; the next command tries again",
          cause: error,
        });
      case "arguments":
        return new CanonError(`${what}: the USB device refused the request`, { cause: error });
    }
    return error instanceof Error ? error : new Error(String(error));
  }

  async #controlIn(value: number, length: number, timeout = this.timeout): Promise<Uint8Array> {
    const request = length > 1 ? REQUEST_LONG : REQUEST_SHORT;
    const start = performance.now();
    const what = `control_read (0x${request.toString(16)}, ${hex(value)}, ${length} b)`;
    timeout = this.#bounded(what, timeout);
    const result: UsbInResult = await this.#guard(
      what,
      timeout,
      this.device.controlTransferIn(vendorSetup(request, value), length, { timeout }),
    );
    if ((result.status ?? "ok") !== "ok") {
      throw new ProtocolError(`${what}: the camera answered with ${result.status}`);
    }
    const bytes = inResultBytes(result);
    log.info(
      `control_read (0x${request.toString(16)}, ${hex(value)}) got ${bytes.length} (${
        hex(bytes.length)
      }) b in ${elapsed(start)} s`,
    );
    log.dump(bytes);
    return bytes;
  }

  async #controlOut(value: number, data: Uint8Array, timeout = this.timeout): Promise<void> {
    const request = data.length > 1 ? REQUEST_LONG : REQUEST_SHORT;
    const start = performance.now();
    const what = `control_write (0x${request.toString(16)}, ${hex(value)}, ${data.length} b)`;
    timeout = this.#bounded(what, timeout);
    log.info(
      `control_write (0x${request.toString(16)}, ${hex(value)}) ${data.length} (${
        hex(data.length)
      }) b`,
    );
    log.dump(data);
    const result: UsbOutResult = await this.#guard(
      what,
      timeout,
      this.device.controlTransferOut(vendorSetup(request, value), data, { timeout }),
    );
    if (result.status !== "ok") {
      throw new ProtocolError(`${what}: the camera answered with ${result.status}`);
    }
    if (result.bytesWritten !== data.length) {
      throw new ProtocolError(
        `${what}: the camera took ${result.bytesWritten} of ${data.length} bytes`,
      );
    }
    log.info(`control_write done in ${elapsed(start)} s`);
  }

  /**
   * Read up to `length` bytes from bulk IN.
   *
   * @param length bytes to ask for
   * @param timeout milliseconds
   * @returns what arrived (possibly fewer bytes)
   */
  async bulkRead(length: number, timeout = this.timeout): Promise<Uint8Array> {
    const start = performance.now();
    const what = `bulk_read ${length} (${hex(length)}) b`;
    timeout = this.#bounded(what, timeout);
    const result = await this.#guard(
      what,
      timeout,
      this.device.transferIn(this.endpoints.bulkIn, length, { timeout }),
    );
    if (result.status === "stall") {
      await this.#clearStall("in", this.endpoints.bulkIn);
      throw new ProtocolError(`${what}: the camera stalled the bulk IN endpoint`, {
        hint: "The halt was cleared; the next command should work",
      });
    }
    if (result.status === "babble") {
      throw new ProtocolError(`${what}: the camera sent more than asked for (babble)`);
    }
    const bytes = inResultBytes(result);
    if (logEnabled("info")) {
      log.info(`bulk_read got ${bytes.length} (${hex(bytes.length)}) b in ${elapsed(start)} s`);
      log.dump(bytes, 0x100);
    }
    return bytes;
  }

  async #bulkReadExact(length: number, context: string, timeout?: number): Promise<Uint8Array> {
    const bytes = await this.bulkRead(length, timeout);
    if (bytes.length !== length) {
      throw new ProtocolError(
        `${context}: the camera sent ${bytes.length} bytes where ${length} (${
          hex(length)
        }) were expected`,
      );
    }
    return bytes;
  }

  /**
   * Write `data` to bulk OUT (uploads).
   *
   * @param data the bytes
   * @param timeout milliseconds
   */
  async bulkWrite(data: Uint8Array, timeout = this.timeout): Promise<void> {
    const start = performance.now();
    const what = `bulk_write ${data.length} (${hex(data.length)}) b`;
    timeout = this.#bounded(what, timeout);
    log.info(what);
    log.dump(data, 0x100);
    const result = await this.#guard(
      what,
      timeout,
      this.device.transferOut(this.endpoints.bulkOut, data, { timeout }),
    );
    if (result.status === "stall") {
      await this.#clearStall("out", this.endpoints.bulkOut);
      throw new ProtocolError(`${what}: the camera stalled the bulk OUT endpoint`);
    }
    if (result.bytesWritten !== data.length) {
      throw new ProtocolError(`${what}: the camera took ${result.bytesWritten} bytes`);
    }
    log.info(`bulk_write done in ${elapsed(start)} s`);
  }

  async #clearStall(direction: "in" | "out", endpoint: number): Promise<void> {
    try {
      await this.device.clearHalt?.(direction, endpoint);
      log.info(`clear_halt ${direction} ${endpoint}`);
    } catch (error) {
      log.warn(`clearing the halt on endpoint ${endpoint} failed: ${error}`);
    }
  }

  /**
   * Read one interrupt packet. The read is the session's own: when nothing
   * came in time it stays pending (on a device without transfer timeouts,
   * such as WebUSB, it cannot be cancelled) and the next call waits on the
   * same read, so no packet is lost to an abandoned read.
   *
   * @param timeout milliseconds to wait
   * @returns the packet (empty for a zero-length packet: "nothing to say"),
   *   or null when none came in time
   */
  async readInterrupt(timeout: number): Promise<Uint8Array | null> {
    const start = performance.now();
    this.#interrupt ??= this.device.transferIn(this.endpoints.interruptIn, 0x40, { timeout })
      .then((result) => ({ result }), (error) => ({ error }));
    const pending = this.#interrupt;
    let watchdog: Watchdog | undefined;
    // A device that honours the timeout answers first (TIMEOUT); one that
    // cannot is left waiting, its read kept for the next call.
    const late = new Promise<"late">((resolve) =>
      watchdog = watchOnce(timeout + 50, () => resolve("late"), this.#quietTimers)
    );
    const outcome = await Promise.race([pending, late]);
    watchdog?.cancel();
    if (outcome === "late") return null;
    if (this.#interrupt === pending) this.#interrupt = undefined;
    if (outcome.error !== undefined) {
      const error = this.#translate("interrupt_read", timeout, outcome.error);
      if (error instanceof CameraTimeoutError) return null;
      throw error;
    }
    const result = outcome.result!;
    if (result.status === "stall") {
      await this.#clearStall("in", this.endpoints.interruptIn);
      return null;
    }
    const bytes = inResultBytes(result);
    log.info(`interrupt_read got ${bytes.length} (${hex(bytes.length)}) b in ${elapsed(start)} s`);
    log.dump(bytes);
    return bytes;
  }

  /**
   * A transfer the device did not end is still pending (a WebUSB device has
   * no transfer timeouts): close and reopen the device, which ends every
   * pending transfer, claim the interface again, and resynchronise. Bounded;
   * a device that cannot be reopened closes the session.
   */
  async #reopen(): Promise<void> {
    this.#stuck = false;
    this.#interrupt = undefined;
    log.warn("a USB transfer did not end; reopening the device");
    const bounded = async (what: string, step: () => Promise<void> | undefined) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([
          step(),
          new Promise<never>((_, reject) =>
            timer = setTimeout(() => reject(new Error(`${what} did not finish`)), 2000)
          ),
        ]);
      } finally {
        clearTimeout(timer);
      }
    };
    try {
      await bounded("close", () => this.device.close());
      await bounded("open", () => this.device.open());
      await bounded("claimInterface", () => this.device.claimInterface(0));
    } catch (cause) {
      const error = new CameraClosedError(
        "the USB device could not be reopened after a lost reply",
        {
          hint: "Reconnect the camera and open it again",
          cause,
        },
      );
      this.markClosed(error);
      throw error;
    }
    this.#pendingDrain = -1;
  }

  // ---- handshake -------------------------------------------------------

  /**
   * The init handshake (§2.2 steps 1–6). Identify and key locking are the
   * camera layer's.
   *
   * @returns what the camera said
   */
  async initialize(): Promise<InitOutcome> {
    this.#assertOpen();
    const camstatBytes = await this.#controlIn(0x55, 1);
    if (camstatBytes.length < 1) {
      throw new ProtocolError("the camera returned no status byte at init");
    }
    const camstat = String.fromCharCode(camstatBytes[0]);
    if (camstat !== "A" && camstat !== "C") {
      throw new CanonError(
        `the camera reports status ${JSON.stringify(camstat)} (${hex(camstatBytes[0])}) at init, ` +
          `where 'A' or 'C' was expected`,
        {
          hint: camstat === "I"
            ? "This is seen when the USB hot-plug handling went wrong: unplug the camera, switch it off and on, and try again"
            : "Switch the camera off and on and try again; check that it is in normal (not PTP) USB mode",
        },
      );
    }
    log.info(`camera status byte ${camstat}: ${camstat === "A" ? "already active" : "woken up"}`);
    const initRaw = await this.#controlIn(0x01, 0x58);
    if (initRaw.length !== 0x58) {
      throw new ProtocolError(`the init block is ${initRaw.length} bytes long, expected 0x58`);
    }
    const init = decodeInitBlock(initRaw);
    this.transferLength = init.transferLength;
    let interruptPacket = false;
    if (camstat === "A") {
      const block = await this.#controlIn(0x04, 0x50);
      if (block.length !== 0x50) {
        throw new ProtocolError(`the 'A' path block is ${block.length} bytes long, expected 0x50`);
      }
    } else {
      await this.#controlOut(0x11, encodeInitWrite(init));
      if (this.newProtocol) {
        await this.#bulkReadExact(0x44, "init reply");
      } else {
        const first = await this.bulkRead(0x40);
        const tx = first.length >= 4 && first[first.length - 4] === 0x54 &&
          first[first.length - 3] === 0x78 && first[first.length - 2] === 0 &&
          first[first.length - 1] === 0;
        if (first.length !== 0x40 && !tx) {
          throw new ProtocolError(`init reply of ${first.length} bytes, expected 0x40`);
        }
        try {
          await this.bulkRead(4);
        } catch (error) {
          log.warn(`the 4-byte read after init failed (${error}); carrying on`);
        }
      }
      interruptPacket = await this.#readInitInterrupt();
    }
    return { camstat, init, interruptPacket };
  }

  async #readInitInterrupt(): Promise<boolean> {
    let got = 0;
    for (let attempt = 0; attempt < 4 && got < 0x10; attempt++) {
      const packet = await this.readInterrupt(500);
      if (packet === null) break;
      got += packet.length;
    }
    if (got < 0x10) {
      log.warn(`the init interrupt packet did not arrive (${got} of 16 bytes); carrying on`);
      return false;
    }
    return true;
  }

  // ---- dialogues -------------------------------------------------------

  #nextSerial(): number {
    const serial = this.#serial;
    this.#serial = (this.#serial + 1) >>> 0;
    return serial;
  }

  async #send(
    spec: CommandSpec,
    payload: Uint8Array,
    label: string,
    timeout: number,
  ): Promise<number> {
    const serial = this.#nextSerial();
    const block = encodeCommand(spec, serial, payload, this.newProtocol);
    log.info(`--> ${label} (${hex(spec.cmd1)}, ${hex(spec.cmd2)}, ${hex(spec.cmd3)}) #${serial}`);
    await this.#controlOut(0x10, block, timeout);
    this.#startDeadline();
    return serial;
  }

  /**
   * Send a command with a fixed-length reply and read the reply.
   *
   * @param spec the command
   * @param payload its arguments
   * @param options timeout, expected lengths, status handling
   * @returns status and data
   * @throws {CameraStatusError} on a non-zero status unless `allowStatus`
   */
  command(
    spec: CommandSpec,
    payload: Uint8Array = new Uint8Array(0),
    options: DialogueOptions = {},
  ): Promise<FixedReply> {
    const timeout = options.timeout ?? this.timeout;
    return this.#withDeadline(
      options.deadline ?? this.callTimeout ?? callDeadline(timeout),
      () => this.#command(spec, payload, options),
    );
  }

  async #command(
    spec: CommandSpec,
    payload: Uint8Array,
    options: DialogueOptions,
  ): Promise<FixedReply> {
    this.#assertOpen();
    const timeout = options.timeout ?? this.timeout;
    const label = options.label ?? spec.name;
    const serial = await this.#send(spec, payload, label, timeout);
    let raw: Uint8Array;
    try {
      raw = await this.#readOwnFixed(
        label,
        options.replyLength ?? spec.replyLength,
        timeout,
        serial,
      );
    } catch (error) {
      this.#abandon(serial, error);
      throw error;
    }
    let reply: FixedReply;
    try {
      reply = decodeFixedReply(spec, raw, options.minData ?? spec.minData);
    } catch (error) {
      // A reply that announced less than it carries leaves its tail in the
      // pipe: drain it, or the next command would take it for its own reply.
      this.#pendingDrain = -1;
      throw error;
    }
    log.info(`<-- ${label} #${serial} status: ${hex(reply.status)}`);
    if (reply.status !== 0 && !options.allowStatus) {
      throw new CameraStatusError(label, reply.status);
    }
    return reply;
  }

  /** Dialogue `serial` failed with `error`; after a timeout its reply may still come: resynchronise first. */
  #abandon(serial: number, error: unknown): void {
    // Only a dialogue the host stopped waiting for can still be answered late;
    // after any other failure, what is left in the pipe is drained.
    if (error instanceof CameraTimeoutError) {
      this.#abandoned.add(serial);
      if (this.#abandoned.size > 64) this.#abandoned.delete(this.#abandoned.values().next().value!);
    }
    this.#pendingDrain = -1;
  }

  /**
   * Read the fixed reply of dialogue `serial`. A reply that carries another
   * serial number, or a long reply's header, is a late reply to a dialogue
   * the host gave up on (real cameras still answer, errata §2.1): it is read
   * whole, logged and discarded, and the right reply is read after it.
   */
  async #readOwnFixed(
    label: string,
    expected: number,
    timeout: number,
    serial: number,
  ): Promise<Uint8Array> {
    for (let stale = 0;; stale++) {
      const raw = await this.#readFixed(label, expected, timeout);
      const kind = replyKind(raw);
      if (kind === "fixed" && readU32(raw, 0x4c) === serial) {
        this.#abandoned.delete(serial);
        return raw;
      }
      if (kind === "junk" || stale >= 16) {
        throw new ProtocolError(
          `${label}: the reply is not one to this command (serial #${
            readU32(raw, 0x4c)
          }, sent #${serial})`,
        );
      }
      const total = kind === "long" ? 0x40 + readU32(raw, 6) : announcedLength(raw) || raw.length;
      log.warn(
        `${label}: discarding a late ${kind} reply (${total} b${
          kind === "fixed" ? `, serial #${readU32(raw, 0x4c)}` : ""
        }) to a command the host gave up on; reading the reply to #${serial}`,
      );
      if (kind === "fixed") this.#abandoned.delete(readU32(raw, 0x4c));
      await this.#discard(total - raw.length, performance.now() + timeout, label);
    }
  }

  /**
   * A fixed reply whose first bytes are `head`, read whole by `deadline`:
   * the length from word 0 when the camera puts it there, otherwise one read
   * that the reply's last (short) packet ends.
   */
  async #restOfFixed(head: Uint8Array, deadline: number): Promise<Uint8Array> {
    const announced = Math.min(announcedLength(head), MAX_FIXED_REPLY);
    const want = announced > head.length ? announced - head.length : announced ? 0 : 0x400;
    if (want === 0) return head;
    const time = Math.max(1, Math.floor(deadline - performance.now()));
    return concat(head, await this.bulkRead(want, time));
  }

  /** Read and drop `count` bytes of a stale reply, by `deadline` (performance.now() ms). */
  async #discard(count: number, deadline: number, label: string): Promise<void> {
    let left = count;
    while (left > 0) {
      const time = Math.floor(deadline - performance.now());
      if (time <= 0) {
        throw new CameraTimeoutError(`${label}: discarding a late reply`, Math.max(0, time));
      }
      const chunk = await this.bulkRead(Math.min(left, this.transferLength), time);
      if (chunk.length === 0) break;
      left -= chunk.length;
    }
  }

  async #readFixed(label: string, expected: number, timeout: number): Promise<Uint8Array> {
    if (this.newProtocol || expected > 0x400) {
      const raw = await this.bulkRead(expected, timeout);
      // A short reply must say so in its header; otherwise it lost its head (the
      // missing first 0x40 bytes after camstat 'A', §2.2 step 7) or its tail.
      if (raw.length < 0x54 || (raw.length !== expected && announcedLength(raw) !== raw.length)) {
        throw new ProtocolError(
          `${label}: reply of ${raw.length} bytes, expected ${hex(expected)}`,
        );
      }
      return raw;
    }
    // The Windows driver reads a fixed reply in two parts, and some cameras
    // (EOS D30) misbehave on one read: first the 0x40-multiple, then the rest.
    const firstLength = expected - (expected % 0x40);
    const first = await this.bulkRead(firstLength, timeout);
    if (first.length !== firstLength) {
      // A whole shorter reply (a late one, to be discarded by the caller) or a lost tail.
      const kind = replyKind(first);
      if (kind === "long" || (kind === "fixed" && announcedLength(first) === first.length)) {
        return first;
      }
      throw new ProtocolError(
        `${label} reply: the camera sent ${first.length} bytes where ${firstLength} (${
          hex(firstLength)
        }) were expected`,
      );
    }
    if (replyKind(first) === "long") return first;
    let total = expected;
    const announced = announcedLength(first);
    if (announced !== 0 && announced !== expected) {
      if (announced < 0x54 || announced > MAX_FIXED_REPLY || announced < firstLength) {
        throw new ProtocolError(
          `${label}: the reply header announces ${hex(announced)} bytes, which cannot be right ` +
            `(expected ${hex(expected)})`,
        );
      }
      log.info(
        `${label}: reply announces ${hex(announced)} bytes, the table says ${hex(expected)}`,
      );
      total = announced;
    }
    if (total === firstLength) return first;
    const parts = [first];
    for (let offset = firstLength; offset < total;) {
      const want = Math.min(total - offset, this.transferLength);
      parts.push(await this.#bulkReadExact(want, `${label} reply (second part)`, timeout));
      offset += want;
    }
    return joinBytes(parts);
  }

  /**
   * Send a command whose reply is long (§3.4) and stream the data to `sink`
   * in the chunk sizes the camera allows. Memory stays bounded by one chunk.
   *
   * @param spec the command
   * @param payload its arguments
   * @param sink receives each chunk in order, awaited (back-pressure); each chunk is a buffer
   *   of its own (one per transfer), the sink's to keep
   * @param options timeout, length limit, abort signal
   * @returns the number of data bytes received
   */
  longCommand(
    spec: CommandSpec,
    payload: Uint8Array,
    sink: (chunk: Uint8Array) => void | Promise<void>,
    options: LongDialogueOptions = {},
  ): Promise<number> {
    const timeout = options.timeout ?? this.timeout;
    return this.#withDeadline(
      options.deadline ?? this.callTimeout ?? callDeadline(timeout),
      () => this.#longCommand(spec, payload, sink, options),
    );
  }

  /**
   * Send a command whose reply is long (§3.4) and return its data whole, in
   * one buffer: {@link Session.longReply} read to its end, without the
   * stream (see `replyBytes`). For replies that are small and wanted whole.
   *
   * @param spec the command
   * @param payload its arguments
   * @param options as {@link Session.longCommand}
   * @returns the reply's data
   */
  longReplyBytes(
    spec: CommandSpec,
    payload: Uint8Array,
    options: LongDialogueOptions = {},
  ): Promise<Uint8Array> {
    return replyBytes((sink) => this.longCommand(spec, payload, sink, options));
  }

  /**
   * Send a command whose reply is long (§3.4) and hand its data back as a
   * stream, read from the camera as the stream is read. Cancelling the
   * stream stops the reply (the rest is drained before the next command);
   * a stream neither read to its end nor cancelled keeps the session busy.
   *
   * @param spec the command
   * @param payload its arguments
   * @param options as {@link Session.longCommand}; `signal` errors the stream
   * @returns the reply's data, chunk by chunk
   */
  longReply(
    spec: CommandSpec,
    payload: Uint8Array,
    options: LongDialogueOptions = {},
  ): ReadableStream<Uint8Array> {
    return replyStream((sink, stop) =>
      this.longCommand(spec, payload, sink, {
        ...options,
        signal: options.signal ? AbortSignal.any([options.signal, stop]) : stop,
      })
    );
  }

  async #longCommand(
    spec: CommandSpec,
    payload: Uint8Array,
    sink: (chunk: Uint8Array) => void | Promise<void>,
    options: LongDialogueOptions,
  ): Promise<number> {
    this.#assertOpen();
    const timeout = options.timeout ?? this.timeout;
    const label = options.label ?? spec.name;
    const serial = await this.#send(spec, payload, label, timeout);
    const started = performance.now();
    let total: number;
    try {
      let header = await this.#bulkReadExact(0x40, `${label} reply header`, timeout);
      for (let stale = 0; replyKind(header) === "fixed" && stale < 16; stale++) {
        // A late fixed reply to a command the host gave up on: drop it whole.
        const reply = await this.#restOfFixed(header, performance.now() + timeout);
        log.warn(
          `${label}: discarding a late fixed reply (${reply.length} b, serial #${
            readU32(reply, 0x4c)
          }) before the reply header`,
        );
        header = await this.#bulkReadExact(0x40, `${label} reply header`, timeout);
      }
      total = decodeLongHeader(spec, header);
    } catch (error) {
      this.#abandon(serial, error);
      throw error;
    }
    if (options.maxLength !== undefined && total > options.maxLength) {
      this.#pendingDrain = total;
      throw new ProtocolError(
        `${label}: the camera announces ${total} (${
          hex(total)
        }) bytes, more than the ${options.maxLength} this reply can have`,
      );
    }
    if (options.deadline === undefined && this.callTimeout === undefined) {
      this.#extendDeadline(started, callDeadline(timeout, total));
    }
    await options.onLength?.(total);
    let received = 0;
    try {
      while (received < total) {
        options.signal?.throwIfAborted();
        const remaining = total - received;
        const want = nextChunkLength(remaining, this.transferLength, this.newProtocol);
        // Several transfers in flight, each room for whole packets (the
        // reply's partial-packet tail too: queuedChunkLengths); a short read
        // ends them and the loop plans again from what really arrived (the
        // 20D ends transfers early). What one transfer holds goes the plain
        // way below, without the pipeline's setup (a 4-byte drive name).
        const queued = want < remaining && canPipeline(this.device)
          ? queuedChunkLengths(
            remaining,
            this.transferLength,
            this.newProtocol,
            this.bulkInPacketSize,
          )
          : undefined;
        const first = queued?.next();
        if (queued && first && !first.done) {
          const lengths = prepend(first.value, queued);
          await this.#readPipelined(
            label,
            remaining,
            lengths,
            timeout,
            options.signal,
            (chunk) => {
              received += chunk.length;
              // Bytes that arrive after an abort are counted (not drained twice), not delivered.
              return options.signal?.aborted ? undefined : sink(chunk);
            },
          );
          options.signal?.throwIfAborted();
          if (total - received < remaining) continue;
          throw new ProtocolError(
            `${label}: the camera stopped sending after ${received} of ${total} bytes`,
          );
        }
        const chunk = await this.bulkRead(want, timeout);
        if (chunk.length === 0) {
          throw new ProtocolError(
            `${label}: the camera stopped sending after ${received} of ${total} bytes`,
          );
        }
        if (chunk.length > remaining) {
          throw new ProtocolError(`${label}: the camera sent more than it announced`);
        }
        if (chunk.length < want) log.info(`${label}: short read ${chunk.length} of ${want}`);
        received += chunk.length;
        await sink(chunk);
      }
    } catch (error) {
      this.#pendingDrain = error instanceof CameraClosedError ? 0 : (total - received) || -1;
      throw error;
    }
    log.info(`<-- ${label} #${serial} ${total} (${hex(total)}) b`);
    return total;
  }

  /**
   * Read (up to) `length` bytes of a long reply's data with several
   * transfers in flight ({@link UsbDevice.readBulkChunks}), in the chunk
   * sizes of §3.4. Ends early, without error, after a short read: the
   * caller reads the rest one transfer at a time. Every byte received goes
   * to `take`, in order, also after an abort (the abort reason is thrown
   * once the transfers in flight have ended).
   */
  async #readPipelined(
    label: string,
    length: number,
    lengths: Iterable<number>,
    timeout: number,
    signal: AbortSignal | undefined,
    take: (chunk: Uint8Array) => void | Promise<void>,
  ): Promise<void> {
    if (!canPipeline(this.device)) return;
    const depth = this.pipelineDepth;
    const what = `bulk_read ${length} (${hex(length)}) b, ${depth} transfers in flight`;
    const start = performance.now();
    log.info(what);
    const stop = new AbortController();
    const onAbort = () => stop.abort(signal?.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener("abort", onAbort, { once: true });
    const transferTimeout = this.#bounded(what, timeout);
    // The call's deadline ends the transfers in flight, as an abort does.
    const deadline = this.#deadlineAt === undefined ? undefined : watchOnce(
      Math.max(0, this.#deadlineAt - performance.now()),
      () => {
        stop.abort(
          new CameraTimeoutError(`${what}: the call did not finish`, this.#deadlineMs, {
            hint: "The camera is sending too slowly; pass a longer timeout if it is just slow",
          }),
        );
      },
      this.#quietTimers,
    );
    const reads = this.device.readBulkChunks(
      this.endpoints.bulkIn,
      lengths,
      { inFlight: this.pipelineDepth, timeout: transferTimeout, signal: stop.signal },
    )[Symbol.asyncIterator]();
    let got = 0;
    let stuck = false;
    // A backstop for a device whose own timeouts fail: one watchdog for the
    // whole read (not a timer per chunk) fails the wait once nothing has
    // moved for well over a transfer's timeout.
    let waiting: ((error: Error) => void) | undefined;
    let moved = performance.now();
    const watchdog = watchEvery(1000, () => {
      if (waiting && performance.now() - moved > timeout + 3000) {
        stuck = true;
        const error = new CameraTimeoutError(what, timeout);
        stop.abort(error);
        waiting(error);
      }
    }, this.#quietTimers);
    watchdog.unref();
    try {
      for (;;) {
        let step: IteratorResult<UsbInResult>;
        try {
          watchdog.ref();
          step = await new Promise<IteratorResult<UsbInResult>>((resolve, reject) => {
            waiting = reject;
            reads.next().then(resolve, reject);
          });
        } catch (error) {
          // The caller's abort (or the call's deadline) comes through as it is.
          if (stop.signal.aborted && error === stop.signal.reason) throw error;
          throw this.#translate(what, timeout, error);
        } finally {
          watchdog.unref();
          waiting = undefined;
          moved = performance.now();
        }
        if (step.done) break;
        const result = step.value;
        if (result.status === "stall") {
          await reads.return?.();
          await this.#clearStall("in", this.endpoints.bulkIn);
          throw new ProtocolError(`${what}: the camera stalled the bulk IN endpoint`, {
            hint: "The halt was cleared; the next command should work",
          });
        }
        if (result.status === "babble") {
          throw new ProtocolError(`${what}: the camera sent more than asked for (babble)`);
        }
        const chunk = inResultBytes(result);
        if (chunk.length === 0) {
          throw new ProtocolError(
            `${label}: the camera stopped sending after ${got} of ${length} bytes`,
          );
        }
        if (chunk.length > length - got) {
          throw new ProtocolError(`${label}: the camera sent more than it announced`);
        }
        got += chunk.length;
        // A sink that took the chunk at once returns nothing to wait for.
        const taken = take(chunk);
        if (taken) await taken;
      }
    } finally {
      watchdog.cancel();
      deadline?.cancel();
      signal?.removeEventListener("abort", onAbort);
      if (stuck) reads.return?.().catch(() => undefined);
      else await reads.return?.();
    }
    if (got < length) log.info(`${label}: short read; ${length - got} b left to read one by one`);
    log.info(`pipelined bulk_read got ${got} (${hex(got)}) b in ${elapsed(start)} s`);
  }

  /**
   * Send one upload block (§4.3.10): the 0x40-byte pre-header by control OUT,
   * its 0x40-byte reply, the block by bulk OUT, and the 0x5C reply.
   *
   * @param cameraPath full camera path of the file
   * @param offset where the block goes in the file
   * @param data the block's bytes (at most 0x1400)
   * @param timeout milliseconds per transfer
   * @returns the status word of the block's reply
   */
  uploadBlock(
    cameraPath: string,
    offset: number,
    data: Uint8Array,
    timeout = this.timeout,
  ): Promise<number> {
    return this.#withDeadline(
      this.callTimeout ?? 2 * callDeadline(timeout),
      () => this.#uploadBlock(cameraPath, offset, data, timeout),
    );
  }

  async #uploadBlock(
    cameraPath: string,
    offset: number,
    data: Uint8Array,
    timeout: number,
  ): Promise<number> {
    this.#assertOpen();
    const serial = this.#nextSerial();
    const block = encodeUploadBlock(cameraPath, offset, data, serial);
    const len1 = block.length - 0x40;
    log.info(`--> UploadBlock offset ${offset} ${data.length} b #${serial}`);
    try {
      await this.#controlOut(0x10, encodeUploadPreHeader(len1), timeout);
      this.#startDeadline();
      await this.#bulkReadExact(0x40, "upload pre-header reply", timeout);
      await this.bulkWrite(block, timeout);
      const reply = await this.#readFixed("UploadBlock", 0x5c, timeout);
      const status = readU32(reply, 0x50);
      log.info(`<-- UploadBlock status: ${hex(status)}`);
      return status;
    } catch (error) {
      this.#abandon(serial, error);
      throw error;
    }
  }

  /**
   * Before the next command: read whatever is left of an abandoned reply
   * (the announced rest, then anything more until the pipe is quiet for
   * 50 ms), within one transfer timeout in all; then, when a dialogue was
   * given up on (its reply may still come late), resynchronise. A camera
   * that keeps sending past the bound closes the session
   * ({@link CameraDesyncError}): reopening it starts afresh.
   */
  async #drain(): Promise<void> {
    const known = this.#pendingDrain;
    this.#pendingDrain = 0;
    const start = performance.now();
    const deadline = start + this.timeout;
    let reads = 0;
    let bytes = 0;
    let left = known > 0 ? known : 0;
    // Reading "until quiet" needs a read that times out; on a device without
    // timeouts it would stay pending and take the next reply. Resync instead.
    for (; !(this.#noTimeouts && left === 0);) {
      const counting = left > 0;
      const time = Math.floor(deadline - performance.now());
      if (time <= 0) {
        throw await this.#desynced(
          `the camera was still sending a reply the host gave up on after ${reads} reads ` +
            `(${bytes} bytes in ${elapsed(start)} s)`,
        );
      }
      let chunk: Uint8Array;
      try {
        reads++;
        chunk = await this.bulkRead(
          counting ? Math.min(this.transferLength, left) : this.transferLength,
          counting ? time : Math.min(50, time),
        );
      } catch (error) {
        // Quiet for a quarter second (or half a transfer timeout, if shorter):
        // the camera stopped. A read the bound cut shorter proves nothing.
        const cut = counting && time < Math.min(this.timeout, 500) / 2;
        if (error instanceof CameraTimeoutError && cut) continue;
        if (error instanceof CameraTimeoutError || error instanceof ProtocolError) break;
        throw error;
      }
      if (chunk.length === 0) break;
      bytes += chunk.length;
      if (counting) left = Math.max(0, left - chunk.length);
    }
    log.info(`drained ${bytes} b of a stale reply (${reads} reads) in ${elapsed(start)} s`);
    if (this.#abandoned.size > 0) await this.#resync();
  }

  /**
   * Replies could not be brought back in step in bounded time: close the
   * session, and reset the device (a USB port reset clears the camera's
   * pipes, so that opening it again starts afresh).
   */
  async #desynced(message: string): Promise<CameraDesyncError> {
    const error = new CameraDesyncError(message);
    this.markClosed(error);
    log.warn(`${message}; closing the session and resetting the device`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        this.device.reset?.(),
        new Promise((resolve) => timer = setTimeout(resolve, 2000)),
      ]);
    } catch (cause) {
      log.info(`reset after losing step failed: ${cause}`);
    } finally {
      clearTimeout(timer);
    }
    return error;
  }

  /**
   * Bring replies back in step after a dialogue the host gave up on: send a
   * power-status command and read replies until its own (by serial number),
   * discarding every late reply before it. Bounded: four transfer timeouts
   * and a second (a late reply may still be on its way). A camera that says
   * nothing in that time leaves the session open (a timeout error; the next
   * call tries again); one that keeps sending closes it.
   */
  async #resync(): Promise<void> {
    const spec = this.newProtocol ? NEW_PROTOCOL_COMMANDS.powerStatus! : COMMANDS.powerStatus;
    const start = performance.now();
    const budget = 4 * this.timeout + 1000;
    const deadline = start + budget;
    const serial = await this.#send(spec, new Uint8Array(0), `${spec.name} (resync)`, this.timeout);
    let discarded = 0;
    for (let reads = 0;; reads++) {
      const time = Math.floor(deadline - performance.now());
      if (time <= 0 || reads > 100_000) {
        throw await this.#desynced(
          `the camera's replies are out of step: ${discarded} late replies discarded in ` +
            `${elapsed(start)} s and the resynchronising command was not answered`,
        );
      }
      let head: Uint8Array;
      try {
        head = await this.bulkRead(
          this.newProtocol ? Math.max(0x40, this.bulkInPacketSize) : 0x40,
          time,
        );
      } catch (error) {
        if (error instanceof ProtocolError) continue;
        if (error instanceof CameraTimeoutError) {
          this.#abandon(serial, error);
          throw new CameraTimeoutError(
            `resynchronising after a reply the host gave up on`,
            budget,
            {
              hint: "The camera did not answer; the next call tries again",
              cause: error,
            },
          );
        }
        throw error;
      }
      const kind = replyKind(head);
      if (kind === "long") {
        discarded++;
        const rest = 0x40 + readU32(head, 6) - head.length;
        log.warn(`resync: discarding a late long reply (${rest + head.length} b)`);
        await this.#discard(rest, deadline, "resync");
        continue;
      }
      if (kind !== "fixed") continue;
      const reply = await this.#restOfFixed(head, deadline);
      const echoed = readU32(reply, 0x4c);
      if (reply.length >= 0x50 && echoed === serial) {
        this.#abandoned.clear();
        log.info(`resync: in step again after ${discarded} late replies, ${elapsed(start)} s`);
        return;
      }
      discarded++;
      log.warn(`resync: discarding a late fixed reply (serial #${echoed}, ${reply.length} b)`);
    }
  }
}

/** `first`, then the rest of `rest`. */
function* prepend(first: number, rest: Iterator<number>): Generator<number, void, undefined> {
  yield first;
  for (let next = rest.next(); !next.done; next = rest.next()) yield next.value;
}

/** What a reply's first bytes say it is. */
function replyKind(raw: Uint8Array): "fixed" | "long" | "junk" {
  if (raw.length < 0x40) return "junk";
  const code = readU16(raw, 4);
  if (code === 0x302) return "long";
  if (code === 0x301 || code === 0x303) return "fixed";
  if (raw.length >= 0x50 && readU32(raw, 0x40) === 2) return "fixed";
  return "junk";
}
