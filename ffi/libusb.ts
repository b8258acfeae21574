/**
 * The libusb-1.0 binding: one symbol table, library loading in one place,
 * and the few helpers that read libusb's structures through raw pointers.
 * Nothing outside this file decodes memory behind a pointer; the rest of the
 * code base holds libusb's handles as opaque `Deno.PointerObject`s.
 *
 * Every libusb function that may issue an ioctl on a device (open, close,
 * claim/release, clear halt, reset, string descriptors, event handling) is a
 * `nonblocking: true` symbol: it runs on a worker thread and returns a
 * promise, so the event loop stays free. That is not only politeness: an
 * emulated device (umockdev) answers those ioctls through a callback on the
 * main thread, and a blocking call there would deadlock. Transfers are all
 * asynchronous; their submission and cancellation (which only queue or
 * discard an URB) also exist as `_here` symbols called on the main thread,
 * used only when no ioctl is answered in this process.
 *
 * Loading is lazy (first use) and cached. `CANON_LIBUSB_PATH` names the
 * library explicitly; otherwise the usual per-OS names are tried.
 *
 * This is the lowest layer: it imports nothing of the project. A library that
 * does not load is reported as a {@link LibusbLoadError}, which the USB layer
 * (`src/usb/libusb_library.ts`) turns into the public `LibusbNotFoundError`.
 *
 * @module
 */

/**
 * The libusb-1.0 functions canon-remote uses. Signatures as in `libusb.h`
 * (libusb 1.0.22 or newer); each parameter is commented with its C type and
 * name.
 */
