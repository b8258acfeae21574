/**
 * libusb's asynchronous API, the way every transfer of a `LibusbDevice`
 * goes: one event loop per libusb context ({@link LibusbEventLoop}) and the
 * pipelined bulk IN reads behind `LibusbDevice.readBulkChunks`
 * ({@link LibusbBulkInSubmitter}).
 *
 * A transfer is a `struct libusb_transfer` from `libusb_alloc_transfer`,
 * filled field by field ({@link fillBulkTransfer}: libusb's fill functions
 * are C inline functions), and submitted with `libusb_submit_transfer`.
 * Submitting and cancelling only queue or discard an URB in the kernel, so
 * the small transfers of a pipelined read (a full-speed camera's 0x1400
 * bytes, 200 per MiB) are submitted on the calling thread, which saves a
 * worker-thread round trip per transfer. Every other transfer is submitted
 * from a worker thread (a `nonblocking` call):
 * - a lone transfer is most often the next step of a dialogue, submitted
 *   from the completion callback of the one before while libusb's event
 *   thread waits for that callback to return (a `threadSafe` callback holds
 *   its caller until the JS it called, microtasks included, has run).
 *   Submitted there, the submission's ioctl ran before the event thread
 *   could end its round (its last reap, to EAGAIN) and poll again; from a
 *   worker thread the two run side by side;
 * - a pipelined read's transfers of 32 KiB or more: each submission on the
 *   calling thread held it for an ioctl while the data of the transfers
 *   before waited to be handed out. The hop's CPU (about 30 us) is small
 *   against so many bytes; against 0x1400 bytes it cost a download 20 %
 *   more client CPU per MiB.
 * Under umockdev each ioctl is a round trip to another process (about
 * 0.4 ms in bench:compare's setup). Measured side by side with
 * `bench/tree_ab.ts --job=usb` (four runs of 5-9 rounds), everything
 * submitted here against this: 64 KiB reads one at a time 0.95-1.03x
 * node-usb's speed against 1.02-1.08x, 8 in flight 0.91-0.97x against
 * 0.98-1.07x, the 8-byte control round trip 1.03-1.11x as fast as
 * node-usb's against 1.12-1.21x. With `bench:compare --only=usb`, 8 in
 * flight measured 0.92-1.09x handed off (four runs) and 0.94-0.97x with the
 * pipelined transfers on the calling thread (two runs, alternating with two
 * of those). `canon info` and a download's CPU per MiB stay the same
 * (`--job=info`, `--job=download`). All of these move with the machine's
 * load: in the two full bench:compare runs of this change the three
 * measured 0.92x, 0.90x, 1.15x (a slow phase) and 1.03x, 0.97x, 1.21x.
 * On a kernel device node a submission is a syscall of microseconds, and
 * the hop costs about what it saves, against transfers of a millisecond or
 * more on a full-speed bus.
 *
 * Submissions stay in order: while a worker-thread submission is still
 * running, every later one waits for it. While this process itself answers
 * the device's ioctls (an in-process umockdev testbed), every submission
 * and cancel is a `nonblocking` call, made in order.
 *
 * Events are handled off the main thread by
 * `libusb_handle_events_timeout_completed` calls (`nonblocking`), one after
 * the other for as long as any transfer of the context is in flight, and
 * not at all otherwise. The transfers of a pipelined read are submitted
 * without a completion callback (libusb allows a null one) and with a
 * status and length libusb never writes (`TRANSFER_STATUS_PENDING`):
 * after each round the loop reads the status of each in flight and runs
 * the handlers of those that ended, so their completions cost no thread
 * hop of their own.
 * The statuses are read at other times too: each time a worker-thread
 * submission returns while an event-handling call still runs. libusb's
 * call reaps until the kernel has nothing more for it, so with every
 * completion handed on only when the call returned, the transfers it
 * reaped were all resubmitted after it, and it ended each time the last one
 * in flight was reaped (about every 7.5 transfers of 8 in flight: a reap
 * that finds nothing, an ioctl, then a return and a new call, each a thread
 * hop). Handed on at once, their data reaches the reader and their
 * replacements are submitted while the call still reaps, and it goes on:
 * for 256 reads of 64 KiB, 35-36 calls before and 12-16 after, and 2,192
 * against 2,071-2,078 ioctls at the emulator for 1,024 reads (node-usb's
 * native event thread: 2,082-2,137). Side by side with `bench/tree_ab.ts
 * --job=usb`, 8 in flight went from 0.94x to 1.03x node-usb's speed (5
 * rounds) and from 1.01x to 1.17x (7 rounds); single reads, the control
 * round trip and a download's CPU per MiB (`--job=download`) stayed the
 * same. libusb writes a transfer's status and then its `actual_length`
 * ({@link transferEnded} waits for both) and reads nothing of it after but
 * its callback field, so a transfer that ended is freed only between calls
 * ({@link LibusbEventLoop.betweenCalls}).
 *
 * A lone transfer (a control transfer, a single read or write) has a
 * `threadSafe` completion callback instead, which libusb calls in the
 * middle of the round: the next exchange starts while the round ends.
 * Measured side by side: polled lone transfers made 64 KiB reads one at a
 * time 0.68x node-usb's speed and the 8-byte control round trip 0.76x (the
 * bench:compare of this change), against 0.93-0.97x and 0.84-0.99x with the
 * callback. A `threadSafe` callback that is never called is ref'd while
 * anything is in flight: it keeps the process alive through the pauses (a
 * timed wait does not); with nothing in flight, nothing does.
 *
 * Downloads, measured side by side (an A/B of whole downloads, 32 MiB
 * through umockdev 0.17.16 and libusb 1.0.26, bus model off, five runs):
 * client CPU per MiB 0.046 s with completions by callback and the pipelined
 * reads submitted from a worker thread, 0.039 with completions polled, 0.034
 * with those submitted here as well, against gphoto2's 0.033; throughput
 * the same, and a G3 thumbnail 26.4 ms from command to command either way.
 * (The worker thread for those submissions had measured 9-10 MB/s against
 * 6-7 while completions were callbacks, which needed the main thread free.)
 * The price is on the USB layer's own bench, 64 KiB reads from a device
 * that answers at once: 8 in flight move 0.85-0.89x node-usb's speed,
 * against 0.97x submitted from a worker thread.
 *
 * On a kernel device node each event-handling call sleeps in poll() until
 * something completes. Through umockdev 0.17.16 it does too, in a client
 * process of its own (no round of `canon info`, a download or a thumbnail
 * run ended with nothing done). Where the node is always ready instead (a
 * plain file), a round that completed nothing and saw no submission is
 * followed by a pause of 1 ms (about 2.1 ms in fact: V8's timed wait), cut
 * short by the next submission, so that the loop does not spin ioctls at
 * the emulator while a reply is on its way. With several transfers queued
 * (a download) the queue hides the pause; spinning there was measured to
 * cost client and emulator CPU for no throughput.
 *
 * Exchanges that wait on each reply do not pause: while a lone transfer is
 * in flight, or the last transfers of a pipelined read once all of it is
 * submitted (the reader waits on them; {@link LibusbEventLoop.urgent}), the
 * loop goes round without pausing for {@link SPIN_MS} after the last
 * completion or submission, as a synchronous libusb call (gphoto2's) does
 * the whole time. Pausing there, every reply to a lone read reached JS 2-4
 * ms after the emulator had sent it (the pause, its timer and a worker hop):
 * a G3 thumbnail (a header read after the camera's 17 ms delay, a 4352-byte
 * read and a 35-byte tail) took 37-39 ms from command to command against
 * gphoto2's 27.5 (bench/import_trace.ts --thumbs, umockdev, G3 timing and
 * bus model on). It took 28.3 with the lone reads spinning, 28.0 with the
 * tail then read alone after the rest, and 25.2 with the tail queued with
 * the rest and the loop spinning once both are in flight.
 *
 * @module
 */

