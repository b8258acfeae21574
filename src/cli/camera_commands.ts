/**
 * `canon cameras`, `info`, `owner` and `clock`: which cameras are there, and
 * what one says about itself.
 *
 * @module
 */

import { listCameras } from "../camera/discovery.ts";
import { MODELS } from "../protocol/models.ts";
import { hex } from "../protocol/commands.ts";
import { CanonError } from "../protocol/errors.ts";
import type { CommandContext, CommandDef } from "./command.ts";
import { pad3, virtualModel } from "./connect.ts";
import { UsageError } from "./exit.ts";
import { formatBytes, formatDate, MONTHS, table } from "./format.ts";

const hex4 = (n: number): string => n.toString(16).padStart(4, "0");

/** `canon cameras [--all]`. */
export const camerasCommand: CommandDef = {
  name: "cameras",
  usage: "[--all]",
  summary: "list the Canon cameras connected (--all: every supported model)",
  details: "With --emulate, the virtual camera is the one connected.",
  options: {
    all: { type: "boolean", short: "a", help: "list every model this tool supports instead" },
  },
  async run(context, args) {
    if (args.values.all) return listModels(context);
    const { options } = context;
    let cameras: {
      model: string | undefined;
      port: string;
      productId: number;
      mode: string;
      supported: boolean;
    }[];
    if (options.emulate !== undefined) {
      const { VirtualCamera } = await import("../emulator/host/virtual_camera.ts");
      const model = await virtualModel(options.emulate);
      const vc = new VirtualCamera(model ? { model } : {});
      await vc[Symbol.asyncDispose]();
      cameras = [{
        model: vc.model,
        port: "virtual",
        productId: vc.productId,
        mode: "normal",
        supported: true,
      }];
    } else {
      if (options.emulateUsb !== undefined) await context.camera(); // plugs the virtual camera in
      cameras = (await listCameras()).map((c) => ({
        model: c.modelName,
        port: `usb:${pad3(c.bus)},${pad3(c.address)}`,
        productId: c.productId,
        mode: c.mode,
        supported: c.supported,
      }));
    }
    if (context.json) {
      context.printJson(cameras.map((c) => ({ ...c, usbId: `04a9:${hex4(c.productId)}` })));
      return;
    }
    if (cameras.length === 0) {
      context.print("No Canon camera is connected.");
      return 3;
    }
    context.printLines(table([
      ["Model", "Port", "USB id", "Mode"],
      ...cameras.map((c) => [
        c.model ?? "unknown Canon device",
        c.port,
        `04a9:${hex4(c.productId)}`,
        c.mode + (c.supported ? "" : " (not supported)"),
      ]),
    ]));
  },
};

function listModels(context: CommandContext): void {
  if (context.json) {
    context.printJson(MODELS.map((m) => ({
      name: m.name,
      aliases: m.aliases,
      usbId: `04a9:${hex4(m.productId)}`,
      cameraClass: m.cameraClass,
      capture: m.capture,
    })));
    return;
  }
  context.printLines(table([
    ["Model", "USB id", "Class", "Capture"],
    ...MODELS.map((m) => [
      [m.name, ...m.aliases].join(" / "),
      `04a9:${hex4(m.productId)}`,
      String(m.cameraClass),
      m.capture,
    ]),
  ]));
}

/** How old the power reading of the handshake may be for `canon info`. */
const INFO_POWER_MAX_AGE_MS = 2000;

