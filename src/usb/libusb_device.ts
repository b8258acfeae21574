/**
 * The libusb-backed implementation of the device contract ({@link UsbDevice}).
 *
 * Semantics follow WebUSB: a device is found unopened, `open()` starts the
 * session, a stalled transfer resolves with `status: "stall"` rather than
 * throwing, and `close()` ends it. Everything else that fails throws a
 * {@link UsbError} whose `code` is libusb's error name.
 *
 * Every transfer, control ones included, goes through libusb's asynchronous
 * API and the event loop of the device's libusb context
 * (`libusb_pipeline.ts`): nothing blocks the main thread, and once the last
 * transfer ended nothing keeps the process alive.
 *
 * Every transfer is bounded: the optional `{ timeout }` (milliseconds)
 * defaults to {@link DEFAULT_TIMEOUT_MS}; libusb's "0 = wait forever" is
 * never used.
 *
 * @module
 */

import {
  CONTROL_SETUP_SIZE,
  fillBulkTransfer,
  LIBUSB_TRANSFER_TYPE,
  pointerFromBox,
} from "../../ffi/libusb.ts";
import { libusb } from "./libusb_library.ts";
import {
  DEFAULT_TIMEOUT_MS,
  toBytes,
  type UsbBulkChunkOptions,
  type UsbConfigurationInfo,
  type UsbControlSetup,
  type UsbDevice,
  type UsbDirection,
  type UsbInResult,
  type UsbOutResult,
  type UsbTransferOptions,
} from "./device.ts";
import {
  allocTransfer,
  freeTransfer,
  LibusbBulkInSubmitter,
  type LibusbTransferOutcome,
  readTransferOutcome,
} from "./libusb_pipeline.ts";
import { setupPacketFields, writeSetupPacket } from "./setup_packet.ts";
import { pipelineReads } from "./pipeline.ts";
import {
  ACCESS_HINT,
  BUSY_HINT,
  LIBUSB_ERROR_CODES,
  UsbError,
  type UsbErrorCode,
  usbErrorCodeOf,
} from "./errors.ts";
import {
  acquireLibusbContext,
  type LibusbContextLease,
  readConfiguration,
  type UsbDeviceInfo,
  withDeviceList,
} from "./libusb_context.ts";

/** The hint for a device that went away. */
export const UNPLUGGED_HINT = "The camera was unplugged or switched off.";

/**
 * A transfer timed out (code `TIMEOUT`) after moving part of its data.
 *
 * libusb reports how many bytes moved before the timeout; they are kept here
 * rather than returned as a success, because the caller asked for more and
 * the dialogue is now out of step. `partial` is the count, `received` the
 * bytes of an IN transfer (empty for OUT and control transfers, for which
 * libusb does not report a partial count).
 */
export class UsbTimeoutError extends UsbError {
  /** How many bytes moved before the timeout. */
  readonly partial: number;
  /** The bytes an IN transfer received before the timeout. */
  readonly received: Uint8Array;

  /**
   * Make a timeout error.
   *
   * @param message what timed out, and after how long
   * @param partial bytes moved before the timeout
   * @param received the bytes received (IN transfers)
   */
  constructor(message: string, partial: number, received: Uint8Array = new Uint8Array(0)) {
    super("TIMEOUT", message);
    this.name = "UsbTimeoutError";
    this.partial = partial;
    this.received = received;
  }
}

const TIMEOUT = LIBUSB_ERROR_CODES.TIMEOUT;
const NOT_FOUND = LIBUSB_ERROR_CODES.NOT_FOUND;

const hex2 = (n: number): string => `0x${n.toString(16).padStart(2, "0")}`;
const hex4 = (n: number): string => n.toString(16).padStart(4, "0");
const bytes = (n: number): string => `${n} byte${n === 1 ? "" : "s"}`;

function checkInteger(what: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsbError(
      "INVALID_PARAM",
      `${what} must be an integer from ${min} to ${max}, not ${value}`,
    );
  }
}

