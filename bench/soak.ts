// Soak: one camera session through the real stack (Camera -> libusb ->
// umockdev -> VirtualCamera, in this process) running many mixed commands
// and downloading a lot, watching for leaks: resident memory, open file
// descriptors, libusb context holds, and umockdev testbed directories left in
// $TMPDIR. Prints a JSON report; exits 1 when a figure grew past its bound.
//
//   deno task soak                       10,000 commands and 1 GiB
//   deno task soak --quick               300 commands and 16 MiB (tests/soak_test.ts)
//   deno task soak --commands N --mib M
import { Camera } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { MemoryCard } from "../src/emulator/memory_card.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev.ts";
import { libusbContextUsers } from "../src/usb/libusb_context.ts";

const MIB = 1024 * 1024;

/** What the soak runs. */
export interface SoakOptions {
  /** Mixed API calls (identify, power, list, thumbnail, small download, owner, mkdir/rmdir). */
  commands: number;
  /** Bytes to download in large files, spread over the run. */
  bytes: number;
  /** Size of the large file. */
  bigFile: number;
}

/** One reading of the process. */
export interface Reading {
  /** Resident set size, bytes. */
  rss: number;
  /** JavaScript heap in use, bytes (after a collection when --expose-gc is on). */
  heapUsed: number;
  /** Open file descriptors (/proc/self/fd). */
  fds: number;
  /** Holds on the shared libusb context (one per open device). */
  libusbHolds: number;
  /** umockdev.* directories in $TMPDIR. */
  testbedDirs: number;
}

/** The soak's report. */
export interface SoakReport {
  options: SoakOptions;
  seconds: number;
  commands: number;
  downloadedBytes: number;
  /** Before the soak's testbed exists (after one warm-up open/close cycle). */
  before: Reading;
  /** Camera open, after one round of every command (lazy allocations done). */
  warm: Reading;
  /** Camera still open, after the run. */
  end: Reading;
  /** Camera closed, testbed removed. */
  after: Reading;
  /** Readings every tenth of the run (camera open). */
  samples: (Reading & { commands: number; downloadedBytes: number })[];
  /** Bound violations; empty when the soak passed. */
  problems: string[];
}

// umockdev makes its testbed directories in $TMPDIR (read once, at the first
// testbed): the soak gives itself a private one, so that the count is its own.
let privateTmp: string | undefined;
const tmpdir = (): string => privateTmp ?? (Deno.env.get("TMPDIR") || "/tmp");

function testbedDirs(): number {
  let n = 0;
  for (const entry of Deno.readDirSync(tmpdir())) {
    if (entry.isDirectory && entry.name.startsWith("umockdev.")) n++;
  }
  return n;
}

function read(): Reading {
  (globalThis as { gc?: () => void }).gc?.();
  return {
    rss: Deno.memoryUsage().rss,
    heapUsed: Deno.memoryUsage().heapUsed,
    fds: [...Deno.readDirSync("/proc/self/fd")].length,
    libusbHolds: libusbContextUsers(),
    testbedDirs: testbedDirs(),
  };
}

const BIG = "/DCIM/100CANON/MVI_0001.AVI";
const SMALL = "/DCIM/100CANON/IMG_0001.JPG";
const PHOTOS = ["IMG_0001.JPG", "IMG_0002.JPG", "IMG_0003.JPG", "IMG_0004.JPG"];

/**
 * Run the soak and measure.
 *
 * @param options how much to do
 * @returns the report
 */
