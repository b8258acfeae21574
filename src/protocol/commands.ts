/**
 * The command table: every Canon USB command this library sends, written
 * once with its codes and the total reply length the camera sends
 * (protocol reference §4.1, §4.4.1 and errata E3). The package's
 * `docs/protocol.md` lists them (sections 4, 6 and 7).
 *
 * @module
 */

/** cmd3 of a command whose reply has a fixed length. */
export const FIXED_REPLY = 0x201;
/** cmd3 of a command whose reply is a 0x40 header and a counted stream of data. */
export const LONG_REPLY = 0x202;

/** One command: its codes and what its reply looks like. */
export interface CommandSpec {
  /** The name used in the wire log, e.g. `IdentifyCamera`. */
  readonly name: string;
  /** Function code (byte 0x44). */
  readonly cmd1: number;
  /** 0x11 storage, 0x12 camera control (byte 0x47). */
  readonly cmd2: number;
  /** {@link FIXED_REPLY} or {@link LONG_REPLY}. */
  readonly cmd3: number;
  /** Total reply length for fixed replies (header included); 0x40 for long replies. */
  readonly replyLength: number;
  /** Data bytes (after the 0x50 header) the reply must carry; fewer is a protocol error. */
  readonly minData: number;
}

function fixed(
  name: string,
  cmd1: number,
  cmd2: number,
  replyLength: number,
  minData = 4,
): CommandSpec {
  return { name, cmd1, cmd2, cmd3: FIXED_REPLY, replyLength, minData };
}

function long(name: string, cmd1: number, cmd2: number): CommandSpec {
  return { name, cmd1, cmd2, cmd3: LONG_REPLY, replyLength: 0x40, minData: 0 };
}

/** The purposes a command can serve. */
export type CommandPurpose =
  | "identify"
  | "getTime"
  | "setTime"
  | "setOwner"
  | "powerStatus"
  | "remoteControl"
  | "retrieveCapture"
  | "retrievePreview"
  | "eosLockKeys"
  | "eosUnlockKeys"
  | "eosBodyId"
  | "pictureAbilities"
  | "lockKeys"
  | "getFile"
  | "mkdir"
  | "rmdir"
  | "diskInfo"
  | "flashDeviceIdent"
  | "getDirectory"
  | "deleteFile"
  | "setAttributes"
  | "setFileTime";

/** Old-protocol (classes 0–5) commands, by purpose. */
export const COMMANDS: Readonly<Record<CommandPurpose, CommandSpec>> = {
  identify: fixed("IdentifyCamera", 0x01, 0x12, 0x9c, 0x4c),
  getTime: fixed("GetTime", 0x03, 0x12, 0x60, 0x10),
  setTime: fixed("SetTime", 0x04, 0x12, 0x54),
  setOwner: fixed("SetOwner", 0x05, 0x12, 0x54),
  powerStatus: fixed("PowerStatus", 0x0a, 0x12, 0x58, 8),
  remoteControl: fixed("RemoteControl", 0x13, 0x12, 0x5c),
  retrieveCapture: long("RetrieveCapture", 0x17, 0x12),
  retrievePreview: long("RetrievePreview", 0x18, 0x12),
  eosLockKeys: fixed("EosLockKeys", 0x1b, 0x12, 0x54),
  eosUnlockKeys: fixed("EosUnlockKeys", 0x1c, 0x12, 0x54),
  eosBodyId: fixed("EosGetBodyId", 0x1d, 0x12, 0x58, 8),
  pictureAbilities: fixed("GetPictureAbilities", 0x1f, 0x12, 0x384, 0),
  lockKeys: fixed("LockKeys", 0x20, 0x12, 0x54),
  getFile: long("GetFile", 0x01, 0x11),
  mkdir: fixed("MakeDirectory", 0x05, 0x11, 0x54),
  rmdir: fixed("RemoveDirectory", 0x06, 0x11, 0x54),
  diskInfo: fixed("DiskInfo", 0x09, 0x11, 0x5c, 0x0c),
  flashDeviceIdent: long("FlashDeviceIdent", 0x0a, 0x11),
  getDirectory: long("GetDirectory", 0x0b, 0x11),
  deleteFile: fixed("DeleteFile", 0x0d, 0x11, 0x54),
  setAttributes: fixed("SetAttributes", 0x0e, 0x11, 0x54, 0),
  setFileTime: fixed("SetFileTime", 0x0f, 0x11, 0x54, 0),
};

/**
 * New-protocol (class 6: EOS 20D, 350D, 5D, SD200) replacements, by purpose.
 * Purposes missing here use the old command.
 */
export const NEW_PROTOCOL_COMMANDS: Partial<Record<CommandPurpose, CommandSpec>> = {
  setOwner: fixed("SetOwner2", 0x06, 0x12, 0x54),
  powerStatus: fixed("PowerStatus2", 0x13, 0x12, 0x58, 8),
  remoteControl: fixed("RemoteControl2", 0x25, 0x12, 0x5c),
  retrieveCapture: long("RetrieveCapture2", 0x26, 0x12),
  eosBodyId: fixed("EosGetBodyId2", 0x23, 0x12, 0x58, 8),
  pictureAbilities: fixed("GetPictureAbilities2", 0x24, 0x12, 0x474, 0),
  lockKeys: fixed("LockKeys2", 0x35, 0x12, 0x5c, 0x0c),
  eosUnlockKeys: fixed("UnlockKeys2", 0x36, 0x12, 0x54),
  diskInfo: fixed("DiskInfo2", 0x0d, 0x11, 0x5c, 0x0c),
  flashDeviceIdent: long("FlashDeviceIdent2", 0x0e, 0x11),
  deleteFile: fixed("DeleteFile2", 0x0a, 0x11, 0x54),
  setAttributes: fixed("SetAttributes2", 0x07, 0x11, 0x54, 0),
};