function timeoutOf(options: UsbTransferOptions | undefined): number {
  const t = options?.timeout ?? DEFAULT_TIMEOUT_MS;
  if (!(t > 0) || !Number.isFinite(t)) {
    throw new UsbError(
      "INVALID_PARAM",
      `timeout must be a positive number of milliseconds, not ${t} (libusb's 0 would wait forever)`,
    );
  }
  return Math.min(Math.ceil(t), 0xffff_ffff);
}

function inResult(
  buffer: Uint8Array,
  length: number,
  status: UsbInResult["status"],
  offset = 0,
): UsbInResult {
  return length > 0 || status === "ok"
    ? { status, data: new DataView(buffer.buffer, offset, length) }
    : { status };
}

/** The libusb error code of a transfer that did not end with a WebUSB status. */
function errorCodeOf(end: LibusbTransferOutcome): number {
  switch (end.status) {
    case "error":
      return end.code;
    case "stall":
      return LIBUSB_ERROR_CODES.PIPE;
    case "babble":
      return LIBUSB_ERROR_CODES.OVERFLOW;
    default:
      // A cancelled lone transfer was interrupted (the device is closing).
      return LIBUSB_ERROR_CODES.INTERRUPTED;
  }
}

/** How a control transfer is named in messages. */
function describeControl(setup: UsbControlSetup, direction: UsbDirection, length: number): string {
  return `control ${direction === "in" ? "IN" : "OUT"} transfer (${setup.requestType} request ` +
    `${hex2(setup.request)}, value ${hex2(setup.value)}, index ${setup.index}, ${bytes(length)})`;
}

/** How a {@link LibusbDevice} opens. */
export interface LibusbDeviceOptions {
  /**
   * Whether `open()` reads the product, manufacturer and serial strings
   * (default true). They cost two control round trips, which a program that
   * never shows them (the camera layer) saves.
   */
  readonly readStrings?: boolean;
}

/**
 * A USB device driven through libusb-1.0. Get one from `openUsbDevice()`
 * (discovery.ts), then `open()` it; `await using` closes it.
 *
 * @example
 * ```ts ignore
 * import { openUsbDevice } from "@canon-remote/canon-remote/usb";
 * await using dev = await openUsbDevice({ vendorId: 0x04a9, productId: 0x306e });
 * await dev.open();
 * await dev.claimInterface(0);
 * const r = await dev.controlTransferIn(
 *   { requestType: "vendor", recipient: "device", request: 0x0c, value: 0x55, index: 0 },
 *   1,
 *   { timeout: 1000 },
 * );
 * ```
 */
export class LibusbDevice implements UsbDevice, AsyncDisposable {
  /** Bus number. */
  readonly bus: number;
  /** Device address on the bus. */
  readonly address: number;
  /** idVendor. */
  readonly vendorId: number;
  /** idProduct. */
  readonly productId: number;
  /** Where and what the device is, as enumeration saw it. */
  readonly info: Readonly<UsbDeviceInfo>;

  #configuration: UsbConfigurationInfo | null;
  #productName: string | undefined;
  #manufacturerName: string | undefined;
  #serialNumber: string | undefined;
  #handle: Deno.PointerObject | null = null;
  #lease: LibusbContextLease | null = null;
  #claimed = new Set<number>();
  /** Calls running on FFI worker threads, with the buffers they use (kept alive until done). */
  #inFlight = new Map<Promise<unknown>, readonly ArrayBufferView[]>();
  #opening: Promise<void> | null = null;
  readonly #readsStrings: boolean;
  #closing: Promise<void> | null = null;
  /** Pipelined reads running: stopped (and waited for) by close(). */
  #pipelines = new Set<
    { stop: AbortController; submitter: LibusbBulkInSubmitter; bound: number }
  >();