import {
  fillBulkTransfer,
  LIBUSB_TRANSFER_STATUS,
  mayIssueIoctlsHere,
  readTransferResult,
  rearmTransfer,
  TRANSFER_CALLBACK,
  transferActualLength,
  transferEnded,
  transferStatus,
  transferUserData,
  transferView,
} from "../../ffi/libusb.ts";
import { libusb } from "./libusb_library.ts";
import { LIBUSB_ERROR_CODES, UsbError } from "./errors.ts";
import { canWaitQuietly, watchOnce } from "./watchdog.ts";
import type { PendingTransfer, TransferEnd, TransferSubmitter } from "./pipeline.ts";

/** The keep-alive handle's signature (it is never called). */
const KEEP_ALIVE = {
  parameters: [],
  result: "void",
} as const satisfies Deno.UnsafeCallbackDefinition;

/**
 * A pipelined read's transfers of this many bytes or more are submitted from
 * a worker thread (see the module notes): the hop's CPU, about 30 us, is then
 * at most 1 ms per MiB.
 */
const HAND_OFF_BYTES = 32 * 1024;

/** How long one `libusb_handle_events_timeout_completed` call may wait for an event. */
const EVENT_WAIT_US = 50_000n;

/**
 * For how long (ms) after the last completion or submission the event loop
 * goes round without pausing while a single transfer is in flight (see the
 * module notes): longer than a G3's 17 ms processing delay, so a reply
 * header is seen as soon as it is sent; longer waits (a capture's) pause
 * again.
 */
