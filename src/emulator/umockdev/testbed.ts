/**
 * The umockdev bridge: puts any {@link UsbFunction} (the device side of the
 * virtual camera) in front of the real libusb. A umockdev testbed holds a fake
 * sysfs entry and device node per emulated device; every usbdevfs ioctl that a
 * client issues on `/dev/bus/usb/BBB/DDD` (through `libumockdev-preload`)
 * arrives here and is answered from the function: control URBs go to
 * `controlIn`/`controlOut`, bulk and interrupt URBs to `read`/`write`, and a
 * read the function cannot answer yet stays pending until the function
 * notifies its subscribers.
 *
 * Clients are either child processes started with {@link UmockdevTestbed.env}
 * (gphoto2, the project's own CLI) or, when this process itself was started
 * with `LD_PRELOAD=libumockdev-preload.so.0`, libusb inside this process (the
 * libusb calls must then be `nonblocking` FFI symbols, because the ioctl
 * handler runs on this thread).
 *
 * This module owns the testbed (sysfs records, device nodes, the ioctl
 * dispatcher, one testbed per process); `bridge.ts` answers the
 * ioctls of each device.
 *
 * @example Emulate a device for a child process
 * ```ts ignore
 * import { UmockdevTestbed } from "@canon-remote/canon-remote/emulator";
 * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
 *
 * using testbed = UmockdevTestbed.open();
 * const device = testbed.attach(new VirtualCamera().usbFunction);
 * const child = new Deno.Command("gphoto2", {
 *   args: ["--auto-detect"],
 *   env: testbed.env(),
 * }).spawn();
 * await child.status;
 * console.log(device.devnode); // "/dev/bus/usb/001/002"
 * ```
 *
 * @module
 */

import type { UsbFunction } from "../engine/usb_function.ts";
import { markIoctlsAnsweredInProcess } from "../../../ffi/libusb.ts";
import {
  createDirectory,
  cString,
  errorSlot,
  loadUmockdev,
  removeDirectory,
  takeError,
  takeString,
  UMOCKDEV_PRELOAD,
  UmockdevError,
  type UmockdevLibrary,
} from "./ffi.ts";
import { type BridgeHost, DeviceBridge, type EmulatedUsbDevice } from "./bridge.ts";
import { type DeviceLayout, parseLayout } from "./layout.ts";
import { ERRNO } from "./usbdevfs.ts";
import { FifoNode } from "./fifo_node.ts";

export { UmockdevError, UmockdevNotFoundError } from "./ffi.ts";
export type { EmulatedUsbDevice } from "./bridge.ts";
export type {
  FunctionRead,
  FunctionWrite,
  SetupPacket,
  UsbDescriptorSet,
  UsbFunction,
} from "../engine/usb_function.ts";

/** Options of {@link UmockdevTestbed.open}. */
export interface UmockdevTestbedOptions {
  /**
   * Receives one line per ioctl and URB (submission, completion, result),
   * for tracing what a client does. Polls that find nothing are not logged.
   */
  log?: (line: string) => void;
  /**
   * How long {@link UmockdevTestbed.open} waits, in milliseconds, while a
   * testbed opened by another isolate of this process (a test module that
   * `deno test --parallel` runs beside this one) is still open. Default 30000.
   */
  waitMs?: number;
}

/** Where to plug a device in: {@link UmockdevTestbed.attach}. */
export interface AttachOptions {
  /** USB bus number, 1 to 255 (default 1). */
  bus?: number;
  /** Device address on the bus, 2 to 127 (default: the next free one, from 2). */
  address?: number;
  /**
   * Make the device node a FIFO instead of umockdev's regular file, for
   * clients that wait for URBs with epoll, which refuses regular files
   * (Chromium's WebUSB). The FIFO is writable exactly while a URB waits to be
   * reaped, so such a client sleeps between transfers (`fifo_node.ts`).
   * libusb and gphoto2 work with it too. Default false.
   */
  fifo?: boolean;
}

// ---------------------------------------------------------------------------
// sysfs records (umockdev's text format)