  /**
   * Use `openUsbDevice()` rather than constructing one directly.
   *
   * @param info where and what the device is
   * @param configuration its configuration, when known before opening
   * @param options how it opens
   */
  constructor(
    info: UsbDeviceInfo,
    configuration: UsbConfigurationInfo | null = null,
    options: LibusbDeviceOptions = {},
  ) {
    this.#readsStrings = options.readStrings ?? true;
    this.info = { ...info };
    this.bus = info.bus;
    this.address = info.address;
    this.vendorId = info.vendorId;
    this.productId = info.productId;
    this.#configuration = configuration;
  }

  /**
   * iProduct string, read at `open()` (undefined if the device has none, it
   * failed, or the device was made with `readStrings: false`).
   */
  get productName(): string | undefined {
    return this.#productName;
  }

  /** iManufacturer string, read at `open()`. */
  get manufacturerName(): string | undefined {
    return this.#manufacturerName;
  }

  /** iSerialNumber string, read at `open()`. */
  get serialNumber(): string | undefined {
    return this.#serialNumber;
  }

  /** The active configuration (interfaces with their endpoints), when known. */
  get configuration(): UsbConfigurationInfo | null {
    return this.#configuration;
  }

  /**
   * `true`: libusb ends every transfer by its timeout, and a transfer in
   * flight (a pending FFI call or a referenced callback) keeps the process alive.
   */
  readonly enforcesTimeouts = true;

  /** Whether `open()` has succeeded and `close()` has not started. */
  get opened(): boolean {
    return this.#handle !== null && this.#closing === null;
  }

  /** `"USB device 001/002 (04a9:306e)"`. */
  toString(): string {
    const pad3 = (n: number) => String(n).padStart(3, "0");
    return `USB device ${pad3(this.bus)}/${pad3(this.address)} ` +
      `(${hex4(this.vendorId)}:${hex4(this.productId)})`;
  }

  /**
   * Open the device (already open: nothing happens). Enables automatic
   * kernel-driver detaching where libusb supports it, and reads the product,
   * manufacturer and serial strings unless made with `readStrings: false`
   * (failures there are ignored).
   *
   * @throws {UsbError} `NOT_FOUND` when the device is gone or its address was reused;
   *   `ACCESS` with the udev-rule hint; `NO_DEVICE` when it was unplugged
   */
  async open(): Promise<void> {
    if (this.#closing) await this.#closing;
    if (this.#handle) return;
    if (!this.#opening) {
      this.#opening = this.#open().finally(() => {
        this.#opening = null;
      });
    }
    return await this.#opening;
  }