export const SPIN_MS = 30;

/**
 * After that, how long (ms) the loop waits after a round that completed
 * nothing before the next, unless a submission wakes it sooner.
 */
const IDLE_PAUSE_MS = 1;

/** libusb transfers allocated and not yet freed, process-wide (this realm). For leak checks. */
let transfersAllocated = 0;

/**
 * Event-handling calls made, and pipelined transfers handed out while one
 * was still running (this realm).
 */
const rounds = { calls: 0, endedMidCall: 0 };

/**
 * How this realm's event loops have gone so far: the event-handling calls
 * made, and the pipelined transfers whose end was seen (and handed on)
 * while an event-handling call was still running, between a worker-thread
 * submission's return and the call's (see the module notes). For
 * diagnostics and tests.
 *
 * @returns a copy of the counts
 */
export function libusbEventRounds(): { calls: number; endedMidCall: number } {
  return { ...rounds };
}

/**
 * How many `struct libusb_transfer` this realm has allocated and not freed:
 * 0 whenever no transfer is in flight. For diagnostics and tests.
 *
 * @returns the count
 */
export function libusbTransfersInUse(): number {
  return transfersAllocated;
}

/**
 * Allocate a transfer without isochronous packets.
 *
 * @returns the `struct libusb_transfer *`
 * @throws {UsbError} NO_MEM
 */
export function allocTransfer(): Deno.PointerObject {
  const transfer = libusb().libusb_alloc_transfer(0);
  if (!transfer) throw new UsbError("NO_MEM", "libusb_alloc_transfer failed: out of memory");
  transfersAllocated++;
  return transfer;
}

/**
 * Free a transfer from {@link allocTransfer} (never one in flight).
 *
 * @param transfer the transfer
 */
export function freeTransfer(transfer: Deno.PointerObject): void {
  libusb().libusb_free_transfer(transfer);
  transfersAllocated--;
}

/**
 * Told that a transfer ended: its `struct libusb_transfer *` (read its
 * outcome with `readTransferResult`), or null when libusb's event handling
 * itself failed and the transfer's fate is unknown.
 */
export type TransferHandler = (transfer: Deno.PointerObject | null) => void;

/** A transfer the event loop watches: what it needs to see it end and say so. */
export interface WatchedTransfer {
  /** The filled `struct libusb_transfer *`, its user data the id. */
  readonly transfer: Deno.PointerObject;
  /**
   * Its {@link transferView} when it was filled without a callback: the loop
   * reads there whether it ended. Without one, it was filled with
   * {@link LibusbEventLoop.callback}, which reports its end.
   */
  readonly view?: DataView;
  /** Bytes asked for: what decides where a pipelined read's transfer is submitted. */
  readonly length?: number;
  /** Its id from {@link LibusbEventLoop.nextId}. */
  readonly id: number;
  /** Called (main thread) once it ended. */
  readonly onDone: TransferHandler;
}

/**
 * The event loop of one libusb context: delivers the completions of every
 * asynchronous transfer submitted through it. Made and closed by the
 * context's owner (`libusb_context.ts`).
 */
