/**
 * The reads waiting for the function, per IN endpoint and in submission
 * order: the pump that retries them when the function notifies, and — when
 * the function has a bus model — the pacing that completes bulk IN reads no
 * faster than the bus allows.
 *
 * @module
 */

import type { UsbFunction } from "../engine/usb_function.ts";
import { type FullSpeedBus, releasePaced, servicePaced } from "../engine/bus_model.ts";
import { ENDPOINT_BULK } from "./layout.ts";
import { ERRNO } from "./usbdevfs.ts";
import {
  type ClientState,
  FunctionFault,
  type Outcome,
  type PendingRead,
  readOutcome,
} from "./transfers.ts";

/** What the waiting reads need of their bridge. */
export interface PendingReadsHost {
  /** False once the device is unplugged: the pump stops. */
  readonly attached: boolean;
  /** Unplug the device (the function said it is disconnected). */
  detach(): void;
  /** Forget clients whose file descriptor is closed. */
  sweepClients(): void;
  /** The function threw. */
  reportFault(fault: FunctionFault): void;
  /** The bridge itself failed. */
  reportInternal(what: string, error: unknown): void;
}

/** The reads waiting on one device's IN endpoints. */
export class PendingReads {
  readonly #fn: UsbFunction;
  readonly #endpointTypes: ReadonlyMap<number, number>;
  readonly #host: PendingReadsHost;
  /** Pending reads per IN endpoint, in submission order. */
  readonly #queues = new Map<number, PendingRead[]>();
  /** With a bus model: when each paced endpoint's next read completes. */
  readonly #paceTimers = new Map<number, { at: number; timer: ReturnType<typeof setTimeout> }>();
  #held = false;
  #pumping = false;
  #pumpRequested = false;
  #pumpScheduled = false;

  /**
   * No reads yet.
   *
   * @param fn the device side
   * @param endpointTypes endpoint address -> transfer type (bmAttributes & 3)
   * @param host the bridge
   */
  constructor(fn: UsbFunction, endpointTypes: ReadonlyMap<number, number>, host: PendingReadsHost) {
    this.#fn = fn;
    this.#endpointTypes = endpointTypes;
    this.#host = host;
  }

