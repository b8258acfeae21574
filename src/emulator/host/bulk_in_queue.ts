/**
 * The virtual camera's bulk IN reads, queued in submission order: each
 * completes when the camera has data for it — with a bus model, no faster
 * than the full-speed bus allows — or fails with the session's error.
 *
 * @module
 */

import { UsbError } from "../../usb/errors.ts";
import type { PendingTransfer, TransferEnd } from "../../usb/pipeline.ts";
import { releasePaced, servicePaced } from "../engine/bus_model.ts";
import type { CanonFunction } from "../engine/canon_function.ts";

const ENDPOINT_BULK_IN = 0x81;

/** One transfer waiting for the camera. */
export interface Waiter {
  /** End it with an error. */
  fail(error: UsbError): void;
}

/** A bulk IN read waiting in the camera's queue (in submission order). */
interface BulkRead extends Waiter {
  readonly length: number;
  readonly submittedAt: number;
  slot?: { start: number; end: number; bytes: number };
  /** Taken off the queue with this result. */
  finish(end: TransferEnd): void;
}

/** What the queue needs of its virtual camera. */
export interface BulkInHost {
  /** The session the reads belong to is still open. */
  alive(): boolean;
  /** The error the reads of a dead session fail with. */
  error(): UsbError;
  /** A transfer starts waiting (so that close fails it). */
  track(waiter: Waiter): void;
  /** It stopped waiting. */
  untrack(waiter: Waiter): void;
}

/** The bulk IN reads waiting for one camera. */
export class BulkInQueue {
  readonly #engine: CanonFunction;
  readonly #host: BulkInHost;
  readonly #reads: BulkRead[] = [];
  #paceTimer: { at: number; timer: ReturnType<typeof setTimeout> } | undefined;

  /**
   * An empty queue.
   *
   * @param engine the camera's engine
   * @param host the virtual camera
   */
  constructor(engine: CanonFunction, host: BulkInHost) {
    this.#engine = engine;
    this.#host = host;
  }

  /** Cancel the pacing timer (the camera is disposed). */
  stopPacing(): void {
    this.#armPace(undefined);
  }

  /**
   * Queue a bulk IN read on endpoint 1; it completes in order (and, with a bus model, in time).
   *
   * @param length the most to receive
   * @param timeout ms (0: none)
   * @returns the transfer
   */
  submit(length: number, timeout: number): PendingTransfer {
    let resolveEnd!: (end: TransferEnd) => void;
    const done = new Promise<TransferEnd>((resolve) => resolveEnd = resolve);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let ended = false;
    const read: BulkRead = {
      length,
      submittedAt: performance.now(),
      finish: (end) => {
        if (ended) return;
        ended = true;
        clearTimeout(timer);
        this.#host.untrack(read);
        resolveEnd(end);
      },
      fail: (error) => {
        this.#dequeue(read);
        read.finish({ status: "error", error, data: new Uint8Array(0) });
      },
    };
    this.#host.track(read);
    this.#reads.push(read);
    if (timeout > 0) {
      timer = setTimeout(() => {
        read.fail(new UsbError("TIMEOUT", `Nothing arrived on endpoint 0x81 within ${timeout} ms`));
      }, timeout);
    }
    this.service();
    return {
      done,
      cancel: () => {
        if (this.#dequeue(read)) {
          read.finish({ status: "cancelled", data: new Uint8Array(0) });
        }
        return Promise.resolve();
      },
    };
  }

  /** Take a read out of the queue before it completed; false when it was not there. */
  #dequeue(read: BulkRead): boolean {
    const index = this.#reads.indexOf(read);
    if (index < 0) return false;
    this.#reads.splice(index, 1);
    const bus = this.#engine.bus;
    if (read.slot && bus) {
      // The reads behind it go back on the bus from now.
      releasePaced(bus, this.#reads, performance.now());
      queueMicrotask(() => this.service());
    }
    return true;
  }

  /** Complete the bulk IN reads the camera has data for (no faster than the bus, if modelled). */
  service(): void {
    const reads = this.#reads;
    if (reads.length === 0) return this.#armPace(undefined);
    if (!this.#host.alive()) {
      const error = this.#host.error();
      for (const read of reads.splice(0)) {
        read.finish({ status: "error", error, data: new Uint8Array(0) });
      }
      return this.#armPace(undefined);
    }
    const complete = (read: BulkRead, result: Uint8Array | "stall" | Error): void => {
      if (result instanceof Error) {
        read.finish({
          status: "error",
          error: new UsbError("IO", "The virtual camera failed to send", { cause: result }),
          data: new Uint8Array(0),
        });
      } else if (result === "stall") {
        read.finish({ status: "stall", data: new Uint8Array(0) });
      } else if (result.length > read.length) {
        // A full packet did not fit the room left in the transfer: babble.
        read.finish({ status: "babble", data: result.subarray(0, read.length) });
      } else {
        read.finish({ status: "ok", data: result });
      }
    };
    const engine = this.#engine;
    const bus = engine.bus;
    if (bus) {
      const next = servicePaced(bus, reads, {
        available: () => engine.available(ENDPOINT_BULK_IN),
        read: (n) => engine.read(ENDPOINT_BULK_IN, n),
      }, complete);
      return this.#armPace(next);
    }
    while (reads.length > 0) {
      const head = reads[0];
      let result: Uint8Array | "stall" | null | Error;
      try {
        result = engine.read(ENDPOINT_BULK_IN, head.length);
      } catch (error) {
        result = error instanceof Error ? error : new Error(String(error));
      }
      if (result === null) break;
      reads.shift();
      complete(head, result);
    }
  }

  /** Run {@link BulkInQueue.service} when the next paced read is due. */
  #armPace(at: number | undefined): void {
    if (this.#paceTimer && this.#paceTimer.at === at) return;
    if (this.#paceTimer) clearTimeout(this.#paceTimer.timer);
    this.#paceTimer = undefined;
    if (at === undefined) return;
    const delay = Math.max(0, Math.ceil(at - performance.now()));
    const timer = setTimeout(() => {
      if (this.#paceTimer?.timer !== timer) return;
      this.#paceTimer = undefined;
      this.service();
    }, delay);
    this.#paceTimer = { at, timer };
  }
}
