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
//     `deno bundle`, and by `deno run` of the source) vs `gphoto2 --summary`,
//     wall time of the whole command, runs interleaved, medians; beside them
//     `deno run` of an empty file, Deno's own floor;
//  4. codec throughput in-process: directory listings (decodeListing) and file
//     reassembly (Storage.read of a file from the in-process virtual camera);
//  5. peak memory of a fresh process downloading a 512 MiB file (--quick: 128 MiB),
//     three runs (--quick: one), the median and the largest, and where the
//     growth is (anonymous pages with the V8 heap, file pages of the binary).
//
// CPU time of a child comes from bash's `times` builtin run after it in the
// same shell (user + system of the finished child, its own children
// included); this process's own CPU from process.cpuUsage(). Under umockdev
// every libusb client polls the device node in a busy loop while a transfer
// is pending (the node is a plain file, see the umockdev recipe), so client
// CPU figures are inflated alike for every tool, most with the bus model on.
//
//  6. the jobs users time, with the bus model and a real G3's per-command
//     delay (src/emulator/engine/timing.ts) on: whole-card import of JPEGs of 256 KiB
//     to 2 MiB (`canon get --all` vs `gphoto2 --get-all-files`), all
//     thumbnails (`canon thumbs` vs `--get-all-thumbnails`), a recursive
//     listing of a 2,000-file card (`canon ls -R` vs `gphoto2 -L`, and the
//     listing's peak memory, bench/list_once.ts), capture to host (`canon
//     capture --to host` vs `--capture-image-and-download`), one shot and
//     ten in a row;
//
// every target of issue 15 printed as [met] or [MISSED].
//
//   deno task bench:compare [--quick] [--only=downloads,usb,startup,codecs,memory,jobs]
//   (results: bench/results/compare[-quick][-partial].json)
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
import { Camera } from "../src/camera/camera.ts";
import { VirtualCamera } from "../src/emulator/host/virtual_camera.ts";
import type { MemoryCard } from "../src/emulator/card/memory_card.ts";
import { importCard, listingCard } from "./job_cards.ts";
import { FULL_SPEED_BULK_LIMIT } from "../src/emulator/engine/bus_model.ts";
import { PatternFunction } from "./pattern_device.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import { COMMANDS } from "../src/protocol/commands.ts";
import { decodeListing, encodeGetDirectory, toCameraPath } from "../src/protocol/storage_codec.ts";

const quick = Deno.args.includes("--quick");
/** `--only=usb,startup,...`: run only these parts (downloads, usb, startup, codecs, memory, jobs). */
const only = Deno.args.find((a) => a.startsWith("--only="))?.slice(7).split(",");
const runs = (part: string) => !only || only.includes(part);
const CONFIG = quick
  ? {
    size: 16 * MIB,
    busSize: 2 * MIB,
    rounds: 1,
    big: 128 * MIB,
    usb: 32 * MIB,
    starts: 3,
    cardJpegs: 12,
    listFiles: 200,
    shots: 3,
    memoryRuns: 1,
  }
  : {
    size: 64 * MIB,
    busSize: 64 * MIB,
    rounds: 3,
    big: 512 * MIB,
    usb: 64 * MIB,
    starts: 11,
    cardJpegs: 200,
    listFiles: 2000,
    shots: 10,
    memoryRuns: 3,
  };
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
  const cpuRatio = d.oursCpuPerMiB / d.gphoto2CpuPerMiB;
  target(
    `bus model ${busModel ? "on" : "off"}: client CPU per MiB <= gphoto2's`,
    cpuRatio <= 1,
    `${fmt(cpuRatio, 2)}x (${fmt(d.oursCpuPerMiB, 4)} vs ${fmt(d.gphoto2CpuPerMiB, 4)} s/MiB)`,
  );
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
  // Nine rounds, alternating: on this 2-core VM single runs of either side
  // vary by 10 % and more, and five left the median a few percent adrift.
  const rounds = quick ? 1 : 9;
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
    /** Every round's figures, in run order. */
    each: { ours, nodeUsb: theirs },
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
    const single = o.bulkMBps / t.bulkMBps;
    const streaming = o.bulkPipelinedMBps / t.bulkPipelinedMBps;
    const control = t.controlUs / o.controlUs;
    target(
      "USB layer: bulk 64 KiB reads one at a time >= node-usb",
      single >= 1,
      `${fmt(single, 2)}x`,
    );
    target(
      "USB layer: bulk 64 KiB reads 8 in flight >= node-usb",
      streaming >= 1,
      `${fmt(streaming, 2)}x`,
    );
    target(
      "USB layer: control round trip no slower than node-usb",
      control >= 1,
      `${fmt(control, 2)}x`,
    );
  }
}

