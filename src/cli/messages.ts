/**
 * Library errors said in the `canon` command's words: the settings as
 * `canon settings KEY=VALUE` names them (`shutter`, not `shutterSpeed`),
 * values as they are typed (`1.67`, `raw=on`, not `1.6666666666666667` or
 * `{"raw":true}`).
 *
 * @module
 */

/** Library setting names whose `canon settings` key differs. */
const SETTING_KEYS: Record<string, string> = {
  shootingMode: "mode",
  shutterSpeed: "shutter",
  exposureCompensation: "ev",
  focusMode: "focus",
};

/** A value as the command line writes it. */
export function valueText(value: unknown): string {
  if (typeof value === "number") {
    return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(2)));
  }
  if (typeof value === "boolean") return value ? "on" : "off";
  if (value !== null && typeof value === "object") {
    return Object.entries(value as Record<string, unknown>)
      .map(([key, v]) => `${SETTING_KEYS[key] ?? key}=${valueText(v)}`).join(" ");
  }
  return String(value);
}

/** `setting=value` (an image format's value carries its own keys). */
function assignment(setting: string, value: unknown): string {
  if (value !== null && typeof value === "object") return valueText(value);
  return `${SETTING_KEYS[setting] ?? setting}=${valueText(value)}`;
}

interface UnsupportedSetting extends Error {
  setting: string;
  value: unknown;
  choices: readonly unknown[];
}

interface NotApplied extends Error {
  setting: string;
  wanted: unknown;
  got: unknown;
}

/**
 * The command's message for a library error, when it has one.
 *
 * @param error what was thrown
 * @returns the message, or undefined to use the error's own
 */
export function commandMessage(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error.name === "UnsupportedSettingError" && "choices" in error) {
    const e = error as UnsupportedSetting;
    const why = /\(([^)]*)\)/.exec(e.message.split(";")[0])?.[1];
    const choices = e.choices.map(valueText);
    return `${assignment(e.setting, e.value)}: this camera does not take it` +
      (why ? ` (${why})` : "") +
      (choices.length ? `; it takes: ${choices.join(", ")}` : "; it has no such setting");
  }
  if (error.name === "SettingNotAppliedError" && "wanted" in error) {
    const e = error as NotApplied;
    return `${assignment(e.setting, e.wanted)}: the camera reads back ${valueText(e.got)}; it ` +
      "does not take this value in its current mode or with its lens (the other settings were applied)";
  }
  return undefined;
}
