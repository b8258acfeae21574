// Where the time of a whole-card import goes, seen from the virtual camera:
// the same card (bench/job_cards.ts) imported by `canon get --all` and by
// `gphoto2 --get-all-files` through the same emulated G3 behind umockdev,
// bus model and G3 timing on, each command and each bulk IN transfer time
// stamped as the camera sees it. Per file it prints the command's arrival,
// the first and last data transfer on the bus, and the gap from the file's
// last byte to the next command the client sends (host-side cost: writing
// the file, marking it, progress, anything else between two files).
//
// With --thumbs, the same for every thumbnail of the card (`canon thumbs` vs
// `gphoto2 --get-all-thumbnails`). With --preamble, also every command
// before the first file's, timed (opening, identification, the listing).
//
//   deno run --allow-all bench/import_trace.ts [FILES] [--thumbs] [--preamble]
//     [--only=canon|gphoto2] [--json]
//
// (LD_PRELOAD is not needed: the testbed is opened in this process, the
// clients are children with the testbed's environment.)
import { FullSpeedBus } from "../src/emulator/engine/bus_model.ts";
import { VirtualCamera } from "../src/emulator/host/virtual_camera.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import type { CommandRecord } from "../src/emulator/engine/canon_function.ts";
import { importCard } from "./job_cards.ts";
import { fmt, median, runMeasured } from "./_lib.ts";

const count = Number(Deno.args.find((a) => /^\d+$/.test(a)) ?? 12);
const only = Deno.args.find((a) => a.startsWith("--only="))?.slice(7);
const asJson = Deno.args.includes("--json");
const thumbs = Deno.args.includes("--thumbs");
const preamble = Deno.args.includes("--preamble");
const ROOT = new URL("..", import.meta.url).pathname;

/** A bus transfer as the camera put it on the bus. */
interface Transfer {
  bytes: number;
  submittedAt: number;
  ready: number;
  start: number;
  end: number;
}

/** A full-speed bus that writes down every transfer it carries. */
class RecordingBus extends FullSpeedBus {
  readonly transfers: Transfer[] = [];
  override reserve(bytes: number, submittedAt: number, now: number) {
    const slot = super.reserve(bytes, submittedAt, now);
    this.transfers.push({ bytes, submittedAt, ready: now, ...slot });
    return slot;
  }
}

/** One file of the import, from its GetFile command to the next command. */
interface FileTiming {
  /** When the GetFile command arrived (ms from the first command). */
  at: number;
  bytes: number;
  /** Command to the first data transfer's start (the camera's delay + the bus). */
  firstDataMs: number;
  /** First to last data transfer's end. */
  dataMs: number;
  /** The same bytes at the bus limit, back to back. */
  busMs: number;
  /** Transfers that started a fresh frame (the host had no read queued). */
  restarts: number;
  /** Last byte on the bus to the next command's arrival. */
  gapMs: number;
  /** The commands between this file's data and the next GetFile (cmd1/cmd2 hex). */
  between: string[];
}

const name = (c: { cmd1: number; cmd2: number }) =>
  `${c.cmd1.toString(16).padStart(2, "0")}/${c.cmd2.toString(16)}`;