/** Extra commands that exist only in the new protocol. */
export const NEW_PROTOCOL_ONLY: Readonly<{ getOwner: CommandSpec; customFunctions: CommandSpec }> =
  {
    getOwner: fixed("GetOwner", 0x05, 0x12, 0x74, 0x20),
    // §4.3.14: payload word 0; reply 0x94, byte count (0x28, itself included) at 0x54.
    customFunctions: fixed("GetCustomFunctions", 0x1d, 0x12, 0x94, 8),
  };

/** One remote-control sub-command (protocol reference §4.4.1, errata E3). */
export interface RemoteSubcommand {
  /** Name for the wire log. */
  readonly name: string;
  /** Sub-command word. */
  readonly code: number;
  /** Total reply length, header included. */
  readonly replyLength: number;
}

/** The remote-control sub-commands by purpose. */
export type RemotePurpose =
  | "init"
  | "exit"
  | "viewfinderStart"
  | "viewfinderStop"
  | "release"
  | "setParams"
  | "setTransferMode"
  | "getParams"
  | "getZoom"
  | "setZoom"
  | "availableShots"
  | "getCustomFunction"
  | "selectOutput";

/** Remote-control sub-commands. */
export const REMOTE: Readonly<Record<RemotePurpose, RemoteSubcommand>> = {
  init: { name: "RemoteInit", code: 0x00, replyLength: 0x5c },
  exit: { name: "RemoteExit", code: 0x01, replyLength: 0x5c },
  viewfinderStart: { name: "ViewfinderStart", code: 0x02, replyLength: 0x5c },
  viewfinderStop: { name: "ViewfinderStop", code: 0x03, replyLength: 0x5c },
  release: { name: "ReleaseShutter", code: 0x04, replyLength: 0x5c },
  setParams: { name: "SetReleaseParams", code: 0x07, replyLength: 0x5c },
  setTransferMode: { name: "SetTransferMode", code: 0x09, replyLength: 0x5c },
  getParams: { name: "GetReleaseParams", code: 0x0a, replyLength: 0x8c },
  getZoom: { name: "GetZoom", code: 0x0b, replyLength: 0x60 },
  setZoom: { name: "SetZoom", code: 0x0c, replyLength: 0x5c },
  availableShots: { name: "GetAvailableShots", code: 0x0d, replyLength: 0x60 },
  getCustomFunction: { name: "GetCustomFunction", code: 0x0f, replyLength: 0x66 },
  selectOutput: { name: "SelectOutput", code: 0x14, replyLength: 0x5c },
};

/** Commands only remote capture sends (protocol reference §4.1, §4.4.3). */
export const CAPTURE_COMMANDS: Readonly<{ afterRelease2: CommandSpec }> = {
  /** 0x22/0x12 ("20D unknown 2"), payload word 0x0F: sent after a class-6 shutter release. */
  afterRelease2: fixed("AfterRelease2", 0x22, 0x12, 0x54, 0),
};

/** Camera status codes (protocol reference §5.1) and what they mean. */
export const STATUS_MESSAGES: Readonly<Record<number, string>> = {
  0x00000000: "success",
  0x02000022: "file not found",
  0x02000029: "file protected",
  0x0200002a: "card full",
  0x02000081:
    "failed to lock the keys (shutter half-pressed, or the camera is in review or menu mode)",
  0x02000082: "failed to unlock the keys (they were not locked)",
  0x02000085: "could not enter capture mode",
  0x02000086: "invalid parameters or path not found",
  0x00000086: "keys were not locked",
  0x02000087: "no storage card",
  0x82200040: "unknown error (new protocol, delete)",
  0x82220040: "bad parameters (new protocol, delete)",
};

/** Named status codes the library reacts to. */
export const STATUS: Readonly<{
  OK: 0;
  FILE_NOT_FOUND: 0x02000022;
  FILE_PROTECTED: 0x02000029;
  CARD_FULL: 0x0200002a;
  LOCK_FAILED: 0x02000081;
  UNLOCK_FAILED: 0x02000082;
  CAPTURE_MODE_FAILED: 0x02000085;
  INVALID_PARAMETERS: 0x02000086;
  NO_CARD: 0x02000087;
}> = {
  OK: 0,
  FILE_NOT_FOUND: 0x02000022,
  FILE_PROTECTED: 0x02000029,
  CARD_FULL: 0x0200002a,
  LOCK_FAILED: 0x02000081,
  UNLOCK_FAILED: 0x02000082,
  CAPTURE_MODE_FAILED: 0x02000085,
  INVALID_PARAMETERS: 0x02000086,
  NO_CARD: 0x02000087,
} as const;

/** Hex form used in the wire log and in messages: `0x2000022`. */
export function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}

/** "file protected (status 0x2000029)" for a status code. */
export function describeStatus(status: number): string {
  const known = STATUS_MESSAGES[status >>> 0];
  return `${known ?? "unknown status"} (status ${hex(status)})`;
}
