/**
 * The device contract: the subset of WebUSB's `USBDevice` that the Canon
 * protocol needs. Three things implement it: the libusb-backed device
 * ({@link LibusbDevice}), the in-process `VirtualCamera`, and any real WebUSB
 * device (a browser's `navigator.usb`, node-usb's WebUSB). The shapes are
 * WebUSB's, so a WebUSB device plugs in without an adapter.
 *
 * @module
 */

/**
 * The timeout of a transfer that names none, in milliseconds (gphoto2's
 * port default too): the libusb device's, the session's and the camera's.
 */
export const DEFAULT_TIMEOUT_MS = 5000;

/** WebUSB `USBRequestType`. */
export type UsbRequestType = "standard" | "class" | "vendor";

/** WebUSB `USBRecipient`. */
export type UsbRecipient = "device" | "interface" | "endpoint" | "other";

/** WebUSB `USBTransferStatus`. */
export type UsbTransferStatus = "ok" | "stall" | "babble";

/** Bytes handed to a transfer: any `BufferSource` (a `Uint8Array` included). */
export type UsbData = BufferSource | ArrayBufferView;

/** WebUSB `USBDirection`. */
export type UsbDirection = "in" | "out";

/** WebUSB `USBControlTransferParameters`: the setup packet minus its length. */
export interface UsbControlSetup {
  /** `"vendor"` for every Canon request. */
  requestType: UsbRequestType;
  /** `"device"` for every Canon request. */
  recipient: UsbRecipient;
  /** bRequest. */
  request: number;
  /** wValue. */
  value: number;
  /** wIndex. */
  index: number;
}

/** WebUSB `USBInTransferResult`. */
export interface UsbInResult {
  /** The bytes received; absent when nothing was received. */
  data?: DataView;
  /**
   * How the transfer ended. Always set by the WebUSB spec, but optional in
   * the standard typings (`@types/w3c-web-usb`): the protocol layer reads an
   * absent status as `"ok"`.
   */
  status?: UsbTransferStatus;
}

/** WebUSB `USBOutTransferResult`. */
export interface UsbOutResult {
  /** How many bytes the device accepted. */
  bytesWritten: number;
  /** How the transfer ended. */
  status: UsbTransferStatus;
}

/**
 * Optional per-transfer options: an extension to WebUSB. Devices that can
 * time a transfer out (libusb, the virtual camera) honour `timeout`; a plain
 * WebUSB device ignores the extra argument, and the protocol layer then
 * bounds the wait itself.
 */
export interface UsbTransferOptions {
  /** Milliseconds before the transfer is abandoned with a timeout error. */
  timeout?: number;
}

/**
 * Options of {@link UsbDevice.readBulkChunks}: an extension to WebUSB.
 */
export interface UsbBulkChunkOptions {
  /** How many transfers to keep submitted at once (default 8, at least 1). */
  inFlight?: number;
  /**
   * Milliseconds each transfer may take, counted from its submission (so a
   * transfer queued behind others gets its whole time once it is on the bus
   * only if the others are quick; choose it as for a single read). Default 5000.
   */
  timeout?: number;
  /**
   * Stop early: no further transfer is submitted, the ones in flight are
   * cancelled, the data they had received is still yielded (in order), and
   * the iteration then throws the signal's reason.
   */
  signal?: AbortSignal;
}

/** WebUSB `USBEndpoint`, as far as the protocol looks at it. */
export interface UsbEndpointInfo {
  /** Endpoint number without the direction bit (1 for 0x81). */
  endpointNumber: number;
  /** Transfer direction. */
  direction: UsbDirection;
  /** Endpoint type. */
  type: "bulk" | "interrupt" | "isochronous";
  /** wMaxPacketSize. */
  packetSize: number;
}

/** WebUSB `USBConfiguration`, as far as the protocol looks at it. */
export interface UsbConfigurationInfo {
  /** bConfigurationValue. */
  configurationValue: number;
  /** The interfaces, each with its current alternate setting. */
  interfaces: ReadonlyArray<{
    interfaceNumber: number;
    alternate: { endpoints: ReadonlyArray<UsbEndpointInfo> };
  }>;
}

/**
 * The device contract: what the Canon protocol layer needs of a USB device.
 * Method names, arguments and results are WebUSB's.
 */
