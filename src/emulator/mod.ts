/**
 * The virtual camera and its tools, for testing software that talks to
 * Canon cameras: the camera ({@link VirtualCamera}), its memory card
 * ({@link MemoryCard}), fault injection, and the umockdev bridge that puts it
 * in front of the real libusb ({@link UmockdevTestbed}).
 *
 * ```ts ignore
 * import { UmockdevTestbed, VirtualCamera } from "@canon-remote/canon-remote/emulator";
 * using testbed = UmockdevTestbed.open();
 * testbed.attach(new VirtualCamera().usbFunction);
 * // libusb in this process (started with LD_PRELOAD=libumockdev-preload.so.0)
 * // or in a child started with testbed.env() now sees a PowerShot G3 at 001/002.
 * ```
 *
 * @module
 */

export { VirtualCamera } from "./host/virtual_camera.ts";
export type { VirtualCameraOptions } from "./host/virtual_camera.ts";
export { FULL_SPEED_BULK_LIMIT, FullSpeedBus } from "./engine/bus_model.ts";
export type { BusSlot, BusStats } from "./engine/bus_model.ts";
export { G3_DELAYS, G3_TIMING } from "./engine/timing.ts";
export type { CommandTiming, TimedCommand } from "./engine/timing.ts";
export { CanonFunction } from "./engine/canon_function.ts";
export type { CanonFunctionOptions, CommandRecord } from "./engine/canon_function.ts";
export { ALL_QUIRKS } from "./engine/camera_state.ts";
export type { CapturingCard, PowerState, RealCameraQuirks } from "./engine/camera_state.ts";
export { CAMERA_STATUS } from "./engine/commands.ts";
export { EMULATED_MODELS, emulatedModel } from "./engine/emulated_models.ts";
export type {
  AbilitiesEntry,
  AbilitiesReply,
  AcceptedReleaseBytes,
  EmulatedModel,
  UnsolicitedPacket,
  UsbProfile,
} from "./engine/emulated_models.ts";
export { FaultInjector } from "./engine/faults.ts";
export type {
  CaptureFault,
  Fault,
  FaultCandidate,
  FaultOptions,
  FaultTarget,
} from "./engine/faults.ts";
export { MemoryCard } from "./card/memory_card.ts";
export type {
  CardFileKind,
  CardFileSpec,
  CardSnapshotEntry,
  MemoryCardOptions,
} from "./card/card_content.ts";
export { CARD_ATTRIBUTE, CARD_STATUS, CardError } from "./card/card_model.ts";
export type { CardFileSystem, CardNode } from "./card/card_model.ts";
export { UmockdevTestbed, withEmulatedDevice } from "./umockdev/testbed.ts";
export { recordFunction } from "./umockdev/record_function.ts";
export type {
  AttachOptions,
  EmulatedUsbDevice,
  UmockdevTestbedOptions,
} from "./umockdev/testbed.ts";
export type {
  FunctionRead,
  FunctionWrite,
  SetupPacket,
  UsbDescriptorSet,
  UsbFunction,
} from "./engine/usb_function.ts";
