/**
 * Record a USB conversation to a pcapng file that Wireshark, tshark and
 * `canon decode` read: one usbmon submission ('S') and completion ('C')
 * event per transfer, with setup packets, data and status, as Linux's usbmon
 * captures it (LINKTYPE_USB_LINUX_MMAPPED).
 *
 * Two places to listen: the host side, by wrapping any {@link UsbDevice}
 * ({@link recordDevice}: the in-process virtual camera, or a real camera
 * through libusb), and the device side of an emulated device, by wrapping
 * its USB function before it is plugged into the umockdev bridge
 * (`recordFunction` of the emulator, which feeds a {@link UsbRecorder}).
 *
 * @module
 */

import {
  toBytes,
  type UsbControlSetup,
  type UsbData,
  type UsbDevice,
  type UsbDirection,
  type UsbInResult,
  type UsbOutResult,
  type UsbTransferOptions,
} from "../usb/device.ts";
import { UsbError } from "../usb/errors.ts";
import { encodeWebUsbSetup } from "../usb/setup_packet.ts";
import { PcapngWriter } from "./pcap.ts";
import { encodeUsbmon, STATUS_IN_PROGRESS, type TransferType } from "./usbmon.ts";

/** Where the recorded device sits on the bus. */
export interface RecorderOptions {
  /** Bus number written in every packet (default 1). */
  bus?: number;
  /** Device address written in every packet (default 2). */
  device?: number;
}

const ERRNO = { EPIPE: 32, ENOENT: 2, ESHUTDOWN: 108, EPROTO: 71, EOVERFLOW: 75 } as const;

function nowMicros(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
}

/** The usbmon status of a failed transfer. */
function statusOf(error: unknown): number {
  if (error instanceof UsbError) {
    switch (error.code) {
      case "PIPE":
        return -ERRNO.EPIPE;
      case "TIMEOUT":
      case "INTERRUPTED":
        return -ERRNO.ENOENT; // the URB was unlinked
      case "NO_DEVICE":
        return -ERRNO.ESHUTDOWN;
      case "OVERFLOW":
        return -ERRNO.EOVERFLOW;
    }
  }
  return -ERRNO.EPROTO;
}

/** One transfer between its submission and its completion. */
export interface RecordedTransfer {
  /** The URB id both events carry. */
  readonly id: bigint;
}

/**
 * Writes usbmon events to a pcapng stream. Get one with
 * {@link UsbRecorder.create} (a file) or the constructor (any sink).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UsbRecorder } from "@canon-remote/canon-remote/trace";
 * const chunks: Uint8Array[] = [];
 * const recorder = new UsbRecorder((bytes) => chunks.push(bytes));
 * const urb = recorder.submit("bulk", 0x81, 64);
 * recorder.complete(urb, "bulk", 0x81, 0, new Uint8Array(4));
 * assert.ok(chunks.length > 0);
 * ```
 */
export class UsbRecorder {
  /** Bus number written in the packets. */
  bus: number;
  /** Device address written in the packets. */
  device: number;
  #writer: PcapngWriter;
  #nextId = 1n;
  #close: () => void;
  #closed = false;
  #packets = 0;

