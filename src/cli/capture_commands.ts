/**
 * `canon capture`, `settings` and `preview`: remote capture from the shell.
 *
 * @module
 */

import type {
  CaptureSettings,
  CaptureSettingsChange,
  CaptureTarget,
  SettingChoices,
  Shot,
} from "../camera/capture.ts";
import { basename, dirname, join } from "../camera/host_path.ts";
import type { Camera } from "../camera/camera.ts";
import { pathExists, PendingFile, writeFileSafely } from "../camera/pending_file.ts";
import type { ImageFormat } from "../protocol/capture_codec.ts";
import type { CommandContext, CommandDef, OptionSpec } from "./command.ts";
import { errorMessage, EXIT, UsageError } from "./exit.ts";
import {
  FILENAME_OPTIONS,
  filenameOption,
  type FilenamePattern,
  patternTarget,
} from "./filename_pattern.ts";
import { formatBytes, formatDate, formatDuration } from "./format.ts";
import { EXEC_OPTION, ExecHook } from "./hooks.ts";
import {
  MAX_FAILURES_IN_A_ROW,
  parseInterval,
  parseUntil,
  runTimelapse,
  type TimelapsePlan,
} from "./timelapse.ts";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type FormatChange = Mutable<Partial<ImageFormat>>;

/** One setting as the command line writes it. */
interface SettingKey {
  /** The name on the command line (`iso`, `shutter`, ...). */
  name: string;
  /** Other names accepted (the API's). */
  aliases: string[];
  /** What it means, for the help. */
  help: string;
  /** Put the parsed value into the change. */
  apply(change: CaptureSettingsChange, format: FormatChange, text: string): void;
}

function number(setting: string, text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value)) {
    throw new UsageError(`${setting} wants a number, not ${JSON.stringify(text)}`);
  }
  return value;
}

function onOff(setting: string, text: string): boolean {
  const t = text.toLowerCase();
  if (["on", "true", "yes", "1"].includes(t)) return true;
  if (["off", "false", "no", "0"].includes(t)) return false;
  throw new UsageError(`${setting} wants on or off, not ${JSON.stringify(text)}`);
}

/**
 * Exposure compensation as written: "+1", "-2/3", "0.5", "1 1/3".
 *
 * @param text the value
 * @returns EV
 */
function parseEv(text: string): number {
  const match = /^([+-]?)(?:(\d+)\s+)?(\d+)(?:\/(\d+))?$/.exec(text.trim()) ??
    /^([+-]?)()(\d*\.\d+)()$/.exec(text.trim());
  if (!match) {
    throw new UsageError(`ev wants a value like +1, -2/3 or 0.5, not ${JSON.stringify(text)}`);
  }
  const [, sign, whole, top, bottom] = match;
  const magnitude = (whole ? Number(whole) : 0) +
    (bottom ? Number(top) / Number(bottom) : Number(top));
  return sign === "-" ? -magnitude : magnitude;
}

function formatEv(ev: number): string {
  if (Math.abs(ev) < 0.01) return "0";
  const sign = ev > 0 ? "+" : "-";
  const abs = Math.abs(ev);
  const whole = Math.floor(abs + 0.01);
  const rest = abs - whole;
  const fraction = rest < 0.01
    ? ""
    : Math.abs(rest - 0.5) < 0.01
    ? "1/2"
    : Math.abs(rest - 1 / 3) < 0.01
    ? "1/3"
    : Math.abs(rest - 2 / 3) < 0.01
    ? "2/3"
    : rest.toFixed(2).slice(1);
  return `${sign}${whole ? whole : ""}${whole && fraction ? " " : ""}${fraction}`;
}

