/**
 * Pipelined IN transfers, independent of the backend: keep several transfers
 * submitted, hand their results out in submission order, and stop cleanly.
 * A backend (libusb's asynchronous API, the virtual camera's transfer queue)
 * supplies a {@link TransferSubmitter}; {@link pipelineReads} does the rest
 * and is what {@link UsbDevice.readBulkChunks} implementations return.
 *
 * Rules (the contract of `readBulkChunks`):
 * - transfers are submitted in the order of `lengths`, at most `inFlight` at
 *   a time, and their results are yielded in that order;
 * - after a short transfer, a stall, a babble, a failure or an abort, nothing
 *   more is submitted and every transfer still in flight is cancelled; the
 *   bytes that cancelled transfers had received are yielded in order (as
 *   short "ok" results), unless a transfer failed;
 * - the generator returns only when every transfer it submitted has ended,
 *   and then releases the backend ({@link TransferSubmitter.close});
 * - the bytes of a result are valid until the consumer asks for the next
 *   one (or ends the iteration): a backend may then reuse their memory for
 *   a later transfer ({@link TransferEnd} `release`). Copy or write them out
 *   before asking for more.
 *
 * @module
 */

import type { UsbDevice, UsbInResult } from "./device.ts";
import { UsbError } from "./errors.ts";
import { watchEvery } from "./watchdog.ts";

/** The default number of transfers kept in flight. */
export const DEFAULT_IN_FLIGHT = 8;

/** How a submitted transfer ended. */
export type TransferEnd =
  & (
    /** Finished (possibly short), was cancelled, or ended with a stall or babble. */
    | { status: "ok" | "cancelled" | "stall" | "babble"; data: Uint8Array }
    /** Failed: timeout, device gone, I/O error. */
    | { status: "error"; error: Error; data: Uint8Array }
  )
  & {
    /**
     * Called once {@link pipelineReads} no longer needs `data` (the consumer
     * asked for the next result, or the data was not handed out): the
     * backend may reuse its memory from then on. Absent when `data` is the
     * consumer's to keep.
     */
    release?: () => void;
  };

/** One transfer on its way. */
export interface PendingTransfer {
  /** Settles (never rejects) once the transfer has ended, however it ended. */
  readonly done: Promise<TransferEnd>;
  /**
   * Ask the backend to end the transfer early; `done` then settles with
   * status "cancelled" (or with how it really ended, if it won the race).
   * Idempotent; harmless once the transfer has ended.
   */
  cancel(): Promise<void>;
  /**
   * Whether it has ended, for a backend that keeps track (with
   * {@link PendingTransfer.abandon}): the pipeline then waits on `done`
   * itself instead of a promise of its own per transfer.
   */
  readonly ended?: boolean;
  /**
   * Settle `done` at once with `end`: the transfer is given up on (it never
   * ended within the bound), and the backend must leave its resources alone.
   */
  abandon?(end: TransferEnd): void;
}

/** What a backend provides to {@link pipelineReads}. */
export interface TransferSubmitter {
  /**
   * Submit one IN transfer.
   *
   * @param length bytes to ask for
   * @returns the transfer on its way
   * @throws an error when it could not be submitted (nothing is then in flight for it)
   */
  submit(length: number): PendingTransfer | Promise<PendingTransfer>;
  /**
   * Told once, when every transfer of the read has been submitted: the
   * consumer now waits on the transfers in flight alone, the last of them
   * the read's end (a backend may then see their completions sooner, at
   * some cost, as it does for a lone transfer).
   */
  planEnded?(): void;
  /**
   * Release the backend's resources. Called once, after every submitted
   * transfer has ended, or with `leaked` set when some never ended within
   * the bound (their resources must then be left alone).
   */
  close(leaked: boolean): Promise<void> | void;
}

/** Options of {@link pipelineReads}. */
export interface PipelineOptions {
  /** Transfers kept in flight (default {@link DEFAULT_IN_FLIGHT}). */
  inFlight?: number;
  /** Stop early (see the module rules). */
  signal?: AbortSignal;
  /**
   * The longest a transfer may take to end, in ms, before the pipeline gives
   * up on it: a backstop for a backend whose own timeout failed to fire.
   */
  bound: number;
  /**
   * The submitter's transfers keep the process alive by themselves and end
   * by their own timeouts (libusb): the backstop then needs no timer that
   * keeps the process alive (see `watchdog.ts`).
   */
  quiet?: boolean;
}

/** A transfer the pipeline submitted. */
class Entry {
  readonly transfer: PendingTransfer;
  readonly length: number;
  readonly submittedAt: number;
  /** Set once stopped while this transfer was overdue. */
  overdueSince?: number;
  /** Settles once the transfer ended or was given up on. */
  readonly done: Promise<TransferEnd>;
  /** For a backend that does not track `ended` and `abandon`: the pipeline's own promise. */
  #settle?: (end: TransferEnd) => void;
  #ended = false;

  constructor(transfer: PendingTransfer, length: number) {
    this.transfer = transfer;
    this.length = length;
    this.submittedAt = performance.now();
    if (transfer.abandon && transfer.ended !== undefined) {
      this.done = transfer.done;
      return;
    }
    const { promise, resolve } = Promise.withResolvers<TransferEnd>();
    this.done = promise;
    this.#settle = resolve;
    transfer.done.then((end) => {
      this.#ended = true;
      resolve(end);
    });
  }

  get ended(): boolean {
    return this.#settle ? this.#ended : this.transfer.ended === true;
  }

  /** Settle `done` without the backend's completion (a transfer given up on). */
  force(end: TransferEnd): void {
    if (this.#settle) {
      this.#ended = true;
      this.#settle(end);
    } else this.transfer.abandon!(end);
  }
}

