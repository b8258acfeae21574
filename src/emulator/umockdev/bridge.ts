/**
 * One emulated USB device as usbdevfs presents it: the state machine that
 * answers the ioctls a libusb client issues on `/dev/bus/usb/BBB/DDD`
 * (claims, URB submission, reaping, discards, halts, resets, synchronous
 * transfers) from a {@link UsbFunction}, with the kernel's semantics: URBs
 * complete per client and in order per endpoint, a read the function cannot
 * answer stays pending until the function notifies, an unplugged device
 * answers ENODEV. The umockdev testbed (`umockdev.ts`) routes each client's
 * ioctls here.
 *
 * @module
 */

import type {
  FunctionRead,
  FunctionWrite,
  SetupPacket,
  UsbFunction,
} from "../engine/usb_function.ts";
import {
  type BusSlot,
  type FullSpeedBus,
  type PacedRead,
  releasePaced,
  servicePaced,
} from "../engine/bus_model.ts";
import {
  BULKTRANSFER,
  CONNECTINFO,
  CTRLTRANSFER,
  ERRNO,
  SETINTERFACE,
  URB,
  URB_FLAG,
  URB_TYPE,
  urbStatusName,
  urbTypeName,
  USBDEVFS,
  USBDEVFS_CAP,
  USBDEVFS_SPEED,
  usbdevfsName,
  usbdevfsSpeed,
} from "./usbdevfs.ts";
import {
  ioctlArgValue,
  ioctlDataBytes,
  ioctlDataClientAddress,
  resolveIoctlData,
  UmockdevError,
  type UmockdevLibrary,
} from "./ffi.ts";

const hex = (value: number, digits: number): string => value.toString(16).padStart(digits, "0");
const dec3 = (value: number): string => String(value).padStart(3, "0");

/** A device plugged into a umockdev testbed (`UmockdevTestbed.attach`). */
export interface EmulatedUsbDevice {
  /** Bus number (1 for `/dev/bus/usb/001/...`). */
  readonly bus: number;
  /** Device address on the bus. */
  readonly address: number;
  /** The device node a client opens, e.g. `/dev/bus/usb/001/002`. */
  readonly devnode: string;
  /** The device's sysfs directory as clients see it, e.g. `/sys/devices/platform/dummy_hcd.0/usb1/1-1`. */
  readonly sysfsPath: string;
  /** The function answering for the device. */
  readonly usbFunction: UsbFunction;
  /**
   * False once {@link EmulatedUsbDevice.detach} ran, or once the function
   * said it is disconnected: that unplugs it for good; after the function
   * reconnects, attach it again (a new address, as a real replug gets).
   */
  readonly attached: boolean;
  /**
   * Unplug the device: pending transfers complete with "no device", every
   * further ioctl on an open handle fails with ENODEV, and the device leaves
   * sysfs. A "remove" uevent goes out when this process runs under
   * libumockdev-preload (umockdev builds uevents from the sysfs it sees, so
   * elsewhere it cannot). Idempotent.
   */
  detach(): void;
}

// ---------------------------------------------------------------------------
// Descriptors

/** The parts of the descriptors that sysfs shows and the bridge checks against. */
export interface DeviceLayout {
  /** bcdUSB. */
  bcdUSB: number;
  /** bDeviceClass. */
  deviceClass: number;
  /** bDeviceSubClass. */
  deviceSubClass: number;
  /** bDeviceProtocol. */
  deviceProtocol: number;
  /** bMaxPacketSize0. */
  maxPacketSize0: number;
  /** idVendor. */
  vendorId: number;
  /** idProduct. */
  productId: number;
  /** bcdDevice. */
  bcdDevice: number;
  /** iManufacturer. */
  iManufacturer: number;
  /** iProduct. */
  iProduct: number;
  /** iSerialNumber. */
  iSerialNumber: number;
  /** bNumConfigurations. */
  numConfigurations: number;
  /** bConfigurationValue of the (one) configuration. */
  configurationValue: number;
  /** bNumInterfaces. */
  numInterfaces: number;
  /** The configuration's bmAttributes. */
  configAttributes: number;
  /** bMaxPower (units of 2 mA at full and high speed). */
  maxPower: number;
  /** Interface number -> alternate settings. */
  interfaces: Map<number, Set<number>>;
  /** Endpoint address -> transfer type (bmAttributes & 3: 1 iso, 2 bulk, 3 interrupt). */
  endpoints: Map<number, number>;
}

const ENDPOINT_ISO = 1;
const ENDPOINT_BULK = 2;
const ENDPOINT_INTERRUPT = 3;

/**
 * Read the descriptors of a function.
 *
 * @param device the 18-byte device descriptor
 * @param configuration the whole configuration descriptor
 * @returns what sysfs shows and the bridge checks against
 * @throws {UmockdevError} when the descriptors are malformed
 */
