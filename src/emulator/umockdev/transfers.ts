/**
 * What the bridge juggles while it answers ioctls: the ioctl being answered,
 * each client (an open file descriptor on the device node), the URBs they
 * submit and the synchronous bulk reads, with what a finished transfer
 * hands back ({@link Outcome}).
 *
 * @module
 */

import type { FunctionRead, FunctionWrite } from "../engine/usb_function.ts";
import type { BusSlot, PacedRead } from "../engine/bus_model.ts";
import { ERRNO, URB_FLAG } from "./usbdevfs.ts";
import { ioctlDataBytes, UmockdevError, type UmockdevLibrary } from "./ffi.ts";

const hex = (value: number, digits: number): string => value.toString(16).padStart(digits, "0");

/** An ioctl being answered: completes its client exactly once. */
export class IoctlCall {
  readonly request: number;
  #lib: UmockdevLibrary;
  #client: Deno.PointerObject;
  #settled = false;

  constructor(lib: UmockdevLibrary, client: Deno.PointerObject) {
    this.#lib = lib;
    this.#client = client;
    this.request = Number(lib.umockdev.umockdev_ioctl_client_get_request(client));
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** The ioctl's argument block (the argument value itself; resolve it to reach memory). */
  arg(): Deno.PointerObject {
    const arg = this.#lib.umockdev.umockdev_ioctl_client_get_arg(this.#client);
    if (!arg) throw new UmockdevError("ioctl without argument block");
    return arg;
  }

  complete(result: number): void {
    this.#finish(result, 0);
  }

  fail(errno: number): void {
    this.#finish(-1, errno);
  }

  #finish(result: number, errno: number): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#lib.umockdev.umockdev_ioctl_client_complete(this.#client, BigInt(result), errno);
  }
}

/** One open file descriptor on the device node (a umockdev ioctl client). */
export class ClientState {
  readonly key: bigint;
  readonly pointer: Deno.PointerObject;
  /** Finished URBs, in completion order, waiting to be reaped. */
  readonly completed: Urb[] = [];
  readonly claimed = new Set<number>();
  /** A REAPURB (blocking) waiting for a URB to finish. */
  reaper: { call: IoctlCall; target: Deno.PointerObject } | undefined;
  #lib: UmockdevLibrary;

  constructor(lib: UmockdevLibrary, pointer: Deno.PointerObject) {
    this.#lib = lib;
    this.key = Deno.UnsafePointer.value(pointer) as bigint;
    this.pointer = lib.gobject.g_object_ref(pointer)!;
  }

  get connected(): boolean {
    return this.#lib.umockdev.umockdev_ioctl_client_get_connected(this.pointer) !== 0;
  }
}

/** How a transfer ended: a URB status (0 or -errno) and the bytes that moved. */
export interface Outcome {
  status: number;
  /** Bytes transferred. */
  actual: number;
  /** For IN transfers: the data to hand to the client. */
  data?: Uint8Array;
}

/** The outcome of a transfer on an unplugged device. */
export const noDevice: Outcome = { status: -ERRNO.ENODEV, actual: 0 };

/** A transfer waiting for the function to produce data on an IN endpoint. */
export interface PendingRead extends PacedRead {
  readonly client: ClientState;
  readonly endpoint: number;
  readonly length: number;
  /** Finished: record the outcome and let the client see it. */
  settle(outcome: Outcome): void;
  /** The client went away: free what is held, tell no one. */
  abandon(): void;
}

/** A submitted URB. Owns its references to the client's URB and buffer blocks. */
export class Urb implements PendingRead {
  readonly submittedAt: number = performance.now();
  slot?: BusSlot & { bytes: number };
  status = 0;
  actual = 0;
  data: Uint8Array | undefined;
  #onSettled: (urb: Urb) => void;

  constructor(
    readonly id: number,
    readonly client: ClientState,
    readonly block: Deno.PointerObject,
    readonly buffer: Deno.PointerObject | null,
    readonly type: number,
    readonly endpoint: number,
    readonly flags: number,
    readonly length: number,
    readonly clientAddress: bigint,
    readonly release: (urb: Urb) => void,
    onSettled: (urb: Urb) => void,
  ) {
    this.#onSettled = onSettled;
  }

