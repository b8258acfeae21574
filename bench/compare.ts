// canon-remote side by side with the tools users would otherwise pick, in one
// run and one process tree (this process owns the umockdev testbeds; every
// client is a child process that reaches the emulated devices through the
// real libusb):
//
//  1. download of one file (64 MiB; --quick: 16 MiB, and 2 MiB with the bus
//     model) from the virtual PowerShot G3: this library (bench/download_once.ts,
//     a fresh process) vs `gphoto2 --get-file`, with the virtual camera's bus
//     model off (as fast as the emulation goes) and on (USB 1.1 full speed,
//     1,216,000 B/s at most): MB/s of the whole command, % of the bus limit,
//     CPU seconds per MiB of the client, and of the emulator (this process);
//  2. the USB layer alone against a pattern device: bulk IN throughput in
//     64 KiB reads, one at a time and 8 in flight, and the round trip of an
//     8-byte control transfer: LibusbDevice (bench/usb_layer.ts) vs node-usb 2.x
//     (bench/node/usb_layer.cjs, run with Node; installed into bench/node/ by
//     `npm install --prefix bench/node usb@2` when missing);
//  3. start-up: `canon info` (src/cli/main.ts bundled into one file with
//     `deno bundle`) vs `gphoto2 --summary`, wall time of the whole command;
//  4. codec throughput in-process: directory listings (decodeListing) and file
//     reassembly (Storage.read of a file from the in-process virtual camera);
//  5. peak memory of a fresh process downloading a 512 MiB file (--quick: 128 MiB).
//
// CPU time of a child comes from bash's `times` builtin run after it in the
// same shell (user + system of the finished child, its own children
// included); this process's own CPU from process.cpuUsage(). Under umockdev
// every libusb client polls the device node in a busy loop while a transfer
// is pending (the node is a plain file, see the umockdev recipe), so client
// CPU figures are inflated alike for every tool, most with the bus model on.
//
//   deno task bench:compare [--quick]    (results: bench/results/compare[-quick].json)
import {
  benchCard,
  type ChildRun,
  fmt,
  hasCommand,
  mbps,
  median,
  MIB,
  nullSink,
  ownCpuSeconds,
  runMeasured,
  timeIt,
} from "./_lib.ts";
import { Camera } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { FULL_SPEED_BULK_LIMIT } from "../src/emulator/bus_model.ts";
import { PatternFunction } from "../src/emulator/pattern_device.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev.ts";
import { COMMANDS } from "../src/protocol/commands.ts";
import { decodeListing, encodeGetDirectory, toCameraPath } from "../src/protocol/storage_codec.ts";

const quick = Deno.args.includes("--quick");
const CONFIG = quick
  ? { size: 16 * MIB, busSize: 2 * MIB, rounds: 1, big: 128 * MIB, usb: 32 * MIB, starts: 3 }
  : { size: 64 * MIB, busSize: 64 * MIB, rounds: 3, big: 512 * MIB, usb: 64 * MIB, starts: 7 };
const FILE = "/DCIM/100CANON/MVI_0001.AVI";
const SMALL = "/DCIM/100CANON/MVI_0002.AVI";
const DENO = Deno.execPath();
const ROOT = new URL("..", import.meta.url).pathname;

const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  quick,
  machine: { cpus: navigator.hardwareConcurrency, loadavg: Deno.loadavg() },
  config: CONFIG,
};

/** One row of the printed table. */
interface Row {
  what: string;
  ours: string;
  other: string;
  ratio: string;
}
const rows: Row[] = [];
const targets: { target: string; met: boolean; detail: string }[] = [];

function section(title: string): void {
  rows.push({ what: `-- ${title}`, ours: "", other: "", ratio: "" });
  console.error(`[compare] ${title}`);
}

function row(what: string, ours: string, other: string, ratio = ""): void {
  rows.push({ what, ours, other, ratio });
}

function target(name: string, met: boolean, detail: string): void {
  targets.push({ target: name, met, detail });
}

/** Run a client, and the CPU this process (the emulator) used meanwhile. */
async function measured(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string },
): Promise<ChildRun & { hostCpu: number }> {
  const before = ownCpuSeconds();
  const run = await runMeasured(command, args, options);
  return { ...run, hostCpu: ownCpuSeconds() - before };
}