  /**
   * Run `action` (an ioctl being answered) with the pump held: a request to
   * pump meanwhile runs once it is done.
   *
   * @param action what to run
   */
  holdingPump(action: () => void): void {
    this.#held = true;
    try {
      action();
    } finally {
      this.#held = false;
    }
    if (this.#pumpRequested) this.pump();
  }

  /**
   * A read waits for the function (and is tried at once, behind the others on its endpoint).
   *
   * @param read the transfer
   */
  add(read: PendingRead): void {
    const queue = this.#queues.get(read.endpoint);
    if (queue) {
      queue.push(read);
      // On a paced endpoint a queued read goes on the bus now, behind the others.
      if (this.#busFor(read.endpoint)) this.#serviceEndpoint(read.endpoint);
    } else {
      this.#queues.set(read.endpoint, [read]);
      this.#serviceEndpoint(read.endpoint);
    }
  }

  /**
   * Take the first waiting read that matches out of its queue (the others on
   * a paced endpoint go back on the bus afresh).
   *
   * @param matches which read
   * @returns the read, or undefined when none waits
   */
  remove(matches: (read: PendingRead) => boolean): PendingRead | undefined {
    for (const [endpoint, queue] of this.#queues) {
      const index = queue.findIndex(matches);
      if (index < 0) continue;
      const [read] = queue.splice(index, 1);
      if (read.slot) this.#unpace(endpoint, queue);
      if (!queue.length) this.#queues.delete(endpoint);
      return read;
    }
    return undefined;
  }

  /**
   * Every read of a client that went away leaves, abandoned.
   *
   * @param client the client
   */
  dropClient(client: ClientState): void {
    for (const [endpoint, queue] of this.#queues) {
      let paced = false;
      const keep = queue.filter((read) => {
        if (read.client !== client) return true;
        paced ||= read.slot !== undefined;
        read.abandon();
        return false;
      });
      if (paced) this.#unpace(endpoint, keep);
      if (keep.length) this.#queues.set(endpoint, keep);
      else this.#queues.delete(endpoint);
    }
  }

  /**
   * Every waiting read leaves (the device is unplugged).
   *
   * @returns the reads, to be settled
   */
  takeAll(): PendingRead[] {
    const all = [...this.#queues.values()].flat();
    this.#queues.clear();
    this.clearTimers();
    return all;
  }

  /** Cancel the pacing timers. */
  clearTimers(): void {
    for (const { timer } of this.#paceTimers.values()) clearTimeout(timer);
    this.#paceTimers.clear();
  }

  /**
   * Run the pump soon: at the end of the ioctl being answered, or in a
   * microtask (after the function's notifying call has returned, so the
   * function is never re-entered from its own notification).
   */
  requestPump(): void {
    if (this.#held || this.#pumping) {
      this.#pumpRequested = true;
      return;
    }
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.pump();
    });
  }

  /** Retry every waiting read, in order per endpoint, until the function has nothing more. */
  pump(): void {
    if (this.#pumping) {
      this.#pumpRequested = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#pumpRequested = false;
        if (!this.#host.attached) return;
        if (!this.#fn.connected) {
          this.#pumping = false;
          this.#host.detach();
          return;
        }
        this.#host.sweepClients();
        for (const endpoint of [...this.#queues.keys()]) this.#serviceEndpoint(endpoint);
      } while (this.#pumpRequested);
    } catch (error) {
      this.#host.reportInternal("while completing pending reads", error);
    } finally {
      this.#pumping = false;
    }
  }

  #serviceEndpoint(endpoint: number): void {
    const queue = this.#queues.get(endpoint);
    if (!queue) return;
    const bus = this.#busFor(endpoint);
    if (bus) return this.#servicePaced(endpoint, queue, bus);
    while (queue.length) {
      const read = queue[0];
      if (!read.client.connected) {
        queue.shift();
        read.abandon();
        continue;
      }
      let outcome: Outcome | null;
      try {
        outcome = readOutcome(this.#fn.read(endpoint, read.length), read.length);
      } catch (error) {
        this.#host.reportFault(new FunctionFault("read", error));
        outcome = { status: -ERRNO.EIO, actual: 0 };
      }
      if (!outcome) break;
      queue.shift();
      read.settle(outcome);
    }
    if (!queue.length && this.#queues.get(endpoint) === queue) this.#queues.delete(endpoint);
  }

  /** The function's bus model, if it has one and `endpoint` is a bulk IN endpoint. */
  #busFor(endpoint: number): FullSpeedBus | undefined {
    const fn = this.#fn;
    if (!fn.bus || !fn.available || !(endpoint & 0x80)) return undefined;
    return this.#endpointTypes.get(endpoint) === ENDPOINT_BULK ? fn.bus : undefined;
  }

  /** Complete the reads of a paced endpoint no faster than the bus allows. */
  #servicePaced(endpoint: number, queue: PendingRead[], bus: FullSpeedBus): void {
    const fn = this.#fn;
    let abandoned = false;
    for (let i = queue.length - 1; i >= 0; i--) {
      const read = queue[i];
      if (read.client.connected) continue;
      queue.splice(i, 1);
      abandoned ||= read.slot !== undefined;
      read.abandon();
    }
    if (abandoned) releasePaced(bus, queue, performance.now());
    const next = servicePaced(
      bus,
      queue,
      { available: () => fn.available!(endpoint), read: (n) => fn.read(endpoint, n) },
      (read, result) => {
        if (result instanceof Error) {
          this.#host.reportFault(new FunctionFault("read", result));
          read.settle({ status: -ERRNO.EIO, actual: 0 });
        } else {
          read.settle(readOutcome(result, read.length)!);
        }
      },
    );
    if (!queue.length && this.#queues.get(endpoint) === queue) this.#queues.delete(endpoint);
    this.#armPaceTimer(endpoint, next);
  }

  /** Wake the pump when the paced endpoint's next read is due. */
  #armPaceTimer(endpoint: number, at: number | undefined): void {
    const armed = this.#paceTimers.get(endpoint);
    if (armed && armed.at === at) return;
    if (armed) clearTimeout(armed.timer);
    this.#paceTimers.delete(endpoint);
    if (at === undefined) return;
    // Timers count whole milliseconds: round up, never complete early.
    const delay = Math.max(0, Math.ceil(at - performance.now()));
    const timer = setTimeout(() => {
      if (this.#paceTimers.get(endpoint)?.timer !== timer) return;
      this.#paceTimers.delete(endpoint);
      this.requestPump();
    }, delay);
    this.#paceTimers.set(endpoint, { at, timer });
  }

  /** A read on the bus left the queue early: the others go back on the bus afresh. */
  #unpace(endpoint: number, queue: readonly PendingRead[]): void {
    const bus = this.#busFor(endpoint);
    if (bus) releasePaced(bus, queue, performance.now());
    this.requestPump();
  }
}
