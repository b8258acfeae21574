/**
 * canon-remote: drive Canon PowerShot, IXUS and early EOS cameras over USB
 * with their native protocol, from Deno.
 *
 * ```ts ignore
 * import { Camera } from "@canon-remote/canon-remote";
 *
 * await using cam = await Camera.open();
 * console.log(await cam.identify()); // { model: "Canon PowerShot G3", owner: "Kiril", firmware: "1.0.2.0" }
 * ```
 *
 * No camera at hand? The virtual camera speaks the same protocol:
 *
 * ```ts
 * import { Camera, VirtualCamera } from "./mod.ts";
 *
 * await using cam = await Camera.connect(new VirtualCamera());
 * console.log(cam.model); // "Canon PowerShot G3"
 * ```
 *
 * Run with `--allow-ffi` (libusb) for real cameras. Set `CANON_LOG=info` to
 * see every command and transfer, `CANON_LOG=debug` for hex dumps too.
 *
 * @module
 */

export { Camera } from "./src/camera/camera.ts";
export type {
  CameraConnectOptions,
  CameraIdentity,
  CameraOpenOptions,
} from "./src/camera/camera.ts";
export {
  CardFileExistsError,
  CardPathNotFoundError,
  Storage,
  UnsupportedByCameraError,
} from "./src/camera/storage.ts";
export type {
  DownloadOptions,
  DownloadResult,
  ListOptions,
  StorageEntry,
  StorageHost,
  StorageInfo,
  UploadOptions,
} from "./src/camera/storage.ts";
export {
  Capture,
  CaptureSession,
  CaptureTimeoutError,
  CardUnavailableError,
  PhotographicFailureError,
  SettingNotAppliedError,
  UnsupportedSettingError,
} from "./src/camera/capture.ts";
export type {
  CaptureHost,
  CaptureSettings,
  CaptureSettingsChange,
  CaptureStartOptions,
  CaptureTarget,
  PreviewOptions,
  SettingChoices,
  ShootOptions,
  Shot,
} from "./src/camera/capture.ts";
export {
  APERTURES,
  EXPOSURE_COMPENSATIONS,
  FLASH_MODES,
  FOCUS_MODES,
  IMAGE_FORMATS,
  ISO_SPEEDS,
  SHOOTING_MODES,
  SHUTTER_SPEEDS,
} from "./src/protocol/capture_codec.ts";
export type {
  Aperture,
  CustomFunction,
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
} from "./src/protocol/capture_codec.ts";
export { findCameraDevice, listCameras } from "./src/camera/discovery.ts";
export type { CameraChoice, CameraInfo } from "./src/camera/discovery.ts";
export { waitForCamera } from "./src/camera/wait_for_camera.ts";
export type {
  CameraArrival,
  WaitForCameraOptions,
  WaitMethod,
} from "./src/camera/wait_for_camera.ts";
export { bodyIdFormat, CLASS_TRAITS, formatBodyId, traitsOf } from "./src/camera/traits.ts";
export type { BodyIdFormat, CameraTraits, InitStep, ProtocolStep } from "./src/camera/traits.ts";
export {
  CANON_VENDOR_ID,
  modelByName,
  modelByProductId,
  MODELS,
  OTHER_MODE_IDS,
} from "./src/camera/models.ts";
export type { CameraClass, CameraModel, CaptureSupport } from "./src/camera/models.ts";
export type { FixedReply, IdentifyInfo, InitBlock, PowerStatus } from "./src/protocol/codec.ts";
export { COMMANDS, NEW_PROTOCOL_COMMANDS, REMOTE, STATUS } from "./src/protocol/commands.ts";
export type {
  CommandPurpose,
  CommandSpec,
  RemotePurpose,
  RemoteSubcommand,
} from "./src/protocol/commands.ts";
export {
  CameraClosedError,
  CameraDesyncError,
  CameraNotFoundError,
  CameraStatusError,
  CameraTimeoutError,
  CanonError,
  ProtocolError,
} from "./src/protocol/errors.ts";
export type { CanonErrorOptions } from "./src/protocol/errors.ts";
export { getLogLevel, hexdump, setLogLevel, setLogSink } from "./src/protocol/log.ts";
export type { LogLevel, LogSink } from "./src/protocol/log.ts";
export { Session } from "./src/protocol/session.ts";
export type {
  DialogueOptions,
  InitOutcome,
  LongDialogueOptions,
  SessionEndpoints,
  SessionOptions,
} from "./src/protocol/session.ts";
export type {
  UsbBulkChunkOptions,
  UsbConfigurationInfo,
  UsbControlSetup,
  UsbData,
  UsbDevice,
  UsbDirection,
  UsbEndpointInfo,
  UsbInResult,
  UsbOutResult,
  UsbRecipient,
  UsbRequestType,
  UsbTransferOptions,
  UsbTransferStatus,
} from "./src/usb/device.ts";
export { LibusbNotFoundError, UsbError } from "./src/usb/errors.ts";
export type { UsbErrorCode } from "./src/usb/errors.ts";
export { LibusbDevice, UsbTimeoutError } from "./src/usb/libusb_device.ts";
export { listUsbDevices, openUsbDevice } from "./src/usb/discovery.ts";
export type {
  UsbDeviceFilter,
  UsbDeviceInfo,
  UsbDeviceSelector,
  UsbSpeed,
} from "./src/usb/discovery.ts";
export { VirtualCamera } from "./src/emulator/virtual_camera.ts";
export type { VirtualCameraOptions } from "./src/emulator/virtual_camera.ts";
export { FULL_SPEED_BULK_LIMIT, FullSpeedBus } from "./src/emulator/bus_model.ts";
export type { BusSlot, BusStats } from "./src/emulator/bus_model.ts";
export type { CommandRecord, PowerState } from "./src/emulator/canon_function.ts";
export { FaultInjector } from "./src/emulator/faults.ts";
export type {
  CaptureFault,
  Fault,
  FaultCandidate,
  FaultOptions,
  FaultTarget,
} from "./src/emulator/faults.ts";
export type { CardFileSystem, CardNode } from "./src/emulator/card_model.ts";
export {
  decodeCanonCapture,
  decodeCanonCaptureStream,
  TraceDecodeError,
} from "./src/trace/decode.ts";
export type {
  CapturedDevice,
  DecodedCommand,
  DecodedTrace,
  DecodeOptions,
  StreamDecodeOptions,
  TraceSummary,
} from "./src/trace/decode.ts";
export {
  CaptureFormatError,
  CaptureReader,
  PcapngWriter,
  readCapture,
  readCaptureStream,
} from "./src/trace/pcap.ts";
export type { CapturedPacket, CaptureFile, PcapngWriterOptions } from "./src/trace/pcap.ts";
export { recordDevice, recordFunction, UsbRecorder } from "./src/trace/recorder.ts";
export type { PendingTransfer, RecorderOptions } from "./src/trace/recorder.ts";
export type { TransferType } from "./src/trace/usbmon.ts";
export type {
  FunctionRead,
  FunctionWrite,
  SetupPacket,
  UsbDescriptorSet,
  UsbFunction,
} from "./src/emulator/usb_function.ts";