// ---- 1. downloads ----------------------------------------------------------

interface DownloadFigures {
  size: number;
  oursMBps: number;
  oursTransferMBps: number;
  gphoto2MBps: number;
  oursCpuPerMiB: number;
  gphoto2CpuPerMiB: number;
  emulatorCpuPerMiBOurs: number;
  emulatorCpuPerMiBGphoto2: number;
  identical: boolean;
}

async function downloads(busModel: boolean, dir: string): Promise<DownloadFigures> {
  const size = busModel ? CONFIG.busSize : CONFIG.size;
  const rounds = busModel ? 1 : CONFIG.rounds;
  const camera = new VirtualCamera({
    card: benchCard([{ path: FILE, size }, { path: SMALL, size: 64 * 1024 }]),
    busModel,
  });
  const oursDir = `${dir}/ours`;
  const theirDir = `${dir}/gphoto2`;
  await Deno.mkdir(oursDir, { recursive: true });
  await Deno.mkdir(theirDir, { recursive: true });
  try {
    using testbed = UmockdevTestbed.open();
    testbed.attach(camera.usbFunction);
    const env = testbed.env();
    const ours = (path: string) =>
      measured(DENO, ["run", "--allow-all", `${ROOT}bench/download_once.ts`, path, oursDir], {
        env,
      });
    const theirs = (path: string) =>
      measured("gphoto2", ["--get-file", path, "--force-overwrite"], {
        env: { ...env, LANG: "C" },
        cwd: theirDir,
      });
    // Warm-up (module and page caches), not timed.
    await ours(SMALL);
    await theirs(SMALL);
    const o: (ChildRun & { hostCpu: number })[] = [];
    const t: (ChildRun & { hostCpu: number })[] = [];
    for (let i = 0; i < rounds; i++) {
      o.push(await ours(FILE));
      t.push(await theirs(FILE));
    }
    const a = await Deno.readFile(`${oursDir}/MVI_0001.AVI`);
    const b = await Deno.readFile(`${theirDir}/MVI_0001.AVI`);
    const identical = a.length === size && b.length === size && a.every((x, i) => x === b[i]);
    const mib = size / MIB;
    const transferMs = o.map((r) => JSON.parse(r.stdout).downloadMs as number);
    return {
      size,
      oursMBps: mbps(size, median(o.map((r) => r.ms))),
      oursTransferMBps: mbps(size, median(transferMs)),
      gphoto2MBps: mbps(size, median(t.map((r) => r.ms))),
      oursCpuPerMiB: median(o.map((r) => r.cpu)) / mib,
      gphoto2CpuPerMiB: median(t.map((r) => r.cpu)) / mib,
      emulatorCpuPerMiBOurs: median(o.map((r) => r.hostCpu)) / mib,
      emulatorCpuPerMiBGphoto2: median(t.map((r) => r.hostCpu)) / mib,
      identical,
    };
  } finally {
    await camera[Symbol.asyncDispose]();
  }
}

