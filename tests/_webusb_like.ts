// A test device that behaves like a browser's WebUSB `USBDevice` in front of
// a VirtualCamera: transfers take no timeout (the options argument is
// ignored), a pending read stays pending until data comes or the device is
// closed (so a read the library abandons swallows the next packet), and
// failures are WebUSB's DOMExceptions (NotFoundError, AbortError,
// InvalidStateError, NetworkError) or a TypeError. No readBulkChunks.
import type {
  UsbControlSetup,
  UsbData,
  UsbDevice,
  UsbDirection,
  UsbInResult,
  UsbOutResult,
} from "../src/usb/device.ts";
import { UsbError } from "../src/usb/errors.ts";
import type { VirtualCamera } from "../src/emulator/host/virtual_camera.ts";

/** A failure to inject into the next transfer. */
export type WebUsbFailure = "NetworkError" | "InvalidStateError" | "TypeError";

function webUsbError(error: unknown): unknown {
  if (!(error instanceof UsbError)) return error;
  switch (error.code) {
    case "NO_DEVICE":
      return new DOMException("The device was disconnected.", "NotFoundError");
    case "INTERRUPTED":
      return new DOMException("The transfer was cancelled.", "AbortError");
    case "INVALID_PARAM":
      return new DOMException("The device must be opened first.", "InvalidStateError");
    default:
      return new DOMException("A transfer error has occurred.", "NetworkError");
  }
}

/** What the device saw, for assertions. */
export interface WebUsbStats {
  /** Interrupt reads submitted, and how many were pending at most at once. */
  interruptReads: number;
  maxPendingInterrupt: number;
  /** Bulk IN reads pending at most at once. */
  maxPendingBulk: number;
  /** open() calls. */
  opens: number;
}

/** A WebUSB-like device over `inner` (see the module comment). */
export class WebUsbLikeDevice implements UsbDevice {
  readonly stats: WebUsbStats = {
    interruptReads: 0,
    maxPendingInterrupt: 0,
    maxPendingBulk: 0,
    opens: 0,
  };
  #pendingInterrupt = 0;
  #pendingBulk = 0;
  #fail: WebUsbFailure | undefined;
  readonly #inner: VirtualCamera;

  constructor(inner: VirtualCamera) {
    this.#inner = inner;
  }

  get vendorId(): number {
    return this.#inner.vendorId;
  }
  get productId(): number {
    return this.#inner.productId;
  }
  get productName(): string {
    return this.#inner.productName;
  }
  get configuration() {
    return this.#inner.configuration;
  }
  get opened(): boolean {
    return this.#inner.opened;
  }

  /** The next transfer fails with this WebUSB error. */
  failNext(failure: WebUsbFailure): void {
    this.#fail = failure;
  }

  #injected(): unknown {
    const failure = this.#fail;
    this.#fail = undefined;
    if (failure === undefined) return undefined;
    if (failure === "TypeError") {
      return new TypeError("Failed to execute 'transferIn' on 'USBDevice'");
    }
    return new DOMException(`injected ${failure}`, failure);
  }

  async #call<T>(body: () => Promise<T>): Promise<T> {
    const injected = this.#injected();
    if (injected) throw injected;
    try {
      return await body();
    } catch (error) {
      throw webUsbError(error);
    }
  }

  async open(): Promise<void> {
    this.stats.opens++;
    await this.#call(() => this.#inner.open());
  }
  close(): Promise<void> {
    return this.#inner.close();
  }
  claimInterface(n: number): Promise<void> {
    return this.#call(() => this.#inner.claimInterface(n));
  }
  releaseInterface(n: number): Promise<void> {
    return this.#call(() => this.#inner.releaseInterface(n));
  }
  clearHalt(direction: UsbDirection, n: number): Promise<void> {
    return this.#call(() => this.#inner.clearHalt(direction, n));
  }
  controlTransferIn(setup: UsbControlSetup, length: number): Promise<UsbInResult> {
    return this.#call(() => this.#inner.controlTransferIn(setup, length));
  }
  controlTransferOut(setup: UsbControlSetup, data?: UsbData): Promise<UsbOutResult> {
    return this.#call(() => this.#inner.controlTransferOut(setup, data as BufferSource));
  }
  transferOut(endpoint: number, data: UsbData): Promise<UsbOutResult> {
    return this.#call(() => this.#inner.transferOut(endpoint, data as BufferSource));
  }

  /** No timeout: the read waits until data comes or the device is closed. */
  transferIn(endpoint: number, length: number): Promise<UsbInResult> {
    return this.#call(async () => {
      const interrupt = endpoint === 3;
      if (interrupt) {
        this.stats.interruptReads++;
        this.stats.maxPendingInterrupt = Math.max(
          this.stats.maxPendingInterrupt,
          ++this.#pendingInterrupt,
        );
      } else {
        this.stats.maxPendingBulk = Math.max(this.stats.maxPendingBulk, ++this.#pendingBulk);
      }
      try {
        return await this.#inner.transferIn(endpoint, length, { timeout: 0 });
      } finally {
        if (interrupt) this.#pendingInterrupt--;
        else this.#pendingBulk--;
      }
    });
  }
}
