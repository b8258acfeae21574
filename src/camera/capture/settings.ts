/**
 * The shooting settings in remote mode: read them (release parameters and
 * zoom), list the values each takes on this camera, change them and read them
 * back (protocol reference §4.4.5, §6.3–6.6).
 *
 * @module
 */

import {
  APERTURES,
  BEEP_MODES,
  decodeReleaseParams,
  decodeZoom,
  encodeReleaseSettings,
  EXPOSURE_COMPENSATIONS,
  FLASH_MODES,
  FOCUS_MODES,
  IMAGE_FORMATS,
  type ImageFormat,
  ISO_SPEEDS,
  type ReleaseSettings,
  type ReleaseSettingsChange,
  sameImageFormat,
  SHOOTING_MODES,
  SHUTTER_SPEEDS,
  type ZoomPosition,
} from "../../protocol/capture_codec.ts";
import { CameraStatusError, ProtocolError } from "../../protocol/errors.ts";
import { log } from "../../protocol/log.ts";
import { EOS_ONLY_SHOOTING_MODES } from "../../protocol/models.ts";
import { traitsOf } from "../../protocol/traits.ts";
import { readPictureAbilities } from "./camera_tables.ts";
import { SettingNotAppliedError, UnsupportedSettingError } from "./errors.ts";
import { remote, type RemoteStay } from "./remote_stay.ts";
import type { CaptureSettings, CaptureSettingsChange, SettingChoices } from "./types.ts";

/**
 * The zoom position, or undefined when the camera has none to report: a
 * refused or malformed zoom read (camcorders and some PowerShots have no
 * zoom; gphoto2 ignores the failure) leaves the other settings usable.
 */
async function readZoom(stay: RemoteStay): Promise<ZoomPosition | undefined> {
  if (stay.eos) return undefined; // gphoto2 asks EOS bodies no zoom (§1.4)
  try {
    const reply = await remote(stay.host, "getZoom", [0], { minData: 15 });
    return decodeZoom(reply.data);
  } catch (error) {
    if (!(error instanceof CameraStatusError || error instanceof ProtocolError)) throw error;
    log.info(`no zoom position (${error.message}); the settings go on without it`);
    return undefined;
  }
}

function settingsOf(
  stay: RemoteStay,
  block: Uint8Array,
  zoom: ZoomPosition | undefined,
): CaptureSettings {
  return {
    ...decodeReleaseParams(block, stay.eos),
    zoom: zoom?.position,
    zoomMax: zoom?.max,
    raw: block,
  };
}

/** The work of `cam.capture.settings()`. */
export async function readSettings(stay: RemoteStay): Promise<CaptureSettings> {
  return await stay.run(async () => {
    const block = await stay.readBlock();
    return settingsOf(stay, block, await readZoom(stay));
  });
}

async function choicesNow(
  stay: RemoteStay,
  block: Uint8Array,
  zoom: ZoomPosition | undefined,
): Promise<SettingChoices> {
  const abilities = await readPictureAbilities(stay.host);
  let formats = IMAGE_FORMATS.filter((row) => row.label !== "RAW 2").map((row) => row.value);
  if (abilities) {
    const offered = abilities.entries.flatMap((e) => e.format ? [e.format] : []);
    const hasRaw = offered.some((f) => f.quality === "raw");
    formats = formats.filter((f) =>
      f.raw && f.quality !== "raw"
        ? hasRaw && stay.eos &&
          offered.some((o) => o.size === f.size && o.quality === f.quality)
        : offered.some((o) => sameImageFormat(o, f))
    );
  }
  const macroKnown = decodeReleaseParams(block, stay.eos).macro !== undefined;
  // What this body takes, where the model table records it; the full tables otherwise.
  const limits = traitsOf(stay.host.modelInfo).releaseLimits;
  const codeOf = (value: string) => SHUTTER_SPEEDS.find((r) => r.value === value)?.code;
  const longest = limits ? codeOf(limits.shutter[0]) ?? 0 : 0;
  const shortest = limits ? codeOf(limits.shutter[1]) ?? 0xff : 0xff;
  return {
    shootingMode: SHOOTING_MODES.map((r) => r.value).filter((mode) =>
      stay.eos || !EOS_ONLY_SHOOTING_MODES.includes(mode)
    ),
    iso: ISO_SPEEDS.map((r) => r.value).filter((iso) => !limits || limits.iso.includes(iso)),
    aperture: APERTURES.map((r) => r.value).filter((f) =>
      !limits || (f >= limits.aperture[0] && f <= limits.aperture[1])
    ),
    shutterSpeed: SHUTTER_SPEEDS.filter((r) => !limits || (r.code >= longest && r.code <= shortest))
      .map((r) => r.value),
    exposureCompensation: EXPOSURE_COMPENSATIONS.map((r) => r.value),
    imageFormat: formats,
    flash: FLASH_MODES.map((r) => r.value),
    focusMode: FOCUS_MODES.map((r) => r.value),
    macro: macroKnown ? [false, true] : [],
    beep: BEEP_MODES.map((r) => r.value),
    zoom: zoom ? Array.from({ length: zoom.max + 1 }, (_, i) => i) : [],
  };
}

/** The work of `cam.capture.choices()`. */
export async function settingChoices(stay: RemoteStay): Promise<SettingChoices> {
  return await stay.run(async () => {
    const block = await stay.readBlock();
    return await choicesNow(stay, block, await readZoom(stay));
  });
}