export class LibusbEventLoop {
  #context: Deno.PointerObject | undefined;
  /**
   * Never called: a ref'd handle that keeps the process alive while a
   * transfer is in flight, pauses included (a timed wait does not).
   */
  readonly #keepAlive: Deno.UnsafeCallback<typeof KEEP_ALIVE>;
  /** The completion callback of lone transfers (unref'd: the keep-alive handle does that). */
  readonly #callback: Deno.UnsafeCallback<typeof TRANSFER_CALLBACK>;
  /** The transfers in flight, by id. */
  readonly #watched = new Map<number, WatchedTransfer>();
  /** The ids of those whose completion someone waits on at once ({@link LibusbEventLoop.urgent}). */
  readonly #urgent = new Set<number>();

  #nextId = 1;
  #running = false;
  #loop: Promise<void> = Promise.resolve();
  #lastActivity = 0;
  #wake: (() => void) | undefined;
  /** The idle pause's timed-wait cell, and its wake and end handlers (made once). */
  #pauseCell: Int32Array | undefined;
  #notify: (() => void) | undefined;
  #pauseEnded: (() => void) | undefined;
  #closed = false;
  /** The last worker-thread submission (the next one waits for it while it runs). */
  #submitting: Promise<number> = Promise.resolve(0);
  /** Worker-thread submissions still running. */
  #workerSubmits = 0;
  /** An event-handling call is running (on a worker thread). */
  #inCall = false;
  /** What waits for it to return ({@link LibusbEventLoop.betweenCalls}). */
  #deferred: (() => void)[] = [];