export function parseLayout(device: Uint8Array, configuration: Uint8Array): DeviceLayout {
  if (device.length !== 18 || device[0] !== 18 || device[1] !== 1) {
    throw new UmockdevError("the function's device descriptor is not an 18-byte device descriptor");
  }
  if (configuration.length < 9 || configuration[0] !== 9 || configuration[1] !== 2) {
    throw new UmockdevError(
      "the function's configuration descriptor does not start with a configuration descriptor",
    );
  }
  const dev = new DataView(device.buffer, device.byteOffset, device.byteLength);
  const cfg = new DataView(
    configuration.buffer,
    configuration.byteOffset,
    configuration.byteLength,
  );
  const totalLength = cfg.getUint16(2, true);
  if (totalLength !== configuration.length) {
    throw new UmockdevError(
      `the configuration descriptor's wTotalLength (${totalLength}) is not its length (${configuration.length})`,
    );
  }
  const interfaces = new Map<number, Set<number>>();
  const endpoints = new Map<number, number>();
  for (let offset = 9; offset < configuration.length;) {
    const length = configuration[offset];
    if (length < 2 || offset + length > configuration.length) {
      throw new UmockdevError(
        `malformed descriptor at offset ${offset} of the configuration descriptor`,
      );
    }
    const type = configuration[offset + 1];
    if (type === 4 && length >= 9) {
      const number = configuration[offset + 2];
      const alternates = interfaces.get(number) ?? new Set<number>();
      alternates.add(configuration[offset + 3]);
      interfaces.set(number, alternates);
    } else if (type === 5 && length >= 7) {
      endpoints.set(configuration[offset + 2], configuration[offset + 3] & 3);
    }
    offset += length;
  }
  return {
    bcdUSB: dev.getUint16(2, true),
    deviceClass: device[4],
    deviceSubClass: device[5],
    deviceProtocol: device[6],
    maxPacketSize0: device[7],
    vendorId: dev.getUint16(8, true),
    productId: dev.getUint16(10, true),
    bcdDevice: dev.getUint16(12, true),
    iManufacturer: device[14],
    iProduct: device[15],
    iSerialNumber: device[16],
    numConfigurations: device[17],
    configurationValue: configuration[5],
    numInterfaces: configuration[4],
    configAttributes: configuration[7],
    maxPower: configuration[8],
    interfaces,
    endpoints,
  };
}

/** What a device bridge needs from its testbed. */
export interface BridgeHost {
  /** The umockdev symbols. */
  readonly lib: UmockdevLibrary;
  /** The trace sink, if tracing. */
  readonly log: ((line: string) => void) | undefined;
  /** Change a sysfs attribute of the device. */
  setAttribute(sysfsPath: string, name: string, value: string): void;
  /** Take the device out of the testbed (sysfs, device node, ioctl socket). */
  unplug(bridge: DeviceBridge): void;
}

/** An ioctl being answered: completes its client exactly once. */
class IoctlCall {
  readonly request: number;
  #lib: UmockdevLibrary;
  #client: Deno.PointerObject;
  #settled = false;

  constructor(lib: UmockdevLibrary, client: Deno.PointerObject) {
    this.#lib = lib;
    this.#client = client;
    this.request = Number(lib.umockdev.umockdev_ioctl_client_get_request(client));
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** The ioctl's argument block (the argument value itself; resolve it to reach memory). */
  arg(): Deno.PointerObject {
    const arg = this.#lib.umockdev.umockdev_ioctl_client_get_arg(this.#client);
    if (!arg) throw new UmockdevError("ioctl without argument block");
    return arg;
  }

  complete(result: number): void {
    this.#finish(result, 0);
  }

  fail(errno: number): void {
    this.#finish(-1, errno);
  }

  #finish(result: number, errno: number): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#lib.umockdev.umockdev_ioctl_client_complete(this.#client, BigInt(result), errno);
  }
}

/** One open file descriptor on the device node (a umockdev ioctl client). */
class ClientState {
  readonly key: bigint;
  readonly pointer: Deno.PointerObject;
  /** Finished URBs, in completion order, waiting to be reaped. */
  readonly completed: Urb[] = [];
  readonly claimed = new Set<number>();
  /** A REAPURB (blocking) waiting for a URB to finish. */
  reaper: { call: IoctlCall; target: Deno.PointerObject } | undefined;
  #lib: UmockdevLibrary;

  constructor(lib: UmockdevLibrary, pointer: Deno.PointerObject) {
    this.#lib = lib;
    this.key = Deno.UnsafePointer.value(pointer) as bigint;
    this.pointer = lib.gobject.g_object_ref(pointer)!;
  }

  get connected(): boolean {
    return this.#lib.umockdev.umockdev_ioctl_client_get_connected(this.pointer) !== 0;
  }
}

/** How a transfer ended: a URB status (0 or -errno) and the bytes that moved. */
interface Outcome {
  status: number;
  /** Bytes transferred. */
  actual: number;
  /** For IN transfers: the data to hand to the client. */
  data?: Uint8Array;
}

const noDevice: Outcome = { status: -ERRNO.ENODEV, actual: 0 };

/** A transfer waiting for the function to produce data on an IN endpoint. */
interface PendingRead extends PacedRead {
  readonly client: ClientState;
  readonly endpoint: number;
  readonly length: number;
  /** Finished: record the outcome and let the client see it. */
  settle(outcome: Outcome): void;
  /** The client went away: free what is held, tell no one. */
  abandon(): void;
}

/** A submitted URB. Owns its references to the client's URB and buffer blocks. */
class Urb implements PendingRead {
  readonly submittedAt: number = performance.now();
  slot?: BusSlot & { bytes: number };
  status = 0;
  actual = 0;
  data: Uint8Array | undefined;
  #onSettled: (urb: Urb) => void;

  constructor(
    readonly id: number,
    readonly client: ClientState,
    readonly block: Deno.PointerObject,
    readonly buffer: Deno.PointerObject | null,
    readonly type: number,
    readonly endpoint: number,
    readonly flags: number,
    readonly length: number,
    readonly clientAddress: bigint,
    readonly release: (urb: Urb) => void,
    onSettled: (urb: Urb) => void,
  ) {
    this.#onSettled = onSettled;
  }

  settle(outcome: Outcome): void {
    this.status = outcome.status;
    this.actual = outcome.actual;
    this.data = outcome.data;
    const short = (this.endpoint & 0x80) !== 0 && this.actual < this.length;
    if (this.status === 0 && short && (this.flags & URB_FLAG.SHORT_NOT_OK)) {
      this.status = -ERRNO.EREMOTEIO;
    }
    this.#onSettled(this);
  }

