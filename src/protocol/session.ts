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
  inResultBytes,
  type UsbControlSetup,
  type UsbDevice,
  type UsbInResult,
  type UsbOutResult,
} from "../usb/device.ts";
import { UsbError } from "../usb/errors.ts";
import { canPipeline } from "../usb/pipeline.ts";
import { chunkLengths, nextChunkLength } from "./chunk_plan.ts";
import { readU32 } from "./bytes.ts";
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
import { type CommandSpec, hex } from "./commands.ts";
import { encodeUploadBlock, encodeUploadPreHeader } from "./storage_codec.ts";
import {
  CameraClosedError,
  CameraStatusError,
  CameraTimeoutError,
  CanonError,
  ProtocolError,
} from "./errors.ts";
import { log, logEnabled } from "./log.ts";

/** Default timeout of one transfer, as gphoto2's port default. */
export const DEFAULT_TIMEOUT = 5000;

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
  /** The largest bulk read asked for, from the init block. */
  transferLength: number = DEFAULT_TRANSFER_LENGTH;
  /** Default timeout of a transfer. */
  timeout: number;
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

  /**
   * Start a session on a device.
   *
   * @param device an opened device with its interface claimed
   * @param options protocol generation and timeout
   */
  constructor(device: UsbDevice, options: SessionOptions) {
    this.device = device;
    this.newProtocol = options.newProtocol;
    this.timeout = options.timeout ?? DEFAULT_TIMEOUT;
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

  #pickEndpoints(): void {
    const iface = this.device.configuration?.interfaces?.[0];
    const endpoints = iface?.alternate?.endpoints;
    if (!endpoints || endpoints.length === 0) return;
    const find = (direction: "in" | "out", type: string) =>
      endpoints.find((e) => e.direction === direction && e.type === type)?.endpointNumber;
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
    let timer: ReturnType<typeof setTimeout> | undefined;
    const guard = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new CameraTimeoutError(what, timeout)),
        timeout + 1000,
      );
    });
    try {
      return await Promise.race([transfer, guard]);
    } catch (error) {
      throw this.#translate(what, timeout, error);
    } finally {
      clearTimeout(timer);
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
    if (error instanceof DOMException && error.name === "NotFoundError") {
      const closed = new CameraClosedError(`${what}: the camera was disconnected`, {
        cause: error,
      });
      this.markClosed(closed);
      return closed;
    }
    return error instanceof Error ? error : new Error(String(error));
  }

  async #controlIn(value: number, length: number, timeout = this.timeout): Promise<Uint8Array> {
    const request = length > 1 ? REQUEST_LONG : REQUEST_SHORT;
    const start = performance.now();
    const what = `control_read (0x${request.toString(16)}, ${hex(value)}, ${length} b)`;
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
   * Read one interrupt packet.
   *
   * @param timeout milliseconds to wait
   * @returns the packet, or null when none came in time
   */
  async readInterrupt(timeout: number): Promise<Uint8Array | null> {
    const start = performance.now();
    try {
      const result = await this.#guard(
        "interrupt_read",
        timeout,
        this.device.transferIn(this.endpoints.interruptIn, 0x40, { timeout }),
      );
      if (result.status === "stall") {
        await this.#clearStall("in", this.endpoints.interruptIn);
        return null;
      }
      const bytes = inResultBytes(result);
      log.info(
        `interrupt_read got ${bytes.length} (${hex(bytes.length)}) b in ${elapsed(start)} s`,
      );
      log.dump(bytes);
      return bytes;
    } catch (error) {
      if (error instanceof CameraTimeoutError) return null;
      throw error;
    }
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
  async command(
    spec: CommandSpec,
    payload: Uint8Array = new Uint8Array(0),
    options: DialogueOptions = {},
  ): Promise<FixedReply> {
    this.#assertOpen();
    const timeout = options.timeout ?? this.timeout;
    const label = options.label ?? spec.name;
    const serial = await this.#send(spec, payload, label, timeout);
    let raw: Uint8Array;
    try {
      raw = await this.#readFixed(label, options.replyLength ?? spec.replyLength, timeout);
    } catch (error) {
      this.#pendingDrain = -1;
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
    const echoed = readU32(raw, 0x4c);
    if (raw.length >= 0x50 && echoed !== serial) {
      log.info(`${label}: reply carries serial #${echoed}, sent #${serial}`);
    }
    log.info(`<-- ${label} #${serial} status: ${hex(reply.status)}`);
    if (reply.status !== 0 && !options.allowStatus) {
      throw new CameraStatusError(label, reply.status);
    }
    return reply;
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
    const first = await this.#bulkReadExact(firstLength, `${label} reply`, timeout);
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
    const out = new Uint8Array(total);
    out.set(first);
    let offset = firstLength;
    while (offset < total) {
      const want = Math.min(total - offset, this.transferLength);
      const part = await this.#bulkReadExact(want, `${label} reply (second part)`, timeout);
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  /**
   * Send a command whose reply is long (§3.4) and stream the data to `sink`
   * in the chunk sizes the camera allows. Memory stays bounded by one chunk.
   *
   * @param spec the command
   * @param payload its arguments
   * @param sink receives each chunk in order; awaited (back-pressure)
   * @param options timeout, length limit, abort signal
   * @returns the number of data bytes received
   */
  async longCommand(
    spec: CommandSpec,
    payload: Uint8Array,
    sink: (chunk: Uint8Array) => void | Promise<void>,
    options: LongDialogueOptions = {},
  ): Promise<number> {
    this.#assertOpen();
    const timeout = options.timeout ?? this.timeout;
    const label = options.label ?? spec.name;
    const serial = await this.#send(spec, payload, label, timeout);
    let total: number;
    try {
      const header = await this.#bulkReadExact(0x40, `${label} reply header`, timeout);
      total = decodeLongHeader(spec, header);
    } catch (error) {
      this.#pendingDrain = -1;
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
    await options.onLength?.(total);
    let received = 0;
    let pipelined = false;
    try {
      while (received < total) {
        options.signal?.throwIfAborted();
        const remaining = total - received;
        if (!pipelined && remaining > this.transferLength && canPipeline(this.device)) {
          // Several transfers in flight; after a short read, the rest one at a time.
          pipelined = true;
          await this.#readPipelined(label, remaining, timeout, options.signal, async (chunk) => {
            received += chunk.length;
            // Bytes that arrive after an abort are counted (not drained twice), not delivered.
            if (!options.signal?.aborted) await sink(chunk);
          });
          continue;
        }
        const want = nextChunkLength(remaining, this.transferLength, this.newProtocol);
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
    timeout: number,
    signal: AbortSignal | undefined,
    take: (chunk: Uint8Array) => Promise<void>,
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
    const reads = this.device.readBulkChunks(
      this.endpoints.bulkIn,
      chunkLengths(length, this.transferLength, this.newProtocol),
      { inFlight: this.pipelineDepth, timeout, signal: stop.signal },
    )[Symbol.asyncIterator]();
    let got = 0;
    let stuck = false;
    // A backstop for a device whose own timeouts fail: one watchdog for the
    // whole read (not a timer per chunk) fails the wait once nothing has
    // moved for well over a transfer's timeout.
    let waiting: ((error: Error) => void) | undefined;
    let moved = performance.now();
    const watchdog = setInterval(() => {
      if (waiting && performance.now() - moved > timeout + 3000) {
        stuck = true;
        const error = new CameraTimeoutError(what, timeout);
        stop.abort(error);
        waiting(error);
      }
    }, 1000);
    Deno.unrefTimer(watchdog);
    try {
      for (;;) {
        let step: IteratorResult<UsbInResult>;
        try {
          Deno.refTimer(watchdog);
          step = await new Promise<IteratorResult<UsbInResult>>((resolve, reject) => {
            waiting = reject;
            reads.next().then(resolve, reject);
          });
        } catch (error) {
          throw this.#translate(what, timeout, error);
        } finally {
          Deno.unrefTimer(watchdog);
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
        await take(chunk);
      }
    } finally {
      clearInterval(watchdog);
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
  async uploadBlock(
    cameraPath: string,
    offset: number,
    data: Uint8Array,
    timeout = this.timeout,
  ): Promise<number> {
    this.#assertOpen();
    const serial = this.#nextSerial();
    const block = encodeUploadBlock(cameraPath, offset, data, serial);
    const len1 = block.length - 0x40;
    log.info(`--> UploadBlock offset ${offset} ${data.length} b #${serial}`);
    try {
      await this.#controlOut(0x10, encodeUploadPreHeader(len1), timeout);
      await this.#bulkReadExact(0x40, "upload pre-header reply", timeout);
      await this.bulkWrite(block, timeout);
      const reply = await this.#readFixed("UploadBlock", 0x5c, timeout);
      const status = readU32(reply, 0x50);
      log.info(`<-- UploadBlock status: ${hex(status)}`);
      return status;
    } catch (error) {
      this.#pendingDrain = -1;
      throw error;
    }
  }

  /**
   * Read whatever is left of an abandoned reply, so that the next command's
   * reply is not confused with it.
   */
  async #drain(): Promise<void> {
    const known = this.#pendingDrain;
    this.#pendingDrain = 0;
    let left = known > 0 ? known : Infinity;
    let reads = 0;
    const start = performance.now();
    while (reads < 100_000) {
      reads++;
      // The announced rest first, then whatever else comes (a reply longer than
      // it announced) until the pipe stays quiet for 50 ms.
      const counting = left > 0 && left !== Infinity;
      let chunk: Uint8Array;
      try {
        chunk = await this.bulkRead(
          counting ? Math.min(this.transferLength, left) : this.transferLength,
          counting ? this.timeout : 50,
        );
      } catch (error) {
        if (error instanceof CameraTimeoutError || error instanceof ProtocolError) break;
        throw error;
      }
      if (chunk.length === 0) break;
      if (counting) left = Math.max(0, left - chunk.length);
    }
    log.info(`drained a stale reply (${reads} reads) in ${elapsed(start)} s`);
  }
}