  /**
   * Make the loop's callbacks; {@link LibusbEventLoop.attach} gives it its
   * context. Made while `libusb_init` runs on a worker thread (making the
   * first callback of a process takes about 0.7 ms). Nothing runs until a
   * transfer is submitted.
   */
  constructor() {
    this.#keepAlive = Deno.UnsafeCallback.threadSafe(KEEP_ALIVE, () => {});
    this.#keepAlive.unref();
    this.#callback = Deno.UnsafeCallback.threadSafe(
      TRANSFER_CALLBACK,
      (transfer) => this.#completed(transfer),
    );
    this.#callback.unref();
  }

  /**
   * Give the loop the context whose events it handles, once, before the
   * first transfer.
   *
   * @param context the `libusb_context *`
   */
  attach(context: Deno.PointerObject): void {
    this.#context = context;
  }

  /**
   * The completion callback for a lone transfer (`Deno.UnsafeCallback.pointer`;
   * submit it without a view): see the module notes.
   */
  get callback(): Deno.PointerObject {
    return this.#callback.pointer;
  }

  /** Transfers in flight. */
  get inFlight(): number {
    return this.#watched.size;
  }

  /**
   * Reserve the id of a transfer about to be submitted.
   *
   * @returns the id (also its `userData`)
   */
  nextId(): number {
    return this.#nextId++;
  }

  /**
   * Submit a filled transfer; its `onDone` runs (main thread) once it ended.
   *
   * @param watched the transfer, its id, handler and (filled without a callback) view
   * @returns 0 (in flight), or libusb's error code (nothing in flight then):
   *   at once when the transfer was submitted on the calling thread, as a
   *   promise when it went through a worker thread
   */
  submit(watched: WatchedTransfer): number | Promise<number> {
    if (this.#closed) return LIBUSB_ERROR_CODES.NO_DEVICE;
    const id = watched.id;
    this.#watched.set(id, watched);
    if (this.#watched.size === 1) this.#keepAlive.ref();
    const L = libusb();
    const transfer = watched.transfer;
    // A pipelined read's small transfer (it has a view) goes in on this
    // thread, unless a worker-thread submission is still running: it would
    // overtake it.
    const here = watched.view !== undefined && (watched.length ?? 0) < HAND_OFF_BYTES;
    if (here && this.#workerSubmits === 0 && mayIssueIoctlsHere()) {
      return this.#submitted(id, L.libusb_submit_transfer_here(transfer));
    }
    // A worker-thread submission made while another is still running waits
    // for it, so that transfers reach the kernel in the order they were
    // submitted here (parallel worker threads would race each other).
    const call = () => L.libusb_submit_transfer(transfer);
    const submitted = this.#workerSubmits === 0 ? call() : this.#submitting.then(call, call);
    this.#submitting = submitted;
    this.#workerSubmits++;
    return submitted.then((r) => {
      this.#workerSubmits--;
      const code = this.#submitted(id, r);
      // The event-handling call may still be reaping: what ended is handed
      // on now, and the transfers its handlers submit keep that call going.
      if (this.#inCall) rounds.endedMidCall += this.#reap();
      return code;
    }, (error) => {
      this.#workerSubmits--;
      throw error;
    });
  }

  #submitted(id: number, r: number): number {
    if (r < 0) {
      this.#forget(id);
      return r;
    }
    this.#lastActivity = performance.now();
    this.#wake?.();
    this.#pump();
    return 0;
  }

  /**
   * Mark a transfer in flight as the end of a read someone waits on: while
   * one is in flight, the loop goes round without pausing (as for a lone
   * transfer, see the module notes) until it has ended.
   *
   * @param id its id
   */
  urgent(id: number): void {
    if (this.#watched.has(id)) this.#urgent.add(id);
  }

  /**
   * Ask libusb to cancel a transfer in flight (its handler then runs with
   * status CANCELLED, or with how it really ended).
   *
   * @param transfer the transfer
   * @returns 0, or NOT_FOUND when it is no longer in flight
   */
  async cancel(transfer: Deno.PointerObject): Promise<number> {
    const L = libusb();
    return mayIssueIoctlsHere()
      ? L.libusb_cancel_transfer_here(transfer)
      : await L.libusb_cancel_transfer(transfer);
  }

  /**
   * Wait until no event-handling call is running: at once when none is, or
   * until the running one returns. A transfer seen to end while a call runs
   * ({@link transferEnded}) is freed after this: libusb may still be
   * reading its callback field.
   *
   * @returns when no call is running
   */
  betweenCalls(): Promise<void> {
    if (!this.#inCall) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#deferred.push(resolve);
    return promise;
  }

  #afterCall(): void {
    if (this.#deferred.length === 0) return;
    const deferred = this.#deferred;
    this.#deferred = [];
    for (const resolve of deferred) resolve();
  }

  /**
   * Stop waiting for a transfer that never ended (its memory stays with
   * libusb): the loop no longer runs for it.
   *
   * @param id its id
   */
  abandon(id: number): void {
    this.#forget(id);
  }

  /**
   * End the loop (once nothing is in flight, or everything was abandoned)
   * and close its callback and keep-alive handle. Call before `libusb_exit`.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#watched.clear();
    this.#urgent.clear();
    this.#wake?.();
    await this.#loop;
    this.#keepAlive.close();
    this.#callback.close();
  }

  #forget(id: number): void {
    this.#urgent.delete(id);
    if (this.#watched.delete(id) && this.#watched.size === 0) this.#keepAlive.unref();
  }

  #pump(): void {
    if (this.#running) return;
    const context = this.#context;
    if (!context) throw new Error("LibusbEventLoop: a transfer was submitted before attach()");
    this.#running = true;
    const L = libusb();
    const tv = new BigInt64Array([0n, EVENT_WAIT_US]);
    const loop = async (): Promise<void> => {
      try {
        while (this.#watched.size > 0) {
          const before = this.#lastActivity;
          rounds.calls++;
          this.#inCall = true;
          let r: number;
          try {
            r = await L.libusb_handle_events_timeout_completed(context, tv, null);
          } finally {
            this.#inCall = false;
            this.#afterCall();
          }
          if (r < 0 && r !== LIBUSB_ERROR_CODES.INTERRUPTED && r !== LIBUSB_ERROR_CODES.TIMEOUT) {
            this.#failAll(); // the event loop itself failed (should not happen)
          }
          this.#reap();
          const idle = this.#lastActivity === before;
          const spin = (this.#watched.size === 1 || this.#urgent.size > 0) &&
            performance.now() - before <= SPIN_MS;
          if (idle && this.#watched.size > 0 && !spin) {
            await this.#idlePause();
          }
        }
      } finally {
        // Cleared in the same turn as the last check: a submission after it starts a new loop.
        this.#running = false;
      }
    };
    this.#loop = loop();
  }

  /**
   * Every transfer without a callback that has ended: libusb wrote its
   * status and length, after the data. Called when an event-handling call
   * returns, and while one runs (see the module notes).
   * A handler may submit another transfer; that one is still pending here.
   *
   * @returns how many ended
   */
  #reap(): number {
    let ended = 0;
    for (const watched of this.#watched.values()) {
      if (!watched.view || !transferEnded(watched.view)) continue;
      ended++;
      this.#forget(watched.id);
      watched.onDone(watched.transfer);
    }
    if (ended) this.#lastActivity = performance.now();
    return ended;
  }

  /**
   * V8's timed wait on a cell of the loop's own, woken early by a
   * submission: the loop runs only while a transfer is in flight, when the
   * ref'd keep-alive handle keeps the process alive anyway. A `setTimeout`
   * here loaded Deno's Node timer code into every process that paused
   * once, about 4 MiB of resident memory (a 2,000-file listing, which
   * pauses about a thousand times: one cell for all of them, not a buffer
   * each).
   */
  #idlePause(): Promise<void> {
    if (!canWaitQuietly) {
      return new Promise((resolve) => {
        const done = () => {
          timer.cancel();
          this.#wake = undefined;
          resolve();
        };
        const timer = watchOnce(IDLE_PAUSE_MS, done, true);
        this.#wake = done;
      });
    }
    const cell = this.#pauseCell ??= new Int32Array(new SharedArrayBuffer(4));
    const wait = Atomics.waitAsync(cell, 0, 0, IDLE_PAUSE_MS);
    if (!wait.async) return Promise.resolve();
    this.#wake = this.#notify ??= () => {
      this.#wake = undefined;
      Atomics.notify(cell, 0);
    };
    return wait.value.then(
      this.#pauseEnded ??= () => {
        this.#wake = undefined;
      },
    );
  }

  /** The completion callback of a lone transfer (main thread). */
  #completed(transfer: Deno.PointerValue): void {
    if (!transfer) return;
    const id = transferUserData(transfer);
    const watched = this.#watched.get(id);
    if (!watched) return;
    this.#lastActivity = performance.now();
    this.#forget(id);
    watched.onDone(transfer);
  }

  /** Every handler is told that the event loop failed. */
  #failAll(): void {
    const watched = [...this.#watched.values()];
    this.#watched.clear();
    this.#urgent.clear();
    this.#keepAlive.unref();
    for (const w of watched) w.onDone(null);
  }
}