  async #open(): Promise<void> {
    const L = libusb();
    const lease = await acquireLibusbContext();
    try {
      const found: { device?: Deno.PointerObject; strings?: number[]; other?: UsbDeviceInfo } = {};
      await withDeviceList(lease.context, (devices) => {
        const hit = devices.find((d) => d.info.bus === this.bus && d.info.address === this.address);
        if (!hit) return;
        if (hit.info.vendorId !== this.vendorId || hit.info.productId !== this.productId) {
          found.other = hit.info;
          return;
        }
        const d = hit.descriptor;
        if (this.#readsStrings) {
          found.strings = [d.productIndex, d.manufacturerIndex, d.serialNumberIndex];
        }
        found.device = L.libusb_ref_device(hit.device) ?? undefined;
      });
      const device = found.device;
      if (!device) {
        const other = found.other;
        const now = other
          ? `; that address now belongs to ${hex4(other.vendorId)}:${hex4(other.productId)}`
          : "";
        throw new UsbError("NOT_FOUND", `${this} is no longer attached${now}`, {
          hint: "Plug it in again and look it up again (its address changes on re-enumeration).",
        });
      }
      const box = new BigUint64Array(1);
      let r: number;
      try {
        r = await L.libusb_open(device, box);
        if (r === 0) this.#configuration = readConfiguration(device) ?? this.#configuration;
      } finally {
        L.libusb_unref_device(device);
      }
      const handle = pointerFromBox(box);
      if (r < 0 || !handle) throw this.#error(r, "opening the device");
      // Lets claimInterface detach a kernel driver (usbfs on Linux); other systems
      // answer NOT_SUPPORTED, which is fine.
      L.libusb_set_auto_detach_kernel_driver(handle, 1);
      this.#lease = lease;
      const [product, manufacturer, serial] = await this.#readStrings(
        handle,
        found.strings ?? [0, 0, 0],
      );
      this.#productName = product;
      this.#manufacturerName = manufacturer;
      this.#serialNumber = serial;
      this.#handle = handle;
    } catch (e) {
      this.#lease = null;
      await lease.release();
      throw e;
    }
  }

  /**
   * String descriptors (0: none), as ASCII (others characters become '?', as
   * libusb's `libusb_get_string_descriptor_ascii` has it); undefined where
   * one is missing or fails. The language list first, then every string at
   * once: two control round trips instead of two per string.
   */
  async #readStrings(
    handle: Deno.PointerObject,
    indices: readonly number[],
  ): Promise<(string | undefined)[]> {
    const none = indices.map(() => undefined);
    if (indices.every((index) => index === 0)) return none;
    // GET_DESCRIPTOR (standard, device, IN) of string `index` in `language`.
    const get = async (index: number, language: number): Promise<Uint8Array | undefined> => {
      const buffer = new Uint8Array(CONTROL_SETUP_SIZE + 255);
      writeSetupPacket(
        setupPacketFields(
          {
            requestType: "standard",
            recipient: "device",
            request: 0x06,
            value: 0x0300 | index,
            index: language,
          },
          "in",
          255,
        ),
        buffer,
      );
      const end = await this.#transfer(handle, LIBUSB_TRANSFER_TYPE.CONTROL, 0, buffer, 1000);
      const n = end.length;
      const d = buffer.subarray(CONTROL_SETUP_SIZE, CONTROL_SETUP_SIZE + n);
      if (end.status !== "ok" || n < 2 || d[1] !== 3) return undefined;
      return d.subarray(2, Math.min(d[0], n));
    };
    const languages = await get(0, 0);
    if (!languages || languages.length < 2) return none;
    const language = languages[0] | (languages[1] << 8);
    return await Promise.all(indices.map(async (index) => {
      const raw = index === 0 ? undefined : await get(index, language);
      if (!raw || raw.length < 2) return undefined;
      let text = "";
      for (let i = 0; i + 1 < raw.length; i += 2) {
        const c = raw[i] | (raw[i + 1] << 8);
        text += c < 0x80 ? String.fromCharCode(c) : "?";
      }
      return text;
    }));
  }

  /**
   * Claim an interface (already claimed: nothing happens). Where supported,
   * a kernel driver bound to it is detached first.
   *
   * @param interfaceNumber bInterfaceNumber
   * @throws {UsbError} `BUSY` (with a hint naming the usual culprits) when another program holds it
   */
  async claimInterface(interfaceNumber: number): Promise<void> {
    checkInteger("interfaceNumber", interfaceNumber, 0, 255);
    const handle = this.#require("claimInterface");
    if (this.#claimed.has(interfaceNumber)) return;
    const r = await this.#track(libusb().libusb_claim_interface(handle, interfaceNumber));
    if (r < 0) throw this.#error(r, `claiming interface ${interfaceNumber}`);
    this.#claimed.add(interfaceNumber);
  }

  /**
   * Release a claimed interface (not claimed: nothing happens).
   *
   * @param interfaceNumber bInterfaceNumber
   */
  async releaseInterface(interfaceNumber: number): Promise<void> {
    checkInteger("interfaceNumber", interfaceNumber, 0, 255);
    const handle = this.#require("releaseInterface");
    if (!this.#claimed.has(interfaceNumber)) return;
    this.#claimed.delete(interfaceNumber);
    const r = await this.#track(libusb().libusb_release_interface(handle, interfaceNumber));
    if (r < 0) throw this.#error(r, `releasing interface ${interfaceNumber}`);
  }

  /**
   * Control transfer, device to host.
   *
   * @param setup the setup packet (`requestType`, `recipient`, `request`, `value`, `index`)
   * @param length wLength: the most bytes to receive (0..65535)
   * @param options `{ timeout }` in ms (default 5000)
   * @returns the bytes received; `status: "stall"` when the device stalled the request
   * @throws {UsbError} `TIMEOUT`, `NO_DEVICE` and other libusb failures
   */
  async controlTransferIn(
    setup: UsbControlSetup,
    length: number,
    options?: UsbTransferOptions,
  ): Promise<UsbInResult> {
    checkInteger("length", length, 0, 0xffff);
    const buffer = this.#controlBuffer(setup, "in", length);
    const timeout = timeoutOf(options);
    const handle = this.#require("controlTransferIn");
    const end = await this.#transfer(handle, LIBUSB_TRANSFER_TYPE.CONTROL, 0, buffer, timeout);
    if (end.status === "ok") return inResult(buffer, end.length, "ok", CONTROL_SETUP_SIZE);
    if (end.status === "stall") return { status: "stall" };
    if (end.status === "babble") return { status: "babble" };
    throw this.#error(errorCodeOf(end), describeControl(setup, "in", length), timeout);
  }

  /**
   * Control transfer, host to device.
   *
   * @param setup the setup packet
   * @param data the data stage (at most 65535 bytes; none: a zero-length request)
   * @param options `{ timeout }` in ms (default 5000)
   * @returns how many bytes the device accepted; `status: "stall"` when it stalled
   * @throws {UsbError} `TIMEOUT`, `NO_DEVICE` and other libusb failures
   */
  async controlTransferOut(
    setup: UsbControlSetup,
    data?: BufferSource,
    options?: UsbTransferOptions,
  ): Promise<UsbOutResult> {
    const payload = toBytes(data).slice();
    checkInteger("data length", payload.length, 0, 0xffff);
    const buffer = this.#controlBuffer(setup, "out", payload.length);
    buffer.set(payload, CONTROL_SETUP_SIZE);
    const timeout = timeoutOf(options);
    const handle = this.#require("controlTransferOut");
    const end = await this.#transfer(handle, LIBUSB_TRANSFER_TYPE.CONTROL, 0, buffer, timeout);
    if (end.status === "ok") return { status: "ok", bytesWritten: end.length };
    if (end.status === "stall") return { status: "stall", bytesWritten: 0 };
    throw this.#error(errorCodeOf(end), describeControl(setup, "out", payload.length), timeout);
  }

  /**
   * Bulk or interrupt IN transfer, chosen by the endpoint's type in the
   * configuration (without one: endpoint 3 is interrupt, the others bulk).
   *
   * @param endpointNumber endpoint number without the direction bit (1 for 0x81)
   * @param length the most bytes to receive
   * @param options `{ timeout }` in ms (default 5000)
   * @returns the bytes received (possibly fewer: a short packet ended the transfer);
   *   `status: "stall"` for a halted endpoint, `"babble"` when the device sent too much
   * @throws {UsbTimeoutError} on timeout, with the bytes that did arrive
   * @throws {UsbError} `NO_DEVICE` and other libusb failures
   */
  async transferIn(
    endpointNumber: number,
    length: number,
    options?: UsbTransferOptions,
  ): Promise<UsbInResult> {
    checkInteger("endpointNumber", endpointNumber, 1, 15);
    checkInteger("length", length, 0, 0x7fff_ffff);
    const endpoint = 0x80 | endpointNumber;
    const type = this.#endpointType(endpointNumber, "in");
    const timeout = timeoutOf(options);
    const handle = this.#require("transferIn");
    const buffer = new Uint8Array(length);
    const kind = type === "interrupt" ? LIBUSB_TRANSFER_TYPE.INTERRUPT : LIBUSB_TRANSFER_TYPE.BULK;
    const end = await this.#transfer(handle, kind, endpoint, buffer, timeout);
    const n = end.length;
    if (end.status === "ok" || end.status === "stall" || end.status === "babble") {
      return inResult(buffer, n, end.status);
    }
    const what = `${type} IN transfer on endpoint ${hex2(endpoint)} (${bytes(length)})`;
    throw this.#error(errorCodeOf(end), what, timeout, n, buffer.slice(0, n));
  }

  /**
   * Bulk or interrupt OUT transfer (type chosen as for {@link LibusbDevice.transferIn}).
   *
   * @param endpointNumber endpoint number (2 for 0x02)
   * @param data the bytes to send
   * @param options `{ timeout }` in ms (default 5000)
   * @returns how many bytes the device accepted; `status: "stall"` for a halted endpoint
   * @throws {UsbTimeoutError} on timeout, with the count that was sent
   * @throws {UsbError} `NO_DEVICE` and other libusb failures
   */
  async transferOut(
    endpointNumber: number,
    data: BufferSource,
    options?: UsbTransferOptions,
  ): Promise<UsbOutResult> {
    checkInteger("endpointNumber", endpointNumber, 1, 15);
    const payload = toBytes(data).slice();
    checkInteger("data length", payload.length, 0, 0x7fff_ffff);
    const type = this.#endpointType(endpointNumber, "out");
    const timeout = timeoutOf(options);
    const handle = this.#require("transferOut");
    const kind = type === "interrupt" ? LIBUSB_TRANSFER_TYPE.INTERRUPT : LIBUSB_TRANSFER_TYPE.BULK;
    const end = await this.#transfer(handle, kind, endpointNumber, payload, timeout);
    if (end.status === "ok") return { status: "ok", bytesWritten: end.length };
    if (end.status === "stall") return { status: "stall", bytesWritten: end.length };
    const what = `${type} OUT transfer on endpoint ${hex2(endpointNumber)} ` +
      `(${bytes(payload.length)})`;
    throw this.#error(errorCodeOf(end), what, timeout, end.length);
  }

  /**
   * Read bulk IN data with several transfers in flight through libusb's
   * asynchronous API (see {@link UsbDevice.readBulkChunks} for the rules):
   * one transfer per entry of `lengths`, results in order.
   *
   * @param endpointNumber endpoint number without the direction bit (1 for 0x81)
   * @param lengths the length of each transfer, in order (read lazily)
   * @param options `{ inFlight, timeout, signal }`: transfers kept in flight
   *   (default 8), timeout of each transfer in ms (default 5000), abort signal
   * @returns the results, in order: `"ok"` with the bytes, `"stall"`, `"babble"`
   * @throws {UsbTimeoutError} when a transfer times out
   * @throws {UsbError} `NO_DEVICE` (unplugged, or the device was closed meanwhile)
   *   and other libusb failures; the abort reason when `signal` aborts
   */
  async *readBulkChunks(
    endpointNumber: number,
    lengths: Iterable<number>,
    options: UsbBulkChunkOptions = {},
  ): AsyncGenerator<UsbInResult, void, undefined> {
    checkInteger("endpointNumber", endpointNumber, 1, 15);
    const endpoint = 0x80 | endpointNumber;
    if (this.#endpointType(endpointNumber, "in") !== "bulk") {
      throw new UsbError("INVALID_PARAM", `endpoint ${hex2(endpoint)} is not a bulk endpoint`);
    }
    const timeout = timeoutOf(options);
    const handle = this.#require("readBulkChunks");
    const submitter = new LibusbBulkInSubmitter({
      handle,
      events: this.#lease!.events,
      endpoint,
      timeout,
      error: (code, length, partial, data) =>
        this.#error(
          code,
          `bulk IN transfer on endpoint ${hex2(endpoint)} (${bytes(length)})`,
          timeout,
          partial,
          data,
        ),
    });
    const stop = new AbortController();
    const onAbort = () => stop.abort(options.signal?.reason);
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener("abort", onAbort, { once: true });
    const pipeline = { stop, submitter, bound: timeout + 2000 };
    this.#pipelines.add(pipeline);
    try {
      yield* pipelineReads(submitter, lengths, {
        inFlight: options.inFlight,
        signal: stop.signal,
        bound: timeout + 2000,
        quiet: true,
      });
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
      this.#pipelines.delete(pipeline);
    }
  }

  /**
   * Clear a halt (stall) on an endpoint.
   *
   * @param direction `"in"` or `"out"`
   * @param endpointNumber endpoint number without the direction bit
   */
  async clearHalt(direction: UsbDirection, endpointNumber: number): Promise<void> {
    checkInteger("endpointNumber", endpointNumber, 0, 15);
    const endpoint = (direction === "in" ? 0x80 : 0) | endpointNumber;
    const handle = this.#require("clearHalt");
    const r = await this.#track(libusb().libusb_clear_halt(handle, endpoint));
    if (r < 0) throw this.#error(r, `clearing the halt on endpoint ${hex2(endpoint)}`);
  }

  /**
   * Reset the device (a USB port reset). Claimed interfaces stay claimed.
   * If the device re-enumerates (its descriptors changed), the session ends:
   * the device is closed and `NOT_FOUND` is thrown; look it up again.
   */
  async reset(): Promise<void> {
    const handle = this.#require("reset");
    const r = await this.#track(libusb().libusb_reset_device(handle));
    if (r === NOT_FOUND) {
      await this.close();
      throw new UsbError("NOT_FOUND", `${this} re-enumerated after the reset; it was closed`, {
        hint: "Look it up again with openUsbDevice() and open it.",
      });
    }
    if (r < 0) throw this.#error(r, "resetting the device");
  }

  /**
   * End the session: wait for transfers in flight (each is bounded by its
   * timeout), release claimed interfaces, close the handle and drop the
   * libusb context. Safe to call twice, and on a device never opened.
   */
  async close(): Promise<void> {
    if (this.#opening) await this.#opening.catch(() => {});
    if (this.#closing) return await this.#closing;
    if (!this.#handle) return;
    this.#closing = this.#close().finally(() => {
      this.#closing = null;
    });
    return await this.#closing;
  }

  async #close(): Promise<void> {
    const handle = this.#handle!;
    const L = libusb();
    // Pipelined reads: cancel their transfers and wait until libusb gave them all back.
    for (const { stop, submitter, bound } of this.#pipelines) {
      stop.abort(new UsbError("INTERRUPTED", `${this} was closed during a pipelined read`));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const ended = await Promise.race([
        submitter.idle().then(() => true),
        new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), bound)),
      ]);
      clearTimeout(timer);
      await submitter.close(!ended);
    }
    this.#pipelines.clear();
    await Promise.allSettled([...this.#inFlight.keys()]);
    for (const n of this.#claimed) {
      // Fails harmlessly when the device is gone: closing releases anyway.
      await L.libusb_release_interface(handle, n);
    }
    this.#claimed.clear();
    await L.libusb_close(handle);
    this.#handle = null;
    const lease = this.#lease;
    this.#lease = null;
    await lease?.release();
  }

  /** `await using` support: {@link LibusbDevice.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * One transfer through libusb's asynchronous API and the context's event
   * loop; its outcome as {@link readTransferOutcome} reads it (for a control
   * transfer, the length is that of its data stage). A refused submission is
   * a failure with libusb's code and length 0.
   */
  #transfer(
    handle: Deno.PointerObject,
    type: number,
    endpoint: number,
    buffer: Uint8Array,
    timeout: number,
  ): Promise<LibusbTransferOutcome> {
    const events = this.#lease!.events;
    const transfer = allocTransfer();
    const id = events.nextId();
    fillBulkTransfer(transfer, {
      handle,
      endpoint,
      buffer,
      timeout,
      callback: events.callback,
      userData: id,
      type,
    });
    const { promise, resolve } = Promise.withResolvers<LibusbTransferOutcome>();
    const header = type === LIBUSB_TRANSFER_TYPE.CONTROL ? CONTROL_SETUP_SIZE : 0;
    const onDone = (done: Deno.PointerObject | null) => {
      if (!done) {
        // The event loop failed: the transfer may still be libusb's; leave it allocated.
        resolve({ status: "error", code: LIBUSB_ERROR_CODES.IO, length: 0 });
        return;
      }
      const outcome = readTransferOutcome(done, buffer.length - header);
      freeTransfer(transfer);
      resolve(outcome);
    };
    const refused = (r: number) => {
      if (r < 0) {
        freeTransfer(transfer);
        resolve({ status: "error", code: r, length: 0 });
      }
    };
    const r = events.submit({ transfer, id, onDone });
    let ended: Promise<LibusbTransferOutcome>;
    if (typeof r === "number") {
      refused(r);
      ended = promise;
    } else {
      ended = r.then((code) => {
        refused(code);
        return promise;
      });
    }
    // The buffer stays referenced (and alive) until the transfer ended.
    return this.#track(ended, buffer);
  }

  /** A control transfer's buffer: the setup packet, then room for `length` data bytes. */
  #controlBuffer(setup: UsbControlSetup, direction: UsbDirection, length: number): Uint8Array {
    const fields = setupPacketFields(setup, direction, length);
    const buffer = new Uint8Array(CONTROL_SETUP_SIZE + length);
    writeSetupPacket(fields, buffer);
    return buffer;
  }

  /** The handle, or the "closed" error. */
  #require(operation: string): Deno.PointerObject {
    if (!this.#handle || this.#closing) {
      throw new UsbError("NO_DEVICE", `${operation}: ${this} is closed`, {
        hint: "Call open() first (and do not use the device after close()).",
      });
    }
    return this.#handle;
  }

  /** Register a nonblocking call (and the buffers it reads or writes) until it settles. */
  #track<T>(promise: Promise<T>, ...buffers: ArrayBufferView[]): Promise<T> {
    this.#inFlight.set(promise, buffers);
    const forget = () => this.#inFlight.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  #endpointType(endpointNumber: number, direction: UsbDirection): "bulk" | "interrupt" {
    const config = this.#configuration;
    if (config) {
      for (const iface of config.interfaces) {
        for (const ep of iface.alternate.endpoints) {
          if (ep.endpointNumber !== endpointNumber || ep.direction !== direction) continue;
          if (ep.type === "isochronous") {
            throw new UsbError(
              "NOT_SUPPORTED",
              `endpoint ${hex2(endpointNumber | (direction === "in" ? 0x80 : 0))} is isochronous`,
            );
          }
          return ep.type;
        }
      }
    }
    return endpointNumber === 3 && direction === "in" ? "interrupt" : "bulk";
  }

  #error(
    r: number,
    what: string,
    timeout?: number,
    partial = 0,
    received?: Uint8Array,
  ): UsbError {
    const code: UsbErrorCode = usbErrorCodeOf(r);
    if (code === "TIMEOUT" || r === TIMEOUT) {
      const moved = partial > 0 ? ` after ${bytes(partial)} had moved` : "";
      return new UsbTimeoutError(
        `${what} on ${this} timed out after ${timeout} ms${moved}`,
        partial,
        received,
      );
    }
    const hint = code === "ACCESS"
      ? ACCESS_HINT
      : code === "BUSY"
      ? BUSY_HINT
      : code === "NO_DEVICE"
      ? UNPLUGGED_HINT
      : undefined;
    return new UsbError(code, `${what} failed on ${this}`, { hint });
  }
}
