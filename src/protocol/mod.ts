/**
 * The Canon protocol layer of canon-remote: the session that frames
 * commands and reads replies over any {@link UsbDevice}, the command and
 * status tables, the codecs of the command payloads and replies, and the
 * model table with each class's traits. `docs/protocol.md` describes the
 * protocol itself.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { COMMANDS, encodeCommand } from "@canon-remote/canon-remote/protocol";
 *
 * const block = encodeCommand(COMMANDS.identify, 1, new Uint8Array(0), false);
 * assert.equal(block.length, 0x50); // a command block is a 0x50-byte header and its payload
 * ```
 *
 * @module
 */

export { Session } from "./session.ts";
export type {
  DialogueOptions,
  InitOutcome,
  LongDialogueOptions,
  SessionEndpoints,
  SessionOptions,
} from "./session.ts";
export { COMMANDS, NEW_PROTOCOL_COMMANDS, REMOTE, STATUS } from "./commands.ts";
export type { CommandPurpose, CommandSpec, RemotePurpose, RemoteSubcommand } from "./commands.ts";
export {
  announcedLength,
  decodeFixedReply,
  decodeIdentify,
  decodeInitBlock,
  decodeInterruptPacket,
  decodeLongHeader,
  decodePowerStatus,
  encodeCommand,
  encodeInitWrite,
  encodeOwner,
  encodeSetTime,
} from "./codec.ts";
export type { FixedReply, IdentifyInfo, InitBlock, InterruptPacket, PowerStatus } from "./codec.ts";
export {
  decodeDirectoryEntries,
  decodeDiskInfo,
  decodeDriveName,
  decodeListing,
} from "./storage_codec.ts";
export { fromCameraTime, toCameraTime } from "./clock.ts";
export { readAll, replyBytes, type ReplyProducer, replyStream } from "./reply_stream.ts";
export type { DiskInfoValues, ListingEntry, RawDirectoryEntry } from "./storage_codec.ts";
export {
  APERTURES,
  EXPOSURE_COMPENSATIONS,
  FLASH_MODES,
  FOCUS_MODES,
  HALF_STOP_APERTURES,
  HALF_STOP_SHUTTER_SPEEDS,
  IMAGE_FORMATS,
  ISO_SPEEDS,
  SHOOTING_MODES,
  SHUTTER_SPEEDS,
} from "./capture_codec.ts";
export type {
  Aperture,
  CaptureRules,
  CustomFunction,
  CustomFunctionInfo,
  ExposureCompensationCode,
  FlashMode,
  FocusMode,
  ImageFormat,
  ImageFormatCode,
  ImageQuality,
  ImageSize,
  IsoSpeed,
  PictureAbilities,
  PictureAbility,
  ReleaseSettings,
  ShootingMode,
  ShutterSpeed,
  ValueCode,
} from "./capture_codec.ts";
export {
  CameraClosedError,
  CameraNotFoundError,
  CameraStatusError,
  CameraTimeoutError,
  CanonError,
  ProtocolError,
} from "./errors.ts";
export type { CanonErrorOptions } from "./errors.ts";
export { hexdump } from "./log.ts";
export { bodyIdFormat, CLASS_TRAITS, formatBodyId, traitsOf } from "./traits.ts";
export type { BodyIdFormat, CameraTraits, InitStep, ProtocolStep } from "./traits.ts";
export {
  CANON_VENDOR_ID,
  modelByName,
  modelByProductId,
  MODELS,
  OTHER_MODE_IDS,
} from "./models.ts";
export type {
  CameraClass,
  CameraModel,
  CaptureSupport,
  ModelQuirks,
  ReleaseLimits,
} from "./models.ts";
export type { UsbDevice } from "../usb/device.ts";
