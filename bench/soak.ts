// Soak: one camera session through the real stack (Camera -> libusb ->
// umockdev -> VirtualCamera) running many mixed commands and downloading a
// lot, watching for leaks: resident memory, open file descriptors, libusb
// context holds, and umockdev testbed directories left in $TMPDIR. Prints a
// JSON report; exits 1 when a figure grew past its bound.
//
// By default the virtual camera and its umockdev testbed stay in this process
// and the library runs in a child process (`--client`), which libusb reaches
// through the testbed: the report's readings are the library's alone, and the
// emulator's are reported beside them (`emulator`). `--in-process` runs both
// in one process, as before.
//
//   deno task soak                       10,000 commands and 1 GiB
//   deno task soak --quick               300 commands and 16 MiB (tests/soak_test.ts)
//   deno task soak --commands N --mib M
//   deno task soak --in-process          library and emulator in one process
import { Camera } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { MemoryCard } from "../src/emulator/card/memory_card.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
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
  /** JavaScript heap reserved by V8 (its young and old generations), bytes. */
  heapTotal: number;
  /** Memory of ArrayBuffers outside the JavaScript heap, bytes. */
  external: number;
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
  /**
   * The emulator's process (virtual camera, umockdev testbed and bridge) when
   * the library ran in a child: at the start, every tenth of the run, at the end.
   */
  emulator?: { start: Reading; samples: Reading[]; end: Reading };
  /** The V8 flags of the library's process, when it ran in a child. */
  clientV8Flags?: string[];
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
    heapTotal: Deno.memoryUsage().heapTotal,
    external: Deno.memoryUsage().external,
    fds: [...Deno.readDirSync("/proc/self/fd")].length,
    libusbHolds: libusbContextUsers(),
    testbedDirs: testbedDirs(),
  };
}

const BIG = "/DCIM/100CANON/MVI_0001.AVI";
const SMALL = "/DCIM/100CANON/IMG_0001.JPG";
const PHOTOS = ["IMG_0001.JPG", "IMG_0002.JPG", "IMG_0003.JPG", "IMG_0004.JPG"];

type Sample = SoakReport["samples"][number];

/** The mixed commands and the big downloads, on an open camera. */
async function drive(
  cam: Camera,
  options: SoakOptions,
  dir: string,
  samples: Sample[],
): Promise<{ commands: number; downloaded: number; warm: Reading; end: Reading }> {
  let commands = 0;
  let downloaded = 0;
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
  const warm = read();
  const smaps = Deno.env.get("SOAK_SMAPS");
  if (smaps) Deno.copyFileSync("/proc/self/smaps", `${smaps}.warm`);
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
  const end = read();
  return { commands, downloaded, warm, end };
}

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
  let commands: number;
  let downloaded: number;
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
      ({ commands, downloaded, warm, end } = await drive(cam, options, dir, samples));
    } finally {
      await cam.close();
    }
  }
  await vc[Symbol.asyncDispose]();
  await Deno.remove(dir, { recursive: true });
  const after = read();

  const problems = libraryProblems({ before, warm: warm!, end: end!, after, samples }, false);
  bound(problems, "umockdev directories in $TMPDIR", after.testbedDirs - before.testbedDirs, 0);
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

function bound(problems: string[], what: string, grew: number, limit: number): void {
  if (grew > limit) problems.push(`${what} grew by ${grew} (bound ${limit})`);
}

/** The library's readings of a run. */
type LibraryReadings = Pick<SoakReport, "before" | "warm" | "end" | "after" | "samples">;

/**
 * The bounds on what the library's process holds. Alone in its process (the
 * emulator elsewhere), the library's RSS may not grow by more than 16 MiB
 * while the camera is open; with the emulator beside it, the looser bounds of
 * the first soak apply.
 */
function libraryProblems(r: LibraryReadings, alone: boolean): string[] {
  const problems: string[] = [];
  // What the program holds must not grow; the process's resident size may rise
  // to the allocator's high-water mark early on, but not keep rising.
  bound(problems, "JavaScript heap while open (bytes)", r.end.heapUsed - r.warm.heapUsed, 16 * MIB);
  const half = r.samples[Math.floor(r.samples.length / 2)] ?? r.warm;
  bound(
    problems,
    "RSS over the second half of the run (bytes)",
    r.end.rss - half.rss,
    (alone ? 8 : 64) * MIB,
  );
  bound(problems, "RSS while open (bytes)", r.end.rss - r.warm.rss, (alone ? 16 : 128) * MIB);
  bound(problems, "open file descriptors while open", r.end.fds - r.warm.fds, 2);
  // The soak's own testbed leaves umockdev's two descriptors behind (see above),
  // and GLib opens a socket pair once, on about the third testbed of a process.
  bound(problems, "open file descriptors after close", r.after.fds - r.before.fds, 4);
  bound(
    problems,
    "libusb context holds while open",
    r.end.libusbHolds - r.warm.libusbHolds,
    0,
  );
  if (r.after.libusbHolds !== 0) problems.push(`${r.after.libusbHolds} libusb holds after close`);
  return problems;
}

/** What the child of {@link soakSplit} reports. */
interface ClientReport extends LibraryReadings {
  commands: number;
  downloadedBytes: number;
}

/**
 * The library's half of {@link soakSplit}, in the child: the camera is the one
 * the parent's testbed shows libusb.
 */
