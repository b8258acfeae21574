/**
 * What a camera's class decides (protocol reference §1.1, §1.4, §2.2 step 8,
 * §4.1, §4.3.5, §4.3.13–4.3.16), written once per class: the protocol
 * generation and its command codes, what the init sends after identify, how
 * keys lock and unlock, the disk-info unit, the owner and body-id commands,
 * custom functions, how a capture sequence ends. `Camera`, `Storage` and
 * `Capture` read these records instead of testing the class themselves;
 * {@link traitsOf} lays a model's own quirks (`models.ts`) over its class's.
 *
 * @module
 */

import { words } from "./bytes.ts";
import {
  type CommandPurpose,
  COMMANDS,
  type CommandSpec,
  NEW_PROTOCOL_COMMANDS,
  NEW_PROTOCOL_ONLY,
} from "./commands.ts";
import type { CaptureRules } from "./capture/capture_sequence.ts";
import { type CustomFunctionInfo, EOS_CUSTOM_FUNCTIONS } from "./capture/custom_functions.ts";
import type {
  BodyIdFormat,
  CameraClass,
  CameraModel,
  ModelQuirks,
  ReleaseLimits,
} from "./models.ts";

export type { BodyIdFormat } from "./models.ts";

/** One command of a sequence (init, key lock): what to send and whether its failure matters. */
export interface ProtocolStep {
  /** The command. */
  readonly command: CommandSpec;
  /** Its payload (none when absent). */
  readonly payload?: Uint8Array;
  /** True when a failure is only logged (class 6 picture abilities, §2.2 step 8). */
  readonly optional?: boolean;
}

/** What the init sends after identify, in order (§2.2 step 8). */
export type InitStep = "lockKeys" | "bodyId" | "pictureAbilities" | "powerStatus";

/** Everything the class of a camera decides. */
export interface CameraTraits {
  /** The class these traits are for. */
  readonly cameraClass: CameraClass;
  /**
   * The new protocol generation (class 6): byte 0x46 = 0x10/0x20, the 0x44-byte
   * init read, fixed replies in one read, long replies without 0x40 rounding.
   */
  readonly newProtocol: boolean;
  /** The command for each purpose in this generation (§4.1, overloaded codes resolved). */
  readonly commands: Readonly<Record<CommandPurpose, CommandSpec>>;
  /** Get owner (class 6: the identify reply carries no owner, §4.3.1); undefined elsewhere. */
  readonly getOwner: CommandSpec | undefined;
  /** The commands the init sends after identify, in order. */
  readonly init: readonly InitStep[];
  /** How the keys are locked (the last step locks); empty when the class has no key lock. */
  readonly lockKeys: readonly ProtocolStep[];
  /** Whether the keys are locked at init (classes 1, 2, 3, 5) rather than around captures (4, 6). */
  readonly lockAtInit: boolean;
  /** How the keys are unlocked; undefined when only unplugging the cable does it (§4.3.16). */
  readonly unlockKeys: ProtocolStep | undefined;
  /** The picture-abilities command the class uses (old 0x1F, new 0x24); undefined when never sent. */
  readonly pictureAbilities: CommandSpec | undefined;
  /**
   * Bytes per unit of the disk-info capacity and free words. Classes 5 and 6:
   * KiB (the G3 trace and the 20D example); the rest: bytes (the reference's
   * old-protocol example). Which older bodies really count in bytes is not
   * verified (§4.3.5, §11).
   */
  readonly diskInfoUnit: number;
  /** The EOS body-id command (class 4 0x1D, class 6 0x23); undefined for PowerShots. */
  readonly bodyId: CommandSpec | undefined;
  /**
   * Where custom functions are read: `"remote-control"` (old EOS: RC 0x0F in
   * remote mode, §4.4.2), a command (class 6: 0x1D/0x12, §4.3.14), or
   * undefined (no custom functions).
   */
  readonly customFunctions: "remote-control" | CommandSpec | undefined;
  /** Whether files can be deleted over USB (class 3 cannot). */
  readonly canDelete: boolean;
  /** Whether the camera writes EXIF (class 2 does not). */
  readonly exif: boolean;
  /**
   * An EOS body: exposure compensation in the EOS encoding (§6.4), the
   * EOS-only shooting modes, no zoom command (§1.4). Classes 4 and 6, except
   * the PowerShots in them.
   */
  readonly eos: boolean;
  /**
   * The custom functions' names: old EOS bodies are asked for each of these
   * (RC 0x0F); class 6 names the pairs of its dump by them (empty: numbers only).
   */
  readonly customFunctionNames: readonly CustomFunctionInfo[];
  /** The exposure limits of the body, where recorded; otherwise the full value tables apply. */
  readonly releaseLimits: ReleaseLimits | undefined;
  /** How a capture's interrupt sequence ends (§1.4, §4.4.3). */
  readonly captureRules: CaptureRules;
  /** How the body id prints (§4.3.15); meaningful where {@link CameraTraits.bodyId} is set. */
  readonly bodyIdFormat: BodyIdFormat;
}

