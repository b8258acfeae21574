/**
 * The shared, reference-counted libusb context.
 *
 * libusb's Linux (udev) backend scans for devices once per context, in
 * `libusb_init`, and afterwards learns about devices only from hotplug
 * events. A context kept alive for the whole process would therefore miss a
 * device that appeared without an event (a new umockdev testbed, for one).
 * So the context lives only while someone uses it: it is created on first
 * need, shared by every open device and in-flight listing, and `libusb_exit`
 * runs when the last of them lets go. The next user then gets a fresh,
 * freshly enumerated context.
 *
 * The count is per JavaScript realm: a Worker (or another test file under
 * `deno test --parallel`, which shares the process) has its own context,
 * and each new context does its own device scan.
 *
 * The device list of a context is read here too ({@link withDeviceList}).
 *
 * `CANON_LIBUSB_DEBUG=0..4` (read only when env access is granted) sets
 * libusb's log level on each new context.
 *
 * @module
 */

import {
  type DeviceDescriptor,
  deviceListEntries,
  LIBUSB_DEBUG_ENV,
  LIBUSB_OPTION_LOG_LEVEL,
  pointerFromBox,
  readConfigDescriptor,
  readDeviceDescriptor,
  readEnvQuietly,
} from "../../ffi/libusb.ts";
import { libusb } from "./libusb_library.ts";
import type { UsbConfigurationInfo, UsbEndpointInfo } from "./device.ts";
import { LibusbEventLoop } from "./libusb_pipeline.ts";
import { UsbError, usbErrorCodeOf } from "./errors.ts";

/** The bus speed a device negotiated (`enum libusb_speed`). */
export type UsbSpeed = "unknown" | "low" | "full" | "high" | "super" | "super-plus";

/** An attached USB device, as enumeration sees it (nothing is opened). */
export interface UsbDeviceInfo {
  /** Bus number. */
  bus: number;
  /** Device address on the bus. */
  address: number;
  /** idVendor. */
  vendorId: number;
  /** idProduct. */
  productId: number;
  /** bcdDevice (device release number, BCD). */
  bcdDevice: number;
  /** The negotiated speed ("full" for the Canon cameras of that era). */
  speed: UsbSpeed;
  /** The physical port chain, Linux style (`"1-4.2"`); absent for root hubs. */
  portPath?: string;
}

/** A hold on the shared libusb context; release it exactly once. */
export interface LibusbContextLease {
  /** The `libusb_context *`, valid until {@link LibusbContextLease.release}. */
  readonly context: Deno.PointerObject;
  /** The context's event loop: every asynchronous transfer goes through it. */
  readonly events: LibusbEventLoop;
  /** Drop this hold; the last one out exits the context. Idempotent. */
  release(): Promise<void>;
}

interface LiveContext {
  readonly context: Deno.PointerObject;
  readonly events: LibusbEventLoop;
}

let current: LiveContext | null = null;
let users = 0;
let starting: Promise<LiveContext> | null = null;
let exiting: Promise<void> | null = null;

/** The log level from `CANON_LIBUSB_DEBUG`, or undefined when unset or invalid. */
function debugLevel(): number | undefined {
  const text = readEnvQuietly(LIBUSB_DEBUG_ENV);
  if (text === undefined || !/^[0-4]$/.test(text.trim())) return undefined;
  return Number(text.trim());
}

async function createContext(): Promise<LiveContext> {
  const L = libusb();
  const box = new BigUint64Array(1);
  const initialising = L.libusb_init(box);
  // libusb_init scans for devices on a worker thread; meanwhile this thread
  // makes the event loop's callbacks.
  const events = new LibusbEventLoop();
  const r = await initialising;
  const ctx = pointerFromBox(box);
  if (r < 0 || !ctx) {
    await events.close();
    throw new UsbError(usbErrorCodeOf(r), "libusb_init failed: libusb could not start", {
      // libusb reads its own LIBUSB_DEBUG during init, before CANON_LIBUSB_DEBUG can apply.
      hint: "Run with LIBUSB_DEBUG=4 in the environment to see libusb's reason.",
    });
  }
  const level = debugLevel();
  if (level !== undefined) {
    if (Deno.build.os === "darwin" && Deno.build.arch === "aarch64" && L.libusb_set_debug) {
      L.libusb_set_debug(ctx, level);
    } else {
      L.libusb_set_option(ctx, LIBUSB_OPTION_LOG_LEVEL, level);
    }
  }
  events.attach(ctx);
  return { context: ctx, events };
}

/**
 * Take a hold on the shared libusb context, creating it if nobody holds one.
 *
 * @returns the lease; call `release()` when done (open devices keep theirs until closed)
 * @throws {LibusbNotFoundError} libusb-1.0 is not installed
 * @throws {FfiPermissionError} `--allow-ffi` is missing
 * @throws {UsbError} libusb_init failed
 */
export async function acquireLibusbContext(): Promise<LibusbContextLease> {
  const lease = await acquire();
  // The first hold taken after a head start replaces the head start's own.
  const early = headStart;
  headStart = undefined;
  early?.then((held) => held.release(), () => undefined);
  return lease;
}

/** The hold of {@link startLibusbEarly}, until the first real one is taken. */
let headStart: Promise<LibusbContextLease> | undefined;