async function soakClient(options: SoakOptions): Promise<ClientReport> {
  // As in the one-process soak: libusb and the FFI threads start on the first open.
  for (let cycle = 0; cycle < 2; cycle++) {
    const cam = await Camera.open();
    await cam.identify();
    await cam.close();
  }
  const before = read();
  const dir = await Deno.makeTempDir({ prefix: "canon-soak-" });
  const samples: Sample[] = [];
  let run;
  const cam = await Camera.open();
  try {
    run = await drive(cam, options, dir, samples);
  } finally {
    await cam.close();
    await Deno.remove(dir, { recursive: true });
  }
  const after = read();
  // Where the resident memory is, for a look with the mappings' names.
  const smaps = Deno.env.get("SOAK_SMAPS");
  if (smaps) Deno.copyFileSync("/proc/self/smaps", smaps);
  const { commands, downloaded, warm, end } = run;
  return { commands, downloadedBytes: downloaded, before, warm, end, after, samples };
}

/**
 * V8 flags of the library's process. By default its young generation is held
 * at 1 MiB semi-spaces: under the downloads' allocation rate V8 otherwise
 * grows it to its maximum (heapTotal 9 -> 60 MiB with 7 MiB in use), which is
 * V8's sizing, not memory the library holds, and would hide a leak of the
 * library's under 16 MiB. `--client-v8-flags A,B` replaces them
 * (`--client-v8-flags ""` for V8's defaults, under the looser bounds).
 */
let clientV8Flags: string[] = ["--max-semi-space-size=1"];

/**
 * The soak with the emulator (virtual camera, umockdev testbed and bridge) in
 * this process and the library in a child process that reaches the camera
 * through libusb and the testbed: each process's figures are its own.
 *
 * @param options how much to do
 * @returns the report: the library's readings, and the emulator's in `emulator`
 */
export async function soakSplit(options: SoakOptions): Promise<SoakReport> {
  const started = performance.now();
  privateTmp ??= Deno.makeTempDirSync({ dir: "/tmp", prefix: "cs-" });
  Deno.env.set("TMPDIR", privateTmp);
  const emulatorBefore = read();
  const card = new MemoryCard({
    content: [
      ...PHOTOS.map((name) => ({ path: `/DCIM/100CANON/${name}` })),
      { path: BIG, size: options.bigFile },
    ],
    capacity: 0xfff00000,
  });
  const vc = new VirtualCamera({ card });
  let client: ClientReport;
  let root: string;
  const emulatorSamples: Reading[] = [];
  let emulatorEnd: Reading;
  {
    using testbed = UmockdevTestbed.open();
    root = testbed.root;
    if (!testbed.preloaded) {
      throw new Error("run with LD_PRELOAD=libumockdev-preload.so.0 (deno task soak does)");
    }
    testbed.attach(vc.usbFunction);
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--no-check",
        `--v8-flags=${["--expose-gc", ...clientV8Flags].join(",")}`,
        new URL(import.meta.url).pathname,
        "--client",
        "--commands",
        String(options.commands),
        "--bytes",
        String(options.bytes),
        "--big",
        String(options.bigFile),
      ],
      env: testbed.env(),
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const sampler = setInterval(() => emulatorSamples.push(read()), 1000);
    let output;
    try {
      output = await child.output();
    } finally {
      clearInterval(sampler);
    }
    emulatorEnd = read();
    const text = new TextDecoder().decode(output.stdout);
    if (!output.success) throw new Error(`the soak's library process failed (${output.code})`);
    client = JSON.parse(text);
  }
  await vc[Symbol.asyncDispose]();
  const afterClose = read();
  // The tight bounds hold with V8's young generation held small (see clientV8Flags).
  const problems = libraryProblems(
    client,
    clientV8Flags.some((f) => f.startsWith("--max-semi-space-size")),
  );
  bound(
    problems,
    "umockdev directories in $TMPDIR",
    afterClose.testbedDirs - emulatorBefore.testbedDirs,
    0,
  );
  try {
    Deno.statSync(root);
    problems.push(`the testbed directory ${root} was left behind`);
  } catch {
    // removed, as it should be
  }
  Deno.removeSync(privateTmp, { recursive: true });
  // Every tenth of the emulator's readings.
  const step = Math.max(1, Math.floor(emulatorSamples.length / 10));
  return {
    options,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    commands: client.commands,
    downloadedBytes: client.downloadedBytes,
    before: client.before,
    warm: client.warm,
    end: client.end,
    // The testbed directories are counted once the parent has removed its testbed.
    after: { ...client.after, testbedDirs: afterClose.testbedDirs },
    samples: client.samples,
    problems,
    clientV8Flags,
    emulator: {
      start: emulatorBefore,
      samples: emulatorSamples.filter((_, i) => i % step === 0),
      end: emulatorEnd,
    },
  };
}

if (import.meta.main && Deno.args.includes("--client")) {
  const value = (flag: string) => Number(Deno.args[Deno.args.indexOf(flag) + 1]);
  const report = await soakClient({
    commands: value("--commands"),
    bytes: value("--bytes"),
    bigFile: value("--big"),
  });
  console.log(JSON.stringify(report));
  Deno.exit(0);
}

if (import.meta.main) {
  const args = Deno.args;
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  const quick = args.includes("--quick");
  const flags = args.indexOf("--client-v8-flags");
  if (flags >= 0) clientV8Flags = (args[flags + 1] ?? "").split(",").filter((f) => f !== "");
  const options: SoakOptions = {
    commands: value("--commands") ?? (quick ? 300 : 10_000),
    bytes: (value("--mib") ?? (quick ? 16 : 1024)) * MIB,
    bigFile: (quick ? 8 : 64) * MIB,
  };
  const report = args.includes("--in-process") ? await soak(options) : await soakSplit(options);
  console.log(JSON.stringify(report, null, 2));
  if (report.problems.length > 0) {
    console.error(`soak: ${report.problems.join("; ")}`);
    Deno.exit(1);
  }
}
