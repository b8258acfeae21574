/**
 * `VirtualCamera`: a Canon camera in software. It speaks the camera side of
 * Canon's native USB protocol (the engine in `canon_function.ts`), keeps a
 * memory card with real JPEG files, and is reached two ways: in-process as a
 * {@link UsbDevice} (WebUSB shapes, with timeouts), or through the real
 * libusb via the umockdev bridge, which drives {@link VirtualCamera.usbFunction}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
 * await using camera = new VirtualCamera({ owner: "Alice" });
 * await camera.open();
 * await camera.claimInterface(0);
 * const status = await camera.controlTransferIn(
 *   { requestType: "vendor", recipient: "device", request: 0x0c, value: 0x55, index: 0 },
 *   1,
 * );
 * assert.equal(String.fromCharCode(status.data!.getUint8(0)), "C"); // just woken up
 * ```
 *
 * @module
 */

import type {
  UsbBulkChunkOptions,
  UsbConfigurationInfo,
  UsbControlSetup,
  UsbDevice,
  UsbDirection,
  UsbInResult,
  UsbOutResult,
  UsbTransferOptions,
} from "../../usb/device.ts";
import { toBytes } from "../../usb/device.ts";
import { UsbError } from "../../usb/errors.ts";
import type { CardFileSystem } from "../card/card_model.ts";
import { CanonFunction, type CommandRecord } from "../engine/canon_function.ts";
import type { PowerState, RealCameraQuirks } from "../engine/camera_state.ts";
import {
  DEFAULT_EMULATED_MODEL,
  EMULATED_MODELS,
  emulatedModel,
} from "../engine/emulated_models.ts";
import { FaultInjector } from "../engine/faults.ts";
import { MemoryCard } from "../card/memory_card.ts";
import type { UsbFunction } from "../engine/usb_function.ts";
import { FullSpeedBus } from "../engine/bus_model.ts";
import { type CommandTiming, G3_TIMING } from "../engine/timing.ts";
import { type PendingTransfer, pipelineReads } from "../../usb/pipeline.ts";
import { BulkInQueue, type Waiter } from "./bulk_in_queue.ts";

/** How a {@link VirtualCamera} starts. */
export interface VirtualCameraOptions {
  /** Model name; default "PowerShot G3". {@link VirtualCamera.models} lists the accepted names. */
  model?: string;
  /**
   * Present this USB product id instead of the model's (descriptors and init
   * block): e.g. the model's PTP-mode id, to see how a client treats a camera
   * in the wrong USB mode. The camera still speaks the Canon protocol.
   */
  productId?: number;
  /** Owner name (at most 30 characters); default "Kiril". */
  owner?: string;
  /** Firmware version "a.b.c.d"; default "1.0.2.0" (stored reversed on the wire, §4.3.1). */
  firmware?: string;
  /** The memory card; default a `MemoryCard` with its default content; `false` = no card. */
  card?: CardFileSystem | false;
  /** Power supply; default AC, power OK. */
  power?: { source?: "ac" | "battery"; low?: boolean };
  /**
   * Camera clock minus the host's local wall clock (UTC + host zone offset,
   * DST included), in seconds; default 0. The camera's time has no zone (§4.3.3).
   */
  clockOffsetSeconds?: number;
  /** Default true: camstat 'C' until an init handshake completed once, then 'A'. */
  firstContact?: boolean;
  /**
   * Milliseconds from the shutter-release reply to the "capture started"
   * interrupt packet ("capture finished" follows 50 ms later); default 200.
   * A real G3 takes about 3400.
   */
  captureLatencyMs?: number;
  /**
   * Deliver bulk IN data no faster than a USB 1.1 full-speed bus would
   * (`bus_model.ts`: 1 ms frames of at most 19 packets of 64 bytes; a read
   * submitted after the previous one completed starts at the next frame), both
   * in-process and behind umockdev. `true` for a bus of its own, or a
   * {@link FullSpeedBus} to share. Default false: as fast as the host asks.
   */
  busModel?: boolean | FullSpeedBus;
  /**
   * Answer each command only after a real camera's processing delay
   * (`timing.ts`): `true` for a PowerShot G3's, read from a real camera's
   * log ({@link G3_TIMING}), or a {@link CommandTiming} of your own. Default
   * false: every reply is ready at once.
   */
  timing?: boolean | CommandTiming;
  /**
   * Real-camera behaviours to switch off for a test (all on by default):
   * zero-length interrupt packets, unsolicited packets, the 20D's late init
   * packet, the class-6 file-command limits. See {@link RealCameraQuirks}.
   */
  quirks?: Partial<RealCameraQuirks>;
}