/**
 * Load libusb and start its context now, ahead of the first
 * {@link acquireLibusbContext} (which then takes it over): `libusb_init`
 * scans for devices on a worker thread while this thread goes on loading
 * the rest of the program. For a command line that will open a camera at
 * once. Does nothing unless FFI access is already granted (it never asks for
 * it), or when a context is alive or starting; a failure to load or start is
 * left for the real acquisition to report. The context lives until that
 * acquisition's holder lets go, so a device plugged in before then is seen
 * only through hotplug: not for a program that waits for a camera to appear.
 */
export function startLibusbEarly(): void {
  if (headStart || current || starting || exiting) return;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return;
  } catch {
    return;
  }
  headStart = acquire();
  headStart.catch(() => {
    headStart = undefined;
  });
}

async function acquire(): Promise<LibusbContextLease> {
  // A context on its way out is never handed out again.
  while (exiting) await exiting;
  let live = current;
  if (!live) {
    if (!starting) {
      starting = createContext().finally(() => {
        starting = null;
      });
    }
    live = await starting;
    // Whoever started it publishes it; concurrent starters share the one promise.
    current = live;
  }
  users++;
  let released = false;
  const mine = live;
  return {
    context: mine.context,
    events: mine.events,
    release(): Promise<void> {
      if (released) return Promise.resolve();
      released = true;
      users--;
      if (users > 0 || current !== mine) return Promise.resolve();
      current = null;
      // The event loop's last round ends before the context goes.
      const done = mine.events.close().then(() => libusb().libusb_exit(mine.context)).finally(
        () => {
          if (exiting === done) exiting = null;
        },
      );
      exiting = done;
      return done;
    },
  };
}

/** How many holds on the shared context exist (0: no context is alive). For diagnostics. */
export function libusbContextUsers(): number {
  return users;
}

/** One entry of a context's device list, valid only inside {@link withDeviceList}'s callback. */
export interface ListedDevice {
  /** The `libusb_device *` (take `libusb_ref_device` to keep it beyond the callback). */
  readonly device: Deno.PointerObject;
  /** Where it is and what it is. */
  readonly info: UsbDeviceInfo;
  /** Its device descriptor. */
  readonly descriptor: DeviceDescriptor;
}

/** `enum libusb_speed`, by value. */
const SPEEDS: readonly UsbSpeed[] = ["unknown", "low", "full", "high", "super", "super-plus"];

/**
 * Run `use` over the context's current device list, then free the list.
 *
 * @param context a context from {@link acquireLibusbContext}
 * @param use called synchronously with the devices, sorted by bus and address
 * @returns what `use` returned
 * @throws {UsbError} libusb_get_device_list failed
 */
export async function withDeviceList<T>(
  context: Deno.PointerObject,
  use: (devices: readonly ListedDevice[]) => T,
): Promise<T> {
  const L = libusb();
  const box = new BigUint64Array(1);
  const n = Number(await L.libusb_get_device_list(context, box));
  const list = pointerFromBox(box);
  if (n < 0 || !list) {
    throw new UsbError(
      usbErrorCodeOf(n),
      "libusb_get_device_list failed: could not list USB devices",
    );
  }
  try {
    const devices: ListedDevice[] = [];
    for (const device of deviceListEntries(list, n)) {
      const descriptor = readDeviceDescriptor(device);
      if (typeof descriptor === "number") continue;
      const bus = L.libusb_get_bus_number(device);
      const address = L.libusb_get_device_address(device);
      const ports = new Uint8Array(8);
      const depth = L.libusb_get_port_numbers(device, ports, ports.length);
      const info: UsbDeviceInfo = {
        bus,
        address,
        vendorId: descriptor.vendorId,
        productId: descriptor.productId,
        bcdDevice: descriptor.bcdDevice,
        speed: SPEEDS[L.libusb_get_device_speed(device)] ?? "unknown",
      };
      if (depth > 0) info.portPath = `${bus}-${[...ports.subarray(0, depth)].join(".")}`;
      devices.push({ device, info, descriptor });
    }
    devices.sort((a, b) => a.info.bus - b.info.bus || a.info.address - b.info.address);
    return use(devices);
  } finally {
    L.libusb_free_device_list(list, 1);
  }
}

const ENDPOINT_TYPES = ["control", "isochronous", "bulk", "interrupt"] as const;

/**
 * A device's active configuration (its first, if none is active) in WebUSB's
 * shape, each interface with its alternate setting 0. No device I/O.
 *
 * @param device a `libusb_device *`
 * @returns the configuration, or null when libusb cannot read it
 */
export function readConfiguration(device: Deno.PointerObject): UsbConfigurationInfo | null {
  const config = readConfigDescriptor(device);
  if (typeof config === "number") return null;
  return {
    configurationValue: config.configurationValue,
    interfaces: config.interfaces.filter((alts) => alts.length > 0).map((alts) => {
      const endpoints: UsbEndpointInfo[] = [];
      for (const ep of alts[0].endpoints) {
        const type = ENDPOINT_TYPES[ep.attributes & 0x03];
        if (type === "control") continue;
        endpoints.push({
          endpointNumber: ep.address & 0x0f,
          direction: ep.address & 0x80 ? "in" : "out",
          type,
          packetSize: ep.maxPacketSize & 0x7ff,
        });
      }
      return { interfaceNumber: alts[0].interfaceNumber, alternate: { endpoints } };
    }),
  };
}
