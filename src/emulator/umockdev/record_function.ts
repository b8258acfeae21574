/**
 * Record what the host does with an emulated device, from the device side:
 * a {@link UsbFunction} wrapper that feeds every transfer to a
 * {@link UsbRecorder} (usbmon events in a pcapng file), to be plugged into
 * the umockdev bridge instead of the function itself.
 *
 * @module
 */

import type { RecordedTransfer, UsbRecorder } from "../../trace/recorder.ts";
import type { TransferType } from "../../trace/usbmon.ts";
import type { FunctionRead, SetupPacket, UsbFunction } from "../engine/usb_function.ts";

const ERRNO = { EPIPE: 32 } as const;

function packetBytes(setup: SetupPacket): Uint8Array {
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint8(0, setup.bmRequestType);
  view.setUint8(1, setup.bRequest);
  view.setUint16(2, setup.wValue, true);
  view.setUint16(4, setup.wIndex, true);
  view.setUint16(6, setup.wLength, true);
  return out;
}

/** Endpoint types from a configuration descriptor, by endpoint address. */
function endpointTypes(configuration: Uint8Array): Map<number, TransferType> {
  const types = new Map<number, TransferType>();
  for (let offset = 0; offset + 2 <= configuration.length;) {
    const length = configuration[offset];
    if (length < 2) break;
    if (configuration[offset + 1] === 5 && length >= 7) {
      const kind = configuration[offset + 3] & 3;
      types.set(
        configuration[offset + 2],
        kind === 3 ? "interrupt" : kind === 1 ? "isochronous" : kind === 0 ? "control" : "bulk",
      );
    }
    offset += length;
  }
  return types;
}

/**
 * Wrap the device side of an emulated device so that everything the host
 * does with it is recorded: plug the wrapper into the umockdev bridge
 * instead of the function. A read the function cannot answer yet is
 * recorded as submitted at the first attempt and completed when it is
 * answered.
 *
 * @param fn the device side (e.g. `virtualCamera.usbFunction`)
 * @param recorder where the events go
 * @returns the recording function
 * @example
 * ```ts ignore
 * using recorder = UsbRecorder.create("session.pcapng");
 * const device = testbed.attach(recordFunction(camera.usbFunction, recorder));
 * recorder.bus = device.bus;
 * recorder.device = device.address;
 * ```
 */
export function recordFunction(fn: UsbFunction, recorder: UsbRecorder): UsbFunction {
  const types = endpointTypes(fn.descriptors.configuration);
  const waiting = new Map<number, RecordedTransfer>();
  return {
    get descriptors() {
      return fn.descriptors;
    },
    get connected() {
      return fn.connected;
    },
    controlIn(setup: SetupPacket): Uint8Array | "stall" {
      const urb = recorder.submit("control", 0x80, setup.wLength, packetBytes(setup));
      const answer = fn.controlIn(setup);
      if (answer === "stall") recorder.complete(urb, "control", 0x80, -ERRNO.EPIPE);
      else recorder.complete(urb, "control", 0x80, 0, answer.subarray(0, setup.wLength));
      return answer;
    },
    controlOut(setup: SetupPacket, data: Uint8Array) {
      const urb = recorder.submit("control", 0x00, data.length, packetBytes(setup), data);
      const answer = fn.controlOut(setup, data);
      recorder.complete(
        urb,
        "control",
        0x00,
        answer === "stall" ? -ERRNO.EPIPE : 0,
        undefined,
        answer === "stall" ? 0 : data.length,
      );
      return answer;
    },
    read(endpointAddress: number, maxLength: number): FunctionRead {
      const type = types.get(endpointAddress) ?? "bulk";
      const answer = fn.read(endpointAddress, maxLength);
      let urb = waiting.get(endpointAddress);
      if (answer === null) {
        if (!urb) waiting.set(endpointAddress, recorder.submit(type, endpointAddress, maxLength));
        return answer;
      }
      waiting.delete(endpointAddress);
      urb ??= recorder.submit(type, endpointAddress, maxLength);
      if (answer === "stall") recorder.complete(urb, type, endpointAddress, -ERRNO.EPIPE);
      else recorder.complete(urb, type, endpointAddress, 0, answer);
      return answer;
    },
    write(endpointAddress: number, data: Uint8Array) {
      const type = types.get(endpointAddress) ?? "bulk";
      const urb = recorder.submit(type, endpointAddress, data.length, undefined, data);
      const answer = fn.write(endpointAddress, data);
      recorder.complete(
        urb,
        type,
        endpointAddress,
        answer === "stall" ? -ERRNO.EPIPE : 0,
        undefined,
        answer === "stall" ? 0 : data.length,
      );
      return answer;
    },
    clearHalt(endpointAddress: number): void {
      fn.clearHalt(endpointAddress);
    },
    reset(): void {
      fn.reset();
    },
    subscribe(listener: () => void): () => void {
      return fn.subscribe(listener);
    },
    // A bus model paces the recorded function as it would the function itself.
    bus: fn.bus,
    ...(fn.available ? { available: (address: number) => fn.available!(address) } : {}),
  };
}