  settle(outcome: Outcome): void {
    this.status = outcome.status;
    this.actual = outcome.actual;
    this.data = outcome.data;
    const short = (this.endpoint & 0x80) !== 0 && this.actual < this.length;
    if (this.status === 0 && short && (this.flags & URB_FLAG.SHORT_NOT_OK)) {
      this.status = -ERRNO.EREMOTEIO;
    }
    this.#onSettled(this);
  }

  abandon(): void {
    this.release(this);
  }
}

/** A synchronous USBDEVFS_BULK read waiting for data. */
export class SyncBulkRead implements PendingRead {
  readonly submittedAt: number = performance.now();
  slot?: BusSlot & { bytes: number };
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly client: ClientState,
    readonly call: IoctlCall,
    readonly endpoint: number,
    readonly length: number,
    readonly block: Deno.PointerObject,
    readonly unref: (block: Deno.PointerObject) => void,
  ) {}

  startTimer(ms: number, onTimeout: () => void): void {
    if (ms > 0) this.#timer = setTimeout(onTimeout, ms);
  }

  settle(outcome: Outcome): void {
    clearTimeout(this.#timer);
    if (outcome.data) ioctlDataBytes(this.block).set(outcome.data);
    if (outcome.status === 0) this.call.complete(outcome.actual);
    else this.call.fail(-outcome.status);
    this.unref(this.block);
  }

  abandon(): void {
    clearTimeout(this.#timer);
    this.unref(this.block);
  }
}

/** The function threw: the ioctl fails with EIO. */
export class FunctionFault extends Error {
  constructor(what: string, cause: unknown) {
    super(`the USB function threw in ${what}`, { cause });
    this.name = "FunctionFault";
  }
}

/** What a read from the function means for the transfer; null when it has nothing yet. */
export function readOutcome(result: FunctionRead, length: number): Outcome | null {
  if (result === null) return null;
  if (result === "stall") return { status: -ERRNO.EPIPE, actual: 0 };
  if (result.length > length) {
    // The device sent more than the host asked for: babble.
    return { status: -ERRNO.EOVERFLOW, actual: length, data: result.subarray(0, length) };
  }
  return { status: 0, actual: result.length, data: result };
}

/** What a write to the function means for the transfer. */
export function writeOutcome(result: FunctionWrite, length: number): Outcome {
  return result === "stall" ? { status: -ERRNO.EPIPE, actual: 0 } : { status: 0, actual: length };
}

/** A little-endian u32. */
export function u32(bytes: Uint8Array, offset = 0): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset, true);
}

/** The first 16 bytes in hex, for the trace. */
export function preview(bytes: Uint8Array): string {
  const shown = Array.from(bytes.subarray(0, 16), (b) => hex(b, 2)).join(" ");
  return bytes.length > 16 ? `${shown} ...` : shown;
}

/**
 * Reports errors on the console the first time (one of each kind) and only
 * to the trace after that, so a failing function cannot flood the output.
 */
export class ErrorReporter {
  readonly #tag: string;
  readonly #log: (line: string) => void;
  #faults = 0;
  #internalErrors = 0;

  /**
   * A reporter for one device.
   *
   * @param tag the device's prefix, e.g. "[umockdev 001:002]"
   * @param log the trace sink
   */
  constructor(tag: string, log: (line: string) => void) {
    this.#tag = tag;
    this.#log = log;
  }

  /**
   * The bridge itself failed.
   *
   * @param what what it was doing
   * @param error the error
   */
  internal(what: string, error: unknown): void {
    this.#internalErrors++;
    if (this.#internalErrors === 1) {
      console.error(`${this.#tag} internal error ${what}; the client gets EIO:`, error);
    } else {
      this.#log(`${this.#tag} internal error ${what}: ${error}`);
    }
  }

  /**
   * The function threw.
   *
   * @param fault what it threw, wrapped
   */
  fault(fault: FunctionFault): void {
    this.#faults++;
    if (this.#faults === 1) {
      console.error(
        `${this.#tag} ${fault.message}; the client gets EIO (further errors are only traced):`,
        fault.cause,
      );
    } else {
      this.#log(`${this.#tag} ${fault.message}: ${fault.cause}`);
    }
  }
}