/** `canon info`: a summary like `gphoto2 --summary`. */
export const infoCommand: CommandDef = {
  name: "info",
  usage: "",
  summary: "model, owner, firmware, power, card capacity and free space, clock",
  options: {},
  async run(context) {
    const cam = await context.camera();
    // The handshake has just identified the camera (and, on classes whose
    // handshake asks, read the power): asking again would only add round
    // trips to the start-up.
    const identity = { modelName: cam.modelName, owner: cam.owner, firmware: cam.firmware };
    const power = await cam.powerStatus({ maxAgeMs: INFO_POWER_MAX_AGE_MS });
    let card: { drive: string; capacity: number; free: number } | undefined;
    let cardError: string | undefined;
    try {
      card = await cam.storage.info();
    } catch (error) {
      if (!(error instanceof CanonError)) throw error;
      cardError = error.message;
    }
    const time = await cam.time();
    let bodyId: string | undefined;
    if (cam.model.name.startsWith("EOS")) {
      bodyId = await cam.bodyId().catch(() => undefined);
    }
    const usb = `04a9:${hex4(cam.device.productId)}`;
    if (context.json) {
      context.printJson({
        model: identity.modelName,
        owner: identity.owner,
        firmware: identity.firmware,
        ...(bodyId === undefined ? {} : { bodyId }),
        power,
        card: card ?? null,
        cardError,
        time: formatDate(time),
        usbId: usb,
        cameraClass: cam.model.cameraClass,
        transferLength: cam.transferLength,
        port: context.connection?.label,
      });
      return;
    }
    const rows: [string, string][] = [
      ["Model", identity.modelName],
      ["Owner", identity.owner || "(not set)"],
      ["Firmware", identity.firmware],
    ];
    if (bodyId !== undefined) rows.push(["Body id", bodyId]);
    rows.push([
      "Power",
      `${power.source === "ac" ? "AC adapter" : "battery"}, power ${power.ok ? "OK" : "low"}`,
    ]);
    if (card) {
      rows.push(
        ["Drive", card.drive],
        ["Capacity", `${formatBytes(card.capacity)} (${card.capacity} bytes)`],
        ["Free", `${formatBytes(card.free)} (${card.free} bytes)`],
      );
    } else {
      rows.push(["Card", cardError ?? "none"]);
    }
    rows.push(
      ["Camera time", formatDate(time)],
      [
        "USB",
        `${usb}, class ${cam.model.cameraClass}, transfer length ${hex(cam.transferLength)}`,
      ],
      ["Port", context.connection?.label ?? ""],
    );
    context.printLines(rows.map(([k, v]) => `${(k + ":").padEnd(13)}${v}`));
  },
};

/** `canon owner [NAME]`. */
export const ownerCommand: CommandDef = {
  name: "owner",
  usage: "[NAME]",
  summary: "show the owner name, or set it (at most 30 characters)",
  options: {},
  async run(context, args) {
    if (args.positionals.length > 1) {
      throw new UsageError(
        `owner takes one name (quote it if it has spaces): canon owner "Ada Lovelace"`,
        "owner",
      );
    }
    const cam = await context.camera();
    const name = args.positionals[0];
    if (name !== undefined) await cam.setOwner(name);
    else await cam.identify();
    if (context.json) context.printJson({ owner: cam.owner });
    else context.print(cam.owner);
  },
};

/** `canon clock [--sync | --set TIME]`. */
export const clockCommand: CommandDef = {
  name: "clock",
  usage: "[--sync | --set 'YYYY-MM-DD HH:MM:SS']",
  summary: "show the camera's clock and its offset from this computer; --sync sets it",
  details:
    "The camera keeps wall-clock time without a time zone: --sync sets it to this computer's\n" +
    "local time, and the times shown are wall-clock times as the camera shows them.",
  options: {
    sync: { type: "boolean", help: "set the camera's clock to this computer's local time" },
    set: { type: "string", value: "TIME", help: "set the camera's clock to TIME (local)" },
  },
  async run(context, args) {
    const cam = await context.camera();
    const setTo = args.values.set as string | undefined;
    if (setTo !== undefined && args.values.sync) {
      throw new UsageError("give --sync or --set, not both", "clock");
    }
    let drift: number | undefined;
    if (args.values.sync) {
      drift = await cam.syncClock();
    } else if (setTo !== undefined) {
      const date = parseLocalTime(setTo);
      await cam.setTime(date);
    }
    const time = await cam.time();
    const offset = clockOffset(time, Date.now());
    if (context.json) {
      context.printJson({
        time: formatDate(time),
        offsetSeconds: offset,
        ...(drift === undefined ? {} : { driftBeforeSyncSeconds: drift }),
      });
      return;
    }
    if (drift !== undefined) {
      context.print(`Set the camera's clock (it was ${describeOffset(drift)}).`);
    }
    context.print(`Camera time: ${formatDate(time)} (${describeOffset(offset)})`);
  },
};