export const symbols = {
  // ---- library and context ----
  libusb_init: {
    parameters: [
      "buffer", // libusb_context **ctx (out)
    ],
    result: "i32", // int: 0 or LIBUSB_ERROR_*
    // Enumerates devices (udev/sysfs scan); kept off the main thread.
    nonblocking: true,
  },
  libusb_exit: {
    parameters: [
      "pointer", // libusb_context *ctx
    ],
    result: "void",
    // Joins libusb's event and hotplug threads.
    nonblocking: true,
  },
  libusb_set_option: {
    // Variadic in C: int libusb_set_option(libusb_context *ctx, enum libusb_option option, ...).
    // Only LIBUSB_OPTION_LOG_LEVEL (0) with one int is used, which the SysV x86-64,
    // Windows x64 and Linux AArch64 ABIs pass like a fixed argument. Apple's AArch64
    // ABI passes variadic arguments on the stack: there `libusb_set_debug` is used.
    parameters: [
      "pointer", // libusb_context *ctx
      "i32", // enum libusb_option option
      "i32", // int level (the variadic argument of LIBUSB_OPTION_LOG_LEVEL)
    ],
    result: "i32", // int: 0 or LIBUSB_ERROR_*
  },
  libusb_set_debug: {
    // Deprecated but present in every 1.0.x; only used where libusb_set_option's
    // variadic call cannot be expressed (macOS on Apple silicon).
    parameters: [
      "pointer", // libusb_context *ctx
      "i32", // int level
    ],
    result: "void",
    optional: true,
  },
  libusb_error_name: {
    parameters: [
      "i32", // int errcode
    ],
    result: "pointer", // const char * (static string)
  },
  libusb_get_version: {
    parameters: [],
    result: "pointer", // const struct libusb_version * (static)
  },
  libusb_has_capability: {
    parameters: [
      "u32", // uint32_t capability (LIBUSB_CAP_*)
    ],
    result: "i32", // int: non-zero when supported
  },

  // ---- hotplug and event handling ----
  libusb_hotplug_register_callback: {
    parameters: [
      "pointer", // libusb_context *ctx
      "i32", // int events (LIBUSB_HOTPLUG_EVENT_* bits)
      "i32", // int flags (LIBUSB_HOTPLUG_ENUMERATE or 0)
      "i32", // int vendor_id (or LIBUSB_HOTPLUG_MATCH_ANY)
      "i32", // int product_id (or LIBUSB_HOTPLUG_MATCH_ANY)
      "i32", // int dev_class (or LIBUSB_HOTPLUG_MATCH_ANY)
      "function", // libusb_hotplug_callback_fn cb_fn
      "pointer", // void *user_data
      "buffer", // libusb_hotplug_callback_handle *callback_handle (out, int)
    ],
    result: "i32", // int: 0 or LIBUSB_ERROR_*
  },
  libusb_hotplug_deregister_callback: {
    parameters: [
      "pointer", // libusb_context *ctx
      "i32", // libusb_hotplug_callback_handle callback_handle
    ],
    result: "void",
  },
  libusb_handle_events_timeout_completed: {
    parameters: [
      "pointer", // libusb_context *ctx
      "buffer", // struct timeval *tv (tv_sec, tv_usec: two 64-bit longs)
      "buffer", // int *completed (NULL allowed)
    ],
    result: "i32", // int: 0 or LIBUSB_ERROR_*
    // Waits up to tv for events; hotplug callbacks run from inside it.
    nonblocking: true,
  },

  // ---- device enumeration (no I/O on the devices) ----
  libusb_get_device_list: {
    parameters: [
      "pointer", // libusb_context *ctx
      "buffer", // libusb_device ***list (out)
    ],
    result: "isize", // ssize_t: number of devices or LIBUSB_ERROR_*
    // May enumerate (non-udev backends); kept off the main thread.
    nonblocking: true,
  },
  libusb_free_device_list: {
    parameters: [
      "pointer", // libusb_device **list
      "i32", // int unref_devices
    ],
    result: "void",
  },
  libusb_ref_device: {
    parameters: [
      "pointer", // libusb_device *dev
    ],
    result: "pointer", // libusb_device * (the same device)
  },
  libusb_unref_device: {
    parameters: [
      "pointer", // libusb_device *dev
    ],
    result: "void",
  },
  libusb_get_device_descriptor: {
    parameters: [
      "pointer", // libusb_device *dev
      "buffer", // struct libusb_device_descriptor *desc (out, 18 bytes)
    ],
    result: "i32", // int: 0 or LIBUSB_ERROR_*
  },
  libusb_get_active_config_descriptor: {
    parameters: [
      "pointer", // libusb_device *dev
      "buffer", // struct libusb_config_descriptor **config (out)
    ],
    result: "i32", // int: 0 or LIBUSB_ERROR_* (NOT_FOUND when unconfigured)
  },
  libusb_get_config_descriptor: {
    parameters: [
      "pointer", // libusb_device *dev
      "u8", // uint8_t config_index
      "buffer", // struct libusb_config_descriptor **config (out)
    ],
    result: "i32", // int: 0 or LIBUSB_ERROR_*
  },
  libusb_free_config_descriptor: {
    parameters: [
      "pointer", // struct libusb_config_descriptor *config
    ],
    result: "void",
  },
  libusb_get_bus_number: {
    parameters: [
      "pointer", // libusb_device *dev
    ],
    result: "u8", // uint8_t
  },
  libusb_get_device_address: {
    parameters: [
      "pointer", // libusb_device *dev
    ],
    result: "u8", // uint8_t
  },
  libusb_get_port_numbers: {
    parameters: [
      "pointer", // libusb_device *dev
      "buffer", // uint8_t *port_numbers (out)
      "i32", // int port_numbers_len
    ],
    result: "i32", // int: count or LIBUSB_ERROR_OVERFLOW
  },
  libusb_get_device_speed: {
    parameters: [
      "pointer", // libusb_device *dev
    ],
    result: "i32", // int: enum libusb_speed
  },

  // ---- device handles (every call that reaches the device is nonblocking) ----
  libusb_open: {
    parameters: [
      "pointer", // libusb_device *dev
      "buffer", // libusb_device_handle **dev_handle (out)
    ],
    result: "i32", // int: 0 or LIBUSB_ERROR_*
    nonblocking: true,
  },
  libusb_close: {
    parameters: [
      "pointer", // libusb_device_handle *dev_handle
    ],
    result: "void",
    nonblocking: true,
  },
  libusb_set_auto_detach_kernel_driver: {
    parameters: [
      "pointer", // libusb_device_handle *dev_handle
      "i32", // int enable
    ],
    result: "i32", // int: 0 or LIBUSB_ERROR_NOT_SUPPORTED
  },
  libusb_claim_interface: {
    parameters: [
      "pointer", // libusb_device_handle *dev_handle
      "i32", // int interface_number
    ],
    result: "i32", // int: 0 or LIBUSB_ERROR_*
    nonblocking: true,
  },
  libusb_release_interface: {
    parameters: [
      "pointer", // libusb_device_handle *dev_handle
      "i32", // int interface_number
    ],
    result: "i32", // int: 0 or LIBUSB_ERROR_*
    nonblocking: true,
  },
  libusb_clear_halt: {
    parameters: [
      "pointer", // libusb_device_handle *dev_handle
      "u8", // unsigned char endpoint
    ],
    result: "i32", // int: 0 or LIBUSB_ERROR_*
    nonblocking: true,
  },
  libusb_reset_device: {
    parameters: [
      "pointer", // libusb_device_handle *dev_handle
    ],
    result: "i32", // int: 0 or LIBUSB_ERROR_* (NOT_FOUND: re-enumerated, reopen)
    nonblocking: true,
  },

  // ---- asynchronous transfers: every transfer goes this way (src/usb/libusb_pipeline.ts) ----
  libusb_alloc_transfer: {
    parameters: [
      "i32", // int iso_packets
    ],
    result: "pointer", // struct libusb_transfer * (NULL when out of memory)
  },
  libusb_free_transfer: {
    parameters: [
      "pointer", // struct libusb_transfer *transfer (never while it is in flight)
    ],
    result: "void",
  },
  libusb_submit_transfer: {
    parameters: [
      "pointer", // struct libusb_transfer *transfer
    ],
    result: "i32", // int: 0 or LIBUSB_ERROR_*
    // Issues USBDEVFS_SUBMITURB.
    nonblocking: true,
  },
  libusb_cancel_transfer: {
    parameters: [
      "pointer", // struct libusb_transfer *transfer
    ],
    result: "i32", // int: 0, or LIBUSB_ERROR_NOT_FOUND when it is not in flight
    // Issues USBDEVFS_DISCARDURB.
    nonblocking: true,
  },
  // The same two functions called on the calling thread. A submission or a
  // cancellation only queues (or discards) an URB in the kernel and returns at
  // once, so the main thread may call them, which saves a round trip through a
  // worker thread per transfer. Never used while this process itself answers
  // the device's ioctls (an in-process umockdev testbed): see
  // markIoctlsAnsweredInProcess().
  libusb_submit_transfer_here: {
    name: "libusb_submit_transfer",
    parameters: [
      "pointer", // struct libusb_transfer *transfer
    ],
    result: "i32", // int: 0 or LIBUSB_ERROR_*
  },
  libusb_cancel_transfer_here: {
    name: "libusb_cancel_transfer",
    parameters: [
      "pointer", // struct libusb_transfer *transfer
    ],
    result: "i32", // int: 0, or LIBUSB_ERROR_NOT_FOUND when it is not in flight
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** The bound libusb functions (`libusb().libusb_open(...)`). */
export type LibusbSymbols = Deno.DynamicLibrary<typeof symbols>["symbols"];

/** `enum libusb_option`: the log level option. */
export const LIBUSB_OPTION_LOG_LEVEL = 0;

/** `LIBUSB_CAP_HAS_HOTPLUG`: the platform reports device arrival and departure. */
export const LIBUSB_CAP_HAS_HOTPLUG = 0x0001;

/** `libusb_hotplug_event` bits. */
export const LIBUSB_HOTPLUG_EVENT = { DEVICE_ARRIVED: 0x01, DEVICE_LEFT: 0x02 } as const;

/** `LIBUSB_HOTPLUG_MATCH_ANY`. */
export const LIBUSB_HOTPLUG_MATCH_ANY = -1;

/** The signature of `libusb_hotplug_callback_fn` (ctx, device, event, user_data) → int. */
export const HOTPLUG_CALLBACK = {
  parameters: ["pointer", "pointer", "i32", "pointer"],
  result: "i32", // 1 = deregister this callback
} as const satisfies Deno.UnsafeCallbackDefinition;

/** The environment variable that names the libusb-1.0 library file explicitly. */
export const LIBUSB_PATH_ENV = "CANON_LIBUSB_PATH";

/** The environment variable that sets libusb's log level (0 none .. 4 debug). */
export const LIBUSB_DEBUG_ENV = "CANON_LIBUSB_DEBUG";

/**
 * Deno's FFI permission was not granted (`--allow-ffi` missing or denied).
 *
 * It extends `Deno.errors.NotCapable`, the class Deno itself throws for a
 * missing permission, so `e instanceof Deno.errors.NotCapable` still holds;
 * the original error (NotCapable or PermissionDenied) is the `cause`.
 */
export class FfiPermissionError extends Deno.errors.NotCapable {
  /**
   * Wrap Deno's permission error.
   *
   * @param cause the permission error Deno threw
   */
  constructor(cause: unknown) {
    super(
      "canon-remote drives USB through libusb-1.0 and needs FFI access: run with --allow-ffi " +
        `(and --allow-env=${LIBUSB_PATH_ENV},${LIBUSB_DEBUG_ENV} to use those variables)`,
      { cause },
    );
    this.name = "FfiPermissionError";
  }
}

/** The library names tried on each OS when `CANON_LIBUSB_PATH` is not set. */
export const DEFAULT_LIBUSB_NAMES: Readonly<Record<string, readonly string[]>> = {
  linux: ["libusb-1.0.so.0", "libusb-1.0.so"],
  darwin: [
    "libusb-1.0.0.dylib",
    "/opt/homebrew/lib/libusb-1.0.0.dylib",
    "/usr/local/lib/libusb-1.0.0.dylib",
    "/opt/local/lib/libusb-1.0.0.dylib",
  ],
  windows: ["libusb-1.0.dll"],
};

/** What to install, per OS. */
function installHint(os: string): string {
  switch (os) {
    case "darwin":
      return "Install libusb with Homebrew (`brew install libusb`) or MacPorts (`sudo port install libusb`)";
    case "windows":
      return "Put libusb-1.0.dll (from https://libusb.info, matching the program's architecture) " +
        "next to the program or in a directory on PATH";
    default:
      return "Install libusb-1.0: Debian/Ubuntu `sudo apt-get install libusb-1.0-0`, " +
        "Fedora `sudo dnf install libusb1`, Arch `sudo pacman -S libusb`";
  }
}

/** Whether `e` is Deno's "permission not granted" error. */
function isPermissionError(e: unknown): boolean {
  return e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied;
}

/**
 * Read an environment variable only if env access is already granted: never
 * prompts, never throws. A script run without `--allow-env` simply does not
 * see the variable.
 */
export function readEnvQuietly(name: string): string | undefined {
  try {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
      return undefined;
    }
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/**
 * libusb-1.0 could not be loaded: what was tried and what to install. The
 * FFI layer's own error; the USB layer rethrows it as `LibusbNotFoundError`
 * (part of the library's error hierarchy), so users never see this class.
 */
export class LibusbLoadError extends Error {
  /** The library names and paths that were tried, in order. */
  readonly tried: readonly string[];
  /** What to install or fix. */
  readonly hint: string;
  /**
   * Make the error.
   *
   * @param tried the names and paths tried
   * @param hint what to install or fix
   * @param cause the last loading error
   */
  constructor(tried: readonly string[], hint: string, cause?: unknown) {
    super(`libusb-1.0 could not be loaded (tried: ${tried.join(", ")}). ${hint}`, { cause });
    this.name = "LibusbLoadError";
    this.tried = tried;
    this.hint = hint;
  }
}

let loaded: Deno.DynamicLibrary<typeof symbols> | undefined;

/**
 * Functions that an ordinary session (find, open, transfer, close) does not
 * call: bound on first use, in a second `dlopen` of the same library.
 * Binding costs about 0.2 ms of CPU a symbol, so `canon info` saves about
 * 2 ms at start-up. `libusb_set_option`, the newest of the required
 * functions (1.0.22), stays bound at load, so that a library too old is
 * still refused there, naming the symbol.
 */
const LATE_SYMBOLS: ReadonlySet<string> = new Set([
  "libusb_set_debug",
  "libusb_error_name",
  "libusb_get_version",
  "libusb_has_capability",
  "libusb_hotplug_register_callback",
  "libusb_hotplug_deregister_callback",
  "libusb_get_config_descriptor",
  "libusb_clear_halt",
  "libusb_reset_device",
  "libusb_cancel_transfer",
  "libusb_cancel_transfer_here",
]);

function symbolGroup(late: boolean): Deno.ForeignLibraryInterface {
  return Object.fromEntries(
    Object.entries(symbols).filter(([key]) => LATE_SYMBOLS.has(key) === late),
  );
}

/** `Deno.dlopen(name, symbols)`, binding the late group when one of it is first used. */
function openLibusb(name: string): Deno.DynamicLibrary<typeof symbols> {
  const eager = Deno.dlopen(name, symbolGroup(false));
  let late: Deno.DynamicLibrary<Deno.ForeignLibraryInterface> | undefined;
  const bound: Record<string, unknown> = { ...eager.symbols };
  for (const key of LATE_SYMBOLS) {
    Object.defineProperty(bound, key, {
      configurable: true,
      enumerable: true,
      get: () => {
        late ??= Deno.dlopen(name, symbolGroup(true));
        const fn = late.symbols[key];
        Object.defineProperty(bound, key, { value: fn, enumerable: true });
        return fn;
      },
    });
  }
  const library = {
    symbols: bound as LibusbSymbols,
    close: () => {
      late?.close();
      eager.close();
    },
  };
  return library as Deno.DynamicLibrary<typeof symbols>;
}

/**
 * Load libusb-1.0 (once; later calls return the cached library).
 *
 * `CANON_LIBUSB_PATH`, when set (and readable: env access granted), is the
 * only candidate: an explicit path that fails to load is an error rather
 * than a silent fall-back. Otherwise the names in
 * {@link DEFAULT_LIBUSB_NAMES} are tried in order.
 *
 * @returns the loaded library
 * @throws {LibusbLoadError} no candidate loaded; lists the names tried and what to install
 * @throws {FfiPermissionError} `--allow-ffi` is missing
 */
export function loadLibusb(): Deno.DynamicLibrary<typeof symbols> {
  if (loaded) return loaded;
  const override = readEnvQuietly(LIBUSB_PATH_ENV);
  const os = Deno.build.os;
  const candidates = override ? [override] : [...(DEFAULT_LIBUSB_NAMES[os] ?? ["libusb-1.0.so.0"])];
  let lastError: unknown;
  const reasons: string[] = [];
  for (const name of candidates) {
    try {
      loaded = openLibusb(name);
      return loaded;
    } catch (e) {
      if (isPermissionError(e)) throw new FfiPermissionError(e);
      lastError = e;
      const text = e instanceof Error ? e.message : String(e);
      const symbol = /Failed to register symbol (\w+)/.exec(text)?.[1];
      if (symbol) {
        reasons.push(`${name} lacks ${symbol}: not libusb-1.0, or older than libusb 1.0.22`);
      }
    }
  }
  let hint = installHint(os);
  if (override) {
    const why = reasons[0] ??
      (lastError instanceof Error ? lastError.message : String(lastError));
    hint = `${LIBUSB_PATH_ENV} is set to "${override}", which could not be loaded (${why}). ` +
      `Fix or unset it. To use the system's libusb instead: ${hint}`;
  } else {
    if (reasons.length > 0) hint = `${reasons.join("; ")}. ${hint}`;
    hint += `; or set ${LIBUSB_PATH_ENV} to the library's path`;
  }
  throw new LibusbLoadError(candidates, hint + ".", lastError);
}

/**
 * The bound libusb functions, loading the library on first use.
 *
 * @returns the symbols of the cached library
 * @throws {LibusbLoadError} see {@link loadLibusb}
 * @throws {FfiPermissionError} see {@link loadLibusb}
 */
export function libusb(): LibusbSymbols {
  return (loaded ?? loadLibusb()).symbols;
}

// ---- helpers that read through pointers (the only place that does) ----

/** A pointer returned through an out-parameter box (`NULL` becomes `null`). */
export function pointerFromBox(box: BigUint64Array): Deno.PointerValue {
  return Deno.UnsafePointer.create(box[0]);
}

/** libusb's name for an error code, e.g. `"LIBUSB_ERROR_TIMEOUT"`. */
export function libusbErrorName(code: number): string {
  const p = libusb().libusb_error_name(code);
  return p ? Deno.UnsafePointerView.getCString(p) : `libusb error ${code}`;
}

/** The libusb version, e.g. `"1.0.26.11724"`. */
export function libusbVersion(): string {
  const p = libusb().libusb_get_version();
  if (!p) return "unknown";
  const v = new Deno.UnsafePointerView(p);
  const rcPtr = v.getPointer(8);
  const rc = rcPtr ? Deno.UnsafePointerView.getCString(rcPtr) : "";
  return `${v.getUint16(0)}.${v.getUint16(2)}.${v.getUint16(4)}.${v.getUint16(6)}${rc}`;
}

/**
 * The devices of a `libusb_device **` list (`n` entries).
 *
 * @param list the list returned by `libusb_get_device_list`
 * @param n its length
 */
export function deviceListEntries(list: Deno.PointerObject, n: number): Deno.PointerObject[] {
  const view = new Deno.UnsafePointerView(list);
  const out: Deno.PointerObject[] = [];
  for (let i = 0; i < n; i++) {
    const p = view.getPointer(i * 8);
    if (p) out.push(p);
  }
  return out;
}

/** An endpoint descriptor, as `struct libusb_endpoint_descriptor` holds it. */
export interface EndpointDescriptor {
  /** bEndpointAddress (direction bit included). */
  address: number;
  /** bmAttributes (bits 0..1: transfer type). */
  attributes: number;
  /** wMaxPacketSize. */
  maxPacketSize: number;
}

/** One alternate setting of an interface. */
export interface InterfaceDescriptor {
  /** bInterfaceNumber. */
  interfaceNumber: number;
  /** bAlternateSetting. */
  alternateSetting: number;
  /** bInterfaceClass. */
  interfaceClass: number;
  /** The endpoints. */
  endpoints: EndpointDescriptor[];
}

/** A configuration: its value and every interface's alternate settings. */
export interface ConfigDescriptor {
  /** bConfigurationValue. */
  configurationValue: number;
  /** For each interface, its alternate settings (index 0 first). */
  interfaces: InterfaceDescriptor[][];
}

// struct layouts for 64-bit targets (the only ones Deno runs on)
const CONFIG_INTERFACE_PTR = 16; // libusb_config_descriptor.interface
const INTERFACE_SIZE = 16; // struct libusb_interface { altsetting*, int num_altsetting }
const ALTSETTING_SIZE = 40; // struct libusb_interface_descriptor
const ALTSETTING_ENDPOINT_PTR = 16; // libusb_interface_descriptor.endpoint
const ENDPOINT_SIZE = 32; // struct libusb_endpoint_descriptor

/**
 * Read a `struct libusb_config_descriptor` into plain data and free it.
 *
 * @param dev the device
 * @returns the active configuration (or, when the device reports none, its
 *   first one), or a negative libusb error code
 */
export function readConfigDescriptor(dev: Deno.PointerObject): ConfigDescriptor | number {
  const L = libusb();
  const box = new BigUint64Array(1);
  let r = L.libusb_get_active_config_descriptor(dev, box);
  if (r < 0) r = L.libusb_get_config_descriptor(dev, 0, box);
  if (r < 0) return r;
  const config = pointerFromBox(box);
  if (!config) return -99;
  try {
    const cv = new Deno.UnsafePointerView(config);
    const numInterfaces = cv.getUint8(4);
    const interfaces: InterfaceDescriptor[][] = [];
    const ifaces = cv.getPointer(CONFIG_INTERFACE_PTR);
    for (let i = 0; ifaces && i < numInterfaces; i++) {
      const iv = new Deno.UnsafePointerView(ifaces);
      const alts = iv.getPointer(i * INTERFACE_SIZE);
      const numAlts = iv.getInt32(i * INTERFACE_SIZE + 8);
      const settings: InterfaceDescriptor[] = [];
      for (let a = 0; alts && a < numAlts; a++) {
        const av = new Deno.UnsafePointerView(alts);
        const base = a * ALTSETTING_SIZE;
        const numEndpoints = av.getUint8(base + 4);
        const eps = av.getPointer(base + ALTSETTING_ENDPOINT_PTR);
        const endpoints: EndpointDescriptor[] = [];
        for (let e = 0; eps && e < numEndpoints; e++) {
          const ev = new Deno.UnsafePointerView(eps);
          const eb = e * ENDPOINT_SIZE;
          endpoints.push({
            address: ev.getUint8(eb + 2),
            attributes: ev.getUint8(eb + 3),
            maxPacketSize: ev.getUint16(eb + 4),
          });
        }
        settings.push({
          interfaceNumber: av.getUint8(base + 2),
          alternateSetting: av.getUint8(base + 3),
          interfaceClass: av.getUint8(base + 5),
          endpoints,
        });
      }
      interfaces.push(settings);
    }
    return { configurationValue: cv.getUint8(5), interfaces };
  } finally {
    L.libusb_free_config_descriptor(config);
  }
}

/** The fields of `struct libusb_device_descriptor` that canon-remote uses. */
export interface DeviceDescriptor {
  /** idVendor. */
  vendorId: number;
  /** idProduct. */
  productId: number;
  /** bcdDevice. */
  bcdDevice: number;
  /** bcdUSB. */
  bcdUsb: number;
  /** iManufacturer (0: none). */
  manufacturerIndex: number;
  /** iProduct (0: none). */
  productIndex: number;
  /** iSerialNumber (0: none). */
  serialNumberIndex: number;
}

/**
 * Read a device descriptor (libusb caches it; no I/O).
 *
 * @param dev the device
 * @returns the descriptor, or a negative libusb error code
 */
export function readDeviceDescriptor(dev: Deno.PointerObject): DeviceDescriptor | number {
  const raw = new Uint8Array(18);
  const r = libusb().libusb_get_device_descriptor(dev, raw);
  if (r < 0) return r;
  // The struct's fields are naturally aligned and host-endian (little-endian on
  // every platform Deno runs on), so it reads like the wire format.
  const v = new DataView(raw.buffer);
  return {
    bcdUsb: v.getUint16(2, true),
    vendorId: v.getUint16(8, true),
    productId: v.getUint16(10, true),
    bcdDevice: v.getUint16(12, true),
    manufacturerIndex: raw[14],
    productIndex: raw[15],
    serialNumberIndex: raw[16],
  };
}

// ---- struct libusb_transfer (asynchronous transfers) ----

/** `enum libusb_transfer_status`. */
export const LIBUSB_TRANSFER_STATUS = {
  COMPLETED: 0,
  ERROR: 1,
  TIMED_OUT: 2,
  CANCELLED: 3,
  STALL: 4,
  NO_DEVICE: 5,
  OVERFLOW: 6,
} as const;

/**
 * The `status` and `actual_length` a transfer is submitted with, which
 * libusb never writes: it sets the real ones (a status 0..6, a length 0 or
 * more) just before the completion callback would run. canon-remote
 * submits the transfers of pipelined reads without a callback (libusb
 * allows a null one) and sees them end by both fields changing
 * ({@link transferEnded}).
 */
export const TRANSFER_STATUS_PENDING = -1;

/** `enum libusb_transfer_type`: the types canon-remote submits. */
export const LIBUSB_TRANSFER_TYPE = { CONTROL: 0, BULK: 2, INTERRUPT: 3 } as const;

/** `LIBUSB_TRANSFER_TYPE_BULK`. */
export const LIBUSB_TRANSFER_TYPE_BULK = LIBUSB_TRANSFER_TYPE.BULK;

/** Bytes of the setup packet that starts a control transfer's buffer. */
export const CONTROL_SETUP_SIZE = 8;

let ioctlsAnsweredInProcess = false;

/**
 * Say that this process itself answers USB ioctls (an in-process umockdev
 * testbed does, on the main thread): from now on every libusb call that
 * issues one runs on a worker thread, since one made on the main thread would
 * wait for an answer only the main thread can give. Irreversible.
 */
export function markIoctlsAnsweredInProcess(): void {
  ioctlsAnsweredInProcess = true;
}

/**
 * Whether transfers may be submitted and cancelled on the calling thread:
 * true unless {@link markIoctlsAnsweredInProcess} was called.
 *
 * @returns whether the `_here` symbols are safe
 */
export function mayIssueIoctlsHere(): boolean {
  return !ioctlsAnsweredInProcess;
}

/** The signature of `libusb_transfer_cb_fn`: `void (*)(struct libusb_transfer *transfer)`. */
export const TRANSFER_CALLBACK = {
  parameters: ["pointer"],
  result: "void",
} as const satisfies Deno.UnsafeCallbackDefinition;

// struct libusb_transfer on 64-bit targets (LP64: x86_64 and aarch64 Linux and
// macOS; LLP64 Windows gives the same offsets, every field being int-sized or a
// pointer), checked against libusb.h 1.0.26 with offsetof():
//   libusb_device_handle *dev_handle @0, uint8_t flags @8, unsigned char endpoint @9,
//   unsigned char type @10, unsigned int timeout @12, enum status @16, int length @20,
//   int actual_length @24, libusb_transfer_cb_fn callback @32, void *user_data @40,
//   unsigned char *buffer @48, int num_iso_packets @56; sizeof 64 without iso packets.
const TRANSFER = {
  devHandle: 0,
  flags: 8,
  endpoint: 9,
  type: 10,
  timeout: 12,
  status: 16,
  length: 20,
  actualLength: 24,
  callback: 32,
  userData: 40,
  buffer: 48,
  numIsoPackets: 56,
  size: 64,
} as const;

/** What {@link fillBulkTransfer} writes. */
export interface BulkTransferFields {
  /** The `libusb_device_handle *`. */
  handle: Deno.PointerObject;
  /** Endpoint address, direction bit included (0x81). */
  endpoint: number;
  /** The data buffer; it must stay alive (and unmoved) until the transfer ended. */
  buffer: Uint8Array;
  /** Timeout in ms (0 = none; canon-remote never passes 0). */
  timeout: number;
  /**
   * The completion callback (`Deno.UnsafeCallback.pointer`), or null for
   * none: the transfer's end is then seen in its status
   * ({@link transferEnded}).
   */
  callback: Deno.PointerObject | null;
  /** Passed back in the transfer's `user_data` (a small integer). */
  userData: number;
  /** `enum libusb_transfer_type` ({@link LIBUSB_TRANSFER_TYPE}); default bulk. */
  type?: number;
}

/**
 * A view of a transfer's struct, for {@link fillBulkTransfer}. A transfer
 * that is filled again and again can keep its view (saving an allocation
 * per fill); the view is valid until the transfer is freed.
 *
 * @param transfer the `struct libusb_transfer *`
 * @returns a DataView over its 64 bytes
 */
export function transferView(transfer: Deno.PointerObject): DataView {
  return new DataView(Deno.UnsafePointerView.getArrayBuffer(transfer, TRANSFER.size));
}

const TWO_32 = 0x1_0000_0000;

/** Write a pointer or a small integer as a 64-bit little-endian field, without a BigInt when it fits. */
function setWord(view: DataView, offset: number, value: number | bigint): void {
  if (typeof value === "bigint") {
    view.setBigUint64(offset, value, true);
    return;
  }
  view.setUint32(offset, value % TWO_32, true);
  view.setUint32(offset + 4, Math.floor(value / TWO_32), true);
}

/**
 * Fill a transfer from `libusb_alloc_transfer(0)` for a bulk, interrupt or
 * control transfer: what libusb's `libusb_fill_bulk_transfer` (and its
 * interrupt and control twins) do, C inline functions, so not in the
 * library. For a control transfer the buffer starts with the 8-byte setup
 * packet (endpoint 0). Flags are 0: libusb neither frees the transfer nor
 * fails a short one.
 *
 * @param transfer the `struct libusb_transfer *`
 * @param fields handle, endpoint, buffer, timeout, callback, user data
 * @param view the transfer's {@link transferView}, if the caller keeps one
 */
export function fillBulkTransfer(
  transfer: Deno.PointerObject,
  fields: BulkTransferFields,
  view: DataView = transferView(transfer),
): void {
  const buffer = fields.buffer.byteLength > 0 ? Deno.UnsafePointer.of(fields.buffer) : null;
  setWord(view, TRANSFER.devHandle, Deno.UnsafePointer.value(fields.handle));
  view.setUint8(TRANSFER.flags, 0);
  view.setUint8(TRANSFER.endpoint, fields.endpoint);
  view.setUint8(TRANSFER.type, fields.type ?? LIBUSB_TRANSFER_TYPE_BULK);
  view.setUint32(TRANSFER.timeout, fields.timeout, true);
  view.setInt32(TRANSFER.status, TRANSFER_STATUS_PENDING, true);
  view.setInt32(TRANSFER.length, fields.buffer.byteLength, true);
  view.setInt32(TRANSFER.actualLength, TRANSFER_STATUS_PENDING, true);
  setWord(view, TRANSFER.callback, Deno.UnsafePointer.value(fields.callback));
  setWord(view, TRANSFER.userData, fields.userData);
  setWord(view, TRANSFER.buffer, Deno.UnsafePointer.value(buffer));
  view.setInt32(TRANSFER.numIsoPackets, 0, true);
}

/**
 * Make a transfer filled by {@link fillBulkTransfer} ready to be submitted
 * again with a new length (at most its buffer's): handle, endpoint,
 * callback, user data and buffer stay as they were, so nothing is allocated.
 *
 * @param view the transfer's {@link transferView}
 * @param length bytes to ask for
 * @param timeout timeout in ms
 */
export function rearmTransfer(view: DataView, length: number, timeout: number): void {
  view.setUint32(TRANSFER.timeout, timeout, true);
  view.setInt32(TRANSFER.status, TRANSFER_STATUS_PENDING, true);
  view.setInt32(TRANSFER.length, length, true);
  view.setInt32(TRANSFER.actualLength, TRANSFER_STATUS_PENDING, true);
}

/**
 * A finished transfer's `enum libusb_transfer_status`, read through its view.
 *
 * @param view the transfer's {@link transferView}
 * @returns the status ({@link LIBUSB_TRANSFER_STATUS})
 */
export function transferStatus(view: DataView): number {
  return view.getInt32(TRANSFER.status, true);
}

/**
 * Whether a transfer filled by {@link fillBulkTransfer} (or
 * {@link rearmTransfer}) has ended: libusb has written both its status and
 * its `actual_length`, which the fill set to a value libusb never writes.
 * libusb writes the two one after the other (status first), after the data
 * and with nothing of the transfer read afterwards but its callback, so
 * this may be read while another thread handles events: once it is true,
 * libusb is done with the transfer.
 *
 * @param view the transfer's {@link transferView}
 * @returns true once it ended, however
 */
export function transferEnded(view: DataView): boolean {
  return view.getInt32(TRANSFER.status, true) !== TRANSFER_STATUS_PENDING &&
    view.getInt32(TRANSFER.actualLength, true) !== TRANSFER_STATUS_PENDING;
}

/**
 * A finished transfer's `actual_length`, read through its view.
 *
 * @param view the transfer's {@link transferView}
 * @returns bytes transferred
 */
export function transferActualLength(view: DataView): number {
  return view.getInt32(TRANSFER.actualLength, true);
}

/**
 * The `user_data` of a transfer the callback received, without reading the
 * rest of the struct.
 *
 * @param transfer the `struct libusb_transfer *`
 * @returns the user data given to {@link fillBulkTransfer}
 */
export function transferUserData(transfer: Deno.PointerObject): number {
  const view = new Deno.UnsafePointerView(transfer);
  return view.getUint32(TRANSFER.userData) + view.getUint32(TRANSFER.userData + 4) * TWO_32;
}

/** How a transfer ended, as its struct says once it ended. */
export interface TransferResult {
  /** `enum libusb_transfer_status` ({@link LIBUSB_TRANSFER_STATUS}). */
  status: number;
  /** Bytes transferred. */
  actualLength: number;
  /** The `user_data` given to {@link fillBulkTransfer}. */
  userData: number;
}

/**
 * Read status, actual length and user data of a finished transfer.
 *
 * @param transfer the `struct libusb_transfer *` the callback received
 * @returns its outcome
 */
export function readTransferResult(transfer: Deno.PointerObject): TransferResult {
  const view = new Deno.UnsafePointerView(transfer);
  return {
    status: view.getInt32(TRANSFER.status),
    actualLength: view.getInt32(TRANSFER.actualLength),
    userData: view.getUint32(TRANSFER.userData) + view.getUint32(TRANSFER.userData + 4) * TWO_32,
  };
}