/** What the device supplies to a {@link LibusbBulkInSubmitter}. */
export interface LibusbPipelineTarget {
  /** The open `libusb_device_handle *`. */
  handle: Deno.PointerObject;
  /** The event loop of its context. */
  events: LibusbEventLoop;
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

/**
 * One transfer of a {@link LibusbBulkInSubmitter}, kept for the whole read
 * with everything a submission needs: its struct's view, its buffer, a
 * user-data id and the handlers, all made once, so that a submission and
 * its completion allocate no more than the promise the pipeline waits on.
 * The slot is also the `PendingTransfer` of each of its submissions: the
 * pipeline drops an entry before releasing its data, and submits nothing
 * once it has started cancelling, so no caller holds a slot across reuse.
 */
class Slot implements PendingTransfer, WatchedTransfer {
  readonly transfer: Deno.PointerObject;
  readonly view: DataView;
  /** The transfer's own buffer (an ArrayBuffer outside the V8 heap: it does not move). */
  buffer: Uint8Array;
  /** Its user-data id, the same for every submission. */
  readonly id: number;
  /** Bytes asked for by the submission in flight. */
  length = 0;
  /** Whether the submission in flight has ended. */
  ended = true;
  done: Promise<TransferEnd> = Promise.resolve({ status: "cancelled", data: new Uint8Array(0) });
  resolve: (end: TransferEnd) => void = () => {};
  readonly #owner: LibusbBulkInSubmitter;
  readonly #events: LibusbEventLoop;
  /** libusb's callback for this slot (made once). */
  readonly onDone: TransferHandler;
  /** Gives the slot back once the pipeline no longer needs its data (made once). */
  readonly release: () => void;
  /** Whether the data of the last completion was given back. */
  released = true;
  /** Whether the transfer holds this slot's current length, buffer and ids. */
  filled = false;
  /** Given up on while in flight: libusb may still own it, so it is never reused or freed. */
  lost = false;

  constructor(
    owner: LibusbBulkInSubmitter,
    events: LibusbEventLoop,
    transfer: Deno.PointerObject,
    capacity: number,
  ) {
    this.#owner = owner;
    this.#events = events;
    this.transfer = transfer;
    this.view = transferView(transfer);
    this.buffer = new Uint8Array(new ArrayBuffer(capacity));
    this.id = events.nextId();
    this.onDone = (t) => owner.completed(this, t);
    this.release = () => {
      if (this.released) return;
      this.released = true;
      owner.reuse(this);
    };
  }