function reportDownloads(label: string, d: DownloadFigures, busModel: boolean): void {
  section(`download of a ${d.size / MIB} MiB file, bus model ${busModel ? "on" : "off"}`);
  const speedRatio = d.oursMBps / d.gphoto2MBps;
  row(
    "MB/s, whole command (vs gphoto2 --get-file)",
    fmt(d.oursMBps, 2),
    fmt(d.gphoto2MBps, 2),
    `${fmt(speedRatio, 2)}x`,
  );
  row("MB/s, transfer only (after open)", fmt(d.oursTransferMBps, 2), "", "");
  if (busModel) {
    const limit = FULL_SPEED_BULK_LIMIT / 1e6;
    row(
      "% of the 1,216,000 B/s bus limit",
      `${fmt((100 * d.oursMBps) / limit)} %`,
      `${fmt((100 * d.gphoto2MBps) / limit)} %`,
      "",
    );
    row("  transfer only", `${fmt((100 * d.oursTransferMBps) / limit)} %`, "", "");
  }
  row(
    "client CPU s per MiB",
    fmt(d.oursCpuPerMiB, 4),
    fmt(d.gphoto2CpuPerMiB, 4),
    `${fmt(d.gphoto2CpuPerMiB / d.oursCpuPerMiB, 2)}x less`,
  );
  row(
    "emulator CPU s per MiB (this process)",
    fmt(d.emulatorCpuPerMiBOurs, 4),
    fmt(d.emulatorCpuPerMiBGphoto2, 4),
    "",
  );
  row("files identical", String(d.identical), "", "");
  results[label] = d;
  if (busModel) {
    const share = d.oursMBps / (FULL_SPEED_BULK_LIMIT / 1e6);
    target(
      "bus model on: >= 97% of the bus limit",
      share >= 0.97,
      `${fmt(100 * share, 1)} % (transfer only ${
        fmt((100 * d.oursTransferMBps) / (FULL_SPEED_BULK_LIMIT / 1e6), 1)
      } %)`,
    );
    target("bus model on: >= 1.2x gphoto2", speedRatio >= 1.2, `${fmt(speedRatio, 2)}x`);
  } else {
    target("bus model off: >= gphoto2", speedRatio >= 1, `${fmt(speedRatio, 2)}x`);
  }
}

// ---- 2. the USB layer -------------------------------------------------------

interface UsbFigures {
  bulkMBps: number;
  bulkPipelinedMBps: number;
  controlUs: number;
}

async function ensureNodeUsb(): Promise<boolean> {
  if (!(await hasCommand("node"))) return false;
  try {
    await Deno.stat(`${ROOT}bench/node/node_modules/usb/package.json`);
    return true;
  } catch {
    console.error("[compare] installing node-usb 2.x into bench/node/ (npm install usb@2)");
    const out = await new Deno.Command("npm", {
      args: ["install", "--prefix", `${ROOT}bench/node`, "--no-audit", "--no-fund", "usb@2"],
      stdout: "null",
      stderr: "inherit",
    }).output().catch(() => undefined);
    return out?.success ?? false;
  }
}

async function usbLayer(): Promise<void> {
  section(`USB layer alone: pattern device, ${CONFIG.usb / MIB} MiB per figure`);
  const node = await ensureNodeUsb();
  using testbed = UmockdevTestbed.open();
  testbed.attach(new PatternFunction());
  const env = testbed.env();
  const trips = quick ? 300 : 1000;
  const args = [String(CONFIG.usb), String(trips)];
  const ours: UsbFigures[] = [];
  const theirs: UsbFigures[] = [];
  const rounds = quick ? 1 : 5;
  for (let i = 0; i < rounds; i++) {
    const o = await runMeasured(
      DENO,
      ["run", "--allow-all", `${ROOT}bench/usb_layer.ts`, ...args],
      {
        env,
      },
    );
    ours.push(JSON.parse(o.stdout));
    if (node) {
      const t = await runMeasured("node", [`${ROOT}bench/node/usb_layer.cjs`, ...args], { env });
      theirs.push(JSON.parse(t.stdout));
    }
  }
  const pick = (list: UsbFigures[], key: keyof UsbFigures) =>
    list.length ? median(list.map((f) => f[key])) : NaN;
  const figures = {
    ours: {
      bulkMBps: pick(ours, "bulkMBps"),
      bulkPipelinedMBps: pick(ours, "bulkPipelinedMBps"),
      controlUs: pick(ours, "controlUs"),
    },
    nodeUsb: node
      ? {
        bulkMBps: pick(theirs, "bulkMBps"),
        bulkPipelinedMBps: pick(theirs, "bulkPipelinedMBps"),
        controlUs: pick(theirs, "controlUs"),
      }
      : "node or node-usb not available",
    rounds,
  };
  results.usbLayer = figures;
  const o = figures.ours;
  const t = typeof figures.nodeUsb === "string" ? undefined : figures.nodeUsb;
  row(
    "bulk IN MB/s, 64 KiB reads, one at a time (vs node-usb)",
    fmt(o.bulkMBps),
    fmt(t?.bulkMBps),
    t ? `${fmt(o.bulkMBps / t.bulkMBps, 2)}x` : "",
  );
  row(
    "bulk IN MB/s, 64 KiB reads, 8 in flight (node-usb: startPoll)",
    fmt(o.bulkPipelinedMBps),
    fmt(t?.bulkPipelinedMBps),
    t ? `${fmt(o.bulkPipelinedMBps / t.bulkPipelinedMBps, 2)}x` : "",
  );
  row(
    "control IN round trip, 8 bytes, us",
    fmt(o.controlUs, 0),
    fmt(t?.controlUs, 0),
    t ? `${fmt(t.controlUs / o.controlUs, 2)}x faster` : "",
  );
  if (t) {
    // The streaming figure is the target: it is how each library moves bulk data.
    const streaming = o.bulkPipelinedMBps / t.bulkPipelinedMBps;
    target(
      "bus model off: bulk throughput >= node-usb (64 KiB reads, 8 in flight)",
      streaming >= 1,
      `${fmt(streaming, 2)}x (one read at a time: ${fmt(o.bulkMBps / t.bulkMBps, 2)}x, ` +
        `control round trip: ${fmt(t.controlUs / o.controlUs, 2)}x)`,
    );
  }
}