export async function soak(options: SoakOptions): Promise<SoakReport> {
  const started = performance.now();
  // Short: umockdev's ioctl sockets live below it, and socket paths end at 108 bytes.
  privateTmp ??= Deno.makeTempDirSync({ dir: "/tmp", prefix: "cs-" });
  Deno.env.set("TMPDIR", privateTmp);
  // Two open/close cycles first: libusb, libumockdev and the FFI worker threads
  // start once, and umockdev keeps an eventfd and a socket for every testbed a
  // process ever opened (libumockdev 0.17; a bare testbed_new/unref shows it):
  // fixed costs, not leaks.
  for (let cycle = 0; cycle < 2; cycle++) {
    const vc = new VirtualCamera({ card: false });
    using testbed = UmockdevTestbed.open();
    testbed.attach(vc.usbFunction);
    const cam = await Camera.open();
    await cam.identify();
    await cam.close();
    await vc[Symbol.asyncDispose]();
  }
  const before = read();
  const dir = await Deno.makeTempDir({ prefix: "canon-soak-" });
  const card = new MemoryCard({
    content: [
      ...PHOTOS.map((name) => ({ path: `/DCIM/100CANON/${name}` })),
      { path: BIG, size: options.bigFile },
    ],
    capacity: 0xfff00000,
  });
  const vc = new VirtualCamera({ card });
  let commands = 0;
  let downloaded = 0;
  const samples: SoakReport["samples"] = [];
  let warm: Reading;
  let end: Reading;
  let root: string;
  {
    using testbed = UmockdevTestbed.open();
    root = testbed.root;
    if (!testbed.preloaded) {
      throw new Error("run with LD_PRELOAD=libumockdev-preload.so.0 (deno task soak does)");
    }
    testbed.attach(vc.usbFunction);
    const cam = await Camera.open();
    try {
      const big = async () => {
        const result = await cam.storage.download(BIG, dir, { overwrite: true });
        downloaded += result.size;
        await Deno.remove(result.file!);
      };
      let owner = 0;
      const step = async (i: number) => {
        switch (i % 8) {
          case 0:
            await cam.identify();
            break;
          case 1:
            await cam.powerStatus();
            break;
          case 2:
            await cam.storage.list("/DCIM", { recursive: true });
            break;
          case 3:
            await cam.storage.thumbnail(`/DCIM/100CANON/${PHOTOS[i % PHOTOS.length]}`);
            break;
          case 4: {
            const result = await cam.storage.download(SMALL, dir, { overwrite: true });
            downloaded += result.size;
            break;
          }
          case 5:
            await cam.setOwner(`Soak ${owner++ % 100}`);
            break;
          case 6:
            await cam.storage.mkdir("/DCIM/199SOAK");
            break;
          case 7:
            await cam.storage.rmdir("/DCIM/199SOAK");
            break;
        }
        commands++;
      };
      for (let i = 0; i < 8; i++) await step(i);
      warm = read();
      const bigCount = Math.ceil(options.bytes / options.bigFile);
      const every = Math.max(1, Math.floor(options.commands / Math.max(1, bigCount)));
      let bigDone = 0;
      const tenth = Math.max(1, Math.floor(options.commands / 10));
      for (let i = 8; i < options.commands; i++) {
        await step(i);
        if (i % tenth === 0) samples.push({ commands, downloadedBytes: downloaded, ...read() });
        if (i % every === 0 && bigDone < bigCount) {
          await big();
          bigDone++;
        }
      }
      while (bigDone < bigCount) {
        await big();
        bigDone++;
      }
      end = read();
    } finally {
      await cam.close();
    }
  }
  await vc[Symbol.asyncDispose]();
  await Deno.remove(dir, { recursive: true });
  const after = read();

  const problems: string[] = [];
  const bound = (what: string, grew: number, limit: number) => {
    if (grew > limit) problems.push(`${what} grew by ${grew} (bound ${limit})`);
  };
  // What the program holds must not grow; the process's resident size may rise
  // to the allocator's high-water mark early on, but not keep rising.
  bound("JavaScript heap while open (bytes)", end.heapUsed - warm.heapUsed, 16 * MIB);
  const half = samples[Math.floor(samples.length / 2)] ?? warm;
  bound("RSS over the second half of the run (bytes)", end.rss - half.rss, 64 * MIB);
  bound("RSS while open (bytes)", end.rss - warm.rss, 128 * MIB);
  bound("open file descriptors while open", end.fds - warm.fds, 2);
  // The soak's own testbed leaves umockdev's two descriptors behind (see above),
  // and GLib opens a socket pair once, on about the third testbed of a process.
  bound("open file descriptors after close", after.fds - before.fds, 4);
  bound("libusb context holds while open", end.libusbHolds - warm.libusbHolds, 0);
  if (after.libusbHolds !== 0) problems.push(`${after.libusbHolds} libusb holds after close`);
  bound("umockdev directories in $TMPDIR", after.testbedDirs - before.testbedDirs, 0);
  try {
    Deno.statSync(root);
    problems.push(`the testbed directory ${root} was left behind`);
  } catch {
    // removed, as it should be
  }
  Deno.removeSync(privateTmp, { recursive: true });
  return {
    options,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    commands,
    downloadedBytes: downloaded,
    before,
    warm: warm!,
    end: end!,
    after,
    samples,
    problems,
  };
}

if (import.meta.main) {
  const args = Deno.args;
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  const quick = args.includes("--quick");
  const options: SoakOptions = {
    commands: value("--commands") ?? (quick ? 300 : 10_000),
    bytes: (value("--mib") ?? (quick ? 16 : 1024)) * MIB,
    bigFile: (quick ? 8 : 64) * MIB,
  };
  const report = await soak(options);
  console.log(JSON.stringify(report, null, 2));
  if (report.problems.length > 0) {
    console.error(`soak: ${report.problems.join("; ")}`);
    Deno.exit(1);
  }
}