/**
 * Read IN transfers pipelined (see the module rules).
 *
 * @param submitter the backend
 * @param lengths the length of each transfer, in order (read lazily)
 * @param options transfers in flight, abort signal, backstop bound
 * @returns the results, in submission order
 */
export async function* pipelineReads(
  submitter: TransferSubmitter,
  lengths: Iterable<number>,
  options: PipelineOptions,
): AsyncGenerator<UsbInResult, void, undefined> {
  const inFlight = Math.max(1, Math.floor(options.inFlight ?? DEFAULT_IN_FLIGHT));
  const signal = options.signal;
  const queue: Entry[] = [];
  const plan = lengths[Symbol.iterator]();
  let stopped = false;
  let planEnded = false;
  let failure: Error | undefined;
  let leaked = false;

  // Every cancel call still running. A backend's cancel may run on another
  // thread while this loop goes on (the abort listener does not wait for it);
  // the transfers are released to the backend only once all have returned, or
  // a late cancel would touch a transfer already freed (libusb: a crash).
  const cancelling = new Set<Promise<void>>();
  const cancel = (transfer: PendingTransfer): Promise<void> => {
    const call = transfer.cancel().catch(() => undefined);
    cancelling.add(call);
    void call.finally(() => cancelling.delete(call));
    return call;
  };
  const cancelAll = async (): Promise<void> => {
    for (const entry of [...queue]) {
      if (!entry.ended) await cancel(entry.transfer);
    }
  };
  const stop = (): Promise<void> => {
    stopped = true;
    return cancelAll();
  };
  const onAbort = (): void => {
    void stop();
  };
  signal?.addEventListener("abort", onAbort, { once: true });

  // One watchdog per pipeline (no timer per transfer): a transfer still
  // running `bound` ms after its submission is cancelled with the rest and
  // the pipeline fails; one that does not end even 1 s after that is given
  // up on (left to the backend, never freed).
  const watchdog = watchEvery(Math.max(50, Math.min(1000, options.bound / 4)), () => {
    const now = performance.now();
    for (const entry of queue) {
      if (entry.ended || now - entry.submittedAt <= options.bound) continue;
      if (entry.overdueSince === undefined) {
        entry.overdueSince = now;
        failure ??= new UsbError(
          "TIMEOUT",
          `a ${entry.length}-byte IN transfer did not end within ${options.bound} ms`,
        );
        void stop();
      } else if (now - entry.overdueSince > 1000) {
        leaked = true;
        entry.force({ status: "error", error: failure!, data: new Uint8Array(0) });
      }
    }
  }, options.quiet === true);
  // It keeps the process alive only while the pipeline waits for a transfer,
  // not while the iterator sits at a yield (it may have been dropped unfinished).
  watchdog.unref();
  const waitFor = async (entry: Entry): Promise<TransferEnd> => {
    watchdog.ref();
    try {
      return await entry.done;
    } finally {
      watchdog.unref();
    }
  };

  try {
    if (signal?.aborted) stopped = true;
    for (;;) {
      while (!stopped && queue.length < inFlight) {
        const next = plan.next();
        if (next.done) {
          if (!planEnded) submitter.planEnded?.();
          planEnded = true;
          break;
        }
        let transfer: PendingTransfer;
        try {
          const submitted = submitter.submit(next.value);
          transfer = submitted instanceof Promise ? await submitted : submitted;
        } catch (error) {
          failure ??= error instanceof Error ? error : new Error(String(error));
          await stop();
          break;
        }
        queue.push(new Entry(transfer, next.value));
        // Aborted while submitting: this one is cancelled too.
        if (stopped) await cancel(transfer);
      }
      const head = queue[0];
      if (!head) break;
      // waitFor's steps written out: an async call per transfer here was 1.8 of
      // 42.6 MB allocated in a heap profile of a 32 MiB download.
      let end: TransferEnd;
      watchdog.ref();
      try {
        end = await head.done;
      } finally {
        watchdog.unref();
      }
      queue.shift();
      // The data's memory goes back to the backend once the consumer resumes
      // (or at once when it is not handed out).
      try {
        if (end.status === "error") {
          failure ??= end.error;
          await stop();
          continue;
        }
        if (failure) continue; // draining after a failure: its data is not handed out
        if (end.status === "cancelled") {
          if (end.data.length > 0) yield okResult(end.data);
          continue;
        }
        if (end.status === "ok") {
          if (end.data.length < head.length && !stopped) await stop(); // short: the rest is cancelled
          yield okResult(end.data);
          continue;
        }
        // stall or babble: the endpoint is out of step; nothing after it is wanted.
        await stop();
        yield end.status === "stall"
          ? { status: "stall" }
          : { status: "babble", data: dataView(end.data) };
      } finally {
        end.release?.();
      }
    }
    if (failure) throw failure;
    signal?.throwIfAborted();
  } finally {
    signal?.removeEventListener("abort", onAbort);
    stopped = true;
    await cancelAll();
    for (const entry of queue) {
      if (!entry.ended) await waitFor(entry);
    }
    watchdog.cancel();
    while (cancelling.size > 0) await Promise.all([...cancelling]);
    await submitter.close(leaked);
  }
}

function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function okResult(bytes: Uint8Array): UsbInResult {
  return { status: "ok", data: dataView(bytes) };
}

/**
 * Whether a device offers pipelined bulk reads.
 *
 * @param device any device of the contract
 * @returns true when {@link UsbDevice.readBulkChunks} is there
 */
export function canPipeline(
  device: UsbDevice,
): device is UsbDevice & Required<Pick<UsbDevice, "readBulkChunks">> {
  return typeof device.readBulkChunks === "function";
}