async function trace(client: "canon" | "gphoto2"): Promise<FileTiming[]> {
  const bus = new RecordingBus();
  const camera = new VirtualCamera({ card: importCard(count).card, busModel: bus, timing: true });
  const commands: (CommandRecord & { t: number })[] = [];
  const log = camera.commandLog as CommandRecord[];
  log.push = (...records: CommandRecord[]) => {
    for (const r of records) commands.push({ ...r, t: performance.now() });
    return Array.prototype.push.apply(log, records);
  };
  const dir = await Deno.makeTempDir({ prefix: "canon-import-trace-" });
  try {
    using testbed = UmockdevTestbed.open();
    testbed.attach(camera.usbFunction);
    const env = testbed.env();
    const run = client === "canon"
      ? await runMeasured(
        Deno.execPath(),
        [
          "run",
          "--allow-all",
          `${ROOT}src/cli/main.ts`,
          ...(thumbs ? ["thumbs"] : ["get", "--all"]),
          "-o",
          dir,
        ],
        { env },
      )
      : await runMeasured("gphoto2", [
        thumbs ? "--get-all-thumbnails" : "--get-all-files",
        "--force-overwrite",
      ], {
        env: { ...env, LANG: "C" },
        cwd: dir,
      });
    console.error(`[trace] ${client}: ${fmt(run.ms / 1000, 2)} s whole command`);
  } finally {
    await camera[Symbol.asyncDispose]();
    await Deno.remove(dir, { recursive: true });
  }
  const t0 = commands[0]?.t ?? 0;
  const out: FileTiming[] = [];
  const gets = commands.filter((c) => c.cmd1 === 0x01 && c.cmd2 === 0x11);
  if (preamble) {
    // Every command before the first file's, with the time since the one before.
    const first = gets.length ? commands.indexOf(gets[0]) : commands.length;
    console.error(`[trace] ${client}: ${first} commands before the first file`);
    commands.slice(0, first).forEach((c, k) => {
      const gap = k ? c.t - commands[k - 1].t : 0;
      console.error(
        `  ${fmt(c.t - t0, 1).padStart(8)} ms  +${fmt(gap, 1).padStart(6)}  ${name(c)}`,
      );
    });
  }
  for (const get of gets) {
    const i = commands.indexOf(get);
    const next = commands[i + 1];
    const data = bus.transfers.filter((x) => x.ready >= get.t && (!next || x.ready < next.t));
    if (data.length < 2) continue;
    // The first transfer is the 0x40-byte reply header.
    const body = data.slice(1);
    const bytes = body.reduce((n, x) => n + x.bytes, 0);
    const last = body[body.length - 1].end;
    const nextGet = gets[gets.indexOf(get) + 1];
    out.push({
      at: get.t - t0,
      bytes,
      firstDataMs: data[0].start - get.t,
      dataMs: last - body[0].start,
      busMs: Math.ceil(bytes / 64) / 19,
      restarts: body.filter((x, k) => k > 0 && x.start > body[k - 1].end + 1e-6).length,
      gapMs: next ? next.t - last : NaN,
      between: commands.slice(i + 1, nextGet ? commands.indexOf(nextGet) : undefined).map(name),
    });
  }
  return out;
}

const report: Record<string, FileTiming[]> = {};
for (const client of ["canon", "gphoto2"] as const) {
  if (only && only !== client) continue;
  report[client] = await trace(client);
}
if (asJson) {
  console.log(JSON.stringify(report, null, 2));
} else {
  for (const [client, files] of Object.entries(report)) {
    console.log(`\n${client}: ${files.length} files`);
    console.log("   at s    bytes  cmd->data ms  data ms  bus ms  restarts  gap ms  then");
    for (const f of files) {
      console.log(
        [
          fmt(f.at / 1000, 2).padStart(7),
          String(f.bytes).padStart(8),
          fmt(f.firstDataMs, 1).padStart(13),
          fmt(f.dataMs, 0).padStart(8),
          fmt(f.busMs, 0).padStart(7),
          String(f.restarts).padStart(9),
          fmt(f.gapMs, 1).padStart(7),
          ` ${f.between.join(" ")}`,
        ].join(""),
      );
    }
    const pick = (k: "firstDataMs" | "gapMs") => fmt(median(files.map((f) => f[k])), 1);
    const data = files.reduce((n, f) => n + f.dataMs, 0);
    const busMs = files.reduce((n, f) => n + f.busMs, 0);
    const steps = files.slice(1).map((f, i) => f.at - files[i].at);
    console.log(
      `per file ${fmt(median(steps), 1)} ms (median, GetFile to GetFile), ` +
        `median command->data ${pick("firstDataMs")} ms, median gap ${pick("gapMs")} ms, ` +
        `data at ${fmt((100 * busMs) / data, 1)} % of the bus while it flows`,
    );
  }
}