// ---- 3. start-up ------------------------------------------------------------

async function startup(dir: string): Promise<void> {
  section("start-up: whole command, fresh process, emulated G3");
  const bundle = `${dir}/canon.js`;
  const built = await new Deno.Command(DENO, {
    args: ["bundle", "--platform", "deno", "-o", bundle, `${ROOT}src/cli/main.ts`],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!built.success) {
    throw new Error(`deno bundle failed: ${new TextDecoder().decode(built.stderr)}`);
  }
  const camera = new VirtualCamera();
  try {
    using testbed = UmockdevTestbed.open();
    testbed.attach(camera.usbFunction);
    const env = testbed.env();
    const ours = () => runMeasured(DENO, ["run", "--allow-all", bundle, "info"], { env });
    const theirs = () => runMeasured("gphoto2", ["--summary"], { env: { ...env, LANG: "C" } });
    await ours();
    await theirs();
    const o: number[] = [];
    const t: number[] = [];
    for (let i = 0; i < CONFIG.starts; i++) {
      o.push((await ours()).ms);
      t.push((await theirs()).ms);
    }
    const oursMs = median(o);
    const theirMs = median(t);
    results.startup = { canonInfoMs: oursMs, gphoto2SummaryMs: theirMs, runs: CONFIG.starts };
    row(
      "`deno run canon.js info` vs `gphoto2 --summary`, ms",
      fmt(oursMs, 0),
      fmt(theirMs, 0),
      `${fmt(theirMs / oursMs, 2)}x`,
    );
    target(
      "canon info no slower than gphoto2 --summary",
      oursMs <= theirMs,
      `${fmt(oursMs, 0)} vs ${fmt(theirMs, 0)} ms`,
    );
  } finally {
    await camera[Symbol.asyncDispose]();
  }
}

// ---- 4. codecs in-process ---------------------------------------------------

async function codecs(): Promise<void> {
  section("codecs, in-process (no USB)");
  // A tree listing of 4,000 files in 40 directories, as the camera sends it.
  const files = [];
  for (let d = 0; d < 40; d++) {
    for (let f = 0; f < 100; f++) {
      files.push({
        path: `/DCIM/${100 + d}CANON/IMG_${String(d * 100 + f).padStart(4, "0")}.JPG`,
        size: 1000,
      });
    }
  }
  const size = CONFIG.size;
  const camera = new VirtualCamera({ card: benchCard([...files, { path: FILE, size }]) });
  await using cam = await Camera.connect(camera);
  const parts: Uint8Array[] = [];
  await cam.session.longCommand(
    COMMANDS.getDirectory,
    encodeGetDirectory(toCameraPath("D:", []), 0x0f),
    (chunk) => void parts.push(chunk.slice()),
  );
  const listing = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    listing.set(part, offset);
    offset += part.length;
  }
  let decoded = 0;
  let entries = 0;
  const start = performance.now();
  while (performance.now() - start < (quick ? 300 : 1500)) {
    entries = decodeListing(listing, []).length;
    decoded++;
  }
  const listingMs = performance.now() - start;
  const listingMBps = mbps(listing.length * decoded, listingMs);
  const entriesPerSecond = (entries * decoded) / (listingMs / 1000);
  const times: number[] = [];
  for (let i = 0; i < CONFIG.rounds; i++) {
    times.push(await timeIt(() => cam.storage.read(FILE)));
  }
  const readMBps = mbps(size, median(times));
  const streamMs = await timeIt(() => cam.storage.download(FILE, nullSink()));
  results.codecs = {
    listingBytes: listing.length,
    listingEntries: entries,
    listingMBps,
    entriesPerSecond,
    reassemblyMBps: readMBps,
    streamMBps: mbps(size, streamMs),
  };
  row(
    `directory listing decode (${entries} entries, ${listing.length} B), MB/s`,
    fmt(listingMBps),
    "",
    `${fmt(entriesPerSecond / 1e6, 2)} M entries/s`,
  );
  row(`file reassembly, Storage.read of ${size / MIB} MiB, MB/s`, fmt(readMBps), "", "");
  row(`  to a WritableStream, MB/s`, fmt(mbps(size, streamMs)), "", "");
}