const OLD: Readonly<Record<CommandPurpose, CommandSpec>> = COMMANDS;
const NEW: Readonly<Record<CommandPurpose, CommandSpec>> = {
  ...COMMANDS,
  ...NEW_PROTOCOL_COMMANDS,
};

// gphoto2 locks EOS keys with the payload word 6 (§4.3.16).
const EOS_LOCK_PAYLOAD = words(6);

const GENERIC_LOCK_WITH_ABILITIES: readonly ProtocolStep[] = [
  { command: OLD.pictureAbilities },
  { command: OLD.lockKeys },
];

function oldClass(
  cameraClass: CameraClass,
  overrides: Partial<CameraTraits>,
): CameraTraits {
  return {
    cameraClass,
    newProtocol: false,
    commands: OLD,
    getOwner: undefined,
    init: ["powerStatus"],
    lockKeys: [],
    lockAtInit: false,
    unlockKeys: undefined,
    pictureAbilities: undefined,
    diskInfoUnit: 1,
    bodyId: undefined,
    customFunctions: undefined,
    canDelete: true,
    exif: true,
    eos: false,
    customFunctionNames: [],
    releaseLimits: undefined,
    captureRules: {
      doneOnFinished: cameraClass !== 4,
      doneOnDescriptors: false,
      doneOnCardWrite: false,
      cardWriteAnyStep: false,
    },
    bodyIdFormat: "decimal",
    ...overrides,
  };
}

/** The traits of every class. */
export const CLASS_TRAITS: Readonly<Record<CameraClass, CameraTraits>> = {
  // G1, Pro90 IS, S100, IXUS, S10, S20: no key lock at all.
  0: oldClass(0, {}),
  // A10–A40, S200, S300, S330, G2, camcorders: abilities, then lock; no unlock.
  1: oldClass(1, {
    init: ["lockKeys", "powerStatus"],
    lockKeys: GENERIC_LOCK_WITH_ABILITIES,
    lockAtInit: true,
    pictureAbilities: OLD.pictureAbilities,
  }),
  // Pro70 (serial only): like 1, no EXIF.
  2: oldClass(2, {
    init: ["lockKeys", "powerStatus"],
    lockKeys: GENERIC_LOCK_WITH_ABILITIES,
    lockAtInit: true,
    pictureAbilities: OLD.pictureAbilities,
    exif: false,
  }),
  // A5, A5 Zoom (serial only): like 1, cannot delete.
  3: oldClass(3, {
    init: ["lockKeys", "powerStatus"],
    lockKeys: GENERIC_LOCK_WITH_ABILITIES,
    lockAtInit: true,
    pictureAbilities: OLD.pictureAbilities,
    canDelete: false,
  }),
  // D30, D60, 10D, 300D, S230: EOS lock 0x1B (word 6) / unlock 0x1C around captures.
  4: oldClass(4, {
    lockKeys: [{ command: OLD.eosLockKeys, payload: EOS_LOCK_PAYLOAD }],
    unlockKeys: { command: OLD.eosUnlockKeys },
    bodyId: OLD.eosBodyId,
    customFunctions: "remote-control",
    eos: true,
    customFunctionNames: EOS_CUSTOM_FUNCTIONS,
  }),
  // S45, G3, SD20: lock without abilities; no unlock.
  5: oldClass(5, {
    init: ["lockKeys", "powerStatus"],
    lockKeys: [{ command: OLD.lockKeys }],
    lockAtInit: true,
    diskInfoUnit: 1024,
  }),
  // 20D, 350D, 5D, SD200: the new protocol.
  6: {
    cameraClass: 6,
    newProtocol: true,
    commands: NEW,
    getOwner: NEW_PROTOCOL_ONLY.getOwner,
    init: ["bodyId", "pictureAbilities", "powerStatus"],
    lockKeys: [
      { command: NEW.pictureAbilities, optional: true },
      { command: NEW.lockKeys, payload: EOS_LOCK_PAYLOAD },
    ],
    lockAtInit: false,
    unlockKeys: { command: NEW.eosUnlockKeys },
    pictureAbilities: NEW.pictureAbilities,
    diskInfoUnit: 1024,
    bodyId: NEW.eosBodyId,
    customFunctions: NEW_PROTOCOL_ONLY.customFunctions,
    canDelete: true,
    exif: true,
    eos: true,
    customFunctionNames: [],
    releaseLimits: undefined,
    // The last requested descriptor or "written to card" ends it, 0x0E at any step.
    captureRules: {
      doneOnFinished: true,
      doneOnDescriptors: true,
      doneOnCardWrite: true,
      cardWriteAnyStep: true,
    },
    bodyIdFormat: "ten-digit",
  },
};