const SETTINGS: readonly SettingKey[] = [
  {
    name: "mode",
    aliases: ["shootingMode"],
    help: "shooting mode: P, Tv, Av, M, AUTO, ...",
    apply: (c, _f, t) => c.shootingMode = t as CaptureSettingsChange["shootingMode"],
  },
  {
    name: "iso",
    aliases: [],
    help: "ISO speed: 50, 100, 200, 400, ...",
    apply: (c, _f, t) => c.iso = number("iso", t) as CaptureSettingsChange["iso"],
  },
  {
    name: "shutter",
    aliases: ["shutterSpeed"],
    help: 'shutter speed as on the dial: 1/125, 0.5, 2, "Bulb"',
    apply: (c, _f, t) => c.shutterSpeed = t as CaptureSettingsChange["shutterSpeed"],
  },
  {
    name: "aperture",
    aliases: [],
    help: "aperture f-number: 2.8, f/4, ...",
    apply: (c, _f, t) =>
      c.aperture = number("aperture", t.replace(/^f\/?/i, "")) as CaptureSettingsChange["aperture"],
  },
  {
    name: "ev",
    aliases: ["exposureCompensation"],
    help: "exposure compensation, -2 ... +2 in thirds or halves: +1/3, -0.5 (--ev=-0.5)",
    apply: (c, _f, t) => c.exposureCompensation = parseEv(t),
  },
  {
    name: "flash",
    aliases: [],
    help: "flash: off, on, auto",
    apply: (c, _f, t) => c.flash = t.toLowerCase() as CaptureSettingsChange["flash"],
  },
  {
    name: "size",
    aliases: [],
    help: "picture size: large, medium, medium2, small",
    apply: (_c, f, t) => f.size = t.toLowerCase() as ImageFormat["size"],
  },
  {
    name: "quality",
    aliases: [],
    help: "JPEG quality: superfine, fine, normal (raw: RAW only)",
    apply: (_c, f, t) => f.quality = t.toLowerCase() as ImageFormat["quality"],
  },
  {
    name: "raw",
    aliases: [],
    help: "keep a RAW file too: on, off",
    apply: (_c, f, t) => f.raw = onOff("raw", t),
  },
  {
    name: "focus",
    aliases: ["focusMode"],
    help: "focus mode: one-shot, ai-servo, ai-focus, manual",
    apply: (c, _f, t) => c.focusMode = t.toLowerCase() as CaptureSettingsChange["focusMode"],
  },
  {
    name: "macro",
    aliases: [],
    help: "macro focusing: on, off",
    apply: (c, _f, t) => c.macro = onOff("macro", t),
  },
  {
    name: "beep",
    aliases: [],
    help: "beep: on, off",
    apply: (c, _f, t) => c.beep = onOff("beep", t),
  },
  {
    name: "zoom",
    aliases: [],
    help: "zoom position: 0 (wide) ... the camera's maximum",
    apply: (c, _f, t) => c.zoom = number("zoom", t),
  },
];

function settingByName(name: string): SettingKey | undefined {
  const lower = name.toLowerCase();
  return SETTINGS.find((s) => s.name === lower || s.aliases.some((a) => a.toLowerCase() === lower));
}

/**
 * Turn `KEY=VALUE` pairs (or option values by key) into a settings change.
 *
 * @param pairs [key, value] pairs
 * @param command the sub-command, for usage errors
 * @returns the change (empty when nothing is to change)
 */
function changeOf(pairs: readonly [string, string][], command: string): CaptureSettingsChange {
  const change: CaptureSettingsChange = {};
  const format: FormatChange = {};
  for (const [key, value] of pairs) {
    const setting = settingByName(key);
    if (!setting) {
      throw new UsageError(
        `no setting is called ${JSON.stringify(key)}; settings: ${
          SETTINGS.map((s) => s.name).join(", ")
        }`,
        command,
      );
    }
    try {
      setting.apply(change, format, value);
    } catch (error) {
      if (error instanceof UsageError) throw new UsageError(error.message, command);
      throw error;
    }
  }
  if (Object.keys(format).length) change.imageFormat = format;
  return change;
}

function describeFormat(format: ImageFormat | undefined): string {
  if (!format) return "-";
  if (format.quality === "raw") return "RAW";
  return `${format.size} ${format.quality}${format.raw ? " + RAW" : ""}`;
}