  /**
   * Start a recording that sends the pcapng bytes to `sink`.
   *
   * @param sink receives the file's bytes in order
   * @param options bus and device address to write
   * @param close called once by {@link UsbRecorder.close}
   */
  constructor(
    sink: (bytes: Uint8Array) => void,
    options: RecorderOptions = {},
    close: () => void = () => {},
  ) {
    this.bus = options.bus ?? 1;
    this.device = options.device ?? 2;
    this.#close = close;
    this.#writer = new PcapngWriter((bytes) => {
      if (!this.#closed) sink(bytes);
    }, { interfaceName: `usbmon${this.bus}` });
  }

  /**
   * Record to a new file (replaced if it exists).
   *
   * @param path the pcapng file
   * @param options bus and device address to write
   * @returns the recorder; {@link UsbRecorder.close} it when done
   */
  static create(path: string, options: RecorderOptions = {}): UsbRecorder {
    const file = Deno.openSync(path, { write: true, create: true, truncate: true });
    return new UsbRecorder(
      (bytes) => {
        let offset = 0;
        while (offset < bytes.length) offset += file.writeSync(bytes.subarray(offset));
      },
      options,
      () => file.close(),
    );
  }

  /** How many packets were written. */
  get packets(): number {
    return this.#packets;
  }

  /**
   * Record a submission.
   *
   * @param type transfer type
   * @param endpoint endpoint address with direction bit (0x80 or 0x00 for control)
   * @param length the URB's length (wLength for control)
   * @param setup the setup packet (control only)
   * @param data OUT data
   * @returns the transfer, for {@link UsbRecorder.complete}
   */
  submit(
    type: TransferType,
    endpoint: number,
    length: number,
    setup?: Uint8Array,
    data: Uint8Array = new Uint8Array(0),
  ): RecordedTransfer {
    const id = this.#nextId++;
    const isIn = (endpoint & 0x80) !== 0;
    this.#write({
      id,
      event: "S",
      transferType: type,
      endpoint,
      setup,
      dataFlag: isIn ? 0x3c : 0, // '<': IN data comes with the completion
      status: STATUS_IN_PROGRESS,
      length,
      data: isIn ? new Uint8Array(0) : data,
    });
    return { id };
  }

  /**
   * Record a completion.
   *
   * @param transfer what {@link UsbRecorder.submit} returned
   * @param type transfer type
   * @param endpoint endpoint address with direction bit
   * @param status 0, or a negative errno
   * @param data IN data (empty for OUT)
   * @param length bytes transferred (default: `data.length`)
   */
  complete(
    transfer: RecordedTransfer,
    type: TransferType,
    endpoint: number,
    status: number,
    data: Uint8Array = new Uint8Array(0),
    length: number = data.length,
  ): void {
    const isIn = (endpoint & 0x80) !== 0;
    this.#write({
      id: transfer.id,
      event: "C",
      transferType: type,
      endpoint,
      setup: undefined,
      dataFlag: isIn ? 0 : 0x3e, // '>': OUT data went with the submission
      status,
      length,
      data: isIn ? data : new Uint8Array(0),
    });
  }

  #write(event: {
    id: bigint;
    event: "S" | "C";
    transferType: TransferType;
    endpoint: number;
    setup: Uint8Array | undefined;
    dataFlag: number;
    status: number;
    length: number;
    data: Uint8Array;
  }): void {
    if (this.#closed) return;
    const time = nowMicros();
    this.#writer.writePacket(
      encodeUsbmon({
        ...event,
        device: this.device,
        bus: this.bus,
        timeMicros: time,
        interval: event.transferType === "interrupt" ? 1 : 0,
        transferFlags: 0,
      }),
      time,
    );
    this.#packets++;
  }

  /** Stop recording and close the file. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#close();
  }

  /** Same as {@link UsbRecorder.close}. */
  [Symbol.dispose](): void {
    this.close();
  }
}

function setupBytes(setup: UsbControlSetup, directionIn: boolean, length: number): Uint8Array {
  return encodeWebUsbSetup(setup, directionIn ? "in" : "out", length);
}

function inBytes(result: UsbInResult): Uint8Array {
  const data = result.data;
  return data
    ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice()
    : new Uint8Array(0);
}

/**
 * Wrap a device so that every transfer through it is recorded. The wrapper
 * is a {@link UsbDevice} itself; open, close and the rest pass through.
 *
 * @param device the device (a libusb device, a `VirtualCamera`, a WebUSB device)
 * @param recorder where the events go
 * @returns the recording device
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Camera } from "@canon-remote/canon-remote";
 * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
 * import { recordDevice, UsbRecorder } from "@canon-remote/canon-remote/trace";
 * const chunks: Uint8Array[] = [];
 * using recorder = new UsbRecorder((bytes) => chunks.push(bytes));
 * await using cam = await Camera.connect(recordDevice(new VirtualCamera(), recorder));
 * const before = chunks.length;
 * await cam.identify();
 * assert.ok(chunks.length > before, "the identify dialogue was recorded");
 * ```
 */
export function recordDevice(device: UsbDevice, recorder: UsbRecorder): UsbDevice {
  return new RecordingDevice(device, recorder);
}

class RecordingDevice implements UsbDevice {
  readonly #inner: UsbDevice;
  readonly #recorder: UsbRecorder;

  constructor(inner: UsbDevice, recorder: UsbRecorder) {
    this.#inner = inner;
    this.#recorder = recorder;
  }

