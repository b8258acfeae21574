/**
 * Read a USB capture of a Canon camera (usbmon, as Wireshark and tshark
 * write it, or a recording of the virtual camera) and tell the conversation
 * in the words of the live wire log (`CANON_LOG=info`): commands by name
 * with their codes, serial numbers and decoded arguments, transfers with
 * sizes and times, replies with their status.
 *
 * @module
 */

import { CanonError } from "../usb/errors.ts";
import { type TracePacket, TraceReader } from "./pcap.ts";
import {
  CANON_VENDOR,
  Conversation,
  type DecodedCommand,
  type DecodeOptions,
  MAX_DEVICES,
  MAX_PENDING_SUBMISSIONS,
  remember,
  type StreamDecodeOptions,
} from "./conversation.ts";

export type { DecodedCommand, DecodeOptions, StreamDecodeOptions } from "./conversation.ts";
import {
  decodeUsbmon,
  LINKTYPE_USB_LINUX,
  LINKTYPE_USB_LINUX_MMAPPED,
  setupFields,
  type UsbmonPacket,
} from "./usbmon.ts";

/** A device seen in the capture. */
export interface TracedDevice {
  /** Bus number. */
  bus: number;
  /** Device address. */
  address: number;
  /** idVendor, when its device descriptor was captured. */
  vendorId: number | undefined;
  /** idProduct, when its device descriptor was captured. */
  productId: number | undefined;
  /** How many usbmon events it has. */
  packets: number;
  /** Whether it looks like a Canon camera (Canon vendor id, or Canon vendor requests). */
  canon: boolean;
}

/** What {@link decodeCanonTrace} found. */
export interface DecodedTrace {
  /** The file format. */
  format: "pcap" | "pcapng";
  /** Every USB device in the capture. */
  devices: TracedDevice[];
  /** The device decoded, or undefined when none had traffic. */
  device: TracedDevice | undefined;
  /** The conversation, one log line each. */
  lines: string[];
  /** The commands, in order. */
  commands: DecodedCommand[];
  /** What was damaged or cut short in the capture (it is decoded up to there). */
  warnings: string[];
}

/** What {@link decodeCanonTraceStream} found, besides the lines and commands it handed over. */
export interface TraceSummary {
  /** The file format. */
  format: "pcap" | "pcapng";
  /** Every USB device in the capture. */
  devices: TracedDevice[];
  /** The device decoded. */
  device: TracedDevice;
  /** How many commands were handed over. */
  commands: number;
  /** What was damaged or cut short in the capture (it is decoded up to there). */
  warnings: string[];
}

/** The capture has no usbmon packets, or not the device asked for. */
export class TraceDecodeError extends CanonError {
  /**
   * Make the error.
   *
   * @param message what is missing
   */
  constructor(message: string) {
    super(message);
    this.name = "TraceDecodeError";
  }
}

function key(bus: number, address: number): string {
  return `${bus}.${address}`;
}

/**
 * The two passes of a decode: the first finds the devices (and which is the
 * camera), the second tells the chosen device's conversation. Each sees the
 * packets one at a time and keeps nothing that grows with the capture.
 */
class TraceDecoder {
  #options: StreamDecodeOptions;
  #devices = new Map<string, TracedDevice>();
  #setups = new Map<bigint, Uint8Array>();
  #otherTypes = new Set<number>();
  #events = 0;
  #tooMany = false;
  #chosen: TracedDevice | undefined;
  #conversation: Conversation;

  constructor(options: StreamDecodeOptions) {
    this.#options = options;
    this.#conversation = new Conversation(options);
  }

  #event(packet: TracePacket): UsbmonPacket | undefined {
    if (packet.linkType !== LINKTYPE_USB_LINUX && packet.linkType !== LINKTYPE_USB_LINUX_MMAPPED) {
      if (this.#otherTypes.size < 16) this.#otherTypes.add(packet.linkType);
      return undefined;
    }
    try {
      return decodeUsbmon(packet.data, packet.linkType, packet.littleEndian);
    } catch {
      // A packet cut shorter than its header: nothing to learn from it.
      return undefined;
    }
  }