function settingRows(settings: CaptureSettings): [string, string][] {
  const show = (value: unknown) => value === undefined ? "-" : String(value);
  return [
    ["mode", show(settings.shootingMode)],
    ["iso", show(settings.iso)],
    ["shutter", show(settings.shutterSpeed)],
    ["aperture", settings.aperture === undefined ? "-" : `f/${settings.aperture}`],
    [
      "ev",
      settings.exposureCompensation === undefined ? "-" : formatEv(settings.exposureCompensation),
    ],
    ["flash", show(settings.flash)],
    ["format", describeFormat(settings.imageFormat)],
    ["focus", show(settings.focusMode)],
    ["macro", settings.macro === undefined ? "-" : settings.macro ? "on" : "off"],
    ["beep", settings.beep === undefined ? "-" : settings.beep ? "on" : "off"],
    ["zoom", settings.zoom === undefined ? "-" : `${settings.zoom} of ${settings.zoomMax}`],
  ];
}

function settingsJson(settings: CaptureSettings): Record<string, unknown> {
  const { raw: _raw, ...rest } = settings;
  return rest;
}

function choiceRows(choices: SettingChoices): [string, string][] {
  const list = (values: readonly unknown[]) => values.length ? values.map(String).join(", ") : "-";
  return [
    ["mode", list(choices.shootingMode)],
    ["iso", list(choices.iso)],
    ["shutter", list(choices.shutterSpeed)],
    ["aperture", list(choices.aperture)],
    ["ev", list(choices.exposureCompensation.map(formatEv))],
    ["flash", list(choices.flash)],
    ["format", list(choices.imageFormat.map(describeFormat))],
    ["focus", list(choices.focusMode)],
    ["macro", list(choices.macro.map((m) => m ? "on" : "off"))],
    ["beep", list(choices.beep.map((b) => b ? "on" : "off"))],
    ["zoom", choices.zoom.length ? `0 ... ${choices.zoom[choices.zoom.length - 1]}` : "-"],
  ];
}

function printRows(context: CommandContext, rows: readonly [string, string][]): void {
  context.printLines(rows.map(([k, v]) => `${k.padEnd(9)}${v}`));
}

/** `canon settings [KEY=VALUE ...]`. */
export const settingsCommand: CommandDef = {
  name: "settings",
  usage: "[KEY=VALUE ...] [--choices]",
  summary: "show or set (KEY=VALUE) the shooting settings; --choices: the values taken",
  details: "Keys:\n" + SETTINGS.map((s) => `  ${s.name.padEnd(10)}${s.help}`).join("\n") +
    "\nExample: canon settings mode=Av aperture=4 iso=100 ev=-1/3",
  options: {
    choices: { type: "boolean", short: "c", help: "list the values each setting takes" },
  },
  async run(context, args) {
    const pairs = args.positionals.map((p): [string, string] => {
      const at = p.indexOf("=");
      if (at <= 0) {
        throw new UsageError(`settings wants KEY=VALUE, not ${JSON.stringify(p)}`, "settings");
      }
      return [p.slice(0, at), p.slice(at + 1)];
    });
    const change = changeOf(pairs, "settings");
    const cam = await context.camera();
    await using _remote = await cam.capture.start();
    if (args.values.choices) {
      const choices = await cam.capture.choices();
      if (context.json) context.printJson(choices);
      else printRows(context, choiceRows(choices));
      return;
    }
    const settings = pairs.length ? await cam.capture.set(change) : await cam.capture.settings();
    if (context.json) context.printJson(settingsJson(settings));
    else printRows(context, settingRows(settings));
  },
};

const CAPTURE_SETTING_OPTIONS: Record<string, OptionSpec> = Object.fromEntries(
  SETTINGS.filter((s) => s.name !== "raw").map((s) => [
    s.name,
    { type: "string", value: "VALUE", help: s.help } satisfies OptionSpec,
  ]),
);