export interface UsbDevice {
  /** idVendor. */
  readonly vendorId: number;
  /** idProduct. */
  readonly productId: number;
  /** iProduct string; `null` (WebUSB) or absent when the device has none. */
  readonly productName?: string | null | undefined;
  /** iManufacturer string; `null` (WebUSB) or absent when the device has none. */
  readonly manufacturerName?: string | null | undefined;
  /**
   * The active configuration: `null` while the device is unconfigured (a
   * WebUSB device before {@link UsbDevice.selectConfiguration}), absent when
   * the backend does not say.
   */
  readonly configuration?: UsbConfigurationInfo | null | undefined;
  /** Whether {@link UsbDevice.open} has succeeded and `close` has not run. */
  readonly opened: boolean;
  /**
   * Optional extension (not WebUSB): `true` when the backend itself ends
   * every transfer by its `timeout` and a pending transfer keeps the process
   * alive (libusb). The protocol layer's backstops over such a device then
   * use timers that do not keep the process alive and cost nothing to load;
   * they still fail a transfer that outlives its timeout.
   */
  readonly enforcesTimeouts?: boolean;
  /** Open a session with the device. */
  open(): Promise<void>;
  /** End the session; safe to call twice. */
  close(): Promise<void>;
  /**
   * Select a configuration by its bConfigurationValue. Optional in this
   * contract; `Camera.connect` selects configuration 1 through it when
   * {@link UsbDevice.configuration} is `null`, as WebUSB's examples do.
   */
  selectConfiguration?(configurationValue: number): Promise<void>;
  /** Claim an interface (detaching a kernel driver where the backend can). */
  claimInterface(interfaceNumber: number): Promise<void>;
  /** Release a claimed interface. Optional in this contract. */
  releaseInterface?(interfaceNumber: number): Promise<void>;
  /** Control transfer, device to host. */
  controlTransferIn(
    setup: UsbControlSetup,
    length: number,
    options?: UsbTransferOptions,
  ): Promise<UsbInResult>;
  /** Control transfer, host to device. */
  controlTransferOut(
    setup: UsbControlSetup,
    data?: UsbData,
    options?: UsbTransferOptions,
  ): Promise<UsbOutResult>;
  /** Bulk or interrupt IN transfer on `endpointNumber` (no direction bit). */
  transferIn(
    endpointNumber: number,
    length: number,
    options?: UsbTransferOptions,
  ): Promise<UsbInResult>;
  /** Bulk or interrupt OUT transfer on `endpointNumber`. */
  transferOut(
    endpointNumber: number,
    data: UsbData,
    options?: UsbTransferOptions,
  ): Promise<UsbOutResult>;
  /** Clear a halt (stall) condition on an endpoint. Optional. */
  clearHalt?(direction: UsbDirection, endpointNumber: number): Promise<void>;
  /** Reset the device. Optional. */
  reset?(): Promise<void>;
  /**
   * Optional extension (not WebUSB): read bulk IN data with several transfers
   * in flight, one transfer per entry of `lengths` (read lazily, in order),
   * and yield each transfer's result in submission order. The protocol layer
   * uses it for long replies when present, and reads one transfer at a time
   * otherwise.
   *
   * Every byte the device sent is yielded, in order: after a short transfer
   * (fewer bytes than asked for, status "ok"), a stall or a babble, nothing
   * more is submitted, the transfers still in flight are cancelled and the
   * bytes they had received are yielded as further (short) "ok" results;
   * then the iteration ends (stall, babble, short) or throws (the failure of
   * a transfer: timeout, no device, I/O error; or the abort reason). A
   * transfer that received nothing because it was cancelled yields nothing.
   *
   * Leaving the loop early (`break`, an exception) cancels the transfers in
   * flight and discards what they received: to stop and still see every
   * byte, abort `options.signal` and keep iterating.
   *
   * **The data of a result is valid until the next read**: until the loop
   * asks for the next result (or ends). An implementation may then reuse its
   * memory for a later transfer (the libusb device does: no copy, no
   * allocation per transfer), so copy the bytes or write them out before
   * asking for more; do not keep the `DataView` itself.
   */
  readBulkChunks?(
    endpointNumber: number,
    lengths: Iterable<number>,
    options?: UsbBulkChunkOptions,
  ): AsyncIterable<UsbInResult>;
}

/** Copy any `BufferSource` into a fresh `Uint8Array` view (no copy for a Uint8Array). */
export function toBytes(data: UsbData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  if (data instanceof Uint8Array) return data;
  if (ArrayBuffer.isView(data)) {
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  }
  return new Uint8Array(data);
}

/** The bytes of a WebUSB IN result (empty when it carried none). */
export function inResultBytes(result: UsbInResult): Uint8Array {
  const view = result.data;
  if (!view) return new Uint8Array(0);
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

/**
 * What a WebUSB failure means, from its DOMException name (a browser's
 * `USBDevice`, node-usb's WebUSB): `NotFoundError` — the device is gone
 * (unplugged); `InvalidStateError` — the device is not open or the
 * interface not claimed (closed under the caller); `AbortError` — the
 * transfer was aborted (the device was closed or reset meanwhile);
 * `NetworkError` — the transfer failed on the bus; a `TypeError` — the
 * arguments were refused. Anything else: undefined.
 *
 * @param error what a WebUSB call rejected with
 * @returns the kind of failure, or undefined when it is not a WebUSB one
 */
export function webUsbFailure(
  error: unknown,
): "gone" | "not-open" | "aborted" | "transfer" | "arguments" | undefined {
  if (error instanceof TypeError) return "arguments";
  const name = typeof DOMException !== "undefined" && error instanceof DOMException
    ? error.name
    : undefined;
  switch (name) {
    case "NotFoundError":
      return "gone";
    case "InvalidStateError":
      return "not-open";
    case "AbortError":
      return "aborted";
    case "NetworkError":
      return "transfer";
  }
  return undefined;
}