const hex = (value: number, digits: number): string => value.toString(16).padStart(digits, "0");
const dec3 = (value: number): string => String(value).padStart(3, "0");
const hexBytes = (bytes: Uint8Array): string => Array.from(bytes, (b) => hex(b, 2)).join("");

/** Escape an attribute value for umockdev's `A:` lines (read back with g_strcompress). */
function escapeAttribute(value: string): string {
  let out = "";
  for (const ch of value) {
    const code = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (code < 0x20 || code === 0x7f) out += "\\" + code.toString(8).padStart(3, "0");
    else out += ch;
  }
  return out;
}

interface RecordFields {
  devpath: string;
  bus: number;
  address: number;
  port: string;
  speedMbps: number;
  layout: DeviceLayout;
  descriptors: Uint8Array;
  strings: Readonly<Record<number, string>>;
  maxchild?: number;
}

const USB_DEVICE_MAJOR = 189;

function usbDeviceRecord(f: RecordFields): string {
  const l = f.layout;
  const devname = `/dev/bus/usb/${dec3(f.bus)}/${dec3(f.address)}`;
  // Linux numbers usbfs nodes 189:((bus - 1) * 128 + address - 1); umockdev
  // also needs `dev` to remove the node again.
  const minor = (f.bus - 1) * 128 + f.address - 1;
  const attributes: [string, string][] = [
    ["dev", `${USB_DEVICE_MAJOR}:${minor}`],
    ["busnum", String(f.bus)],
    ["devnum", String(f.address)],
    ["devpath", f.port],
    ["speed", String(f.speedMbps)],
    ["version", `${(l.bcdUSB >> 8).toString(16).padStart(2, " ")}.${hex(l.bcdUSB & 0xff, 2)}`],
    ["idVendor", hex(l.vendorId, 4)],
    ["idProduct", hex(l.productId, 4)],
    ["bcdDevice", hex(l.bcdDevice, 4)],
    ["bDeviceClass", hex(l.deviceClass, 2)],
    ["bDeviceSubClass", hex(l.deviceSubClass, 2)],
    ["bDeviceProtocol", hex(l.deviceProtocol, 2)],
    ["bMaxPacketSize0", String(l.maxPacketSize0)],
    ["bNumConfigurations", String(l.numConfigurations)],
    ["bConfigurationValue", String(l.configurationValue)],
    ["bNumInterfaces", String(l.numInterfaces).padStart(2, " ")],
    ["bmAttributes", hex(l.configAttributes, 2)],
    ["bMaxPower", `${l.maxPower * (f.speedMbps >= 5000 ? 8 : 2)}mA`],
    ["authorized", "1"],
  ];
  if (f.maxchild !== undefined) attributes.push(["maxchild", String(f.maxchild)]);
  const named: [number, string][] = [
    [l.iManufacturer, "manufacturer"],
    [l.iProduct, "product"],
    [l.iSerialNumber, "serial"],
  ];
  for (const [index, name] of named) {
    const text = index ? f.strings[index] : undefined;
    if (text !== undefined) attributes.push([name, text]);
  }
  return [
    `P: ${f.devpath}`,
    `N: ${devname.slice("/dev/".length)}`,
    "E: SUBSYSTEM=usb",
    "E: DEVTYPE=usb_device",
    `E: DEVNAME=${devname}`,
    "E: DRIVER=usb",
    `E: PRODUCT=${l.vendorId.toString(16)}/${l.productId.toString(16)}/${l.bcdDevice.toString(16)}`,
    `E: TYPE=${l.deviceClass}/${l.deviceSubClass}/${l.deviceProtocol}`,
    `E: BUSNUM=${dec3(f.bus)}`,
    `E: DEVNUM=${dec3(f.address)}`,
    `E: MAJOR=${USB_DEVICE_MAJOR}`,
    `E: MINOR=${minor}`,
    ...attributes.map(([key, value]) => `A: ${key}=${escapeAttribute(value + "\n")}`),
    `H: descriptors=${hexBytes(f.descriptors)}`,
    "",
    "",
  ].join("\n");
}

