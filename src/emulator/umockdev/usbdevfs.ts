/**
 * The Linux usbdevfs ABI (`linux/usbdevice_fs.h`) as libusb speaks it to
 * `/dev/bus/usb/BBB/DDD`: ioctl request numbers, the layout of the structures
 * they carry, URB types and flags, capability bits, speeds and the errno
 * values the umockdev bridge answers with.
 *
 * Written for 64-bit little-endian Linux with the generic ioctl encoding
 * (x86_64, aarch64, riscv64): pointers are 8 bytes, `_IOC` puts the direction
 * in bits 30-31 and the size in bits 16-29.
 *
 * @module
 */

const IOC_NONE = 0;
const IOC_WRITE = 1;
const IOC_READ = 2;

/** `_IOC(dir, 'U', nr, size)` for the generic Linux encoding. */
function ioc(dir: number, nr: number, size: number): number {
  return ((dir << 30) | (size << 16) | (0x55 << 8) | nr) >>> 0;
}

/** usbdevfs ioctl request numbers, by their `USBDEVFS_` name. */
export const USBDEVFS = {
  /** Synchronous control transfer (`struct usbdevfs_ctrltransfer`). */
  CONTROL: ioc(IOC_READ | IOC_WRITE, 0, 24),
  /** Synchronous bulk transfer (`struct usbdevfs_bulktransfer`). */
  BULK: ioc(IOC_READ | IOC_WRITE, 2, 24),
  /** Reset an endpoint's data toggle (`unsigned int` endpoint). */
  RESETEP: ioc(IOC_READ, 3, 4),
  /** Select an alternate setting (`struct usbdevfs_setinterface`). */
  SETINTERFACE: ioc(IOC_READ, 4, 8),
  /** Select a configuration (`unsigned int` bConfigurationValue). */
  SETCONFIGURATION: ioc(IOC_READ, 5, 4),
  /** Name of the kernel driver bound to an interface (`struct usbdevfs_getdriver`). */
  GETDRIVER: ioc(IOC_WRITE, 8, 260),
  /** Queue a URB (`struct usbdevfs_urb`). */
  SUBMITURB: ioc(IOC_READ, 10, 56),
  /** Cancel a queued URB (the argument is the URB's address). */
  DISCARDURB: ioc(IOC_NONE, 11, 0),
  /** Wait for a finished URB and return its address. */
  REAPURB: ioc(IOC_WRITE, 12, 8),
  /** Return a finished URB's address, or fail with EAGAIN. */
  REAPURBNDELAY: ioc(IOC_WRITE, 13, 8),
  /** Claim an interface (`unsigned int` interface number). */
  CLAIMINTERFACE: ioc(IOC_READ, 15, 4),
  /** Release an interface (`unsigned int` interface number). */
  RELEASEINTERFACE: ioc(IOC_READ, 16, 4),
  /** Device number and low-speed flag (`struct usbdevfs_connectinfo`). */
  CONNECTINFO: ioc(IOC_WRITE, 17, 8),
  /** Pass an ioctl to an interface's kernel driver (`struct usbdevfs_ioctl`). */
  IOCTL: ioc(IOC_READ | IOC_WRITE, 18, 16),
  /** Reset the device. */
  RESET: ioc(IOC_NONE, 20, 0),
  /** Clear an endpoint halt (`unsigned int` endpoint). */
  CLEAR_HALT: ioc(IOC_READ, 21, 4),
  /** Detach the kernel driver from all interfaces. */
  DISCONNECT: ioc(IOC_NONE, 22, 0),
  /** Reattach kernel drivers. */
  CONNECT: ioc(IOC_NONE, 23, 0),
  /** Capability bits (`__u32`), see {@link USBDEVFS_CAP}. */
  GET_CAPABILITIES: ioc(IOC_READ, 26, 4),
  /** Detach a kernel driver and claim the interface (`struct usbdevfs_disconnect_claim`). */
  DISCONNECT_CLAIM: ioc(IOC_READ, 27, 264),
  /** Bus speed of the device, returned as the ioctl's value ({@link USBDEVFS_SPEED}). */
  GET_SPEED: ioc(IOC_NONE, 31, 0),
} as const;

const IOCTL_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(USBDEVFS).map(([name, request]) => [request, name]),
);

/** The `USBDEVFS_` name of an ioctl request, or its number in hex when it is not one. */
export function usbdevfsName(request: number): string {
  return IOCTL_NAMES.get(request) ?? `0x${request.toString(16).padStart(8, "0")}`;
}