  /** First pass: one packet. */
  scan(packet: TracePacket): void {
    const event = this.#event(packet);
    if (!event) return;
    this.#events++;
    const id = key(event.bus, event.device);
    let device = this.#devices.get(id);
    if (!device) {
      if (this.#devices.size >= MAX_DEVICES) {
        this.#tooMany = true;
        return;
      }
      device = {
        bus: event.bus,
        address: event.device,
        vendorId: undefined,
        productId: undefined,
        packets: 0,
        canon: false,
      };
      this.#devices.set(id, device);
    }
    device.packets++;
    if (event.event === "S" && event.setup) {
      remember(this.#setups, event.id, event.setup, MAX_PENDING_SUBMISSIONS);
    }
    const setup = event.setup ?? (event.event === "C" ? this.#setups.get(event.id) : undefined);
    if (event.event === "C") this.#setups.delete(event.id);
    if (!setup) return;
    const fields = setupFields(setup);
    if (
      (fields.requestType & 0x60) === 0x40 && (fields.request === 0x04 || fields.request === 0x0c)
    ) {
      device.canon = true;
    }
    if (
      event.event === "C" && fields.request === 0x06 && fields.value >> 8 === 1 &&
      event.data.length >= 12
    ) {
      device.vendorId = event.data[8] | (event.data[9] << 8);
      device.productId = event.data[10] | (event.data[11] << 8);
      if (device.vendorId === CANON_VENDOR) device.canon = true;
    }
  }

  /** Between the passes: the device to decode. */
  choose(): { devices: TracedDevice[]; device: TracedDevice; warnings: string[] } {
    const options = this.#options;
    if (this.#events === 0) {
      const other = this.#otherTypes;
      throw new TraceDecodeError(
        other.size > 0
          ? `the capture has no Linux USB (usbmon) packets, only link type(s) ${
            [...other].join(", ")
          }; capture on a usbmon interface`
          : "the capture has no packets",
      );
    }
    const all = [...this.#devices.values()];
    let chosen: TracedDevice | undefined;
    if (options.device) {
      chosen = this.#devices.get(key(options.device.bus, options.device.address));
      if (!chosen) {
        throw new TraceDecodeError(
          `the capture has no packets of device ${
            key(options.device.bus, options.device.address)
          }; ` +
            `it has ${all.slice(0, 32).map((d) => key(d.bus, d.address)).join(", ")}`,
        );
      }
    } else {
      const addressed = all.filter((d) => d.address > 1);
      chosen = all.find((d) => d.canon) ?? (addressed.length === 1 ? addressed[0] : undefined);
      if (!chosen) {
        throw new TraceDecodeError(
          `no Canon camera found among the devices in the capture (${
            all.slice(0, 32).map((d) => key(d.bus, d.address)).join(", ")
          }); choose one with --device BUS.ADDRESS`,
        );
      }
    }
    this.#chosen = chosen;
    this.#setups.clear();
    const warnings = this.#tooMany
      ? [`the capture has packets of more than ${MAX_DEVICES} devices; the others are ignored`]
      : [];
    return { devices: all, device: chosen, warnings };
  }

  /** Second pass: one packet. */
  decode(packet: TracePacket): void {
    const chosen = this.#chosen!;
    const event = this.#event(packet);
    if (event && event.bus === chosen.bus && event.device === chosen.address) {
      this.#conversation.add(event);
    }
  }

  /** After the second pass: the command count. */
  finish(): number {
    this.#conversation.finish();
    return this.#conversation.commands;
  }
}

/**
 * Decode the Canon conversation in a capture held in memory.
 *
 * @param bytes a pcap or pcapng file of usbmon packets
 * @param options which device, hex dumps, times
 * @returns the devices found and the conversation as log lines and commands
 * @throws {TraceFormatError} when the file is not a capture
 * @throws {TraceDecodeError} when it has no USB packets, or not of the device asked for
 * @example
 * ```ts ignore
 * import { decodeCanonTrace } from "./decode.ts";
 * const trace = decodeCanonTrace(await Deno.readFile("camera.pcapng"));
 * for (const line of trace.lines) console.log(line);
 * ```
 */
export function decodeCanonTrace(bytes: Uint8Array, options: DecodeOptions = {}): DecodedTrace {
  const lines: string[] = [];
  const commands: DecodedCommand[] = [];
  const decoder = new TraceDecoder({
    ...options,
    onLine: (line) => lines.push(line),
    onCommand: (command) => commands.push(command),
  });
  // In slices, so that the packets of one slice are all that is held at a time.
  const slices = function* () {
    for (let offset = 0; offset < bytes.length; offset += 1 << 20) {
      yield bytes.subarray(offset, offset + (1 << 20));
    }
  };
  const first = new TraceReader();
  for (const slice of slices()) for (const packet of first.push(slice)) decoder.scan(packet);
  first.finish();
  const { devices, device, warnings } = decoder.choose();
  const second = new TraceReader();
  for (const slice of slices()) for (const packet of second.push(slice)) decoder.decode(packet);
  second.finish();
  decoder.finish();
  return {
    format: first.format!,
    devices,
    device,
    lines,
    commands,
    warnings: [...first.warnings, ...warnings],
  };
}

/**
 * Decode the Canon conversation in a capture read as a stream, twice (the
 * first pass finds the camera): lines and commands are handed over as they
 * are made, so memory does not depend on the capture's size.
 *
 * @param open opens the capture (called once per pass), e.g. `async () => (await Deno.open(path)).readable`
 * @param options which device, hex dumps, times; where lines and commands go
 * @returns the format, the devices, the command count and the warnings
 * @throws {TraceFormatError} when the file is not a capture
 * @throws {TraceDecodeError} when it has no USB packets, or not of the device asked for
 * @example
 * ```ts ignore
 * import { decodeCanonTraceStream } from "./decode.ts";
 * await decodeCanonTraceStream(async () => (await Deno.open("camera.pcapng")).readable, {
 *   onLine: (line) => console.log(line),
 * });
 * ```
 */
export async function decodeCanonTraceStream(
  open: () =>
    | AsyncIterable<Uint8Array>
    | Iterable<Uint8Array>
    | Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array>>,
  options: StreamDecodeOptions = {},
): Promise<TraceSummary> {
  const decoder = new TraceDecoder(options);
  const first = new TraceReader();
  for await (const chunk of await open()) {
    for (const packet of first.push(chunk)) decoder.scan(packet);
  }
  first.finish();
  const { devices, device, warnings } = decoder.choose();
  const second = new TraceReader();
  for await (const chunk of await open()) {
    for (const packet of second.push(chunk)) decoder.decode(packet);
  }
  second.finish();
  return {
    format: first.format!,
    devices,
    device,
    commands: decoder.finish(),
    warnings: [...first.warnings, ...warnings],
  };
}