  abandon(): void {
    this.release(this);
  }
}

/** A synchronous USBDEVFS_BULK read waiting for data. */
class SyncBulkRead implements PendingRead {
  readonly submittedAt: number = performance.now();
  slot?: BusSlot & { bytes: number };
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly client: ClientState,
    readonly call: IoctlCall,
    readonly endpoint: number,
    readonly length: number,
    readonly block: Deno.PointerObject,
    readonly unref: (block: Deno.PointerObject) => void,
  ) {}

  startTimer(ms: number, onTimeout: () => void): void {
    if (ms > 0) this.#timer = setTimeout(onTimeout, ms);
  }

  settle(outcome: Outcome): void {
    clearTimeout(this.#timer);
    if (outcome.data) ioctlDataBytes(this.block).set(outcome.data);
    if (outcome.status === 0) this.call.complete(outcome.actual);
    else this.call.fail(-outcome.status);
    this.unref(this.block);
  }

  abandon(): void {
    clearTimeout(this.#timer);
    this.unref(this.block);
  }
}

/** The function threw: the ioctl fails with EIO. */
class FunctionFault extends Error {
  constructor(what: string, cause: unknown) {
    super(`the USB function threw in ${what}`, { cause });
    this.name = "FunctionFault";
  }
}

function readOutcome(result: FunctionRead, length: number): Outcome | null {
  if (result === null) return null;
  if (result === "stall") return { status: -ERRNO.EPIPE, actual: 0 };
  if (result.length > length) {
    // The device sent more than the host asked for: babble.
    return { status: -ERRNO.EOVERFLOW, actual: length, data: result.subarray(0, length) };
  }
  return { status: 0, actual: result.length, data: result };
}

function writeOutcome(result: FunctionWrite, length: number): Outcome {
  return result === "stall" ? { status: -ERRNO.EPIPE, actual: 0 } : { status: 0, actual: length };
}

function u32(bytes: Uint8Array, offset = 0): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset, true);
}

function preview(bytes: Uint8Array): string {
  const shown = Array.from(bytes.subarray(0, 16), (b) => hex(b, 2)).join(" ");
  return bytes.length > 16 ? `${shown} ...` : shown;
}

/** Where a device is plugged in. */
export interface BridgePlace {
  /** Bus number. */
  bus: number;
  /** Device address. */
  address: number;
  /** Root hub port. */
  port: number;
  /** `/dev/bus/usb/BBB/DDD`. */
  devnode: string;
  /** `/sys/devices/...`. */
  sysfsPath: string;
}

/** One emulated device: answers the usbdevfs ioctls of its clients from its function. */
export class DeviceBridge implements EmulatedUsbDevice {
  /** Bus number. */
  readonly bus: number;
  /** Device address. */
  readonly address: number;
  /** Root hub port. */
  readonly port: number;
  /** `/dev/bus/usb/BBB/DDD`. */
  readonly devnode: string;
  /** `/sys/devices/...`. */
  readonly sysfsPath: string;
  /** The function answering for the device. */
  readonly usbFunction: UsbFunction;
  /** The number the ioctl dispatcher knows the bridge by. */
  readonly id: number;

  #host: BridgeHost;
  #lib: UmockdevLibrary;
  #handler: Deno.PointerObject | null;
  #layout: DeviceLayout;
  #tag: string;
  #attached = true;
  #configuration: number;
  #clients = new Map<bigint, ClientState>();
  /** Pending reads per IN endpoint, in submission order. */
  #pending = new Map<number, PendingRead[]>();
  /** With a bus model: when each paced endpoint's next read completes. */
  #paceTimers = new Map<number, { at: number; timer: ReturnType<typeof setTimeout> }>();
  /** Which client holds each claimed interface. */
  #claims = new Map<number, ClientState>();
  #unsubscribe: (() => void) | undefined;
  #inHandler = false;
  #pumping = false;
  #pumpRequested = false;
  #pumpScheduled = false;
  #faults = 0;
  #internalErrors = 0;
  #nextUrbId = 1;
  #readiness: { ready(): void; idle(): void } | undefined;

  /**
   * Start answering for `fn` (and listening to it).
   *
   * @param host the testbed
   * @param id the dispatcher's number for this bridge
   * @param handler the UMockdevIoctlBase whose reference the bridge takes over
   * @param fn the device side
   * @param layout the parsed descriptors of `fn`
   * @param place where it is plugged in
   */
  constructor(
    host: BridgeHost,
    id: number,
    handler: Deno.PointerObject,
    fn: UsbFunction,
    layout: DeviceLayout,
    place: BridgePlace,
  ) {
    this.#host = host;
    this.#lib = host.lib;
    this.id = id;
    this.#handler = handler;
    this.usbFunction = fn;
    this.#layout = layout;
    this.#configuration = layout.configurationValue;
    this.bus = place.bus;
    this.address = place.address;
    this.port = place.port;
    this.devnode = place.devnode;
    this.sysfsPath = place.sysfsPath;
    this.#tag = `[umockdev ${dec3(place.bus)}:${dec3(place.address)}]`;
    this.#unsubscribe = fn.subscribe(() => this.#requestPump());
  }

  /**
   * Let a waitable device node (a FIFO, `fifo_node.ts`) follow whether any
   * client has a URB to reap: `ready()` when one completes (or the device
   * goes), `idle()` when a non-blocking reap finds nothing anywhere.
   *
   * @param readiness the node
   */
  setReadiness(readiness: { ready(): void; idle(): void }): void {
    this.#readiness = readiness;
  }