// ---- 5. memory --------------------------------------------------------------

async function memory(dir: string): Promise<void> {
  const size = CONFIG.big;
  section(`memory: fresh process downloading a ${size / MIB} MiB file`);
  const camera = new VirtualCamera({ card: benchCard([{ path: FILE, size }]) });
  try {
    using testbed = UmockdevTestbed.open();
    testbed.attach(camera.usbFunction);
    await Deno.mkdir(`${dir}/big`, { recursive: true });
    const run = await runMeasured(
      DENO,
      ["run", "--allow-all", `${ROOT}bench/download_once.ts`, FILE, `${dir}/big`],
      { env: testbed.env() },
    );
    const m = JSON.parse(run.stdout);
    const above = (m.peakRss - m.idleRss) / MIB;
    results.memory = {
      bytes: m.bytes,
      peakRssAboveIdleMiB: above,
      mbps: mbps(m.bytes, m.downloadMs),
    };
    row("peak RSS above idle, MiB", fmt(above), "", `at ${fmt(mbps(m.bytes, m.downloadMs))} MB/s`);
    target("memory bounded: < 64 MiB above idle", above < 64, `${fmt(above)} MiB`);
  } finally {
    await camera[Symbol.asyncDispose]();
  }
}

// ---- run --------------------------------------------------------------------

if (!(await hasCommand("gphoto2"))) {
  console.error("bench:compare needs gphoto2 (apt-get install gphoto2)");
  Deno.exit(1);
}
const dir = await Deno.makeTempDir({ prefix: "canon-compare-" });
const started = performance.now();
try {
  const off = await downloads(false, dir);
  reportDownloads("downloadBusOff", off, false);
  const on = await downloads(true, dir);
  reportDownloads("downloadBusOn", on, true);
  await usbLayer();
  await startup(dir);
  await codecs();
  await memory(dir);
} finally {
  await Deno.remove(dir, { recursive: true });
}
results.targets = targets;
results.seconds = (performance.now() - started) / 1000;

const width = [62, 14, 14, 22];
const line = (cells: string[]) =>
  cells.map((cell, i) => i === 0 ? cell.padEnd(width[i]) : cell.padStart(width[i])).join(" ");
console.log(line(["", "canon-remote", "other tool", "ratio"]));
for (const r of rows) {
  console.log(r.what.startsWith("--") ? `\n${r.what}` : line([r.what, r.ours, r.other, r.ratio]));
}
console.log("\ntargets");
for (const t of targets) console.log(`  [${t.met ? "met" : "MISSED"}] ${t.target}: ${t.detail}`);
console.log(`\n(${fmt(results.seconds as number, 0)} s; ${quick ? "--quick" : "full"} run)`);
await Deno.mkdir(`${ROOT}bench/results`, { recursive: true });
await Deno.writeTextFile(
  `${ROOT}bench/results/compare${quick ? "-quick" : ""}.json`,
  JSON.stringify(results, null, 2) + "\n",
);