/** Where captured pictures are written. */
interface CaptureOutput {
  /** The directory (of `-o DIR`, or of `-o FILE`). */
  directory: string;
  /** `-o FILE`: this file exactly. */
  file?: string;
  /** `--filename`: names below `directory`. */
  filename?: { pattern: FilenamePattern; first: number };
  /** Replace existing files. */
  overwrite: boolean;
}

/**
 * Make sure a picture can be written before the shutter fires: the directory
 * exists (made when missing) and takes a file, and `-o FILE` is not there
 * already (unless --overwrite).
 */
async function prepareOutput(
  output: string,
  filename: CaptureOutput["filename"],
  overwrite: boolean,
  series: boolean,
): Promise<CaptureOutput> {
  const asDirectory = filename !== undefined || series || await wantsDirectory(output);
  if (!asDirectory && series) {
    throw new UsageError("a series needs -o DIR or --filename with %n", "capture");
  }
  const out: CaptureOutput = asDirectory
    ? { directory: output, filename, overwrite }
    : { directory: dirname(output), file: output, overwrite };
  try {
    await Deno.mkdir(out.directory, { recursive: true });
    const probe = await PendingFile.create(out.directory, "capture-check");
    await probe.discard();
  } catch (error) {
    throw new Error(
      `cannot write pictures into ${out.directory} (${errorMessage(error)}); nothing was taken`,
    );
  }
  if (out.file && !overwrite && await pathExists(out.file)) {
    throw new Deno.errors.AlreadyExists(
      `${out.file} already exists; nothing was taken (--overwrite replaces it)`,
    );
  }
  return out;
}

/** The extension for an image by its first bytes. */
function imageExtension(head: Uint8Array): string {
  const text = new TextDecoder("latin1").decode(head.subarray(0, 16));
  if (head[0] === 0xff && head[1] === 0xd8) return "JPG";
  if (text.startsWith("II*\0") && text.slice(8, 10) === "CR") return "CR2";
  if (text.includes("HEAPCCDR")) return "CRW";
  return "JPG";
}

/** A name for a picture that never was on the card: CAP_nnnn, free in `directory`. */
async function freeCaptureName(directory: string, extension: string): Promise<string> {
  for (let n = 1; n <= 9999; n++) {
    const name = `CAP_${String(n).padStart(4, "0")}.${extension}`;
    if (!(await pathExists(join(directory, name)))) return name;
  }
  throw new Deno.errors.AlreadyExists(`${directory} holds CAP_0001 … CAP_9999 already`);
}

/** A shot written, or kept somewhere else after the write failed. */
interface SavedShot {
  /** Where the camera stored it (card or both). */
  path: string | undefined;
  /** The local file. */
  file: string;
  /** Its size. */
  size: number;
}

/**
 * Write a shot that came to the host. When that fails the picture is not
 * lost: one kept on the card stays there; one sent only to the host is put on
 * the card (or, failing that, in a temporary directory), and the error says
 * where.
 */
async function saveShot(
  cam: Camera,
  shot: Shot,
  out: CaptureOutput,
  frame: number,
): Promise<SavedShot> {
  const image = shot.image!;
  const extension = imageExtension(image);
  const cardName = shot.path ? basename(shot.path) : undefined;
  let target: string;
  if (out.file) {
    target = out.file;
  } else if (out.filename) {
    const name = cardName ?? `CAP_${String(frame).padStart(4, "0")}.${extension}`;
    target = join(
      out.directory,
      patternTarget(
        { name, path: shot.path ?? `/${name}`, date: await photoDate(cam, shot.path) },
        out.filename,
        frame - 1,
      ),
    );
  } else {
    target = join(out.directory, cardName ?? await freeCaptureName(out.directory, extension));
  }
  try {
    await Deno.mkdir(dirname(target), { recursive: true });
    const pending = await PendingFile.create(dirname(target), basename(target));
    try {
      await pending.write(image);
      await pending.commit(target, out.overwrite, image.length);
    } catch (error) {
      await pending.discard();
      throw error;
    }
    return { path: shot.path, file: target, size: image.length };
  } catch (error) {
    const why = `${target} could not be written (${errorMessage(error)})`;
    if (shot.path) throw new Error(`${why}; the picture is on the card at ${shot.path}`);
    let kept: string;
    try {
      kept = `on the card at ${await keepOnCard(cam, image, extension)}`;
    } catch (cardError) {
      const dir = await Deno.makeTempDir({ prefix: "canon-capture-" });
      const file = join(dir, `CAP_${String(frame).padStart(4, "0")}.${extension}`);
      await Deno.writeFile(file, image, { createNew: true });
      kept = `in ${file} (the card refused it: ${errorMessage(cardError)})`;
    }
    throw new Error(`${why}; the picture was saved ${kept}`);
  }
}