  /** False once unplugged. */
  get attached(): boolean {
    return this.#attached;
  }

  /** Unplug: see {@link EmulatedUsbDevice.detach}. */
  detach(): void {
    if (!this.#attached) return;
    this.#attached = false;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    const pending = [...this.#pending.values()].flat();
    this.#pending.clear();
    this.#clearPaceTimers();
    for (const read of pending) read.settle(noDevice);
    for (const client of this.#clients.values()) this.#serveReaper(client);
    this.#readiness?.ready();
    this.#host.unplug(this);
  }

  /** How many clients still have the device node open. */
  openClients(): number {
    this.#sweepClients();
    return this.#clients.size;
  }

  /** Free everything held (the testbed is closing). */
  release(): void {
    this.#clearPaceTimers();
    for (const client of this.#clients.values()) this.#dropClient(client);
    this.#clients.clear();
    if (this.#handler) this.#lib.gobject.g_object_unref(this.#handler);
    this.#handler = null;
  }

  /**
   * Answer one ioctl (called on this isolate's thread while umockdev's worker waits).
   *
   * @param clientPointer the UMockdevIoctlClient that issued it
   */
  handle(clientPointer: Deno.PointerObject): void {
    const call = new IoctlCall(this.#lib, clientPointer);
    this.#inHandler = true;
    try {
      this.#dispatch(call, this.#client(clientPointer));
    } catch (error) {
      if (error instanceof FunctionFault) this.#reportFault(error);
      else this.#reportInternal(`answering ${usbdevfsName(call.request)}`, error);
      call.fail(ERRNO.EIO);
    } finally {
      this.#inHandler = false;
    }
    if (this.#pumpRequested) this.#pump();
  }

  #client(pointer: Deno.PointerObject): ClientState {
    const key = Deno.UnsafePointer.value(pointer) as bigint;
    let client = this.#clients.get(key);
    if (!client) {
      this.#sweepClients();
      client = new ClientState(this.#lib, pointer);
      this.#clients.set(key, client);
    }
    return client;
  }

  #dispatch(call: IoctlCall, client: ClientState): void {
    const request = call.request;
    const log = this.#host.log;
    // A function that disconnected without telling its subscribers.
    if (this.#attached && !this.usbFunction.connected) this.detach();
    if (request === USBDEVFS.REAPURBNDELAY || request === USBDEVFS.REAPURB) {
      return this.#reap(call, client, request === USBDEVFS.REAPURB);
    }
    if (!this.#attached) {
      log?.(`${this.#tag} ${usbdevfsName(request)} -> ENODEV (unplugged)`);
      return call.fail(ERRNO.ENODEV);
    }
    switch (request) {
      case USBDEVFS.SUBMITURB:
        return this.#submit(call, client);
      case USBDEVFS.DISCARDURB:
        return this.#discard(call, client);
      case USBDEVFS.GET_CAPABILITIES: {
        const block = this.#resolve(call.arg(), 0, 4);
        if (!block) return call.fail(ERRNO.EFAULT);
        new DataView(ioctlDataBytes(block).buffer).setUint32(
          0,
          USBDEVFS_CAP.ZERO_PACKET | USBDEVFS_CAP.BULK_CONTINUATION |
            USBDEVFS_CAP.NO_PACKET_SIZE_LIM | USBDEVFS_CAP.BULK_SCATTER_GATHER |
            USBDEVFS_CAP.REAP_AFTER_DISCONNECT,
          true,
        );
        this.#unref(block);
        log?.(`${this.#tag} GET_CAPABILITIES`);
        return call.complete(0);
      }
      case USBDEVFS.CLAIMINTERFACE:
      case USBDEVFS.DISCONNECT_CLAIM:
        return this.#claim(call, client, this.#readU32(call));
      case USBDEVFS.RELEASEINTERFACE: {
        const number = this.#readU32(call);
        if (this.#claims.get(number) !== client) {
          log?.(`${this.#tag} RELEASEINTERFACE ${number} -> EINVAL (not claimed)`);
          return call.fail(ERRNO.EINVAL);
        }
        this.#claims.delete(number);
        client.claimed.delete(number);
        log?.(`${this.#tag} RELEASEINTERFACE ${number}`);
        return call.complete(0);
      }
      case USBDEVFS.SETCONFIGURATION: {
        const value = this.#readU32(call);
        if (value !== 0 && value !== this.#layout.configurationValue) {
          log?.(`${this.#tag} SETCONFIGURATION ${value} -> EINVAL`);
          return call.fail(ERRNO.EINVAL);
        }
        this.#configuration = value;
        this.#host.setAttribute(this.sysfsPath, "bConfigurationValue", value ? `${value}\n` : "\n");
        log?.(`${this.#tag} SETCONFIGURATION ${value}`);
        return call.complete(0);
      }
      case USBDEVFS.SETINTERFACE: {
        const block = this.#resolve(call.arg(), 0, SETINTERFACE.size);
        if (!block) return call.fail(ERRNO.EFAULT);
        const bytes = ioctlDataBytes(block);
        const number = u32(bytes, SETINTERFACE.interface);
        const alternate = u32(bytes, SETINTERFACE.altsetting);
        this.#unref(block);
        const ok = this.#layout.interfaces.get(number)?.has(alternate) ?? false;
        log?.(`${this.#tag} SETINTERFACE ${number} alt ${alternate}${ok ? "" : " -> EINVAL"}`);
        return ok ? call.complete(0) : call.fail(ERRNO.EINVAL);
      }
      case USBDEVFS.CLEAR_HALT: {
        const endpoint = this.#readU32(call) & 0xff;
        if (!this.#endpointExists(endpoint)) return call.fail(ERRNO.ENOENT);
        this.#invoke("clearHalt", () => this.usbFunction.clearHalt(endpoint));
        log?.(`${this.#tag} CLEAR_HALT 0x${hex(endpoint, 2)}`);
        return call.complete(0);
      }
      case USBDEVFS.RESETEP: {
        const endpoint = this.#readU32(call) & 0xff;
        log?.(`${this.#tag} RESETEP 0x${hex(endpoint, 2)}`);
        return this.#endpointExists(endpoint) ? call.complete(0) : call.fail(ERRNO.ENOENT);
      }
      case USBDEVFS.RESET:
        this.#invoke("reset", () => this.usbFunction.reset());
        log?.(`${this.#tag} RESET`);
        return call.complete(0);
      case USBDEVFS.GETDRIVER:
      case USBDEVFS.IOCTL:
        // No kernel driver is bound to an emulated device.
        log?.(`${this.#tag} ${usbdevfsName(request)} -> ENODATA`);
        return call.fail(ERRNO.ENODATA);
      case USBDEVFS.GET_SPEED:
        return call.complete(usbdevfsSpeed(this.usbFunction.descriptors.speedMbps));
      case USBDEVFS.CONNECTINFO: {
        const block = this.#resolve(call.arg(), 0, CONNECTINFO.size);
        if (!block) return call.fail(ERRNO.EFAULT);
        const view = new DataView(ioctlDataBytes(block).buffer);
        view.setUint32(CONNECTINFO.devnum, this.address, true);
        view.setUint8(
          CONNECTINFO.slow,
          usbdevfsSpeed(this.usbFunction.descriptors.speedMbps) === USBDEVFS_SPEED.LOW ? 1 : 0,
        );
        this.#unref(block);
        return call.complete(0);
      }
      case USBDEVFS.CONTROL:
        return this.#syncControl(call);
      case USBDEVFS.BULK:
        return this.#syncBulk(call, client);
      default:
        log?.(`${this.#tag} ${usbdevfsName(request)} -> ENOTTY`);
        return call.fail(ERRNO.ENOTTY);
    }
  }

  // --- interfaces and endpoints

  #claim(call: IoctlCall, client: ClientState, number: number): void {
    const log = this.#host.log;
    if (!this.#layout.interfaces.has(number)) {
      log?.(`${this.#tag} CLAIMINTERFACE ${number} -> ENOENT`);
      return call.fail(ERRNO.ENOENT);
    }
    const holder = this.#claims.get(number);
    if (holder && holder !== client) {
      if (holder.connected) {
        log?.(`${this.#tag} CLAIMINTERFACE ${number} -> EBUSY (held by another client)`);
        return call.fail(ERRNO.EBUSY);
      }
      this.#sweepClients();
    }
    this.#claims.set(number, client);
    client.claimed.add(number);
    log?.(`${this.#tag} ${usbdevfsName(call.request)} ${number}`);
    call.complete(0);
  }

  #endpointExists(endpoint: number): boolean {
    if ((endpoint & 0x7f) === 0) return true;
    return this.#configuration !== 0 && this.#layout.endpoints.has(endpoint);
  }

  /** 0, or the errno that the kernel gives for a URB of `type` on `endpoint`. */
  #checkUrb(type: number, endpoint: number): number {
    if (type === URB_TYPE.CONTROL) return (endpoint & 0x7f) === 0 ? 0 : ERRNO.EINVAL;
    if (type === URB_TYPE.ISO) return ERRNO.EINVAL; // no isochronous endpoints emulated
    if ((endpoint & 0x7f) === 0 || !this.#endpointExists(endpoint)) return ERRNO.ENOENT;
    const kind = this.#layout.endpoints.get(endpoint);
    if (kind === ENDPOINT_ISO) return ERRNO.EINVAL;
    if (type === URB_TYPE.INTERRUPT && kind !== ENDPOINT_INTERRUPT) return ERRNO.EINVAL;
    if (type === URB_TYPE.BULK && kind !== ENDPOINT_BULK && kind !== ENDPOINT_INTERRUPT) {
      return ERRNO.EINVAL;
    }
    return 0;
  }

  // --- URBs

  #submit(call: IoctlCall, client: ClientState): void {
    const log = this.#host.log;
    const block = this.#resolve(call.arg(), 0, URB.size);
    if (!block) return call.fail(ERRNO.EFAULT);
    let buffer: Deno.PointerObject | null = null;
    let handedOver = false;
    try {
      const view = new DataView(ioctlDataBytes(block).buffer);
      const type = view.getUint8(URB.type);
      const endpoint = view.getUint8(URB.endpoint);
      const flags = view.getUint32(URB.flags, true);
      const length = view.getInt32(URB.bufferLength, true);
      const invalid = length < 0 ? ERRNO.EINVAL : this.#checkUrb(type, endpoint);
      if (invalid) {
        log?.(
          `${this.#tag} SUBMITURB ${urbTypeName(type)} ep 0x${hex(endpoint, 2)} -> ${
            urbStatusName(invalid)
          }`,
        );
        return call.fail(invalid);
      }
      if (!this.usbFunction.connected) return call.fail(ERRNO.ENODEV);
      if (length > 0) {
        buffer = this.#resolve(block, URB.buffer, length);
        if (!buffer) return call.fail(ERRNO.EFAULT);
      }
      const bytes = buffer ? ioctlDataBytes(buffer) : new Uint8Array(0);
      const urb = new Urb(
        this.#nextUrbId++,
        client,
        block,
        buffer,
        type,
        endpoint,
        flags,
        length,
        ioctlDataClientAddress(block),
        (done) => this.#releaseUrb(done),
        (done) => this.#completed(done),
      );
      if (type === URB_TYPE.CONTROL) {
        if (length < 8) return call.fail(ERRNO.EINVAL);
        const setup = new DataView(bytes.buffer, bytes.byteOffset, 8);
        const packet: SetupPacket = {
          bmRequestType: setup.getUint8(0),
          bRequest: setup.getUint8(1),
          wValue: setup.getUint16(2, true),
          wIndex: setup.getUint16(4, true),
          wLength: setup.getUint16(6, true),
        };
        if (packet.wLength > length - 8) return call.fail(ERRNO.EINVAL);
        log?.(
          `${this.#tag} SUBMIT #${urb.id} CONTROL bmRequestType=0x${
            hex(packet.bmRequestType, 2)
          } ` +
            `bRequest=0x${hex(packet.bRequest, 2)} wValue=0x${hex(packet.wValue, 4)} ` +
            `wIndex=0x${hex(packet.wIndex, 4)} wLength=${packet.wLength}`,
        );
        let outcome: Outcome;
        if (packet.bmRequestType & 0x80) {
          const answer = this.#invoke("controlIn", () => this.usbFunction.controlIn(packet));
          outcome = readOutcome(answer, packet.wLength)!;
        } else {
          const data = bytes.slice(8, 8 + packet.wLength);
          if (data.length) log?.(`${this.#tag}   data ${preview(data)}`);
          const answer = this.#invoke(
            "controlOut",
            () => this.usbFunction.controlOut(packet, data),
          );
          outcome = writeOutcome(answer, packet.wLength);
        }
        call.complete(0);
        handedOver = true;
        urb.settle(outcome);
      } else if (endpoint & 0x80) {
        log?.(
          `${this.#tag} SUBMIT #${urb.id} ${urbTypeName(type)} IN ep 0x${
            hex(endpoint, 2)
          } length ${length}`,
        );
        call.complete(0);
        handedOver = true;
        this.#queueRead(urb);
      } else {
        const data = bytes.slice();
        log?.(
          `${this.#tag} SUBMIT #${urb.id} ${urbTypeName(type)} OUT ep 0x${
            hex(endpoint, 2)
          } length ${length}` +
            (data.length ? `: ${preview(data)}` : ""),
        );
        const answer = this.#invoke("write", () => this.usbFunction.write(endpoint, data));
        call.complete(0);
        handedOver = true;
        urb.settle(writeOutcome(answer, length));
      }
    } finally {
      if (!handedOver) {
        // The URB was refused (or the function threw): nothing holds its blocks.
        if (buffer) this.#unref(buffer);
        this.#unref(block);
      }
    }
  }

  #queueRead(read: PendingRead): void {
    const queue = this.#pending.get(read.endpoint);
    if (queue) {
      queue.push(read);
      // On a paced endpoint a queued read goes on the bus now, behind the others.
      if (this.#busFor(read.endpoint)) this.#serviceEndpoint(read.endpoint);
    } else {
      this.#pending.set(read.endpoint, [read]);
      this.#serviceEndpoint(read.endpoint);
    }
  }

  /** A URB finished: queue it for its client's reap, and wake a blocked REAPURB. */
  #completed(urb: Urb): void {
    this.#host.log?.(
      `${this.#tag} DONE #${urb.id} ${urbTypeName(urb.type)} ep 0x${hex(urb.endpoint, 2)} ` +
        `status ${urbStatusName(urb.status)} actual ${urb.actual}` +
        (urb.data?.length ? `: ${preview(urb.data)}` : ""),
    );
    urb.client.completed.push(urb);
    this.#readiness?.ready();
    this.#serveReaper(urb.client);
  }

  #reap(call: IoctlCall, client: ClientState, blocking: boolean): void {
    const urb = client.completed.shift();
    if (urb) {
      const target = this.#resolve(call.arg(), 0, 8);
      if (!target) {
        client.completed.unshift(urb);
        return call.fail(ERRNO.EFAULT);
      }
      return this.#deliver(call, target, urb);
    }
    if (!this.#attached) return call.fail(ERRNO.ENODEV);
    if (!blocking && this.#readiness) {
      let reapable = false;
      for (const other of this.#clients.values()) reapable ||= other.completed.length > 0;
      if (!reapable) this.#readiness.idle();
    }
    if (!blocking || client.reaper) return call.fail(ERRNO.EAGAIN);
    const target = this.#resolve(call.arg(), 0, 8);
    if (!target) return call.fail(ERRNO.EFAULT);
    client.reaper = { call, target }; // completed when a URB finishes
  }

  #serveReaper(client: ClientState): void {
    const reaper = client.reaper;
    if (!reaper) return;
    const urb = client.completed.shift();
    if (urb) {
      client.reaper = undefined;
      this.#deliver(reaper.call, reaper.target, urb);
    } else if (!this.#attached) {
      client.reaper = undefined;
      this.#unref(reaper.target);
      reaper.call.fail(ERRNO.ENODEV);
    }
  }

  /** Fill the client's URB (data, status, length) and return its address from the reap. */
  #deliver(call: IoctlCall, target: Deno.PointerObject, urb: Urb): void {
    try {
      if (urb.data?.length && urb.buffer) {
        ioctlDataBytes(urb.buffer).set(urb.data, urb.type === URB_TYPE.CONTROL ? 8 : 0);
      }
      const view = new DataView(ioctlDataBytes(urb.block).buffer);
      view.setInt32(URB.status, urb.status, true);
      view.setInt32(URB.actualLength, urb.actual, true);
      this.#lib.umockdev.umockdev_ioctl_data_set_ptr(target, 0n, urb.block);
      this.#host.log?.(
        `${this.#tag} REAP #${urb.id} status ${urbStatusName(urb.status)} actual ${urb.actual}`,
      );
      call.complete(0);
    } finally {
      this.#unref(target);
      this.#releaseUrb(urb);
    }
  }

  #discard(call: IoctlCall, client: ClientState): void {
    const address = ioctlArgValue(call.arg());
    for (const [endpoint, queue] of this.#pending) {
      const index = queue.findIndex((read) =>
        read instanceof Urb && read.client === client && read.clientAddress === address
      );
      if (index < 0) continue;
      const [urb] = queue.splice(index, 1) as Urb[];
      if (urb.slot) this.#unpace(endpoint, queue);
      if (!queue.length) this.#pending.delete(endpoint);
      this.#host.log?.(`${this.#tag} DISCARD #${urb.id}`);
      call.complete(0);
      urb.settle({ status: -ERRNO.ENOENT, actual: 0 });
      this.#requestPump();
      return;
    }
    // Already finished (or never submitted): the kernel says EINVAL and the URB is reaped as it is.
    this.#host.log?.(`${this.#tag} DISCARDURB -> EINVAL (not pending)`);
    call.fail(ERRNO.EINVAL);
  }

  #releaseUrb(urb: Urb): void {
    if (urb.buffer) this.#unref(urb.buffer);
    this.#unref(urb.block);
  }

  // --- synchronous transfers (USBDEVFS_CONTROL, USBDEVFS_BULK)

  #syncControl(call: IoctlCall): void {
    const block = this.#resolve(call.arg(), 0, CTRLTRANSFER.size);
    if (!block) return call.fail(ERRNO.EFAULT);
    let data: Deno.PointerObject | null = null;
    try {
      const view = new DataView(ioctlDataBytes(block).buffer);
      const packet: SetupPacket = {
        bmRequestType: view.getUint8(CTRLTRANSFER.bRequestType),
        bRequest: view.getUint8(CTRLTRANSFER.bRequest),
        wValue: view.getUint16(CTRLTRANSFER.wValue, true),
        wIndex: view.getUint16(CTRLTRANSFER.wIndex, true),
        wLength: view.getUint16(CTRLTRANSFER.wLength, true),
      };
      if (packet.wLength > 0) {
        data = this.#resolve(block, CTRLTRANSFER.data, packet.wLength);
        if (!data) return call.fail(ERRNO.EFAULT);
      }
      const bytes = data ? ioctlDataBytes(data) : new Uint8Array(0);
      this.#host.log?.(
        `${this.#tag} CONTROL bmRequestType=0x${hex(packet.bmRequestType, 2)} bRequest=0x${
          hex(packet.bRequest, 2)
        } ` +
          `wValue=0x${hex(packet.wValue, 4)} wIndex=0x${
            hex(packet.wIndex, 4)
          } wLength=${packet.wLength}`,
      );
      const outcome = packet.bmRequestType & 0x80
        ? readOutcome(
          this.#invoke("controlIn", () => this.usbFunction.controlIn(packet)),
          packet.wLength,
        )!
        : writeOutcome(
          this.#invoke("controlOut", () => this.usbFunction.controlOut(packet, bytes.slice())),
          packet.wLength,
        );
      if (outcome.data) bytes.set(outcome.data);
      if (outcome.status === 0) call.complete(outcome.actual);
      else call.fail(-outcome.status);
    } finally {
      if (data) this.#unref(data);
      this.#unref(block);
    }
  }

  #syncBulk(call: IoctlCall, client: ClientState): void {
    const block = this.#resolve(call.arg(), 0, BULKTRANSFER.size);
    if (!block) return call.fail(ERRNO.EFAULT);
    let data: Deno.PointerObject | null = null;
    let queued = false;
    try {
      const view = new DataView(ioctlDataBytes(block).buffer);
      const endpoint = view.getUint32(BULKTRANSFER.ep, true) & 0xff;
      const length = view.getUint32(BULKTRANSFER.len, true);
      const timeout = view.getUint32(BULKTRANSFER.timeout, true);
      const invalid = this.#checkUrb(URB_TYPE.BULK, endpoint);
      if (invalid) return call.fail(invalid);
      if (length > 0) {
        data = this.#resolve(block, BULKTRANSFER.data, length);
        if (!data) return call.fail(ERRNO.EFAULT);
      }
      this.#host.log?.(
        `${this.#tag} BULK ${endpoint & 0x80 ? "IN" : "OUT"} ep 0x${
          hex(endpoint, 2)
        } length ${length}`,
      );
      if (endpoint & 0x80) {
        if (!data) return call.complete(0);
        const read = new SyncBulkRead(client, call, endpoint, length, data, (b) => this.#unref(b));
        queued = true;
        read.startTimer(timeout, () => {
          const queue = this.#pending.get(endpoint);
          const index = queue?.indexOf(read) ?? -1;
          if (index < 0) return;
          queue!.splice(index, 1);
          if (read.slot) this.#unpace(endpoint, queue!);
          if (!queue!.length) this.#pending.delete(endpoint);
          read.settle({ status: -ERRNO.ETIMEDOUT, actual: 0 });
        });
        this.#queueRead(read);
      } else {
        const bytes = data ? ioctlDataBytes(data).slice() : new Uint8Array(0);
        const outcome = writeOutcome(
          this.#invoke("write", () => this.usbFunction.write(endpoint, bytes)),
          length,
        );
        if (outcome.status === 0) call.complete(outcome.actual);
        else call.fail(-outcome.status);
      }
    } finally {
      if (data && !queued) this.#unref(data);
      this.#unref(block);
    }
  }

  // --- waiting reads

  /**
   * Run the pump soon: at the end of the ioctl being answered, or in a
   * microtask (after the function's notifying call has returned, so the
   * function is never re-entered from its own notification).
   */
  #requestPump(): void {
    if (this.#inHandler || this.#pumping) {
      this.#pumpRequested = true;
      return;
    }
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  /** Retry every waiting read, in order per endpoint, until the function has nothing more. */
  #pump(): void {
    if (this.#pumping) {
      this.#pumpRequested = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#pumpRequested = false;
        if (!this.#attached) return;
        if (!this.usbFunction.connected) {
          this.#pumping = false;
          this.detach();
          return;
        }
        this.#sweepClients();
        for (const endpoint of [...this.#pending.keys()]) this.#serviceEndpoint(endpoint);
      } while (this.#pumpRequested);
    } catch (error) {
      this.#reportInternal("while completing pending reads", error);
    } finally {
      this.#pumping = false;
    }
  }

  #serviceEndpoint(endpoint: number): void {
    const queue = this.#pending.get(endpoint);
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
        outcome = readOutcome(this.usbFunction.read(endpoint, read.length), read.length);
      } catch (error) {
        this.#reportFault(new FunctionFault("read", error));
        outcome = { status: -ERRNO.EIO, actual: 0 };
      }
      if (!outcome) break;
      queue.shift();
      read.settle(outcome);
    }
    if (!queue.length && this.#pending.get(endpoint) === queue) this.#pending.delete(endpoint);
  }

  // --- the bus model

  /** The function's bus model, if it has one and `endpoint` is a bulk IN endpoint. */
  #busFor(endpoint: number): FullSpeedBus | undefined {
    const fn = this.usbFunction;
    if (!fn.bus || !fn.available || !(endpoint & 0x80)) return undefined;
    return this.#layout.endpoints.get(endpoint) === ENDPOINT_BULK ? fn.bus : undefined;
  }

  /** Complete the reads of a paced endpoint no faster than the bus allows. */
  #servicePaced(endpoint: number, queue: PendingRead[], bus: FullSpeedBus): void {
    const fn = this.usbFunction;
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
          this.#reportFault(new FunctionFault("read", result));
          read.settle({ status: -ERRNO.EIO, actual: 0 });
        } else {
          read.settle(readOutcome(result, read.length)!);
        }
      },
    );
    if (!queue.length && this.#pending.get(endpoint) === queue) this.#pending.delete(endpoint);
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
      this.#requestPump();
    }, delay);
    this.#paceTimers.set(endpoint, { at, timer });
  }

  /** A read on the bus left the queue early: the others go back on the bus afresh. */
  #unpace(endpoint: number, queue: readonly PendingRead[]): void {
    const bus = this.#busFor(endpoint);
    if (bus) releasePaced(bus, queue, performance.now());
    this.#requestPump();
  }

  #clearPaceTimers(): void {
    for (const { timer } of this.#paceTimers.values()) clearTimeout(timer);
    this.#paceTimers.clear();
  }

  // --- clients

  /** Forget clients whose file descriptor is closed (the kernel frees their URBs and claims). */
  #sweepClients(): void {
    for (const client of [...this.#clients.values()]) {
      if (client.connected) continue;
      this.#clients.delete(client.key);
      this.#dropClient(client);
    }
  }

  #dropClient(client: ClientState): void {
    for (const [endpoint, queue] of this.#pending) {
      let paced = false;
      const keep = queue.filter((read) => {
        if (read.client !== client) return true;
        paced ||= read.slot !== undefined;
        read.abandon();
        return false;
      });
      if (paced) this.#unpace(endpoint, keep);
      if (keep.length) this.#pending.set(endpoint, keep);
      else this.#pending.delete(endpoint);
    }
    for (const urb of client.completed.splice(0)) this.#releaseUrb(urb);
    if (client.reaper) this.#unref(client.reaper.target);
    client.reaper = undefined;
    for (const number of client.claimed) {
      if (this.#claims.get(number) === client) this.#claims.delete(number);
    }
    client.claimed.clear();
    this.#lib.gobject.g_object_unref(client.pointer);
  }

  // --- helpers

  #invoke<T>(what: string, action: () => T): T {
    try {
      return action();
    } catch (error) {
      throw new FunctionFault(what, error);
    }
  }

  #reportInternal(what: string, error: unknown): void {
    this.#internalErrors++;
    if (this.#internalErrors === 1) {
      console.error(`${this.#tag} internal error ${what}; the client gets EIO:`, error);
    } else {
      this.#host.log?.(`${this.#tag} internal error ${what}: ${error}`);
    }
  }

  #reportFault(fault: FunctionFault): void {
    this.#faults++;
    if (this.#faults === 1) {
      console.error(
        `${this.#tag} ${fault.message}; the client gets EIO (further errors are only traced):`,
        fault.cause,
      );
    } else {
      this.#host.log?.(`${this.#tag} ${fault.message}: ${fault.cause}`);
    }
  }

  #readU32(call: IoctlCall): number {
    const block = this.#resolve(call.arg(), 0, 4);
    if (!block) throw new UmockdevError("NULL ioctl argument");
    try {
      return u32(ioctlDataBytes(block));
    } finally {
      this.#unref(block);
    }
  }

  #resolve(data: Deno.PointerObject, offset: number, length: number): Deno.PointerObject | null {
    return resolveIoctlData(this.#lib, data, offset, length);
  }

  #unref(object: Deno.PointerObject): void {
    this.#lib.gobject.g_object_unref(object);
  }
}