/** The work of `cam.capture.set()`. */
export async function changeSettings(
  stay: RemoteStay,
  changes: CaptureSettingsChange,
): Promise<CaptureSettings> {
  return await stay.run(() => setNow(stay, changes));
}

async function setNow(stay: RemoteStay, changes: CaptureSettingsChange): Promise<CaptureSettings> {
  const block = await stay.readBlock();
  let zoom = await readZoom(stay);
  const current = decodeReleaseParams(block, stay.eos);
  const { release, zoom: newZoom } = validateChanges(
    changes,
    current,
    await choicesNow(stay, block, zoom),
  );
  let after = block;
  if (Object.keys(release).length > 0) {
    const wanted = encodeReleaseSettings(block, release, stay.eos);
    if (wanted.some((b, i) => b !== block[i])) {
      // SET, GET, SET, as gphoto2 and Canon RemoteCapture do (§4.4.5), then read back.
      await stay.writeBlock(wanted);
      await stay.readBlock();
      await stay.writeBlock(wanted);
      if (release.imageFormat) await new Promise((resolve) => setTimeout(resolve, 5));
      after = await stay.readBlock();
      const got = decodeReleaseParams(after, stay.eos);
      for (const [key, value] of Object.entries(release)) {
        const back = got[key as keyof ReleaseSettings];
        const same = key === "imageFormat"
          ? back !== undefined && sameImageFormat(back as ImageFormat, value as ImageFormat)
          : back === value;
        if (!same) throw new SettingNotAppliedError(key, value, back);
      }
    }
  }
  if (newZoom !== undefined && newZoom !== zoom?.position) {
    await remote(stay.host, "setZoom", [4, newZoom]);
    zoom = await readZoom(stay);
    if (zoom?.position !== newZoom) {
      throw new SettingNotAppliedError("zoom", newZoom, zoom?.position);
    }
  }
  return settingsOf(stay, after, zoom);
}

const SETTING_KEYS: readonly (keyof CaptureSettingsChange)[] = [
  "shootingMode",
  "iso",
  "aperture",
  "shutterSpeed",
  "exposureCompensation",
  "imageFormat",
  "flash",
  "focusMode",
  "macro",
  "beep",
  "zoom",
];

function validateChanges(
  changes: CaptureSettingsChange,
  current: ReleaseSettings,
  choices: SettingChoices,
): { release: ReleaseSettingsChange; zoom: number | undefined } {
  if (typeof changes !== "object" || changes === null) {
    throw new TypeError("set() takes an object of settings, e.g. { iso: 200 }");
  }
  for (const key of Object.keys(changes)) {
    if (!SETTING_KEYS.includes(key as keyof CaptureSettingsChange)) {
      throw new UnsupportedSettingError(
        key,
        (changes as Record<string, unknown>)[key],
        SETTING_KEYS,
        `there is no setting called ${JSON.stringify(key)}; the settings are listed`,
      );
    }
  }
  const release: ReleaseSettingsChange = {};
  const pick = (key: Exclude<keyof ReleaseSettingsChange, "imageFormat" | "macro">): void => {
    const value = changes[key];
    if (value === undefined) return;
    const allowed = choices[key] as readonly unknown[];
    const found = key === "exposureCompensation"
      ? allowed.find((v) => typeof value === "number" && Math.abs((v as number) - value) < 0.01)
      : allowed.find((v) => v === value);
    if (found === undefined) throw new UnsupportedSettingError(key, value, allowed);
    (release as Record<string, unknown>)[key] = found;
  };
  pick("shootingMode");
  pick("iso");
  pick("aperture");
  pick("shutterSpeed");
  pick("exposureCompensation");
  pick("flash");
  pick("focusMode");
  pick("beep");
  if (changes.macro !== undefined) {
    if (choices.macro.length === 0) {
      throw new UnsupportedSettingError(
        "macro",
        changes.macro,
        [],
        "this camera has no macro byte in its release parameters",
      );
    }
    if (typeof changes.macro !== "boolean") {
      throw new UnsupportedSettingError("macro", changes.macro, choices.macro);
    }
    release.macro = changes.macro;
  }
  if (changes.imageFormat !== undefined) {
    const asked = changes.imageFormat;
    const wanted: { -readonly [K in keyof ImageFormat]?: ImageFormat[K] } = {
      ...current.imageFormat,
      ...asked,
    };
    if (asked.quality === "raw") {
      wanted.raw = true;
      wanted.size = asked.size ?? "large";
    } else if (
      asked.quality !== undefined && asked.raw === undefined &&
      current.imageFormat?.quality === "raw"
    ) {
      wanted.raw = false;
    }
    const match = choices.imageFormat.find((f) =>
      f.size === wanted.size && f.quality === wanted.quality && f.raw === (wanted.raw ?? false)
    );
    if (!match) throw new UnsupportedSettingError("imageFormat", asked, choices.imageFormat);
    release.imageFormat = match;
  }
  let zoom: number | undefined;
  if (changes.zoom !== undefined) {
    if (!choices.zoom.includes(changes.zoom)) {
      throw new UnsupportedSettingError(
        "zoom",
        changes.zoom,
        choices.zoom.length > 0 ? [`0 … ${choices.zoom.length - 1}`] : [],
        choices.zoom.length > 0 ? undefined : "EOS bodies have no zoom command",
      );
    }
    zoom = changes.zoom;
  }
  return { release, zoom };
}