  /** Ask libusb to end the submission in flight (NOT_FOUND: it already ended). */
  async cancel(): Promise<void> {
    if (this.ended) return;
    await this.#events.cancel(this.transfer);
  }

  /** Settle the submission in flight without libusb (a transfer given up on). */
  abandon(end: TransferEnd): void {
    if (this.ended) return;
    this.ended = true;
    this.lost = true;
    this.#events.abandon(this.id);
    this.#owner.forget(this);
    this.resolve(end);
  }
}

/**
 * Submits bulk IN transfers through the context's event loop. One per
 * pipelined read.
 */
export class LibusbBulkInSubmitter implements TransferSubmitter {
  readonly #target: LibusbPipelineTarget;
  /** Slots not in flight. */
  readonly #idle: Slot[] = [];
  /** Every slot (freed at close). */
  readonly #all: Slot[] = [];
  /** Slots whose submission is in flight. */
  readonly #flying = new Set<Slot>();
  #closed = false;
  #idleWaiters: (() => void)[] = [];

  /**
   * Prepare; transfers are allocated on demand.
   *
   * @param target handle, event loop, endpoint, timeout and error wording
   */
  constructor(target: LibusbPipelineTarget) {
    this.#target = target;
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
   * @returns the transfer on its way: at once when it was submitted on this
   *   thread, as a promise when it went through a worker thread
   * @throws {UsbError} NO_MEM when libusb cannot allocate a transfer; the
   *   device's error for a refused submission (NO_DEVICE when unplugged)
   */
  submit(length: number): PendingTransfer | Promise<PendingTransfer> {
    if (this.#closed) {
      throw new UsbError("NO_DEVICE", "the pipelined read was closed (the device is closing)");
    }
    const events = this.#target.events;
    let slot = this.#idle.pop();
    if (!slot) {
      slot = new Slot(this, events, allocTransfer(), length);
      this.#all.push(slot);
    }
    // Each slot keeps its buffer for the whole read; completed data is lent
    // to the consumer in place (no copy) until the pipeline releases it.
    // Long-lived buffers rather than one per submission: buffers alive across
    // garbage collections would be promoted and pile up until a full collection.
    if (slot.buffer.length < length) {
      slot.buffer = new Uint8Array(new ArrayBuffer(length));
      slot.filled = false;
    }
    if (slot.filled) {
      rearmTransfer(slot.view, length, this.#target.timeout);
    } else {
      fillBulkTransfer(slot.transfer, {
        handle: this.#target.handle,
        endpoint: this.#target.endpoint,
        buffer: slot.buffer.subarray(0, length),
        timeout: this.#target.timeout,
        callback: null,
        userData: slot.id,
      }, slot.view);
      slot.filled = true;
    }
    slot.length = length;
    slot.ended = false;
    slot.released = false;
    const { promise, resolve } = Promise.withResolvers<TransferEnd>();
    slot.done = promise;
    slot.resolve = resolve;
    this.#flying.add(slot);
    const r = events.submit(slot);
    if (typeof r === "number") return this.#afterSubmit(slot, r);
    return r.then((code) => this.#afterSubmit(slot, code));
  }

  /** The read's last transfer is in flight: the loop sees the ones in flight without pausing. */
  planEnded(): void {
    for (const slot of this.#flying) this.#target.events.urgent(slot.id);
  }

  #afterSubmit(slot: Slot, r: number): PendingTransfer {
    if (r >= 0) return slot;
    slot.ended = true;
    this.#flying.delete(slot);
    slot.released = true;
    this.#idle.push(slot);
    this.#wakeIdle();
    throw this.#target.error(r, slot.length, 0, new Uint8Array(0));
  }

  /**
   * Free every transfer, once no event-handling call is running
   * ({@link LibusbEventLoop.betweenCalls}). Only once nothing is in flight;
   * with `leaked`, transfers libusb may still own are left allocated (and
   * abandoned by the event loop), since freeing them could crash the process.
   *
   * @param leaked some transfer never ended
   */
  async close(leaked: boolean): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (leaked || this.#flying.size > 0) {
      for (const slot of this.#flying) this.#target.events.abandon(slot.id);
      return;
    }
    const slots = this.#all.filter((slot) => !slot.lost);
    this.#all.length = 0;
    this.#idle.length = 0;
    await this.#target.events.betweenCalls();
    for (const slot of slots) freeTransfer(slot.transfer);
  }

  /** A slot's data is no longer needed: it may serve another submission. */
  reuse(slot: Slot): void {
    if (slot.lost || !slot.ended) return; // given up on: libusb may still own it
    this.#idle.push(slot);
  }

  /** A slot given up on: no longer counted in flight (and never reused). */
  forget(slot: Slot): void {
    slot.released = true;
    this.#flying.delete(slot);
    this.#wakeIdle();
  }

  /** A slot's transfer ended (main thread). */
  completed(slot: Slot, transfer: Deno.PointerObject | null): void {
    if (slot.ended || !this.#flying.delete(slot)) return;
    slot.ended = true;
    const length = slot.length;
    if (!transfer) {
      // The event loop failed: the transfer may still be libusb's; the slot is not reused.
      slot.released = true;
      slot.resolve({
        status: "error",
        error: this.#target.error(LIBUSB_ERROR_CODES.IO, length, 0, new Uint8Array(0)),
        data: new Uint8Array(0),
      });
      this.#wakeIdle();
      return;
    }
    const outcome = transferOutcome(
      transferStatus(slot.view),
      transferActualLength(slot.view),
      length,
    );
    // No copy: the data stays in the slot's buffer until the pipeline
    // releases it (the consumer asked for the next result); only then does
    // the slot, with its buffer, serve another submission.
    const data = slot.buffer.subarray(0, outcome.length);
    slot.resolve(
      outcome.status === "error"
        ? {
          status: "error",
          error: this.#target.error(outcome.code, length, outcome.length, data.slice()),
          data,
          release: slot.release,
        }
        : { status: outcome.status, data, release: slot.release },
    );
    this.#wakeIdle();
  }

  #wakeIdle(): void {
    if (this.#flying.size > 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }
}

/**
 * How a libusb transfer ended, in WebUSB's terms: a status with the bytes
 * moved, or a failure with libusb's error code (`LIBUSB_ERROR_*`).
 */
export type LibusbTransferOutcome =
  | { readonly status: "ok" | "stall" | "babble" | "cancelled"; readonly length: number }
  | { readonly status: "error"; readonly code: number; readonly length: number };

/**
 * Read a finished transfer's outcome: the one place that turns libusb's
 * `status` and `actual_length` into a result or an error code. Completed is
 * `"ok"`, STALL `"stall"`, OVERFLOW `"babble"`, CANCELLED `"cancelled"`;
 * TIMED_OUT, NO_DEVICE and ERROR (and anything unknown) are failures with
 * LIBUSB_ERROR_TIMEOUT, NO_DEVICE and IO. The length is clamped to
 * `0..capacity` (libusb never reports more, but a length is trusted nowhere).
 *
 * @param transfer the `struct libusb_transfer *` the callback received
 * @param capacity the transfer's buffer length
 * @returns its outcome
 */
export function readTransferOutcome(
  transfer: Deno.PointerObject,
  capacity: number,
): LibusbTransferOutcome {
  const { status, actualLength } = readTransferResult(transfer);
  return transferOutcome(status, actualLength, capacity);
}

/**
 * {@link readTransferOutcome} from the two fields already read.
 *
 * @param status `enum libusb_transfer_status`
 * @param actualLength `actual_length`
 * @param capacity the buffer length
 * @returns the outcome
 */
export function transferOutcome(
  status: number,
  actualLength: number,
  capacity: number,
): LibusbTransferOutcome {
  const S = LIBUSB_TRANSFER_STATUS;
  const length = Math.max(0, Math.min(actualLength, capacity));
  switch (status) {
    case S.COMPLETED:
      return { status: "ok", length };
    case S.STALL:
      return { status: "stall", length };
    case S.OVERFLOW:
      return { status: "babble", length };
    case S.CANCELLED:
      return { status: "cancelled", length };
    case S.TIMED_OUT:
      return { status: "error", code: LIBUSB_ERROR_CODES.TIMEOUT, length };
    case S.NO_DEVICE:
      return { status: "error", code: LIBUSB_ERROR_CODES.NO_DEVICE, length };
    default:
      return { status: "error", code: LIBUSB_ERROR_CODES.IO, length };
  }
}
