/**
 * Pipelined bulk IN reads through libusb's asynchronous API: the
 * {@link TransferSubmitter} behind `LibusbDevice.readBulkChunks`.
 *
 * Each transfer is a `struct libusb_transfer` from `libusb_alloc_transfer`,
 * filled field by field ({@link fillBulkTransfer}: `libusb_fill_bulk_transfer`
 * is a C inline function), submitted with `libusb_submit_transfer` and, when
 * needed, cancelled with `libusb_cancel_transfer` (both `nonblocking` FFI
 * calls: they issue ioctls). libusb reports completion through a callback,
 * a `Deno.UnsafeCallback.threadSafe` that runs on the main thread. Events are
 * handled off the main thread, by `libusb_handle_events_timeout_completed`
 * calls (also `nonblocking`) repeated for as long as a transfer is in flight.
 *
 * Transfers and their data buffers are reused while the pipeline lasts and
 * freed at its end, with the callback; what a transfer received is copied
 * out into a fresh array for the reader. An event-handling round that
 * neither completed nor saw a submission is followed by a pause of at most
 * 1 ms (cut short by the next submission): a kernel device node makes such
 * rounds rare, but umockdev's plain-file node is always ready, and the loop
 * would otherwise spin ioctls at the emulator while transfers wait.
 *
 * @module
 */

import {
  fillBulkTransfer,
  libusb,
  LIBUSB_TRANSFER_STATUS,
  readTransferResult,
  TRANSFER_CALLBACK,
} from "../../ffi/libusb.ts";
import { LIBUSB_ERROR_CODES, UsbError } from "./errors.ts";
import type { PendingTransfer, TransferEnd, TransferSubmitter } from "./pipeline.ts";

/** How long one `libusb_handle_events_timeout_completed` call may wait for an event. */
const EVENT_WAIT_US = 50_000n;

/**
 * After an event-handling round that completed nothing, how long (ms) the
 * loop waits before the next round, unless a submission wakes it sooner.
 * On a kernel device node such a round is rare (poll() waits for an event);
 * on umockdev's plain-file node poll() is always ready, and without this
 * pause the loop would spin ioctls at the emulator while a transfer waits.
 */
const IDLE_PAUSE_MS = 1;

/** libusb transfers allocated and not yet freed, process-wide (this realm). For leak checks. */
let transfersAllocated = 0;

/**
 * How many `struct libusb_transfer` this realm has allocated and not freed:
 * 0 whenever no pipelined read is running. For diagnostics and tests.
 *
 * @returns the count
 */
export function libusbTransfersInUse(): number {
  return transfersAllocated;
}

/** What the device supplies to a {@link LibusbBulkInSubmitter}. */
export interface LibusbPipelineTarget {
  /** The open `libusb_device_handle *`. */
  handle: Deno.PointerObject;
  /** Its `libusb_context *`. */
  context: Deno.PointerObject;
  /** Endpoint address with the direction bit (0x81). */
  endpoint: number;
  /** Timeout of each transfer, ms. */
  timeout: number;
  /**
   * The error for a failed transfer or submission, as the device words it.
   *
   * @param code a libusb error code (LIBUSB_ERROR_*)
   * @param length bytes asked for
   * @param partial bytes received before it failed
   * @param data those bytes
   */
  error(code: number, length: number, partial: number, data: Uint8Array): Error;
}

interface InFlight {
  readonly transfer: Deno.PointerObject;
  readonly buffer: Uint8Array;
  readonly resolve: (end: TransferEnd) => void;
  ended: boolean;
}

/**
 * Submits bulk IN transfers through libusb's asynchronous API and runs the
 * event loop while any is in flight. One per pipelined read.
 */