/** The date the card gives a picture (its camera-clock time), or now for one not on the card. */
async function photoDate(cam: Camera, path: string | undefined): Promise<Date> {
  if (path === undefined) return new Date();
  const folder = path.slice(0, path.lastIndexOf("/")) || "/";
  const entry = (await cam.storage.list(folder)).find((e) => e.path === path);
  return entry?.date ?? new Date();
}

/** Put a picture sent only to the host on the card: CAP_nnnn in the newest DCF folder. */
async function keepOnCard(cam: Camera, image: Uint8Array, extension: string): Promise<string> {
  const folders = (await cam.storage.list("/DCIM")).filter((e) =>
    e.isDirectory && /^\d{3}/.test(e.name)
  ).sort((a, b) => a.name.localeCompare(b.name));
  const folder = folders.at(-1)?.path ?? "/DCIM";
  const taken = new Set((await cam.storage.list(folder)).map((e) => e.name));
  for (let n = 1; n <= 9999; n++) {
    const name = `CAP_${String(n).padStart(4, "0")}.${extension}`;
    if (!taken.has(name)) return await cam.storage.upload(image, folder, { name });
  }
  throw new Error(`${folder} holds CAP_0001 … CAP_9999 already`);
}

/** `canon capture`. */
export const captureCommand: CommandDef = {
  name: "capture",
  usage: "[--download] [--to card|host|both] [-o DIR|FILE] [--iso N] [--shutter S] ...",
  summary: "take a picture with the given settings; --download fetches it",
  details:
    "--to card (default) keeps the picture on the card; host sends it here without keeping it;\n" +
    "both does both. --download (or --to host|both) writes it into -o (default: .), which is\n" +
    "checked before the shutter fires; if the write fails anyway, the picture is kept on the\n" +
    "card and the error says where. Settings given are applied first and stay (canon settings).\n" +
    "Time-lapse: --interval 10s with --frames N and/or --until TIME takes a series, each shot\n" +
    "saved as it is taken; a failed shot is reported and the series goes on (3 in a row end it).",
  options: {
    download: {
      type: "boolean",
      short: "d",
      help: "download the picture (--to both unless given)",
    },
    to: { type: "string", value: "WHERE", help: "card, host or both" },
    output: {
      type: "string",
      short: "o",
      value: "PATH",
      help: "directory or file for the picture (default: .)",
    },
    overwrite: { type: "boolean", help: "replace an existing file" },
    ...FILENAME_OPTIONS,
    ...EXEC_OPTION,
    interval: {
      type: "string",
      short: "I",
      value: "TIME",
      help: "time-lapse: one shot every TIME (10s, 500ms, 2m, 1h; a number: seconds)",
    },
    frames: { type: "string", short: "F", value: "N", help: "time-lapse: take N shots" },
    until: { type: "string", value: "TIME", help: 'time-lapse: until 18:30 or "YYYY-MM-DD HH:MM"' },
    ...CAPTURE_SETTING_OPTIONS,
  },
  async run(context, args) {
    const { values } = args;
    if (args.positionals.length) {
      throw new UsageError("capture takes no arguments, only options", "capture");
    }
    const to = values.to as string | undefined;
    if (to !== undefined && to !== "card" && to !== "host" && to !== "both") {
      throw new UsageError(`--to wants card, host or both, not ${JSON.stringify(to)}`, "capture");
    }
    const target: CaptureTarget = (to as CaptureTarget | undefined) ??
      (values.download || values.filename !== undefined || values.exec !== undefined
        ? "both"
        : "card");
    const fetch = target !== "card";
    const pairs = SETTINGS.filter((s) => values[s.name] !== undefined)
      .map((s): [string, string] => [s.name, values[s.name] as string]);
    const change = changeOf(pairs, "capture");
    const series = seriesOf(values);
    let filename;
    try {
      filename = filenameOption(values);
    } catch (error) {
      throw error instanceof UsageError ? new UsageError(error.message, "capture") : error;
    }
    if (!fetch && (values.output !== undefined || filename || values.exec !== undefined)) {
      throw new UsageError(
        "-o, --filename and --exec need --download or --to host|both",
        "capture",
      );
    }
    const hook = values.exec === undefined
      ? undefined
      : new ExecHook(values.exec as string, (t) => context.io.writeError(t));
    const out = fetch
      ? await prepareOutput(
        (values.output as string | undefined) ?? ".",
        filename,
        Boolean(values.overwrite),
        series !== undefined,
      )
      : undefined;
    const cam = await context.camera();
    await using _remote = await cam.capture.start();
    let hookFailures = 0;
    const take = async (frame: number, of: number | undefined) => {
      const progress = context.progress(1, 0, of === undefined ? "capture" : `shot ${frame}`);
      let shot: Shot;
      try {
        if (fetch) progress.startFile("picture", 0);
        shot = await cam.capture.shoot({
          to: target,
          settings: pairs.length && frame === 1 ? change : undefined,
          onProgress: (done, total) => progress.update(done, total),
        });
      } finally {
        progress.finish();
      }
      const saved = out ? await saveShot(cam, shot, out, frame) : undefined;
      if (saved && hook && await hook.run({ file: saved.file, path: saved.path ?? "" }) !== 0) {
        hookFailures++;
      }
      return { shot, saved };
    };
    if (series === undefined) {
      const { shot, saved } = await take(1, undefined);
      if (context.json) {
        context.printJson({
          path: shot.path ?? null,
          file: saved?.file ?? null,
          size: shot.size,
          thumbnailSize: shot.thumbnail?.length ?? 0,
        });
      } else {
        if (shot.path) context.print(`Captured ${shot.path}`);
        else context.print("Captured (not kept on the card)");
        if (saved) context.print(`-> ${saved.file} (${formatBytes(saved.size)})`);
      }
      return hookFailures ? EXIT.OTHER : EXIT.OK;
    }
    return await timelapse(context, series, take, () => hookFailures);
  },
};