  get vendorId(): number {
    return this.#inner.vendorId;
  }
  get productId(): number {
    return this.#inner.productId;
  }
  get productName(): string | null | undefined {
    return this.#inner.productName;
  }
  get manufacturerName(): string | null | undefined {
    return this.#inner.manufacturerName;
  }
  get configuration(): UsbDevice["configuration"] {
    return this.#inner.configuration;
  }
  get opened(): boolean {
    return this.#inner.opened;
  }
  open(): Promise<void> {
    return this.#inner.open();
  }
  close(): Promise<void> {
    return this.#inner.close();
  }
  claimInterface(interfaceNumber: number): Promise<void> {
    return this.#inner.claimInterface(interfaceNumber);
  }
  releaseInterface(interfaceNumber: number): Promise<void> {
    return this.#inner.releaseInterface?.(interfaceNumber) ?? Promise.resolve();
  }
  clearHalt(direction: UsbDirection, endpointNumber: number): Promise<void> {
    return this.#inner.clearHalt?.(direction, endpointNumber) ?? Promise.resolve();
  }
  reset(): Promise<void> {
    return this.#inner.reset?.() ?? Promise.resolve();
  }

  #typeOf(endpointNumber: number, direction: UsbDirection): TransferType {
    const endpoints = this.#inner.configuration?.interfaces?.[0]?.alternate?.endpoints ?? [];
    const found = endpoints.find((e) =>
      e.endpointNumber === endpointNumber && e.direction === direction
    );
    return found?.type === "interrupt" ? "interrupt" : "bulk";
  }

  async controlTransferIn(
    setup: UsbControlSetup,
    length: number,
    options?: UsbTransferOptions,
  ): Promise<UsbInResult> {
    const urb = this.#recorder.submit("control", 0x80, length, setupBytes(setup, true, length));
    try {
      const result = await this.#inner.controlTransferIn(setup, length, options);
      this.#recorder.complete(
        urb,
        "control",
        0x80,
        result.status === "stall" ? -ERRNO.EPIPE : 0,
        inBytes(result),
      );
      return result;
    } catch (error) {
      this.#recorder.complete(urb, "control", 0x80, statusOf(error));
      throw error;
    }
  }

  async controlTransferOut(
    setup: UsbControlSetup,
    data?: UsbData,
    options?: UsbTransferOptions,
  ): Promise<UsbOutResult> {
    const bytes = toBytes(data).slice();
    const urb = this.#recorder.submit(
      "control",
      0x00,
      bytes.length,
      setupBytes(setup, false, bytes.length),
      bytes,
    );
    try {
      const result = await this.#inner.controlTransferOut(setup, data, options);
      this.#recorder.complete(
        urb,
        "control",
        0x00,
        result.status === "stall" ? -ERRNO.EPIPE : 0,
        undefined,
        result.bytesWritten,
      );
      return result;
    } catch (error) {
      this.#recorder.complete(urb, "control", 0x00, statusOf(error), undefined, 0);
      throw error;
    }
  }

  async transferIn(
    endpointNumber: number,
    length: number,
    options?: UsbTransferOptions,
  ): Promise<UsbInResult> {
    const type = this.#typeOf(endpointNumber, "in");
    const endpoint = 0x80 | endpointNumber;
    const urb = this.#recorder.submit(type, endpoint, length);
    try {
      const result = await this.#inner.transferIn(endpointNumber, length, options);
      this.#recorder.complete(
        urb,
        type,
        endpoint,
        result.status === "stall"
          ? -ERRNO.EPIPE
          : result.status === "babble"
          ? -ERRNO.EOVERFLOW
          : 0,
        inBytes(result),
      );
      return result;
    } catch (error) {
      this.#recorder.complete(urb, type, endpoint, statusOf(error));
      throw error;
    }
  }

  async transferOut(
    endpointNumber: number,
    data: UsbData,
    options?: UsbTransferOptions,
  ): Promise<UsbOutResult> {
    const type = this.#typeOf(endpointNumber, "out");
    const bytes = toBytes(data).slice();
    const urb = this.#recorder.submit(type, endpointNumber, bytes.length, undefined, bytes);
    try {
      const result = await this.#inner.transferOut(endpointNumber, data, options);
      this.#recorder.complete(
        urb,
        type,
        endpointNumber,
        result.status === "stall" ? -ERRNO.EPIPE : 0,
        undefined,
        result.bytesWritten,
      );
      return result;
    } catch (error) {
      this.#recorder.complete(urb, type, endpointNumber, statusOf(error), undefined, 0);
      throw error;
    }
  }
}