/** Byte offsets in `struct usbdevfs_urb` (56 bytes, no ISO frame descriptors). */
export const URB = {
  type: 0,
  endpoint: 1,
  status: 4,
  flags: 8,
  buffer: 16,
  bufferLength: 24,
  actualLength: 28,
  startFrame: 32,
  numberOfPackets: 36,
  errorCount: 40,
  signr: 44,
  usercontext: 48,
  size: 56,
} as const;

/** `USBDEVFS_URB_TYPE_*`. */
export const URB_TYPE = { ISO: 0, INTERRUPT: 1, CONTROL: 2, BULK: 3 } as const;

/** Name of a URB type, for logs. */
export function urbTypeName(type: number): string {
  return ["ISO", "INTERRUPT", "CONTROL", "BULK"][type] ?? `type${type}`;
}

/** `USBDEVFS_URB_*` flags that change how a URB completes. */
export const URB_FLAG = {
  /** A short IN transfer is an error (status -EREMOTEIO). */
  SHORT_NOT_OK: 0x01,
  /** Part of a transfer split over several URBs. */
  BULK_CONTINUATION: 0x04,
  /** Terminate an OUT transfer with a zero-length packet. */
  ZERO_PACKET: 0x40,
} as const;

/** `USBDEVFS_CAP_*` bits reported by GET_CAPABILITIES. */
export const USBDEVFS_CAP = {
  ZERO_PACKET: 0x01,
  BULK_CONTINUATION: 0x02,
  NO_PACKET_SIZE_LIM: 0x04,
  BULK_SCATTER_GATHER: 0x08,
  REAP_AFTER_DISCONNECT: 0x10,
} as const;

/** Byte offsets in `struct usbdevfs_ctrltransfer` (24 bytes). */
export const CTRLTRANSFER = {
  bRequestType: 0,
  bRequest: 1,
  wValue: 2,
  wIndex: 4,
  wLength: 6,
  timeout: 8,
  data: 16,
  size: 24,
} as const;

/** Byte offsets in `struct usbdevfs_bulktransfer` (24 bytes). */
export const BULKTRANSFER = { ep: 0, len: 4, timeout: 8, data: 16, size: 24 } as const;

/** Byte offsets in `struct usbdevfs_setinterface` (8 bytes). */
export const SETINTERFACE = { interface: 0, altsetting: 4, size: 8 } as const;

/** Byte offsets in `struct usbdevfs_connectinfo` (8 bytes). */
export const CONNECTINFO = { devnum: 0, slow: 4, size: 8 } as const;

/** `USB_SPEED_*` as GET_SPEED returns them. */
export const USBDEVFS_SPEED = {
  UNKNOWN: 0,
  LOW: 1,
  FULL: 2,
  HIGH: 3,
  SUPER: 5,
  SUPER_PLUS: 6,
} as const;

/** The GET_SPEED code for a bus speed in Mbit/s (as sysfs writes it). */
export function usbdevfsSpeed(speedMbps: number): number {
  if (speedMbps === 1.5) return USBDEVFS_SPEED.LOW;
  if (speedMbps === 12) return USBDEVFS_SPEED.FULL;
  if (speedMbps === 480) return USBDEVFS_SPEED.HIGH;
  if (speedMbps === 5000) return USBDEVFS_SPEED.SUPER;
  if (speedMbps >= 10000) return USBDEVFS_SPEED.SUPER_PLUS;
  return USBDEVFS_SPEED.UNKNOWN;
}

/** Linux errno values used by usbdevfs (positive; URB status fields carry them negated). */
export const ERRNO = {
  ENOENT: 2,
  EIO: 5,
  EAGAIN: 11,
  EFAULT: 14,
  EBUSY: 16,
  ENODEV: 19,
  EINVAL: 22,
  ENOTTY: 25,
  EPIPE: 32,
  ENODATA: 61,
  EOVERFLOW: 75,
  ECONNRESET: 104,
  ESHUTDOWN: 108,
  ETIMEDOUT: 110,
  EREMOTEIO: 121,
} as const;

const ERRNO_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(ERRNO).map(([name, value]) => [value, name]),
);

/** `"-EPIPE"` for -32, `"0"` for 0: a URB status for logs. */
export function urbStatusName(status: number): string {
  if (status === 0) return "0";
  const name = ERRNO_NAMES.get(Math.abs(status));
  return name ? `${status < 0 ? "-" : ""}${name}` : String(status);
}