/** How long a transfer waits for the virtual camera unless told otherwise (as libusb's default). */
const VIRTUAL_TRANSFER_TIMEOUT_MS = 5000;

const TYPE_BITS: Record<string, number> = { standard: 0, class: 1, vendor: 2 };
const RECIPIENT_BITS: Record<string, number> = { device: 0, interface: 1, endpoint: 2, other: 3 };

/**
 * A Canon camera in software, usable wherever a {@link UsbDevice} is.
 *
 * Transfers on a session opened before an {@link VirtualCamera.unplug} fail
 * with `NO_DEVICE` for good, as a stale libusb handle would: after
 * {@link VirtualCamera.replug}, call `open()` again.
 */
export class VirtualCamera implements UsbDevice, AsyncDisposable {
  /** The names `model` accepts. */
  static readonly models: readonly string[] = Object.keys(EMULATED_MODELS);

  /** The device side, for the umockdev bridge. */
  readonly usbFunction: UsbFunction;
  /** Fault injection: make the next matching command misbehave. */
  readonly faults: FaultInjector;
  /** idVendor (0x04A9). */
  readonly vendorId: number;
  /** idProduct (0x306E for the G3, unless overridden by the `productId` option). */
  readonly productId: number;
  /** iProduct: "Canon Digital Camera". */
  readonly productName: string;
  /** iManufacturer: "Canon Inc.". */
  readonly manufacturerName: string;
  /** The one configuration, WebUSB-shaped. */
  readonly configuration: UsbConfigurationInfo;

  readonly #engine: CanonFunction;
  #opened = false;
  #session = -1;
  readonly #claimed = new Set<number>();
  readonly #waiters = new Set<Waiter>();
  /** Bulk IN reads waiting, oldest first. */
  readonly #bulkIn: BulkInQueue;
  readonly #unsubscribe: () => void;