// A USB 2.0 root hub (Linux Foundation 1d6b:0002): the parent every bus shows in sysfs.
// deno-fmt-ignore
const ROOT_HUB_DEVICE = Uint8Array.of(
  0x12, 0x01, 0x00, 0x02, 0x09, 0x00, 0x01, 0x40, 0x6b, 0x1d, 0x02, 0x00, 0x00, 0x01, 0x03, 0x02,
  0x01, 0x01,
);
// deno-fmt-ignore
const ROOT_HUB_CONFIGURATION = Uint8Array.of(
  0x09, 0x02, 0x19, 0x00, 0x01, 0x01, 0x00, 0xe0, 0x00, // configuration 1, self powered
  0x09, 0x04, 0x00, 0x00, 0x01, 0x09, 0x00, 0x00, 0x00, // interface 0, hub class
  0x07, 0x05, 0x81, 0x03, 0x04, 0x00, 0x0c, // status change endpoint
);

function rootHubRecord(bus: number): string {
  const descriptors = new Uint8Array(ROOT_HUB_DEVICE.length + ROOT_HUB_CONFIGURATION.length);
  descriptors.set(ROOT_HUB_DEVICE);
  descriptors.set(ROOT_HUB_CONFIGURATION, ROOT_HUB_DEVICE.length);
  return usbDeviceRecord({
    devpath: rootHubDevpath(bus),
    bus,
    address: 1,
    port: "0",
    speedMbps: 480,
    layout: parseLayout(ROOT_HUB_DEVICE, ROOT_HUB_CONFIGURATION),
    descriptors,
    strings: {
      1: "canon-remote umockdev bridge",
      2: "Emulated USB host controller",
      3: `dummy_hcd.${bus - 1}`,
    },
    maxchild: 15,
  });
}

function rootHubDevpath(bus: number): string {
  return `/devices/platform/dummy_hcd.${bus - 1}/usb${bus}`;
}

// ---------------------------------------------------------------------------
// The ioctl dispatcher: one GObject signal callback per isolate

const HANDLE_IOCTL = {
  // gboolean handle_ioctl(UMockdevIoctlBase* handler, UMockdevIoctlClient* client, gpointer user_data)
  parameters: ["pointer", "pointer", "pointer"],
  result: "i32",
} as const;

let dispatcher: Deno.UnsafeCallback<typeof HANDLE_IOCTL> | undefined;
const bridgesById = new Map<number, DeviceBridge>();
let nextBridgeId = 1;

function handleIoctl(
  _handler: Deno.PointerValue,
  client: Deno.PointerValue,
  userData: Deno.PointerValue,
): number {
  if (!client) return 0;
  const bridge = bridgesById.get(Number(Deno.UnsafePointer.value(userData)));
  if (bridge) {
    bridge.handle(client);
  } else {
    // The device's testbed is gone: the client holds a stale handle.
    loadUmockdev().umockdev.umockdev_ioctl_client_complete(client, -1n, ERRNO.ENODEV);
  }
  return 1;
}

function getDispatcher(): Deno.UnsafeCallback<typeof HANDLE_IOCTL> {
  if (!dispatcher) {
    // Never closed: a handler object can outlive its testbed (umockdev's
    // client connections hold it), and a closed callback would crash them.
    // Made thread-safe (so umockdev's worker thread wakes this isolate's
    // event loop), then unref'd: an open testbed alone does not keep the
    // process alive; a script that ends with one open removes it on unload.
    dispatcher = Deno.UnsafeCallback.threadSafe(HANDLE_IOCTL, handleIoctl);
    dispatcher.unref();
  }
  return dispatcher;
}

// ---------------------------------------------------------------------------
// The testbed

let preloadState: boolean | undefined;

function detectPreload(): boolean {
  if (preloadState !== undefined) return preloadState;
  try {
    preloadState = Deno.readTextFileSync("/proc/self/maps").includes("libumockdev-preload");
  } catch {
    preloadState = (Deno.env.get("LD_PRELOAD") ?? "").includes("libumockdev-preload");
  }
  return preloadState;
}

