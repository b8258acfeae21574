/**
 * A device node that a client can wait on: umockdev's node for an emulated
 * USB device is an empty regular file, which `epoll` refuses (`EPERM`), so a
 * client that waits for its URBs with epoll (Chromium's WebUSB) never reaps
 * them. A FIFO is accepted; and because its writability can be controlled,
 * it can say truthfully what a usbdevfs node says with `POLLOUT`: "a URB has
 * completed". The bridge keeps the FIFO full (not writable) while there is
 * nothing to reap, and empties it (writable) when a URB completes, so a
 * waiting client sleeps instead of spinning.
 *
 * Sources: Chromium 156 (Debian) watching the device fd with epoll and
 * getting `EPERM` for umockdev's regular file, and working once the node is a
 * FIFO, are from `strace -f` runs in `shared/docs/webusb-chromium-recipe.md`;
 * the cost of an always-writable FIFO (about 41 % of a core in Chromium and
 * 20 % in the emulator while the device sat open, idle) and its removal by
 * this class (about 1 % and 0 %) are measured by `tests/browser_webusb_test.ts`.
 * Linux's `pipe_poll` reports `POLLOUT` while the pipe is not full.
 *
 * The FIFO is made and handled through libc (Linux only, like umockdev).
 *
 * @module
 */

const O_RDWR = 0o2;
const O_NONBLOCK = 0o4000;
const CHUNK = 4096;

const symbols = {
  /** int mkfifo(const char *pathname, mode_t mode) */
  mkfifo: { parameters: ["buffer", "u32"], result: "i32" },
  /** int chmod(const char *pathname, mode_t mode) */
  chmod: { parameters: ["buffer", "u32"], result: "i32" },
  /** int unlink(const char *pathname) */
  unlink: { parameters: ["buffer"], result: "i32" },
  /** int open(const char *pathname, int flags) */
  open: { parameters: ["buffer", "i32"], result: "i32" },
  /** ssize_t read(int fd, void *buf, size_t count) */
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  /** ssize_t write(int fd, const void *buf, size_t count) */
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  /** int close(int fd) */
  close: { parameters: ["i32"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

let libc: Deno.DynamicLibrary<typeof symbols>["symbols"] | undefined;

function loadLibc(): Deno.DynamicLibrary<typeof symbols>["symbols"] {
  libc ??= Deno.dlopen("libc.so.6", symbols).symbols;
  return libc;
}

const path0 = (path: string): Uint8Array<ArrayBuffer> => new TextEncoder().encode(`${path}\0`);

/**
 * A FIFO in place of a device node, held open read-write by the emulator,
 * whose writability follows {@link FifoNode.ready} and {@link FifoNode.idle}.
 */
export class FifoNode {
  /** The FIFO's path on disk (inside the testbed). */
  readonly path: string;
  #fd: number;
  #full = false;
  readonly #chunk = new Uint8Array(CHUNK);

  private constructor(path: string, fd: number) {
    this.path = path;
    this.#fd = fd;
  }

  /**
   * Replace the file at `path` with a FIFO (mode 0666) and hold it open.
   * It starts writable, as a freshly opened usbdevfs node does not block.
   *
   * @param path the device node's file in the testbed
   * @returns the FIFO
   * @throws {Error} when libc cannot make or open it
   */
  static replace(path: string): FifoNode {
    const c = loadLibc();
    const name = path0(path);
    c.unlink(name);
    if (c.mkfifo(name, 0o666) !== 0) throw new Error(`mkfifo ${path} failed`);
    c.chmod(name, 0o666); // past the umask
    const fd = c.open(name, O_RDWR | O_NONBLOCK);
    if (fd < 0) throw new Error(`cannot open the FIFO ${path}`);
    return new FifoNode(path, fd);
  }

  /** Whether the FIFO is held full (nothing to reap: waiters sleep). */
  get idleNow(): boolean {
    return this.#full;
  }

  /** Nothing to reap: fill the FIFO so that it stops being writable. */
  idle(): void {
    if (this.#full || this.#fd < 0) return;
    const c = loadLibc();
    while (c.write(this.#fd, this.#chunk, BigInt(CHUNK)) > 0) {
      // until the pipe is full (EAGAIN)
    }
    this.#full = true;
  }

  /** A URB completed (or the device went away): empty the FIFO so waiters wake. */
  ready(): void {
    if (!this.#full || this.#fd < 0) return;
    const c = loadLibc();
    while (c.read(this.#fd, this.#chunk, BigInt(CHUNK)) > 0) {
      // until the pipe is empty (EAGAIN)
    }
    this.#full = false;
  }

  /** Let go of the FIFO (it stays writable for anyone still holding it). Idempotent. */
  close(): void {
    if (this.#fd < 0) return;
    this.ready();
    loadLibc().close(this.#fd);
    this.#fd = -1;
  }
}
