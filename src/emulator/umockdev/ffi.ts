/**
 * The slice of libumockdev (and GObject/GLib) that the umockdev bridge uses,
 * bound with `Deno.dlopen`: one symbol table per library, library loading in
 * one place, and the few helpers that read umockdev's `UMockdevIoctlData`
 * memory. Nothing else in the project touches these pointers.
 *
 * @module
 */

/** Symbols of libumockdev.so.0 (umockdev >= 0.16). */
export const UMOCKDEV_SYMBOLS = {
  /** UMockdevTestbed* umockdev_testbed_new(void) */
  umockdev_testbed_new: { parameters: [], result: "pointer" },
  /** gchar* umockdev_testbed_get_root_dir(UMockdevTestbed* self) — caller frees */
  umockdev_testbed_get_root_dir: { parameters: ["pointer"], result: "pointer" },
  /** gboolean umockdev_testbed_add_from_string(UMockdevTestbed* self, const gchar* data, GError** error) */
  umockdev_testbed_add_from_string: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  /** void umockdev_testbed_set_attribute(UMockdevTestbed* self, const gchar* devpath, const gchar* name, const gchar* value) */
  umockdev_testbed_set_attribute: {
    parameters: ["pointer", "buffer", "buffer", "buffer"],
    result: "void",
  },
  /** void umockdev_testbed_remove_device(UMockdevTestbed* self, const gchar* syspath) */
  umockdev_testbed_remove_device: { parameters: ["pointer", "buffer"], result: "void" },
  /** void umockdev_testbed_uevent(UMockdevTestbed* self, const gchar* devpath, const gchar* action) */
  umockdev_testbed_uevent: { parameters: ["pointer", "buffer", "buffer"], result: "void" },
  /** gboolean umockdev_testbed_attach_ioctl(UMockdevTestbed* self, const gchar* dev, UMockdevIoctlBase* handler, GError** error) */
  umockdev_testbed_attach_ioctl: {
    parameters: ["pointer", "buffer", "pointer", "buffer"],
    result: "i32",
  },
  /** gboolean umockdev_testbed_detach_ioctl(UMockdevTestbed* self, const gchar* dev, GError** error) */
  umockdev_testbed_detach_ioctl: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  /** gboolean umockdev_in_mock_environment(void) */
  umockdev_in_mock_environment: { parameters: [], result: "i32" },
  /** UMockdevIoctlBase* umockdev_ioctl_base_new(void) */
  umockdev_ioctl_base_new: { parameters: [], result: "pointer" },
  /** gulong umockdev_ioctl_client_get_request(UMockdevIoctlClient* self) */
  umockdev_ioctl_client_get_request: { parameters: ["pointer"], result: "u64" },
  /** UMockdevIoctlData* umockdev_ioctl_client_get_arg(UMockdevIoctlClient* self) — not owned */
  umockdev_ioctl_client_get_arg: { parameters: ["pointer"], result: "pointer" },
  /** gboolean umockdev_ioctl_client_get_connected(UMockdevIoctlClient* self) */
  umockdev_ioctl_client_get_connected: { parameters: ["pointer"], result: "i32" },
  /** void umockdev_ioctl_client_complete(UMockdevIoctlClient* self, glong res, gint errno_) — thread-safe */
  umockdev_ioctl_client_complete: { parameters: ["pointer", "i64", "i32"], result: "void" },
  /** UMockdevIoctlData* umockdev_ioctl_data_resolve(UMockdevIoctlData* self, gsize offset, gsize len, GError** error) — owned */
  umockdev_ioctl_data_resolve: {
    parameters: ["pointer", "usize", "usize", "buffer"],
    result: "pointer",
  },
  /** gboolean umockdev_ioctl_data_set_ptr(UMockdevIoctlData* self, gsize offset, UMockdevIoctlData* child) */
  umockdev_ioctl_data_set_ptr: { parameters: ["pointer", "usize", "pointer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** Symbols of libgobject-2.0.so.0. */
export const GOBJECT_SYMBOLS = {
  /** gulong g_signal_connect_data(gpointer instance, const gchar* detailed_signal, GCallback c_handler, gpointer data, GClosureNotify destroy_data, GConnectFlags connect_flags) */
  g_signal_connect_data: {
    parameters: ["pointer", "buffer", "function", "pointer", "pointer", "i32"],
    result: "u64",
  },
  /** gpointer g_object_ref(gpointer object) */
  g_object_ref: { parameters: ["pointer"], result: "pointer" },
  /** void g_object_unref(gpointer object) */
  g_object_unref: { parameters: ["pointer"], result: "void" },
} as const satisfies Deno.ForeignLibraryInterface;

/** Symbols of libglib-2.0.so.0. */
export const GLIB_SYMBOLS = {
  /** void g_free(gpointer mem) */
  g_free: { parameters: ["pointer"], result: "void" },
  /** void g_error_free(GError* error) */
  g_error_free: { parameters: ["pointer"], result: "void" },
} as const satisfies Deno.ForeignLibraryInterface;

/** Symbols of the C library (glibc >= 2.34 has the dynamic loader's functions in libc.so.6). */
export const LIBC_SYMBOLS = {
  /** void* dlopen(const char* filename, int flags) */
  dlopen: { parameters: ["buffer", "i32"], result: "pointer" },
  /** int mkdir(const char* pathname, mode_t mode) */
  mkdir: { parameters: ["buffer", "u32"], result: "i32" },
  /** int rmdir(const char* pathname) */
  rmdir: { parameters: ["buffer"], result: "i32" },
  /** int* __errno_location(void) */
  __errno_location: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The loaded libraries' symbols. */
export interface UmockdevLibrary {
  /** libumockdev. */
  readonly umockdev: Deno.DynamicLibrary<typeof UMOCKDEV_SYMBOLS>["symbols"];
  /** libgobject. */
  readonly gobject: Deno.DynamicLibrary<typeof GOBJECT_SYMBOLS>["symbols"];
  /** libglib. */
  readonly glib: Deno.DynamicLibrary<typeof GLIB_SYMBOLS>["symbols"];
  /** libc. */
  readonly libc: Deno.DynamicLibrary<typeof LIBC_SYMBOLS>["symbols"];
}

/** Environment variable naming the libumockdev shared object to load instead of the default. */
export const UMOCKDEV_LIBRARY_ENV = "CANON_REMOTE_LIBUMOCKDEV";

/** The soname of umockdev's LD_PRELOAD library. */
export const UMOCKDEV_PRELOAD = "libumockdev-preload.so.0";

/** The hint for a machine without umockdev. */
export const UMOCKDEV_INSTALL_HINT: string =
  "Install umockdev (Debian/Ubuntu: `sudo apt-get install umockdev libumockdev0`; " +
  "Fedora: `sudo dnf install umockdev`).";

/** Something went wrong in umockdev or in setting up the emulation. */
export class UmockdevError extends Error {
  /**
   * Make an error.
   *
   * @param message what failed
   * @param options the underlying error
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UmockdevError";
  }
}

/** libumockdev (or GLib/GObject) could not be loaded. */
export class UmockdevNotFoundError extends UmockdevError {
  /** The library names and paths that were tried. */
  readonly tried: readonly string[];
  /**
   * Make the error for a missing library.
   *
   * @param tried the names and paths tried
   * @param cause the loading error
   */
  constructor(tried: readonly string[], cause?: unknown) {
    super(
      `libumockdev could not be loaded (tried: ${tried.join(", ")}). ${UMOCKDEV_INSTALL_HINT}`,
      cause === undefined ? undefined : { cause },
    );
    this.name = "UmockdevNotFoundError";
    this.tried = tried;
  }
}

let loaded: UmockdevLibrary | undefined;

const RTLD_NOW = 0x0002;
const RTLD_NODELETE = 0x1000;
const EEXIST = 17;

function isPermissionError(error: unknown): boolean {
  return error instanceof Deno.errors.PermissionDenied ||
    error instanceof Deno.errors.NotCapable;
}

function open<S extends Deno.ForeignLibraryInterface>(
  names: readonly string[],
  symbols: S,
): Deno.DynamicLibrary<S> {
  let last: unknown;
  for (const name of names) {
    try {
      return Deno.dlopen(name, symbols);
    } catch (error) {
      if (isPermissionError(error)) throw error;
      last = error;
    }
  }
  throw new UmockdevNotFoundError(names, last);
}

/**
 * Load libumockdev, libgobject and libglib once per process.
 *
 * @returns the symbol tables
 * @throws {UmockdevNotFoundError} when a library is missing (not on Linux, or umockdev not installed)
 */
export function loadUmockdev(): UmockdevLibrary {
  if (loaded) return loaded;
  if (Deno.build.os !== "linux") {
    throw new UmockdevNotFoundError(
      ["libumockdev.so.0"],
      new Error("umockdev exists on Linux only"),
    );
  }
  const override = Deno.env.get(UMOCKDEV_LIBRARY_ENV);
  const name = override ?? "libumockdev.so.0";
  const umockdev = open([name], UMOCKDEV_SYMBOLS);
  const gobject = open(["libgobject-2.0.so.0"], GOBJECT_SYMBOLS);
  const glib = open(["libglib-2.0.so.0"], GLIB_SYMBOLS);
  const libc = open(["libc.so.6"], LIBC_SYMBOLS);
  // Keep libumockdev loaded for good. Deno runs parallel test modules as
  // isolates of one process, and each closes its libraries when it ends; a
  // libumockdev loaded again would register its GObject types a second time
  // and crash the process.
  libc.symbols.dlopen(cString(name), RTLD_NOW | RTLD_NODELETE);
  loaded = {
    umockdev: umockdev.symbols,
    gobject: gobject.symbols,
    glib: glib.symbols,
    libc: libc.symbols,
  };
  return loaded;
}

/** A NUL-terminated UTF-8 copy of `text`, for `const gchar*` parameters. */
export function cString(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(text + "\0");
}

/** A `GError*` out-parameter. */
export function errorSlot(): BigUint64Array<ArrayBuffer> {
  return new BigUint64Array(1);
}

/** The message of the GError in `slot` (freeing it), or undefined when none was set. */
export function takeError(lib: UmockdevLibrary, slot: BigUint64Array): string | undefined {
  if (slot[0] === 0n) return undefined;
  const error = Deno.UnsafePointer.create(slot[0]);
  slot[0] = 0n;
  if (!error) return undefined;
  // struct GError { GQuark domain; gint code; gchar *message; }
  const messagePointer = new Deno.UnsafePointerView(error).getPointer(8);
  const message = messagePointer
    ? Deno.UnsafePointerView.getCString(messagePointer)
    : "unknown GLib error";
  lib.glib.g_error_free(error);
  return message;
}

/** Read and free a `gchar*` that the caller owns. */
export function takeString(lib: UmockdevLibrary, pointer: Deno.PointerValue): string {
  if (!pointer) throw new UmockdevError("umockdev returned no string");
  const text = Deno.UnsafePointerView.getCString(pointer);
  lib.glib.g_free(pointer);
  return text;
}

// UMockdevIoctlData's public fields (umockdev.h):
//   GObject parent_instance (24 bytes); guint8* data @24; gint data_len @32; gulong client_addr @40
const IOCTL_DATA_DATA = 24;
const IOCTL_DATA_LEN = 32;
const IOCTL_DATA_CLIENT_ADDR = 40;

/**
 * The local copy of a client's memory block, as a writable view: changes are
 * written back to the client when the ioctl completes. Valid while `data` is
 * referenced.
 */
export function ioctlDataBytes(data: Deno.PointerObject): Uint8Array<ArrayBuffer> {
  const view = new Deno.UnsafePointerView(data);
  const pointer = view.getPointer(IOCTL_DATA_DATA);
  const length = view.getInt32(IOCTL_DATA_LEN);
  if (!pointer || length <= 0) return new Uint8Array(0);
  return new Uint8Array(Deno.UnsafePointerView.getArrayBuffer(pointer, length));
}

/** The address of a resolved block in the client's address space. */
export function ioctlDataClientAddress(data: Deno.PointerObject): bigint {
  return new Deno.UnsafePointerView(data).getBigUint64(IOCTL_DATA_CLIENT_ADDR);
}

/** The raw value of a pointer-sized ioctl argument (the argument itself, not what it points to). */
export function ioctlArgValue(arg: Deno.PointerObject): bigint {
  const bytes = ioctlDataBytes(arg);
  if (bytes.length < 8) return 0n;
  return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
}

/**
 * Copy `length` bytes of client memory pointed to by the pointer at `offset`
 * in `data` (`umockdev_ioctl_data_resolve`). Returns an owned reference, or
 * null for a NULL client pointer or a zero length.
 *
 * @throws {UmockdevError} when the client memory cannot be read
 */
export function resolveIoctlData(
  lib: UmockdevLibrary,
  data: Deno.PointerObject,
  offset: number,
  length: number,
): Deno.PointerObject | null {
  const slot = errorSlot();
  const child = lib.umockdev.umockdev_ioctl_data_resolve(
    data,
    BigInt(offset),
    BigInt(length),
    slot,
  );
  const message = takeError(lib, slot);
  if (message !== undefined) {
    if (child) lib.gobject.g_object_unref(child);
    throw new UmockdevError(`cannot read the client's memory: ${message}`);
  }
  return child;
}

/**
 * Create a directory (atomically: the operating system's one test-and-set
 * that every thread of the process sees). Goes through libc, so it needs no
 * Deno permission beyond FFI.
 *
 * @returns "created", "exists", or "failed" for any other error
 */
export function createDirectory(
  lib: UmockdevLibrary,
  path: string,
): "created" | "exists" | "failed" {
  if (lib.libc.mkdir(cString(path), 0o700) === 0) return "created";
  const errnoPointer = lib.libc.__errno_location();
  const errno = errnoPointer ? new Deno.UnsafePointerView(errnoPointer).getInt32() : 0;
  return errno === EEXIST ? "exists" : "failed";
}

/** Remove an empty directory (errors ignored). */
export function removeDirectory(lib: UmockdevLibrary, path: string): void {
  lib.libc.rmdir(cString(path));
}