/**
 * The lock that keeps one testbed per process. umockdev's UMOCKDEV_DIR is an
 * environment variable, shared by every isolate of the process (and `deno
 * test --parallel` runs test modules as isolates of one process), so module
 * state cannot guard it: an atomic mkdir can.
 */
function processLockPath(): string {
  let started = "";
  try {
    // Field 22 (start time) of /proc/self/stat tells this process from an
    // earlier one that had the same pid and left a stale lock.
    started = "." + Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ")[19];
  } catch {
    // Without /proc, the pid alone.
  }
  const tmp = Deno.env.get("TMPDIR") || "/tmp";
  return `${tmp}/canon-remote-umockdev.${Deno.pid}${started}.lock`;
}

/** Take the process lock, waiting up to `waitMs` for another isolate to let go. */
function acquireProcessLock(lib: UmockdevLibrary, waitMs: number): string | undefined {
  const path = processLockPath();
  const deadline = performance.now() + waitMs;
  for (;;) {
    const result = createDirectory(lib, path);
    if (result === "created") return path;
    if (result === "failed") return undefined; // $TMPDIR unusable: umockdev will say so
    if (performance.now() >= deadline) {
      throw new UmockdevError(
        `another umockdev testbed has been open in this process for ${waitMs} ms ` +
          "(a test module running in parallel that did not close it?); umockdev sets " +
          `UMOCKDEV_DIR for the whole process, so there can be one at a time (lock: ${path})`,
      );
    }
    sleepSync(20);
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function checkInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, not ${value}`);
  }
  return value;
}

/**
 * A umockdev testbed: a private sysfs and `/dev` (a directory under
 * `$TMPDIR`) into which emulated USB devices are plugged. umockdev points
 * the process-wide `UMOCKDEV_DIR` at it, so there is one testbed per process
 * at a time: a second {@link UmockdevTestbed.open} in the same isolate
 * throws, and one in another isolate of the process (test modules under
 * `deno test --parallel` are isolates of one process) waits for the first
 * testbed to close.
 *
 * Close every client's device handle before closing the testbed: the ioctl
 * service ends with it.
 *
 * @example
 * ```ts ignore
 * using testbed = UmockdevTestbed.open();
 * const device = testbed.attach(usbFunction);
 * const child = new Deno.Command("gphoto2", { args: ["--auto-detect"], env: testbed.env() }).spawn();
 * await child.status;
 * ```
 */
export class UmockdevTestbed implements Disposable {
  static #live: UmockdevTestbed | undefined;

  /** The testbed directory (its `sys/` and `dev/` are what clients see as `/sys` and `/dev`). */
  readonly root: string;
  /**
   * Whether this process runs with libumockdev-preload loaded, so that
   * libusb inside it sees the testbed. Child processes get it through
   * {@link UmockdevTestbed.env} either way.
   */
  readonly preloaded: boolean;

  #lib: UmockdevLibrary;
  #testbed: Deno.PointerObject | null;
  #log: ((line: string) => void) | undefined;
  #previousDir: string | undefined;
  #lock: string | undefined;
  #onUnload = (): void => this.close();
  #bridges: DeviceBridge[] = [];
  #hubs = new Set<number>();
  #nextAddress = new Map<number, number>();
  #fifos = new Map<DeviceBridge, FifoNode>();

  private constructor(
    lib: UmockdevLibrary,
    testbed: Deno.PointerObject,
    root: string,
    preloaded: boolean,
    previousDir: string | undefined,
    lock: string | undefined,
    options: UmockdevTestbedOptions,
  ) {
    this.#lock = lock;
    // A script that ends (or calls Deno.exit) with the testbed open still removes it.
    globalThis.addEventListener("unload", this.#onUnload);
    this.#lib = lib;
    this.#testbed = testbed;
    this.root = root;
    this.preloaded = preloaded;
    this.#previousDir = previousDir;
    this.#log = options.log;
  }

  /**
   * Create the testbed (an empty sysfs under `$TMPDIR`).
   *
   * @param options tracing
   * @returns the open testbed
   * @throws {UmockdevNotFoundError} when libumockdev is not installed
   * @throws {UmockdevError} when another testbed is open in this isolate, or one
   *   opened by another isolate of this process stays open longer than `waitMs`
   */
  static open(options: UmockdevTestbedOptions = {}): UmockdevTestbed {
    if (UmockdevTestbed.#live) {
      throw new UmockdevError(
        `a umockdev testbed is already open in this process (${UmockdevTestbed.#live.root}); ` +
          "umockdev sets UMOCKDEV_DIR for the whole process, so close it first",
      );
    }
    const lib = loadUmockdev();
    // This process now answers USB ioctls (on its main thread): libusb must not block it.
    markIoctlsAnsweredInProcess();
    const preloaded = detectPreload();
    const lock = acquireProcessLock(lib, options.waitMs ?? 30_000);
    const previousDir = Deno.env.get("UMOCKDEV_DIR");
    const pointer = lib.umockdev.umockdev_testbed_new();
    if (!pointer) {
      if (lock) removeDirectory(lib, lock);
      throw new UmockdevError("umockdev_testbed_new failed");
    }
    const root = takeString(lib, lib.umockdev.umockdev_testbed_get_root_dir(pointer));
    getDispatcher();
    const testbed = new UmockdevTestbed(lib, pointer, root, preloaded, previousDir, lock, options);
    UmockdevTestbed.#live = testbed;
    options.log?.(`[umockdev] testbed ${root}`);
    return testbed;
  }

  /** Whether {@link UmockdevTestbed.close} has not run yet. */
  get isOpen(): boolean {
    return this.#testbed !== null;
  }

  /** The devices currently plugged in. */
  get devices(): readonly EmulatedUsbDevice[] {
    return this.#bridges.filter((bridge) => bridge.attached);
  }

  /**
   * Plug a device in: a sysfs entry built from `fn.descriptors` (plus a root
   * hub for the bus the first time) and a device node whose ioctls `fn`
   * answers. An "add" uevent goes out when this process runs under
   * libumockdev-preload (see {@link EmulatedUsbDevice.detach}).
   *
   * @param fn the device side
   * @param where bus (default 1) and address (default the next free one from 2)
   * @returns the plugged-in device
   * @throws {UmockdevError} on invalid descriptors, a taken address or a closed testbed
   */
  attach(fn: UsbFunction, where: AttachOptions = {}): EmulatedUsbDevice {
    const testbed = this.#pointer();
    const layout = parseLayout(fn.descriptors.device, fn.descriptors.configuration);
    if (!fn.connected) throw new UmockdevError("cannot attach a function that is disconnected");
    const bus = checkInteger("bus", where.bus ?? 1, 1, 255);
    const taken = new Set(this.#onBus(bus).map((bridge) => bridge.address));
    const address = where.address === undefined
      ? this.#freeAddress(bus, taken)
      : checkInteger("address", where.address, 2, 127);
    if (taken.has(address)) {
      throw new UmockdevError(`bus ${bus} already has a device at address ${address}`);
    }
    const ports = new Set(this.#onBus(bus).map((bridge) => bridge.port));
    let port = 1;
    while (ports.has(port)) port++;

    if (!this.#hubs.has(bus)) {
      this.#addRecord(rootHubRecord(bus));
      this.#hubs.add(bus);
    }
    const devnode = `/dev/bus/usb/${dec3(bus)}/${dec3(address)}`;
    const devpath = `${rootHubDevpath(bus)}/${bus}-${port}`;
    const { device, configuration, strings, speedMbps } = fn.descriptors;
    const descriptors = new Uint8Array(device.length + configuration.length);
    descriptors.set(device);
    descriptors.set(configuration, device.length);
    const record = usbDeviceRecord({
      devpath,
      bus,
      address,
      port: String(port),
      speedMbps,
      layout,
      descriptors,
      strings,
    });

    const lib = this.#lib;
    const id = nextBridgeId++;
    const handler = lib.umockdev.umockdev_ioctl_base_new();
    if (!handler) throw new UmockdevError("umockdev_ioctl_base_new failed");
    lib.gobject.g_signal_connect_data(
      handler,
      cString("handle-ioctl"),
      getDispatcher().pointer,
      Deno.UnsafePointer.create(BigInt(id)),
      null,
      0,
    );
    const slot = errorSlot();
    if (!lib.umockdev.umockdev_testbed_attach_ioctl(testbed, cString(devnode), handler, slot)) {
      lib.gobject.g_object_unref(handler);
      throw new UmockdevError(
        `cannot attach an ioctl handler to ${devnode}: ${takeError(lib, slot)}`,
      );
    }
    try {
      this.#addRecord(record);
    } catch (error) {
      lib.umockdev.umockdev_testbed_detach_ioctl(testbed, cString(devnode), null);
      lib.gobject.g_object_unref(handler);
      throw error;
    }
    // umockdev sent the "add" uevent itself if it can send any (see #unplug).
    const host: BridgeHost = {
      lib,
      log: this.#log,
      setAttribute: (path, name, value) => this.#setAttribute(path, name, value),
      unplug: (bridge) => this.#unplug(bridge),
    };
    const bridge = new DeviceBridge(host, id, handler, fn, layout, {
      bus,
      address,
      port,
      devnode,
      sysfsPath: `/sys${devpath}`,
    });
    if (where.fifo) {
      const fifo = FifoNode.replace(`${this.root}${devnode}`);
      bridge.setReadiness(fifo);
      this.#fifos.set(bridge, fifo);
    }
    bridgesById.set(id, bridge);
    this.#bridges.push(bridge);
    this.#nextAddress.set(bus, address + 1);
    const ids = `${hex(layout.vendorId, 4)}:${hex(layout.productId, 4)}`;
    this.#log?.(`[umockdev] attached ${ids} at ${devnode} (${bridge.sysfsPath})`);
    return bridge;
  }

  /**
   * The environment a child process needs to see the testbed:
   * `LD_PRELOAD` (libumockdev-preload, ahead of any preload already set) and
   * `UMOCKDEV_DIR`.
   *
   * @returns variables to add to the child's environment
   */
  env(): Record<string, string> {
    this.#pointer();
    const current = Deno.env.get("LD_PRELOAD") ?? "";
    const preload = current.includes("libumockdev-preload")
      ? current
      : [UMOCKDEV_PRELOAD, current].filter((part) => part !== "").join(":");
    return { LD_PRELOAD: preload, UMOCKDEV_DIR: this.root };
  }

  /**
   * Unplug every device, remove the testbed directory and restore
   * `UMOCKDEV_DIR` to what it was before. Idempotent.
   */
  close(): void {
    const testbed = this.#testbed;
    if (!testbed) return;
    const lib = this.#lib;
    try {
      for (const bridge of this.#bridges) bridge.detach();
      // A client that just closed its handle needs a moment to be seen as gone.
      const openClients = () =>
        this.#bridges.reduce((sum, bridge) => sum + bridge.openClients(), 0);
      let open = openClients();
      for (const deadline = performance.now() + 200; open > 0 && performance.now() < deadline;) {
        sleepSync(5);
        open = openClients();
      }
      if (open > 0) {
        console.error(
          `[umockdev] closing the testbed while ${open} client(s) still have an emulated device ` +
            "open: their next USB call will block. Close device handles before the testbed.",
        );
      }
    } finally {
      this.#testbed = null;
      for (const bridge of this.#bridges) {
        bridge.release();
        bridgesById.delete(bridge.id);
      }
      this.#bridges = [];
      for (const fifo of this.#fifos.values()) fifo.close();
      this.#fifos.clear();
      lib.gobject.g_object_unref(testbed); // removes the directory, unsets UMOCKDEV_DIR
      if (this.#previousDir !== undefined) Deno.env.set("UMOCKDEV_DIR", this.#previousDir);
      if (this.#lock) removeDirectory(lib, this.#lock);
      globalThis.removeEventListener("unload", this.#onUnload);
      if (UmockdevTestbed.#live === this) UmockdevTestbed.#live = undefined;
      this.#log?.(`[umockdev] testbed ${this.root} removed`);
    }
  }

  /** Same as {@link UmockdevTestbed.close}. */
  [Symbol.dispose](): void {
    this.close();
  }

  #pointer(): Deno.PointerObject {
    if (!this.#testbed) throw new UmockdevError("the umockdev testbed is closed");
    return this.#testbed;
  }

  #onBus(bus: number): DeviceBridge[] {
    return this.#bridges.filter((bridge) => bridge.attached && bridge.bus === bus);
  }

  /** Like the kernel: the address after the last one given out, wrapping around. */
  #freeAddress(bus: number, taken: Set<number>): number {
    const start = this.#nextAddress.get(bus) ?? 2;
    for (let i = 0; i < 126; i++) {
      const address = 2 + ((start - 2 + i) % 126);
      if (!taken.has(address)) return address;
    }
    throw new UmockdevError(`bus ${bus} has no free device address`);
  }

  #addRecord(record: string): void {
    const slot = errorSlot();
    if (
      !this.#lib.umockdev.umockdev_testbed_add_from_string(this.#pointer(), cString(record), slot)
    ) {
      throw new UmockdevError(`umockdev rejected a device record: ${takeError(this.#lib, slot)}`);
    }
  }

  #setAttribute(sysfsPath: string, name: string, value: string): void {
    if (!this.#testbed) return;
    this.#lib.umockdev.umockdev_testbed_set_attribute(
      this.#testbed,
      cString(sysfsPath),
      cString(name),
      cString(value),
    );
  }

  #unplug(bridge: DeviceBridge): void {
    const testbed = this.#testbed;
    if (!testbed) return;
    const lib = this.#lib;
    // umockdev builds uevents with libudev reading the testbed's sysfs, which
    // only works in a preloaded process; elsewhere it would print an error
    // and send nothing. The uevent reads sysfs, so it goes out before removal.
    if (lib.umockdev.umockdev_in_mock_environment()) {
      lib.umockdev.umockdev_testbed_uevent(testbed, cString(bridge.sysfsPath), cString("remove"));
    }
    lib.umockdev.umockdev_testbed_remove_device(testbed, cString(bridge.sysfsPath));
    const slot = errorSlot();
    if (!lib.umockdev.umockdev_testbed_detach_ioctl(testbed, cString(bridge.devnode), slot)) {
      this.#log?.(`[umockdev] detach_ioctl ${bridge.devnode}: ${takeError(lib, slot)}`);
    }
    this.#log?.(`[umockdev] detached ${bridge.devnode}`);
  }
}

/**
 * Run `body` with `fn` plugged into a fresh testbed, for in-process tests:
 * libusb in this process sees the device. The testbed is closed when `body`
 * settles, whatever happens.
 *
 * @param fn the device side
 * @param body what to do with the device; close its libusb handles before returning
 * @returns what `body` returns
 * @throws {UmockdevError} when this process was not started with LD_PRELOAD=libumockdev-preload.so.0
 *
 * @example
 * ```ts ignore
 * await withEmulatedDevice(camera.usbFunction, async (dev) => {
 *   const device = await openUsbDevice({ bus: dev.bus, address: dev.address });
 *   // ...
 *   await device.close();
 * });
 * ```
 */
export async function withEmulatedDevice<T>(
  fn: UsbFunction,
  body: (dev: EmulatedUsbDevice) => Promise<T>,
): Promise<T> {
  const testbed = UmockdevTestbed.open();
  try {
    if (!testbed.preloaded) {
      throw new UmockdevError(
        "libusb in this process cannot see emulated devices: start it with " +
          `LD_PRELOAD=${UMOCKDEV_PRELOAD} (as \`deno task test\` does)`,
      );
    }
    return await body(testbed.attach(fn));
  } finally {
    testbed.close();
  }
}
