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
 * import assert from "node:assert/strict";
 * import { Camera } from "@canon-remote/canon-remote";
 * import { VirtualCamera } from "@canon-remote/canon-remote/emulator";
 *
 * await using cam = await Camera.connect(new VirtualCamera());
 * assert.equal(cam.modelName, "Canon PowerShot G3");
 * ```
 *
 * This entry point is the camera API: {@link Camera}, its storage and
 * capture, discovery, the errors and the log level. The layers below have
 * their own entry points: `./usb` (the device contract, the libusb device,
 * enumeration), `./protocol` (the session, command tables, codecs, model
 * traits), `./trace` (usbmon captures, the recorder, the decoder) and
 * `./emulator` (the virtual camera). Importing this one loads no emulator code
 * and asks for no permission.
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
  PowerStatusOptions,
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
  OpenOptions,
  StorageEntry,
  StorageInfo,
  UploadOptions,
} from "./src/camera/storage.ts";
export {
  Capture,
  CaptureTimeoutError,
  CardUnavailableError,
  PhotographicFailureError,
  SettingNotAppliedError,
  UnsupportedSettingError,
} from "./src/camera/capture.ts";
export type {
  CaptureSettings,
  CaptureSettingsChange,
  CaptureStartOptions,
  CaptureTarget,
  PreviewOptions,
  RemoteMode,
  SettingChoices,
  ShootOptions,
  Shot,
} from "./src/camera/capture.ts";
export type {
  Aperture,
  CustomFunction,
  FlashMode,
  FocusMode,
  ImageFormat,
  ImageQuality,
  ImageSize,
  IsoSpeed,
  PictureAbilities,
  PictureAbility,
  ShootingMode,
  ShutterSpeed,
} from "./src/protocol/capture_codec.ts";
export { findCameraDevice, listCameras } from "./src/camera/discovery.ts";
export type { CameraChoice, CameraInfo } from "./src/camera/discovery.ts";
export { waitForCamera } from "./src/camera/wait_for_camera.ts";
export type {
  CameraArrival,
  WaitForCameraOptions,
  WaitMethod,
} from "./src/camera/wait_for_camera.ts";
export type { CameraClass, CameraModel, CaptureSupport } from "./src/protocol/models.ts";
export type { PowerStatus } from "./src/protocol/codec.ts";
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
export { LibusbNotFoundError, UsbError } from "./src/usb/errors.ts";
export type { UsbErrorCode } from "./src/usb/errors.ts";
export { UsbTimeoutError } from "./src/usb/libusb_device.ts";
export type { UsbDevice } from "./src/usb/device.ts";
export { getLogLevel, setLogLevel, setLogSink } from "./src/protocol/log.ts";
export type { LogLevel, LogSink } from "./src/protocol/log.ts";