/**
 * How many seconds a camera's clock is ahead of the host's (negative:
 * behind). The camera's clock reads whole seconds, cut down: on average it
 * is half a second further on than its reading says. A reading that falls
 * on a tie (a camera read at the very millisecond its second began, and the
 * host's clock in that same millisecond) cannot tell k from k + 1.
 *
 * @param cameraTime the camera's reading
 * @param hostNow the host's clock just after it, ms since 1970
 * @returns whole seconds
 */
export function clockOffset(cameraTime: Date, hostNow: number): number {
  // + 0: never -0 (Math.round of -0.3).
  return Math.round((cameraTime.getTime() - hostNow) / 1000 + 0.5) + 0;
}

/**
 * A clock offset as people read it: "42 s", "3 min 5 s", "1 h", "2 h 15 min",
 * "3 days 4 h", "12 years 247 days". The camera's clock counts whole seconds,
 * so an offset of a minute or more is shown to the minute (an hour is "1 h",
 * not "59 min 59 s").
 *
 * @param seconds camera minus computer, in seconds (negative: behind)
 * @returns e.g. "1 h ahead of this computer"
 */
export function describeOffset(seconds: number): string {
  const abs = Math.abs(seconds);
  if (abs < 1.5) return "in step with this computer";
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"}`;
  let text: string;
  if (abs < 59.5) {
    text = `${Math.round(abs)} s`;
  } else if (abs < 599.5) {
    const s = Math.round(abs);
    text = `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ""}`;
  } else {
    const minutes = Math.round(abs / 60);
    const days = Math.floor(minutes / 1440);
    const hours = Math.floor((minutes % 1440) / 60);
    const mins = minutes % 60;
    if (days >= 365) {
      const exact = minutes / 1440;
      let years = Math.floor(exact / 365.25);
      let rest = Math.round(exact - years * 365.25);
      if (rest >= 365) [years, rest] = [years + 1, 0];
      text = `${plural(years, "year")}${rest ? ` ${plural(rest, "day")}` : ""}`;
    } else if (days > 0) {
      text = `${plural(days, "day")}${hours ? ` ${hours} h` : ""}`;
    } else if (hours > 0) {
      text = `${hours} h${mins ? ` ${mins} min` : ""}`;
    } else {
      text = `${mins} min`;
    }
  }
  return `${text} ${seconds > 0 ? "ahead of" : "behind"} this computer`;
}

/**
 * `--set`'s local time, refusing a date that does not exist (2024-13-01,
 * 2024-02-30, 25:00) instead of letting `Date` roll it over, and a wall-clock
 * time skipped by a daylight-saving change in this computer's zone.
 *
 * @param text "YYYY-MM-DD HH:MM[:SS]" (or with a "T")
 * @returns the date
 * @throws {UsageError} for anything else
 */
export function parseLocalTime(text: string): Date {
  const match = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text.trim());
  if (!match) {
    throw new UsageError(
      `--set wants a local time like "2024-07-01 14:30:00", not ${JSON.stringify(text)}`,
      "clock",
    );
  }
  const [y, mo, d, h, mi, s] = match.slice(1).map((v) => Number(v ?? 0));
  const daysInMonth = mo >= 1 && mo <= 12 ? new Date(y, mo, 0).getDate() : 0;
  const wrong = mo < 1 || mo > 12
    ? `there is no month ${mo}`
    : d < 1 || d > daysInMonth
    ? `${MONTHS[mo - 1]} ${y} has no day ${d} (it has ${daysInMonth})`
    : h > 23 || mi > 59 || s > 59
    ? `${match[4]}:${match[5]}${match[6] === undefined ? "" : `:${match[6]}`} is not a time of day`
    : undefined;
  if (wrong) throw new UsageError(`--set ${JSON.stringify(text)}: ${wrong}`, "clock");
  const date = new Date(y, mo - 1, d, h, mi, s);
  if (date.getHours() !== h || date.getMinutes() !== mi || date.getDate() !== d) {
    throw new UsageError(
      `--set ${JSON.stringify(text)}: that time does not exist here (the clocks skip it ` +
        "for daylight saving)",
      "clock",
    );
  }
  return date;
}
