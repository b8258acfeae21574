/**
 * How the `canon` command (and the REPL helper) reaches a camera: a real one
 * through libusb, chosen by model, product id or port; the virtual camera
 * in-process (`--emulate`); or the virtual camera behind the real libusb
 * through umockdev (`--emulate-usb`). Any of them can be recorded to a
 * pcapng file (`--record`).
 *
 * @module
 */

import { Camera, type CameraOpenOptions } from "../camera/camera.ts";
import { findCameraDevice } from "../camera/discovery.ts";
import { modelByName } from "../protocol/models.ts";
import type { VirtualCamera } from "../emulator/host/virtual_camera.ts";
import type { UsbRecorder } from "../trace/recorder.ts";
import { UsageError } from "./exit.ts";
import type { VirtualCard } from "./virtual_card.ts";

// The virtual camera, umockdev and the recorder are loaded only by the
// commands that use them (a plain `canon info` needs none of them).
const emulator = () => import("../emulator/host/virtual_camera.ts");
const umockdev = () => import("../emulator/umockdev/testbed.ts");
const trace = () => import("../trace/recorder.ts");
const recording = () => import("../emulator/umockdev/record_function.ts");

/** The `--card DIR` card, loaded only when asked for. */
async function virtualCard(
  selection: CameraSelection,
  model: string | undefined,
): Promise<VirtualCard | undefined> {
  if (selection.card === undefined) return undefined;
  return await (await import("./virtual_card.ts")).virtualCard(selection, model);
}

/** The options that say which camera to use and how. */
export interface CameraSelection {
  /** Use the in-process virtual camera of this model ("" = the default model). */
  emulate?: string;
  /** Use the virtual camera of this model through libusb and umockdev ("" = default). */
  emulateUsb?: string;
  /** Model name or USB product id of the camera to open. */
  camera?: string;
  /** Bus and address of the camera to open. */
  port?: { bus: number; address: number };
  /** Timeout of one transfer in milliseconds. */
  timeout?: number;
  /** Try Canon product ids the model table does not know. */
  allowUnknown?: boolean;
  /** Record the USB conversation to this pcapng file. */
  record?: string;
  /** The virtual camera delivers data no faster than the real cameras' USB 1.1 bus. */
  busModel?: boolean;
  /** The virtual camera's card is made from this folder (`--card`). */
  card?: string;
  /** Save the folder card's changes when done (`--card-persist`). */
  cardPersist?: boolean;
}

/** A connected camera and how to let it go. */
export interface Connection {
  /** The camera. */
  camera: Camera;
  /** Where it is, for messages: "virtual PowerShot G3 (in-process)", "usb:001,005". */
  label: string;
  /** Whether it is a virtual camera. */
  virtual: boolean;
  /** Close the camera and whatever was opened for it (testbed, recording). */
  close(): Promise<void>;
}

/**
 * Parse `--camera`: a USB product id (`306e`, `0x306e`, `04a9:306e`) or a model name.
 *
 * @param text the option's value
 * @returns the choice for `Camera.open`
 * @throws {UsageError} for a name that is no model
 */
export function parseCameraChoice(text: string): { productId?: number; model?: string } {
  const id = /^(?:04a9:|0x)?([0-9a-f]{4})$/i.exec(text.trim());
  if (id && !modelByName(text)) return { productId: parseInt(id[1], 16) };
  if (!modelByName(text)) {
    throw new UsageError(
      `no camera model is called ${JSON.stringify(text)}; \`canon cameras --all\` lists them`,
    );
  }
  return { model: text };
}

/** The virtual camera's model table: loaded by the commands that use the virtual camera only. */
export function emulatedModels(): Promise<typeof import("../emulator/engine/emulated_models.ts")> {
  return import("../emulator/engine/emulated_models.ts");
}

/**
 * The model name for the virtual camera, checked.
 *
 * @param name what the user gave ("" = the default)
 * @returns the name to pass to `VirtualCamera`, or undefined for the default
 * @throws {UsageError} for a model the virtual camera cannot be
 */
export async function virtualModel(name: string | undefined): Promise<string | undefined> {
  if (name === undefined || name === "") return undefined;
  const { EMULATED_MODELS, emulatedModel } = await emulatedModels();
  try {
    return emulatedModel(name).name;
  } catch {
    throw new UsageError(
      `the virtual camera cannot be a ${JSON.stringify(name)}; it can be: ${
        Object.keys(EMULATED_MODELS).join(", ")
      }`,
    );
  }
}

/**
 * The virtual camera's model for `--emulate[-usb] [MODEL]` with `--camera`:
 * the model named after --emulate, else the one --camera names (by model
 * name or USB product id), else the default.
 */
async function emulatedChoice(
  model: string | undefined,
  camera: string | undefined,
): Promise<string | undefined> {
  if (model) return await virtualModel(model);
  if (camera === undefined) return undefined;
  const choice = parseCameraChoice(camera);
  if (choice.model) return await virtualModel(choice.model);
  const { EMULATED_MODELS } = await emulatedModels();
  const found = Object.values(EMULATED_MODELS).find((m) => m.productId === choice.productId);
  if (!found) {
    throw new UsageError(
      `the virtual camera has no model with product id ${camera}; it can be: ${
        Object.keys(EMULATED_MODELS).join(", ")
      }`,
    );
  }
  return found.name;
}

