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
} from "../camera/capture.ts";
import type { ImageFormat } from "../protocol/capture_codec.ts";
import type { CommandContext, CommandDef, OptionSpec } from "./command.ts";
import { writeFileSafely } from "../camera/pending_file.ts";
import { UsageError } from "./exit.ts";
import { formatBytes } from "./format.ts";

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
    await using session = await cam.capture.start();
    if (args.values.choices) {
      const choices = await session.choices();
      if (context.json) context.printJson(choices);
      else printRows(context, choiceRows(choices));
      return;
    }
    const settings = pairs.length ? await session.set(change) : await session.settings();
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

/** `canon capture`. */
export const captureCommand: CommandDef = {
  name: "capture",
  usage: "[--download] [--to card|host|both] [-o DIR|FILE] [--iso N] [--shutter S] ...",
  summary: "take a picture with the given settings; --download fetches it",
  details:
    "--to card (default) keeps the picture on the card; host sends it here without keeping it;\n" +
    "both does both. --download (or --to host|both) writes it into -o (default: .).\n" +
    "Settings given are applied first and stay (see canon settings).",
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
      (values.download ? "both" : "card");
    const fetch = target !== "card";
    const pairs = SETTINGS.filter((s) => values[s.name] !== undefined)
      .map((s): [string, string] => [s.name, values[s.name] as string]);
    const change = changeOf(pairs, "capture");
    const destination = fetch ? (values.output as string | undefined) ?? "." : undefined;
    if (!fetch && values.output !== undefined) {
      throw new UsageError("-o needs --download or --to host|both", "capture");
    }
    if (destination !== undefined && await wantsDirectory(destination)) {
      await Deno.mkdir(destination, { recursive: true });
    }
    const cam = await context.camera();
    await using session = await cam.capture.start();
    const progress = context.progress(1, 0, "capture");
    let shot;
    try {
      if (fetch) progress.startFile("picture", 0);
      shot = await session.shoot({
        to: target,
        destination,
        overwrite: Boolean(values.overwrite),
        settings: pairs.length ? change : undefined,
        onProgress: (done, total) => progress.update(done, total),
      });
    } finally {
      progress.finish();
    }
    if (context.json) {
      context.printJson({
        path: shot.path ?? null,
        file: shot.file ?? null,
        size: shot.size,
        thumbnailSize: shot.thumbnail?.length ?? 0,
      });
      return;
    }
    if (shot.path) context.print(`Captured ${shot.path}`);
    else context.print("Captured (not kept on the card)");
    if (shot.file) context.print(`-> ${shot.file} (${formatBytes(shot.size)})`);
  },
};

/** An existing directory, a path ending in "/", or a name without an extension: a directory. */
async function wantsDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
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
    await using session = await cam.capture.start();
    const written: { file: string; size: number }[] = [];
    let i = 0;
    for await (const frame of session.previews({ frames })) {
      context.signal?.throwIfAborted(); // Ctrl+C: stop between frames, leave remote mode
      const file = names[i++];
      await writeFileSafely(file, frame, { overwrite: Boolean(args.values.overwrite) });
      written.push({ file, size: frame.length });
      if (!context.json) context.print(`${file} (${formatBytes(frame.length)})`);
    }
    if (context.json) context.printJson({ frames: written });
  },
};