/** `--interval` with `--frames` and/or `--until`, checked. */
function seriesOf(values: Record<string, unknown>): TimelapsePlan | undefined {
  const { interval, frames, until } = values as Record<string, string | undefined>;
  if (interval === undefined) {
    if (frames !== undefined || until !== undefined) {
      throw new UsageError("--frames and --until need --interval", "capture");
    }
    return undefined;
  }
  if (frames === undefined && until === undefined) {
    throw new UsageError("--interval needs --frames N or --until TIME", "capture");
  }
  const count = frames === undefined ? undefined : Number(frames);
  if (count !== undefined && (!Number.isInteger(count) || count < 1)) {
    throw new UsageError(
      `--frames wants a number of shots, not ${JSON.stringify(frames)}`,
      "capture",
    );
  }
  return {
    interval: parseInterval(interval),
    frames: count,
    until: until === undefined ? undefined : parseUntil(until),
  };
}

/** Run a time-lapse series: a line per shot, a wait line on a terminal, a summary. */
async function timelapse(
  context: CommandContext,
  plan: TimelapsePlan,
  take: (frame: number, of: number | undefined) => Promise<{ shot: Shot; saved?: SavedShot }>,
  hookFailures: () => number,
): Promise<number> {
  const of = plan.frames === undefined ? "" : `/${plan.frames}`;
  const shots: Record<string, unknown>[] = [];
  const drawWait = context.io.errorIsTerminal && !context.json;
  let ticker: ReturnType<typeof setInterval> | undefined;
  const stopTicker = () => {
    if (ticker !== undefined) {
      clearInterval(ticker);
      ticker = undefined;
      context.io.writeError("\r\x1b[K");
    }
  };
  const result = await runTimelapse(plan, {
    waiting(frame, ms) {
      if (!drawWait) return;
      const end = Date.now() + ms;
      const draw = () =>
        context.io.writeError(
          `\rtime-lapse: shot ${frame}${of} in ${formatDuration((end - Date.now()) / 1000)}\x1b[K`,
        );
      draw();
      ticker = setInterval(draw, 1000);
    },
    async shoot(frame) {
      stopTicker();
      const { shot, saved } = await take(frame, plan.frames);
      const time = formatDate(new Date()).slice(11);
      shots.push({ frame, path: shot.path ?? null, file: saved?.file ?? null, size: shot.size });
      if (!context.json) {
        context.print(
          `[${frame}${of}] ${time} ${shot.path ?? "(not kept on the card)"}` +
            (saved ? ` -> ${saved.file} (${formatBytes(saved.size)})` : ""),
        );
      }
    },
    failed(frame, error) {
      stopTicker();
      shots.push({ frame, error: errorMessage(error) });
      context.io.writeError(`canon capture: shot ${frame}${of} failed: ${errorMessage(error)}\n`);
    },
  });
  stopTicker();
  const why = {
    frames: "",
    until: ", --until reached",
    failures: `, stopped after ${MAX_FAILURES_IN_A_ROW} failures in a row`,
    aborted: ", stopped",
  }[result.stopped];
  if (context.json) {
    context.printJson({ ...result, shots });
  } else {
    context.print(
      `${result.saved} shot${result.saved === 1 ? "" : "s"} taken, ${result.failed} failed, ` +
        `in ${formatDuration(result.elapsed / 1000)}${why}`,
    );
  }
  return result.failed || hookFailures() ? EXIT.OTHER : EXIT.OK;
}