async function openRecorder(selection: CameraSelection): Promise<UsbRecorder | undefined> {
  return selection.record === undefined
    ? undefined
    : (await trace()).UsbRecorder.create(selection.record);
}

/**
 * Connect the camera the selection names.
 *
 * @param selection which camera and how
 * @returns the connection; close it when done
 */
export async function connectCamera(selection: CameraSelection): Promise<Connection> {
  if (selection.emulateUsb !== undefined) return await connectThroughUmockdev(selection);
  if (selection.emulate !== undefined) return await connectVirtual(selection);
  return await connectReal(selection);
}

/**
 * The in-process virtual camera (no libusb, no umockdev).
 *
 * @param selection model, timeout, recording
 * @param virtualCamera use this camera instead of a new one
 * @returns the connection
 */
export async function connectVirtual(
  selection: CameraSelection,
  virtualCamera?: VirtualCamera,
): Promise<Connection> {
  const model = await emulatedChoice(selection.emulate, selection.camera);
  const card = virtualCamera ? undefined : await virtualCard(selection, model);
  const vc = virtualCamera ??
    new (await emulator()).VirtualCamera({
      ...(model ? { model } : {}),
      busModel: selection.busModel ?? false,
      card: card?.card,
    });
  card?.attach(vc);
  const recorder = await openRecorder(selection);
  try {
    const camera = await Camera.connect(
      recorder ? (await trace()).recordDevice(vc, recorder) : vc,
      {
        timeout: selection.timeout,
      },
    );
    return {
      camera,
      label: `virtual ${vc.model} (in-process)`,
      virtual: true,
      async close() {
        try {
          await camera.close();
        } finally {
          if (!virtualCamera) await vc[Symbol.asyncDispose]();
          recorder?.close();
          await card?.close();
        }
      },
    };
  } catch (error) {
    if (!virtualCamera) await vc[Symbol.asyncDispose]();
    recorder?.close();
    throw error;
  }
}

async function connectThroughUmockdev(selection: CameraSelection): Promise<Connection> {
  const model = await emulatedChoice(selection.emulateUsb, selection.camera);
  const card = await virtualCard(selection, model);
  const vc = new (await emulator()).VirtualCamera({
    ...(model ? { model } : {}),
    busModel: selection.busModel ?? false,
    card: card?.card,
  });
  card?.attach(vc);
  const recorder = await openRecorder(selection);
  const testbed = (await umockdev()).UmockdevTestbed.open();
  try {
    if (!testbed.preloaded) {
      throw new UsageError(
        "--emulate-usb needs the process to start with LD_PRELOAD=libumockdev-preload.so.0 " +
          "(the canon command restarts itself so when it can)",
      );
    }
    const port = selection.port;
    if (port && port.address < 2) {
      throw new UsageError(
        `--port: address ${port.address} is the root hub's; a device has 2 to 127`,
      );
    }
    const device = testbed.attach(
      recorder ? (await recording()).recordFunction(vc.usbFunction, recorder) : vc.usbFunction,
      port ? { bus: port.bus, address: port.address } : {},
    );
    if (recorder) {
      recorder.bus = device.bus;
      recorder.device = device.address;
    }
    const camera = await Camera.open({
      bus: device.bus,
      address: device.address,
      timeout: selection.timeout,
    });
    const at = `usb:${pad3(device.bus)},${pad3(device.address)}`;
    return {
      camera,
      label: `virtual ${vc.model} at ${at} (libusb through umockdev)`,
      virtual: true,
      async close() {
        try {
          await camera.close();
        } finally {
          testbed.close();
          await vc[Symbol.asyncDispose]();
          recorder?.close();
          await card?.close();
        }
      },
    };
  } catch (error) {
    testbed.close();
    await vc[Symbol.asyncDispose]();
    recorder?.close();
    throw error;
  }
}

function openOptions(selection: CameraSelection): CameraOpenOptions {
  return {
    ...(selection.camera === undefined ? {} : parseCameraChoice(selection.camera)),
    ...(selection.port ?? {}),
    allowUnknown: selection.allowUnknown,
    timeout: selection.timeout,
  };
}

async function connectReal(selection: CameraSelection): Promise<Connection> {
  const options = openOptions(selection);
  const recorder = await openRecorder(selection);
  try {
    let camera: Camera;
    if (recorder) {
      const device = await findCameraDevice(options);
      const where = device as { bus?: number; address?: number };
      if (where.bus !== undefined) recorder.bus = where.bus;
      if (where.address !== undefined) recorder.device = where.address;
      try {
        camera = await Camera.connect((await trace()).recordDevice(device, recorder), options);
      } catch (error) {
        await device.close().catch(() => undefined);
        throw error;
      }
    } else {
      camera = await Camera.open(options);
    }
    const where = recorder
      ? { bus: recorder.bus, address: recorder.device }
      : camera.device as { bus?: number; address?: number };
    return {
      camera,
      label: where.bus !== undefined && where.address !== undefined
        ? `usb:${pad3(where.bus)},${pad3(where.address)}`
        : "usb",
      virtual: false,
      async close() {
        try {
          await camera.close();
        } finally {
          recorder?.close();
        }
      },
    };
  } catch (error) {
    recorder?.close();
    throw error;
  }
}

/** Three-digit bus and device numbers, as gphoto2 and lsusb write them. */
export function pad3(n: number): string {
  return String(n).padStart(3, "0");
}
