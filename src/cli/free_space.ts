/**
 * Free space of the file system a directory is on, so that a batch download
 * whose size is known can be refused before the first byte instead of
 * failing half-way. Deno has no statvfs; on Linux the C library's is called
 * through FFI. Elsewhere, or when FFI is not allowed, the space is unknown
 * and nothing is checked (a full disk still fails cleanly: no file is left
 * under its final name).
 *
 * @module
 */

/** `struct statvfs` of glibc and musl on 64-bit Linux: 11 words, then spare. */
const STATVFS_SIZE = 112;
/** `f_frsize` (fragment size: the unit of the block counts). */
const F_FRSIZE = 8;
/** `f_bavail` (blocks free for unprivileged users). */
const F_BAVAIL = 32;

let statvfs: ((path: Uint8Array, buffer: Uint8Array) => number) | null | undefined;

function loadStatvfs(): typeof statvfs {
  if (statvfs !== undefined) return statvfs;
  statvfs = null;
  if (Deno.build.os !== "linux" || !/^(x86_64|aarch64)$/.test(Deno.build.arch)) return statvfs;
  for (const name of ["libc.so.6", "libc.so"]) {
    try {
      const lib = Deno.dlopen(name, {
        statvfs: { parameters: ["buffer", "buffer"], result: "i32" },
      });
      statvfs = (path, buffer) => lib.symbols.statvfs(path, buffer);
      break;
    } catch {
      // Not this name, or FFI not allowed: try the next, else unknown.
    }
  }
  return statvfs;
}

/**
 * Bytes free for this user on the file system of `directory`.
 *
 * @param directory an existing directory
 * @returns the bytes, or undefined when that cannot be known here
 */
export function freeSpace(directory: string): number | undefined {
  const call = loadStatvfs();
  if (!call) return undefined;
  const buffer = new Uint8Array(STATVFS_SIZE);
  const path = new TextEncoder().encode(`${directory}\0`);
  if (call(path, buffer) !== 0) return undefined;
  const view = new DataView(buffer.buffer);
  const unit = Number(view.getBigUint64(F_FRSIZE, true));
  const blocks = Number(view.getBigUint64(F_BAVAIL, true));
  return unit * blocks;
}