export class LibusbBulkInSubmitter implements TransferSubmitter {
  readonly #target: LibusbPipelineTarget;
  readonly #callback: Deno.UnsafeCallback<typeof TRANSFER_CALLBACK>;
  /** Allocated transfers not in flight. */
  readonly #idle: Deno.PointerObject[] = [];
  /** Every transfer allocated (freed at close). */
  readonly #all: Deno.PointerObject[] = [];
  /** The data buffer of each transfer. */
  readonly #buffers = new Map<Deno.PointerObject, Uint8Array>();
  readonly #flying = new Map<number, InFlight>();
  #nextId = 1;
  #pumping: Promise<void> = Promise.resolve();
  #pumpActive = false;
  /** Transfers completed so far (tells an idle event-handling round). */
  #completions = 0;
  /** Transfers submitted so far (a round during which one was submitted is not idle). */
  #submissions = 0;
  /** Ends the event loop's idle pause early (a transfer was submitted). */
  #wake: (() => void) | undefined;
  #closed = false;
  #idleWaiters: (() => void)[] = [];

  /**
   * Prepare the callback; transfers are allocated on demand.
   *
   * @param target handle, context, endpoint, timeout and error wording
   */
  constructor(target: LibusbPipelineTarget) {
    this.#target = target;
    this.#callback = Deno.UnsafeCallback.threadSafe(
      TRANSFER_CALLBACK,
      (transfer) => this.#completed(transfer),
    );
  }

  /** Transfers in flight. */
  get inFlight(): number {
    return this.#flying.size;
  }

  /** Resolves when no transfer is in flight (at once if none is). */
  idle(): Promise<void> {
    if (this.#flying.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Submit one bulk IN transfer.
   *
   * @param length bytes to ask for
   * @returns the transfer on its way
   * @throws {UsbError} NO_MEM when libusb cannot allocate a transfer; the
   *   device's error for a refused submission (NO_DEVICE when unplugged)
   */
  async submit(length: number): Promise<PendingTransfer> {
    if (this.#closed) {
      throw new UsbError("NO_DEVICE", "the pipelined read was closed (the device is closing)");
    }
    const L = libusb();
    let transfer = this.#idle.pop();
    if (!transfer) {
      const fresh = L.libusb_alloc_transfer(0);
      if (!fresh) throw new UsbError("NO_MEM", "libusb_alloc_transfer failed: out of memory");
      transfersAllocated++;
      this.#all.push(fresh);
      transfer = fresh;
    }
    // Each transfer keeps its buffer (an ArrayBuffer of its own: outside the V8
    // heap, it does not move) for the whole read; completed data is copied out.
    // Long-lived buffers rather than one per submission: buffers alive across
    // garbage collections would be promoted and pile up until a full collection.
    let own = this.#buffers.get(transfer);
    if (!own || own.length < length) {
      own = new Uint8Array(new ArrayBuffer(length));
      this.#buffers.set(transfer, own);
    }
    const buffer = own.subarray(0, length);
    const id = this.#nextId++;
    fillBulkTransfer(transfer, {
      handle: this.#target.handle,
      endpoint: this.#target.endpoint,
      buffer,
      timeout: this.#target.timeout,
      callback: this.#callback.pointer,
      userData: id,
    });
    let resolve!: (end: TransferEnd) => void;
    const done = new Promise<TransferEnd>((r) => resolve = r);
    const entry: InFlight = { transfer, buffer, resolve, ended: false };
    // Registered before submitting: the callback can come before the submit call returns.
    this.#flying.set(id, entry);
    const r = await L.libusb_submit_transfer(transfer);
    if (r < 0) {
      this.#flying.delete(id);
      this.#idle.push(transfer);
      this.#wakeIdle();
      throw this.#target.error(r, length, 0, new Uint8Array(0));
    }
    this.#submissions++;
    // An idle event loop polls again now, for the transfer just submitted.
    this.#wake?.();
    this.#pump();
    const current = transfer;
    return {
      done,
      cancel: async () => {
        if (entry.ended) return;
        // NOT_FOUND: it already completed; its callback is on the way.
        await L.libusb_cancel_transfer(current);
      },
    };
  }

  /**
   * Free every transfer and the callback. Only once nothing is in flight;
   * with `leaked`, transfers libusb may still own are left allocated (and
   * the callback open), since freeing them could crash the process.
   *
   * @param leaked some transfer never ended
   */
  async close(leaked: boolean): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (leaked || this.#flying.size > 0) {
      // Left open for libusb, but it no longer keeps the process alive.
      this.#callback.unref();
      return;
    }
    // The event loop may still be in its last wait; it touches no transfer.
    const L = libusb();
    for (const transfer of this.#all) {
      L.libusb_free_transfer(transfer);
      transfersAllocated--;
    }
    this.#all.length = 0;
    this.#idle.length = 0;
    this.#buffers.clear();
    this.#callback.close();
    await this.#pumping;
  }

  /** Run libusb's event handling off the main thread while transfers are in flight. */
  #pump(): void {
    if (this.#pumpActive) return;
    this.#pumpActive = true;
    const L = libusb();
    const tv = new BigInt64Array([0n, EVENT_WAIT_US]);
    const loop = async (): Promise<void> => {
      try {
        while (this.#flying.size > 0) {
          const completions = this.#completions;
          const submissions = this.#submissions;
          const r = await L.libusb_handle_events_timeout_completed(this.#target.context, tv, null);
          if (r < 0 && r !== LIBUSB_ERROR_CODES.INTERRUPTED && r !== LIBUSB_ERROR_CODES.TIMEOUT) {
            this.#failAll(r); // the event loop itself failed (should not happen)
          }
          const idle = this.#completions === completions && this.#submissions === submissions;
          if (idle && this.#flying.size > 0) await this.#idlePause();
        }
      } finally {
        // Cleared in the same turn as the last check: a submission after it starts a new loop.
        this.#pumpActive = false;
      }
    };
    this.#pumping = loop();
  }

  /** Wait {@link IDLE_PAUSE_MS}, or until the next submission. */
  #idlePause(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, IDLE_PAUSE_MS);
      this.#wake = done;
    });
  }

  #failAll(code: number): void {
    for (const [id, entry] of this.#flying) {
      this.#flying.delete(id);
      this.#finish(entry, {
        status: "error",
        error: this.#target.error(code, entry.buffer.length, 0, new Uint8Array(0)),
        data: new Uint8Array(0),
      });
    }
  }

  /** The transfer callback (main thread). */
  #completed(transfer: Deno.PointerValue): void {
    if (!transfer) return;
    const { status, actualLength, userData } = readTransferResult(transfer);
    const entry = this.#flying.get(userData);
    if (!entry) return;
    this.#completions++;
    this.#flying.delete(userData);
    this.#idle.push(entry.transfer);
    const n = Math.max(0, Math.min(actualLength, entry.buffer.length));
    // A copy: the transfer's buffer serves its next submission.
    const data = entry.buffer.slice(0, n);
    const S = LIBUSB_TRANSFER_STATUS;
    const length = entry.buffer.length;
    let end: TransferEnd;
    switch (status) {
      case S.COMPLETED:
        end = { status: "ok", data };
        break;
      case S.CANCELLED:
        end = { status: "cancelled", data };
        break;
      case S.STALL:
        end = { status: "stall", data };
        break;
      case S.OVERFLOW:
        end = { status: "babble", data };
        break;
      case S.TIMED_OUT:
        end = {
          status: "error",
          error: this.#target.error(LIBUSB_ERROR_CODES.TIMEOUT, length, n, data),
          data,
        };
        break;
      case S.NO_DEVICE:
        end = {
          status: "error",
          error: this.#target.error(LIBUSB_ERROR_CODES.NO_DEVICE, length, n, data),
          data,
        };
        break;
      default:
        end = {
          status: "error",
          error: this.#target.error(LIBUSB_ERROR_CODES.IO, length, n, data),
          data,
        };
    }
    this.#finish(entry, end);
  }

  #finish(entry: InFlight, end: TransferEnd): void {
    entry.ended = true;
    entry.resolve(end);
    this.#wakeIdle();
  }

  #wakeIdle(): void {
    if (this.#flying.size > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }
}
