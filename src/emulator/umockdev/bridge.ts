/**
 * One emulated USB device as usbdevfs presents it: the state machine that
 * answers the ioctls a libusb client issues on `/dev/bus/usb/BBB/DDD`
 * (claims, URB submission, reaping, discards, halts, resets, synchronous
 * transfers) from a {@link UsbFunction}, with the kernel's semantics: URBs
 * complete per client and in order per endpoint, a read the function cannot
 * answer stays pending until the function notifies, an unplugged device
 * answers ENODEV. The umockdev testbed (`testbed.ts`) routes each client's
 * ioctls here.
 *
 * @module
 */

import type { SetupPacket, UsbFunction } from "../engine/usb_function.ts";
import {
  BULKTRANSFER,
  CONNECTINFO,
  CTRLTRANSFER,
  ERRNO,
  SETINTERFACE,
  URB,
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
import { checkUrb, type DeviceLayout, endpointExists } from "./layout.ts";
import { PendingReads } from "./pending_reads.ts";
import {
  ClientState,
  ErrorReporter,
  FunctionFault,
  IoctlCall,
  noDevice,
  type Outcome,
  preview,
  readOutcome,
  SyncBulkRead,
  u32,
  Urb,
  writeOutcome,
} from "./transfers.ts";

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
  /** The reads waiting for the function. */
  readonly #reads: PendingReads;
  /** Which client holds each claimed interface. */
  #claims = new Map<number, ClientState>();
  #unsubscribe: (() => void) | undefined;
  #reporter: ErrorReporter;
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
    this.#reporter = new ErrorReporter(this.#tag, (line) => host.log?.(line));
    const attached = () => this.#attached;
    this.#reads = new PendingReads(fn, layout.endpoints, {
      get attached() {
        return attached();
      },
      detach: () => this.detach(),
      sweepClients: () => this.#sweepClients(),
      reportFault: (fault) => this.#reportFault(fault),
      reportInternal: (what, error) => this.#reportInternal(what, error),
    });
    this.#unsubscribe = fn.subscribe(() => this.#reads.requestPump());
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
    const pending = this.#reads.takeAll();
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
    this.#reads.clearTimers();
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
    this.#reads.holdingPump(() => {
      try {
        this.#dispatch(call, this.#client(clientPointer));
      } catch (error) {
        if (error instanceof FunctionFault) this.#reportFault(error);
        else this.#reportInternal(`answering ${usbdevfsName(call.request)}`, error);
        call.fail(ERRNO.EIO);
      }
    });
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
    return endpointExists(this.#layout, this.#configuration, endpoint);
  }

  #checkUrb(type: number, endpoint: number): number {
    return checkUrb(this.#layout, this.#configuration, type, endpoint);
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
        this.#reads.add(urb);
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
    const urb = this.#reads.remove((read) =>
      read instanceof Urb && read.client === client && read.clientAddress === address
    ) as Urb | undefined;
    if (urb) {
      this.#host.log?.(`${this.#tag} DISCARD #${urb.id}`);
      call.complete(0);
      urb.settle({ status: -ERRNO.ENOENT, actual: 0 });
      this.#reads.requestPump();
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
          if (!this.#reads.remove((waiting) => waiting === read)) return;
          read.settle({ status: -ERRNO.ETIMEDOUT, actual: 0 });
        });
        this.#reads.add(read);
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
    this.#reads.dropClient(client);
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
    this.#reporter.internal(what, error);
  }

  #reportFault(fault: FunctionFault): void {
    this.#reporter.fault(fault);
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