// ---- 3. start-up ------------------------------------------------------------

/** Bundle the `canon` command into one file, as a user would ship it. */
async function bundleCli(dir: string): Promise<string> {
  const bundle = `${dir}/canon.js`;
  const built = await new Deno.Command(DENO, {
    args: ["bundle", "--platform", "deno", "-o", bundle, `${ROOT}src/cli/main.ts`],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!built.success) {
    throw new Error(`deno bundle failed: ${new TextDecoder().decode(built.stderr)}`);
  }
  return bundle;
}

async function startup(bundle: string, dir: string): Promise<void> {
  section("start-up: whole command, fresh process, emulated G3");
  const camera = new VirtualCamera();
  // Deno's own floor: starting, running nothing, ending.
  const empty = `${dir}/empty.js`;
  await Deno.writeTextFile(empty, "");
  try {
    using testbed = UmockdevTestbed.open();
    testbed.attach(camera.usbFunction);
    const env = testbed.env();
    const bundled = () => runMeasured(DENO, ["run", "--allow-all", bundle, "info"], { env });
    const script = () =>
      runMeasured(DENO, ["run", "--allow-all", `${ROOT}src/cli/main.ts`, "info"], { env });
    const theirs = () => runMeasured("gphoto2", ["--summary"], { env: { ...env, LANG: "C" } });
    const nothing = () => runMeasured(DENO, ["run", empty], { env });
    await bundled();
    await script();
    await theirs();
    await nothing();
    const b: number[] = [];
    const s: number[] = [];
    const t: number[] = [];
    const f: number[] = [];
    for (let i = 0; i < CONFIG.starts; i++) {
      b.push((await bundled()).ms);
      s.push((await script()).ms);
      t.push((await theirs()).ms);
      f.push((await nothing()).ms);
    }
    const bundledMs = median(b);
    const scriptMs = median(s);
    const theirMs = median(t);
    const floorMs = median(f);
    results.startup = {
      canonInfoBundledMs: bundledMs,
      canonInfoDenoRunMs: scriptMs,
      gphoto2SummaryMs: theirMs,
      denoEmptyFileMs: floorMs,
      runs: CONFIG.starts,
    };
    row(
      "`deno run canon.js info` (bundle) vs `gphoto2 --summary`, ms",
      fmt(bundledMs, 0),
      fmt(theirMs, 0),
      `${fmt(bundledMs / theirMs, 2)}x the time`,
    );
    row(
      "`deno run src/cli/main.ts info` vs `gphoto2 --summary`, ms",
      fmt(scriptMs, 0),
      fmt(theirMs, 0),
      `${fmt(scriptMs / theirMs, 2)}x the time`,
    );
    row(
      "`deno run` of an empty file (Deno's floor) vs `gphoto2 --summary`, ms",
      fmt(floorMs, 0),
      fmt(theirMs, 0),
      `${fmt(floorMs / theirMs, 2)}x the time`,
    );
    target(
      "canon info (bundle) <= 0.8x the time of gphoto2 --summary",
      bundledMs <= 0.8 * theirMs,
      `${fmt(bundledMs / theirMs, 2)}x (${fmt(bundledMs, 0)} vs ${fmt(theirMs, 0)} ms; ` +
        `deno run: ${fmt(scriptMs, 0)} ms)`,
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

/** Peak RSS above idle of several fresh-process runs, MiB, with where the growth was. */
interface MemoryRuns {
  /** Each run's peak RSS above idle, MiB, in run order. */
  runs: number[];
  median: number;
  max: number;
  /** Each run's growth from idle to the end, MiB: anonymous pages, file pages, V8 heap. */
  growth: { anon: number; file: number; heapTotal: number }[];
}

/** Run `once` (a bench/*_once.ts) `count` times and gather its memory figures. */
async function memoryRuns(
  count: number,
  once: () => Promise<ChildRun>,
  each?: (m: Record<string, unknown>) => void,
): Promise<MemoryRuns> {
  const runs: number[] = [];
  const growth: MemoryRuns["growth"] = [];
  for (let i = 0; i < count; i++) {
    const m = JSON.parse((await once()).stdout);
    runs.push((m.peakRss - m.idleRss) / MIB);
    const { idle, end } = m.memory;
    growth.push({
      anon: (end.anon - idle.anon) / MIB,
      file: (end.file - idle.file) / MIB,
      heapTotal: (end.heapTotal - idle.heapTotal) / MIB,
    });
    each?.(m);
  }
  return { runs, median: median(runs), max: Math.max(...runs), growth };
}

function memoryRows(m: MemoryRuns, indent = ""): void {
  row(
    `${indent}  runs, MiB`,
    m.runs.map((r) => fmt(r)).join(" "),
    "",
    `max ${fmt(m.max)}`,
  );
  const g = m.growth;
  const mid = (key: keyof MemoryRuns["growth"][number]) => fmt(median(g.map((x) => x[key])));
  row(
    `${indent}  growth to the end, MiB: anon / file pages / V8 heap`,
    `${mid("anon")} / ${mid("file")} / ${mid("heapTotal")}`,
    "",
    "",
  );
}

async function memory(dir: string): Promise<void> {
  const size = CONFIG.big;
  section(`memory: fresh process downloading a ${size / MIB} MiB file`);
  const camera = new VirtualCamera({ card: benchCard([{ path: FILE, size }]) });
  try {
    using testbed = UmockdevTestbed.open();
    testbed.attach(camera.usbFunction);
    await Deno.mkdir(`${dir}/big`, { recursive: true });
    const speeds: number[] = [];
    let bytes = 0;
    const m = await memoryRuns(
      CONFIG.memoryRuns,
      () =>
        runMeasured(
          DENO,
          ["run", "--allow-all", `${ROOT}bench/download_once.ts`, FILE, `${dir}/big`],
          { env: testbed.env() },
        ),
      (run) => {
        bytes = run.bytes as number;
        speeds.push(mbps(bytes, run.downloadMs as number));
      },
    );
    results.memory = {
      bytes,
      peakRssAboveIdleMiB: m.median,
      maxPeakRssAboveIdleMiB: m.max,
      runs: m.runs,
      growth: m.growth,
      mbps: median(speeds),
    };
    row(
      `peak RSS above idle, MiB, median of ${m.runs.length}`,
      fmt(m.median),
      "",
      `at ${fmt(median(speeds))} MB/s`,
    );
    memoryRows(m);
    target(
      `memory: ${size / MIB} MiB download < 32 MiB above idle`,
      m.median < 32,
      `${fmt(m.median)} MiB (median of ${m.runs.length}, max ${fmt(m.max)})`,
    );
  } finally {
    await camera[Symbol.asyncDispose]();
  }
}

// ---- 6. the jobs users time ------------------------------------------------
//
// Each through the same emulated G3 behind umockdev, bus model and the G3's
// per-command processing delay on (src/emulator/engine/timing.ts), the `canon`
// command bundled into one file vs gphoto2, wall time of the whole command.

async function filesIn(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile) out.set(entry.name, (await Deno.stat(`${dir}/${entry.name}`)).size);
  }
  return out;
}

async function emptyDir(dir: string): Promise<string> {
  await Deno.remove(dir, { recursive: true }).catch(() => undefined);
  await Deno.mkdir(dir, { recursive: true });
  return dir;
}

/** A virtual camera behind umockdev, bus model and timing on, for one job. */
async function withTimedCamera<T>(
  options: { card?: MemoryCard },
  body: (env: Record<string, string>, camera: VirtualCamera) => Promise<T>,
): Promise<T> {
  const camera = new VirtualCamera({ ...options, busModel: true, timing: true });
  try {
    using testbed = UmockdevTestbed.open();
    testbed.attach(camera.usbFunction);
    return await body(testbed.env(), camera);
  } finally {
    await camera[Symbol.asyncDispose]();
  }
}

function jobRow(what: string, oursMs: number, theirMs: number): void {
  row(what, fmt(oursMs / 1000, 2), fmt(theirMs / 1000, 2), `${fmt(theirMs / oursMs, 2)}x`);
}

async function jobs(bundle: string, dir: string): Promise<void> {
  section("jobs users time: emulated G3, bus model and G3 timing on, seconds");
  const canon = (args: string[], env: Record<string, string>, cwd?: string) =>
    runMeasured(DENO, ["run", "--allow-all", bundle, ...args], { env, cwd });
  const gphoto2 = (args: string[], env: Record<string, string>, cwd: string) =>
    runMeasured("gphoto2", args, { env: { ...env, LANG: "C" }, cwd });
  const figures: Record<string, unknown> = {};

  // One failing job (a client's timeout) is reported, and the others still run.
  const job = async (body: () => Promise<void>) => {
    try {
      await body();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      console.error(`[compare] job failed: ${message}`);
      target("job completed", false, message.slice(0, 300));
    }
  };
  // Whole-card import, then every thumbnail of the same card.
  const imported = importCard(CONFIG.cardJpegs);
  const bytes = imported.bytes;
  await job(() =>
    withTimedCamera({ card: imported.card }, async (env) => {
      const ours = await emptyDir(`${dir}/import-ours`);
      const theirs = await emptyDir(`${dir}/import-gphoto2`);
      const o = await canon(["get", "--all", "-o", ours], env);
      const t = await gphoto2(["--get-all-files", "--force-overwrite"], env, theirs);
      const a = await filesIn(ours);
      const b = await filesIn(theirs);
      const same = a.size === CONFIG.cardJpegs && b.size === CONFIG.cardJpegs &&
        [...a].every(([name, size]) => b.get(name) === size);
      figures.import = { files: CONFIG.cardJpegs, bytes, oursMs: o.ms, gphoto2Ms: t.ms, same };
      jobRow(
        `import a card of ${CONFIG.cardJpegs} JPEGs (${fmt(bytes / MIB, 0)} MiB): get --all`,
        o.ms,
        t.ms,
      );
      const limit = FULL_SPEED_BULK_LIMIT / 1e6;
      row(
        "  % of the 1,216,000 B/s bus limit, whole command",
        `${fmt((100 * mbps(bytes, o.ms)) / limit)} %`,
        `${fmt((100 * mbps(bytes, t.ms)) / limit)} %`,
        "",
      );
      row("  every file there, same sizes", String(same), "", "");
      target("whole-card import >= 1.3x gphoto2", t.ms / o.ms >= 1.3, `${fmt(t.ms / o.ms, 2)}x`);

      const oursThumbs = await emptyDir(`${dir}/thumbs-ours`);
      const theirThumbs = await emptyDir(`${dir}/thumbs-gphoto2`);
      const ot = await canon(["thumbs", "-o", oursThumbs], env);
      const tt = await gphoto2(["--get-all-thumbnails", "--force-overwrite"], env, theirThumbs);
      const thumbsOk = (await filesIn(oursThumbs)).size === CONFIG.cardJpegs &&
        (await filesIn(theirThumbs)).size === CONFIG.cardJpegs;
      figures.thumbnails = { oursMs: ot.ms, gphoto2Ms: tt.ms, all: thumbsOk };
      jobRow(`all ${CONFIG.cardJpegs} thumbnails: thumbs vs --get-all-thumbnails`, ot.ms, tt.ms);
      row("  one thumbnail per file, both", String(thumbsOk), "", "");
      target("all thumbnails >= 1.2x gphoto2", tt.ms / ot.ms >= 1.2, `${fmt(tt.ms / ot.ms, 2)}x`);
    })
  );

  // Recursive listing of a big card, and the listing's memory.
  await job(() =>
    withTimedCamera({ card: listingCard(CONFIG.listFiles) }, async (env) => {
      const o = await canon(["ls", "-R", "/"], env);
      const t = await gphoto2(["-L"], env, dir);
      const ourFiles = o.stdout.split("\n").filter((l) => /\.JPG\s/.test(l)).length;
      const theirFiles = t.stdout.split("\n").filter((l) => /^#\d+/.test(l)).length;
      const listMs: number[] = [];
      const m = await memoryRuns(
        CONFIG.memoryRuns,
        () => runMeasured(DENO, ["run", "--allow-all", `${ROOT}bench/list_once.ts`], { env }),
        (run) => listMs.push(run.listMs as number),
      );
      const above = m.median;
      figures.listing = {
        files: CONFIG.listFiles,
        oursMs: o.ms,
        gphoto2Ms: t.ms,
        oursListed: ourFiles,
        gphoto2Listed: theirFiles,
        peakRssAboveIdleMiB: above,
        maxPeakRssAboveIdleMiB: m.max,
        memoryRuns: m.runs,
        memoryGrowth: m.growth,
        listMs: median(listMs),
      };
      jobRow(`list ${CONFIG.listFiles} files recursively: ls -R vs gphoto2 -L`, o.ms, t.ms);
      row("  files listed", String(ourFiles), String(theirFiles), "");
      row(
        `  peak RSS above idle (Storage.list, fresh), MiB, median of ${m.runs.length}`,
        fmt(above),
        "",
        `max ${fmt(m.max)}`,
      );
      memoryRows(m, "  ");
      target("recursive listing >= 1.2x gphoto2", t.ms / o.ms >= 1.2, `${fmt(t.ms / o.ms, 2)}x`);
      target(
        `memory: listing ${CONFIG.listFiles} files < 16 MiB above idle`,
        above < 16,
        `${fmt(above)} MiB (median of ${m.runs.length}, max ${fmt(m.max)})`,
      );
    })
  );

  // Capture to the host: one shot, then several in a row (one command each).
  await job(() =>
    withTimedCamera({}, async (env) => {
      const ours = await emptyDir(`${dir}/capture-ours`);
      const theirs = await emptyDir(`${dir}/capture-gphoto2`);
      const shoot = (i: number) =>
        canon(["capture", "--to", "host", "-o", `${ours}/shot${i}.jpg`], env);
      const snap = (i: number) =>
        gphoto2(["--capture-image-and-download", "--filename", `shot${i}.jpg`], env, theirs);
      const o1 = await shoot(0);
      const t1 = await snap(0);
      let oN = 0;
      let tN = 0;
      for (let i = 1; i <= CONFIG.shots; i++) {
        oN += (await shoot(i)).ms;
        tN += (await snap(i)).ms;
      }
      const got = [(await filesIn(ours)).size, (await filesIn(theirs)).size];
      figures.capture = {
        oursMs: o1.ms,
        gphoto2Ms: t1.ms,
        shots: CONFIG.shots,
        oursShotsMs: oN,
        gphoto2ShotsMs: tN,
        files: got,
      };
      jobRow("capture to host, one shot, command to complete file", o1.ms, t1.ms);
      jobRow(`  ${CONFIG.shots} shots in a row (one command each)`, oN, tN);
      row("  pictures on the host", String(got[0]), String(got[1]), "");
      target(
        "capture to host <= 0.9x gphoto2's time",
        o1.ms <= 0.9 * t1.ms && oN <= 0.9 * tN,
        `${fmt(o1.ms / t1.ms, 2)}x one shot, ${fmt(oN / tN, 2)}x ${CONFIG.shots} in a row`,
      );
    })
  );
  results.jobs = figures;
}

// ---- run --------------------------------------------------------------------

if (!(await hasCommand("gphoto2"))) {
  console.error("bench:compare needs gphoto2 (apt-get install gphoto2)");
  Deno.exit(1);
}
const dir = await Deno.makeTempDir({ prefix: "canon-compare-" });
const started = performance.now();
try {
  if (runs("downloads")) {
    const off = await downloads(false, dir);
    reportDownloads("downloadBusOff", off, false);
    const on = await downloads(true, dir);
    reportDownloads("downloadBusOn", on, true);
  }
  if (runs("usb")) await usbLayer();
  const bundle = await bundleCli(dir);
  if (runs("startup")) await startup(bundle, dir);
  if (runs("codecs")) await codecs();
  if (runs("memory")) await memory(dir);
  if (runs("jobs")) await jobs(bundle, dir);
} catch (error) {
  // Keep what was measured: the table and the JSON still come out.
  const message = error instanceof Error ? error.message : String(error);
  console.error(`[compare] failed: ${message}`);
  results.error = message;
  target("the whole run completed", false, message.slice(0, 200));
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
  `${ROOT}bench/results/compare${quick ? "-quick" : ""}${only ? "-partial" : ""}.json`,
  JSON.stringify(results, null, 2) + "\n",
);