/** An existing directory, a path ending in "/", or a name without an extension: a directory. */
async function wantsDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    // Missing, or below a file: not a directory yet (writing there is checked next).
    return path.endsWith("/") || !/\.[^./]+$/.test(path);
  }
}

/** `canon preview -o FILE`. */
export const previewCommand: CommandDef = {
  name: "preview",
  usage: "-o FILE [--frames N]",
  summary: "save a viewfinder frame (JPEG); --frames N saves N as FILE-001.jpg ...",
  options: {
    output: { type: "string", short: "o", value: "FILE", help: "the JPEG file to write" },
    frames: { type: "string", value: "N", help: "save N frames, numbered" },
    overwrite: { type: "boolean", help: "replace existing files" },
  },
  async run(context, args) {
    const output = args.values.output as string | undefined;
    if (!output) throw new UsageError("preview needs -o FILE", "preview");
    const frames = args.values.frames === undefined ? 1 : Number(args.values.frames);
    if (!Number.isInteger(frames) || frames < 1 || frames > 10000) {
      throw new UsageError("--frames wants a number of frames, 1 or more", "preview");
    }
    const names = frames === 1 ? [output] : Array.from({ length: frames }, (_, i) => {
      const n = String(i + 1).padStart(3, "0");
      return /\.[^./]+$/.test(output)
        ? output.replace(/(\.[^./]+)$/, `-${n}$1`)
        : `${output}-${n}.jpg`;
    });
    const cam = await context.camera();
    await using _remote = await cam.capture.start();
    const written: { file: string; size: number }[] = [];
    let i = 0;
    for await (const frame of cam.capture.previews({ frames })) {
      context.signal?.throwIfAborted(); // Ctrl+C: stop between frames, leave remote mode
      const file = names[i++];
      await writeFileSafely(file, frame, { overwrite: Boolean(args.values.overwrite) });
      written.push({ file, size: frame.length });
      if (!context.json) context.print(`${file} (${formatBytes(frame.length)})`);
    }
    if (context.json) context.printJson({ frames: written });
  },
};