/**
 * The traits of a model: its class's, with the model's own quirks laid over
 * them (a quirk of the capture rules replaces only the rules it names).
 *
 * @param model a model table entry, or just its class (and quirks)
 * @returns the traits
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { traitsOf } from "@canon-remote/canon-remote/protocol";
 * import { modelByName } from "@canon-remote/canon-remote/protocol";
 * assert.equal(traitsOf(modelByName("EOS 20D")!).commands.diskInfo.cmd1, 0x0d);
 * ```
 */
export function traitsOf(
  model: { readonly cameraClass: CameraClass; readonly quirks?: ModelQuirks },
): CameraTraits {
  const base = CLASS_TRAITS[model.cameraClass];
  const quirks = model.quirks;
  if (!quirks) return base;
  const { captureRules, ...rest } = quirks;
  return {
    ...base,
    ...rest,
    captureRules: { ...base.captureRules, ...captureRules },
  };
}

/**
 * How the body id of `model` prints (§4.3.15): the D30 as `%04x%05d` of its
 * two halves, the new-protocol bodies as ten zero-padded digits, the other
 * old EOS bodies in plain decimal.
 *
 * @param model a model table entry
 * @returns the format
 */
export function bodyIdFormat(model: CameraModel): BodyIdFormat {
  return traitsOf(model).bodyIdFormat;
}

/**
 * Print a body id the way the camera's software does.
 *
 * @param value the word at 0x54 of the body-id reply
 * @param format from {@link bodyIdFormat}
 * @returns e.g. "182800490" (D30), "0520308238" (20D)
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatBodyId } from "@canon-remote/canon-remote/protocol";
 * assert.equal(formatBodyId(0x182801ea, "d30"), "182800490");
 * assert.equal(formatBodyId(520308238, "ten-digit"), "0520308238");
 * ```
 */
export function formatBodyId(value: number, format: BodyIdFormat): string {
  const id = value >>> 0;
  switch (format) {
    case "d30":
      return (id >>> 16).toString(16).padStart(4, "0") + String(id & 0xffff).padStart(5, "0");
    case "ten-digit":
      return String(id).padStart(10, "0");
    default:
      return String(id);
  }
}

/** How well a model's disk-info unit is known. */
export interface DiskInfoUnitEvidence {
  /** Bytes per unit the class default gives (1 or 1024). */
  readonly unit: number;
  /**
   * `"real bytes"`: a real camera's reply shows it; `"inferred"`: from the
   * class (gphoto2's reading), checked by plausibility at run time.
   */
  readonly proof: "real bytes" | "inferred";
  /** Where the proof, or the inference, comes from. */
  readonly source: string;
}

/** PowerShot G3 (normal mode). */
const POWERSHOT_G3 = 0x306e;
/** EOS 20D (normal mode). */
const EOS_20D = 0x30eb;

/**
 * The disk-info unit of a model and whether real bytes prove it
 * (`docs/real-cameras/capture-and-models.md`): the EOS 20D's is proven by
 * its reply in Protocol.xml (1,000,640 units on a 1 GB card: KiB); the G3
 * by a real G3's gphoto2 log (capacity − free matches its files only in KiB).
 * Every other body is inferred from its class, and `storage.info()` checks
 * the reading against card sizes that exist and the sizes of the files.
 *
 * @param model a model table entry
 * @returns the unit, proven or inferred
 */
export function diskInfoUnitEvidence(
  model: { readonly cameraClass: CameraClass; readonly productId: number },
): DiskInfoUnitEvidence {
  const unit = traitsOf(model).diskInfoUnit;
  if (model.productId === EOS_20D) {
    return { unit, proof: "real bytes", source: "EOS 20D disk-info reply (Protocol.xml)" };
  }
  if (model.productId === POWERSHOT_G3) {
    return { unit, proof: "real bytes", source: "a real G3's gphoto2 log (issue 11)" };
  }
  return {
    unit,
    proof: "inferred",
    source: unit === 1
      ? "old protocol: bytes, as gphoto2 reads it (Protocol.xml's unnamed 128 MB example)"
      : model.cameraClass === 6
      ? "class 6: KiB, as the 20D"
      : "class 5: KiB, as the G3",
  };
}