  /**
   * A camera just switched on, not yet plugged into any session.
   *
   * @param options model, owner, firmware, card, power, clock and first-contact state
   * @throws RangeError for an unknown model, a bad firmware string or an owner over 30 characters
   */
  constructor(options: VirtualCameraOptions = {}) {
    const profile = emulatedModel(options.model ?? DEFAULT_EMULATED_MODEL);
    const productId = options.productId ?? profile.productId;
    if (!Number.isInteger(productId) || productId < 0 || productId > 0xffff) {
      throw new RangeError(`productId must be a 16-bit integer, got ${productId}`);
    }
    const model = productId === profile.productId ? profile : { ...profile, productId };
    this.faults = new FaultInjector();
    // The default card's new directories take the camera's clock.
    const clock = () => this.#engine.cameraTime();
    const card = options.card === false ? undefined : options.card ?? new MemoryCard({
      model: model.identifyName,
      clock,
      raw: model.cardContent.raw,
      movie: model.cardContent.movie,
    });
    this.#engine = new CanonFunction({
      model,
      owner: options.owner ?? "Kiril",
      firmware: options.firmware ?? "1.0.2.0",
      card,
      power: { source: options.power?.source ?? "ac", low: options.power?.low ?? false },
      clockOffsetSeconds: options.clockOffsetSeconds ?? 0,
      firstContact: options.firstContact ?? true,
      faults: this.faults,
      captureLatencyMs: options.captureLatencyMs ?? 200,
      bus: options.busModel === true ? new FullSpeedBus() : options.busModel || undefined,
      timing: options.timing === true ? G3_TIMING : options.timing || undefined,
      quirks: options.quirks,
    });
    this.usbFunction = this.#engine;
    this.#bulkIn = new BulkInQueue(this.#engine, {
      alive: () => this.#sessionAlive(),
      error: () => this.#sessionError(),
      track: (waiter) => this.#waiters.add(waiter),
      untrack: (waiter) => this.#waiters.delete(waiter),
    });
    this.#unsubscribe = this.#engine.subscribe(() => this.#bulkIn.service());
    this.vendorId = 0x04a9;
    this.productId = model.productId;
    this.productName = model.usb.product;
    this.manufacturerName = model.usb.manufacturer;
    const packetSize = model.usb.endpointPacketSize;
    this.configuration = {
      configurationValue: 1,
      interfaces: [{
        interfaceNumber: 0,
        alternate: {
          endpoints: [
            { endpointNumber: 1, direction: "in", type: "bulk", packetSize },
            { endpointNumber: 2, direction: "out", type: "bulk", packetSize },
            { endpointNumber: 3, direction: "in", type: "interrupt", packetSize },
          ],
        },
      }],
    };
  }

  // ---- observable state ---------------------------------------------------

  /** The model name, e.g. "PowerShot G3". */
  get model(): string {
    return this.#engine.model.name;
  }

  /** The owner name the camera reports (changes when a client sets it). */
  get owner(): string {
    return this.#engine.owner;
  }

  /** The memory card, or undefined when none is inserted. */
  get card(): CardFileSystem | undefined {
    return this.#engine.card;
  }

  /** Whether the camera is in remote-capture mode. */
  get remoteMode(): boolean {
    return this.#engine.remoteMode;
  }

  /** Whether the camera's keys are locked. */
  get keysLocked(): boolean {
    return this.#engine.keysLocked;
  }

  /** Transfer-mode bits last set by remote-control 0x09. */
  get transferMode(): number {
    return this.#engine.transferMode;
  }

  /** Current zoom position. */
  get zoom(): number {
    return this.#engine.zoom;
  }

  /** A copy of the current 0x30-byte release-parameter block. */
  get releaseParams(): Uint8Array {
    return this.#engine.releaseParams;
  }

  /** The power supply POWER_STATUS reports; assign to change it mid-session. */
  get power(): PowerState {
    return { ...this.#engine.power };
  }
  set power(value: PowerState) {
    this.#engine.power = { source: value.source, low: value.low };
  }

  /** Every command the camera received, oldest first (the newest 100,000). */
  get commandLog(): readonly CommandRecord[] {
    return this.#engine.commandLog;
  }

  /** Whether the device is plugged in. */
  get connected(): boolean {
    return this.#engine.connected;
  }

  /**
   * The camera clock.
   *
   * @returns seconds since 1970 in camera-local time
   */
  cameraTime(): number {
    return this.#engine.cameraTime();
  }

  /** The cable is pulled: pending and later transfers fail with `NO_DEVICE`. */
  unplug(): void {
    this.#engine.unplug();
  }

  /** The camera comes back in its power-on state (camstat 'C'); `open()` it again. */
  replug(): void {
    this.#engine.replug();
  }

  // ---- UsbDevice ----------------------------------------------------------

  /** Whether a session is open. */
  get opened(): boolean {
    return this.#opened;
  }

  /**
   * Open a session.
   *
   * @throws UsbError NO_DEVICE while unplugged
   */
  open(): Promise<void> {
    if (!this.#engine.connected) {
      return Promise.reject(new UsbError("NO_DEVICE", "The virtual camera is unplugged"));
    }
    this.#opened = true;
    this.#session = this.#engine.plugGeneration;
    this.#claimed.clear();
    return Promise.resolve();
  }

  /** End the session; pending transfers fail with `INTERRUPTED`. Safe to call twice. */
  close(): Promise<void> {
    this.#opened = false;
    this.#claimed.clear();
    this.#failAll(new UsbError("INTERRUPTED", "The device was closed during the transfer"));
    return Promise.resolve();
  }

  /**
   * Claim interface 0 (the only one).
   *
   * @param interfaceNumber the interface
   */
  claimInterface(interfaceNumber: number): Promise<void> {
    return this.#run(() => {
      this.#checkInterface(interfaceNumber);
      this.#claimed.add(interfaceNumber);
    });
  }

  /**
   * Release a claimed interface.
   *
   * @param interfaceNumber the interface
   */
  releaseInterface(interfaceNumber: number): Promise<void> {
    return this.#run(() => {
      this.#checkInterface(interfaceNumber);
      this.#claimed.delete(interfaceNumber);
    });
  }

  /**
   * Control transfer, device to host.
   *
   * @param setup the setup packet
   * @param length wLength
   * @param _options unused: the camera answers control transfers at once
   * @returns the data, or status "stall"
   */
  controlTransferIn(
    setup: UsbControlSetup,
    length: number,
    _options?: UsbTransferOptions,
  ): Promise<UsbInResult> {
    return this.#run(() => {
      const answer = this.#engine.controlIn(this.#setupPacket(setup, 0x80, length));
      this.#checkSession();
      if (answer === "stall") return { status: "stall" };
      return { status: "ok", data: view(answer) };
    });
  }

  /**
   * Control transfer, host to device.
   *
   * @param setup the setup packet
   * @param data the data stage
   * @param _options unused: the camera takes control transfers at once
   * @returns bytes written, or status "stall"
   */
  controlTransferOut(
    setup: UsbControlSetup,
    data?: BufferSource,
    _options?: UsbTransferOptions,
  ): Promise<UsbOutResult> {
    return this.#run(() => {
      const bytes = toBytes(data);
      const result = this.#engine.controlOut(this.#setupPacket(setup, 0, bytes.length), bytes);
      this.#checkSession();
      if (result === "stall") return { status: "stall", bytesWritten: 0 };
      return { status: "ok", bytesWritten: bytes.length };
    });
  }

  /**
   * Bulk (1) or interrupt (3) IN transfer: at most `length` bytes. Waits for
   * the camera to have something, up to `options.timeout` ms (default 5000;
   * 0 waits without limit, as libusb does).
   *
   * @param endpointNumber 1 or 3
   * @param length the most to receive
   * @param options timeout
   * @returns the bytes, or status "stall"
   * @throws UsbError TIMEOUT, NO_DEVICE, INTERRUPTED (closed meanwhile)
   */
  transferIn(
    endpointNumber: number,
    length: number,
    options?: UsbTransferOptions,
  ): Promise<UsbInResult> {
    try {
      this.#checkSession();
      this.#checkEndpoint(endpointNumber, "in");
    } catch (error) {
      return Promise.reject(error);
    }
    const address = 0x80 | endpointNumber;
    if (this.#isBulk(endpointNumber, "in")) {
      let read: PendingTransfer;
      try {
        read = this.#submitBulk(length, options?.timeout ?? VIRTUAL_TRANSFER_TIMEOUT_MS);
      } catch (error) {
        return Promise.reject(error);
      }
      return read.done.then((end): UsbInResult => {
        if (end.status === "error") throw end.error;
        if (end.status === "stall") return { status: "stall" };
        if (end.status === "babble") return { status: "babble", data: view(end.data) };
        return { status: "ok", data: view(end.data) };
      });
    }
    const attempt = (): UsbInResult | undefined => {
      const result = this.#engine.read(address, length);
      if (result === null) return undefined;
      if (result === "stall") return { status: "stall" };
      return { status: "ok", data: view(result) };
    };
    const first = attempt();
    if (first) return Promise.resolve(first);

    const timeout = options?.timeout ?? VIRTUAL_TRANSFER_TIMEOUT_MS;
    return new Promise<UsbInResult>((resolve, reject) => {
      let done = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = () => {
        done = true;
        unsubscribe();
        if (timer !== undefined) clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      const waiter: Waiter = {
        fail: (error) => {
          if (done) return;
          finish();
          reject(error);
        },
      };
      const unsubscribe = this.#engine.subscribe(() => {
        if (done) return;
        if (!this.#sessionAlive()) {
          waiter.fail(this.#sessionError());
          return;
        }
        const result = attempt();
        if (!result) return;
        finish();
        resolve(result);
      });
      this.#waiters.add(waiter);
      if (timeout > 0) {
        timer = setTimeout(() => {
          waiter.fail(
            new UsbError(
              "TIMEOUT",
              `Nothing arrived on endpoint 0x${address.toString(16)} within ${timeout} ms`,
            ),
          );
        }, timeout);
      }
    });
  }

  /**
   * Read bulk IN data with several reads queued at once: the device-contract
   * extension {@link UsbDevice.readBulkChunks} (its rules apply). Reads
   * complete in order; with the bus model on, a queued read follows the one
   * before it on the bus without losing a frame.
   *
   * @param endpointNumber 1
   * @param lengths the length of each read, in order
   * @param options reads kept queued (default 8), timeout of each (default 5000; 0: none), abort signal
   * @returns the results, in order
   * @throws UsbError TIMEOUT, NO_DEVICE, INTERRUPTED (closed meanwhile); the abort reason
   */
  async *readBulkChunks(
    endpointNumber: number,
    lengths: Iterable<number>,
    options: UsbBulkChunkOptions = {},
  ): AsyncGenerator<UsbInResult, void, undefined> {
    this.#checkSession();
    this.#checkEndpoint(endpointNumber, "in");
    if (!this.#isBulk(endpointNumber, "in")) {
      throw new UsbError("INVALID_PARAM", `Endpoint ${endpointNumber} is not a bulk IN endpoint`);
    }
    const timeout = options.timeout ?? VIRTUAL_TRANSFER_TIMEOUT_MS;
    yield* pipelineReads(
      {
        submit: (length) => Promise.resolve(this.#submitBulk(length, timeout)),
        close: () => {},
      },
      lengths,
      {
        inFlight: options.inFlight,
        signal: options.signal,
        bound: timeout > 0 ? timeout + 2000 : 0x7fff_ffff,
      },
    );
  }

  /**
   * Bulk OUT transfer on endpoint 2 (uploads).
   *
   * @param endpointNumber 2
   * @param data the bytes
   * @param _options unused: the camera takes the data at once
   * @returns bytes written, or status "stall"
   */
  transferOut(
    endpointNumber: number,
    data: BufferSource,
    _options?: UsbTransferOptions,
  ): Promise<UsbOutResult> {
    return this.#run(() => {
      this.#checkEndpoint(endpointNumber, "out");
      const bytes = toBytes(data);
      const result = this.#engine.write(endpointNumber, bytes);
      this.#checkSession();
      if (result === "stall") return { status: "stall", bytesWritten: 0 };
      return { status: "ok", bytesWritten: bytes.length };
    });
  }

  /**
   * Clear a halt (after a stalled transfer).
   *
   * @param direction the endpoint's direction
   * @param endpointNumber the endpoint number
   */
  clearHalt(direction: UsbDirection, endpointNumber: number): Promise<void> {
    return this.#run(() => {
      this.#engine.clearHalt((direction === "in" ? 0x80 : 0) | endpointNumber);
    });
  }

  /** Reset the device: pipes and halts cleared; the camera's state is kept. */
  reset(): Promise<void> {
    return this.#run(() => this.#engine.reset());
  }

  /** Close the session and cancel the camera's timers. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
    this.#bulkIn.stopPacing();
    this.#unsubscribe();
    this.#engine.dispose();
  }

  // ---- helpers ------------------------------------------------------------

  #run<T>(action: () => T): Promise<T> {
    try {
      this.#checkSession();
      return Promise.resolve(action());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #sessionAlive(): boolean {
    return this.#opened && this.#engine.connected &&
      this.#session === this.#engine.plugGeneration;
  }

  #sessionError(): UsbError {
    if (!this.#opened) {
      return new UsbError("INVALID_PARAM", "The virtual camera is not open", {
        hint: "Call open() first.",
      });
    }
    return new UsbError("NO_DEVICE", "The virtual camera was unplugged", {
      hint: "Plug it in again (replug()) and open() it.",
    });
  }

  #checkSession(): void {
    if (!this.#sessionAlive()) throw this.#sessionError();
  }

  #checkInterface(interfaceNumber: number): void {
    if (interfaceNumber !== 0) {
      throw new UsbError("NOT_FOUND", `The camera has no interface ${interfaceNumber}`);
    }
  }

  #checkEndpoint(endpointNumber: number, direction: UsbDirection): void {
    const endpoint = this.configuration.interfaces[0].alternate.endpoints.find((e) =>
      e.endpointNumber === endpointNumber && e.direction === direction
    );
    if (!endpoint) {
      throw new UsbError(
        "INVALID_PARAM",
        `The camera has no ${direction} endpoint ${endpointNumber} (bulk IN 1, bulk OUT 2, interrupt IN 3)`,
      );
    }
    if (!this.#claimed.has(0)) {
      throw new UsbError("INVALID_PARAM", "Interface 0 is not claimed", {
        hint: "Call claimInterface(0) before transferring data.",
      });
    }
  }

  #setupPacket(setup: UsbControlSetup, direction: number, length: number) {
    return {
      bmRequestType: direction | (TYPE_BITS[setup.requestType] << 5) |
        RECIPIENT_BITS[setup.recipient],
      bRequest: setup.request,
      wValue: setup.value,
      wIndex: setup.index,
      wLength: length,
    };
  }

  #isBulk(endpointNumber: number, direction: UsbDirection): boolean {
    return this.configuration.interfaces[0].alternate.endpoints.some((e) =>
      e.endpointNumber === endpointNumber && e.direction === direction && e.type === "bulk"
    );
  }

  /** Queue a bulk IN read on endpoint 1; it completes in order (and, with a bus model, in time). */
  #submitBulk(length: number, timeout: number): PendingTransfer {
    this.#checkSession();
    return this.#bulkIn.submit(length, timeout);
  }

  #failAll(error: UsbError): void {
    for (const waiter of [...this.#waiters]) waiter.fail(error);
  }
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
