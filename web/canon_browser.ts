/**
 * canon-remote for the browser: the public API from `Camera.connect(usbDevice)`
 * up (storage, capture, models, errors, the wire log), for a page's
 * `navigator.usb` device. Built into one ES module by `scripts/build_web.ts`
 * (`deno bundle --platform browser` with `web/import_map.json`, which swaps
 * the three host-only modules for their browser versions in `web/platform/`):
 * no libusb, no FFI, no emulator, no Deno API is reachable from here.
 *
 * ```ts ignore
 * import { Camera, CANON_VENDOR_ID } from "./canon-remote.js";
 * const usb = await navigator.usb.requestDevice({ filters: [{ vendorId: CANON_VENDOR_ID }] });
 * await using cam = await Camera.connect(usb);
 * console.log(cam.modelName, await cam.storage.list("/DCIM", { recursive: true }));
 * ```
 *
 * @module
 */

export { Camera } from "../src/camera/camera.ts";
export type { CameraConnectOptions, CameraIdentity } from "../src/camera/camera.ts";
export { CardPathNotFoundError, Storage } from "../src/camera/storage.ts";
export type {
  DownloadOptions,
  DownloadResult,
  ListOptions,
  StorageEntry,
  StorageInfo,
} from "../src/camera/storage.ts";
export {
  Capture,
  CaptureTimeoutError,
  CardUnavailableError,
  PhotographicFailureError,
  SettingNotAppliedError,
  UnsupportedSettingError,
} from "../src/camera/capture.ts";
export type {
  CaptureSettings,
  CaptureSettingsChange,
  CaptureTarget,
  PreviewOptions,
  RemoteMode,
  SettingChoices,
  ShootOptions,
  Shot,
} from "../src/camera/capture.ts";
export { traitsOf } from "../src/protocol/traits.ts";
export {
  CANON_VENDOR_ID,
  modelByName,
  modelByProductId,
  MODELS,
  OTHER_MODE_IDS,
} from "../src/protocol/models.ts";
export type { CameraModel } from "../src/protocol/models.ts";
export type { IdentifyInfo, PowerStatus } from "../src/protocol/codec.ts";
export {
  CameraClosedError,
  CameraNotFoundError,
  CameraStatusError,
  CameraTimeoutError,
  CanonError,
  ProtocolError,
} from "../src/protocol/errors.ts";
export { getLogLevel, hexdump, setLogLevel, setLogSink } from "../src/protocol/log.ts";
export type { LogLevel, LogSink } from "../src/protocol/log.ts";
export type { UsbDevice } from "../src/usb/device.ts";
export { UsbError } from "../src/usb/errors.ts";
export { cameraInfo, findCameraDevice, listCameras } from "./platform/discovery.ts";
export type { CameraInfo } from "./platform/discovery.ts";
export { HostPathUnavailableError } from "./platform/pending_file.ts";
export { WebUsbDevice } from "./platform/webusb_device.ts";
