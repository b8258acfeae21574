/**
 * `canon decode` (read a Wireshark/tshark capture of a camera) and
 * `canon udev-rules` (let a desktop user open the cameras).
 *
 * @module
 */

import { udevRules } from "../camera/udev.ts";
import { decodeCanonTraceStream } from "../trace/decode.ts";
import type { CommandDef } from "./command.ts";
import { UsageError } from "./exit.ts";

/** `canon decode CAPTURE`. */
export const decodeCommand: CommandDef = {
  name: "decode",
  usage: "CAPTURE [--device BUS.ADDRESS] [--time]",
  summary: "print the Canon conversation in a usbmon capture (pcap, pcapng)",
  details:
    "Reads what Wireshark, tshark or dumpcap saved from a usbmon interface, and recordings\n" +
    "made with --record. Commands appear with their names, codes, serial numbers and\n" +
    "decoded arguments; replies with their status. --debug adds hex dumps. No camera needed.\n" +
    "Capture a real camera with: sudo modprobe usbmon; tshark -i usbmon1 -w camera.pcapng",
  options: {
    device: {
      type: "string",
      value: "BUS.ADDRESS",
      help: "decode this device (default: the first Canon camera in the capture)",
    },
    time: { type: "boolean", short: "t", help: "start each line with the seconds since the start" },
  },
  async run(context, args) {
    if (args.positionals.length !== 1) {
      throw new UsageError("decode takes one CAPTURE file", "decode");
    }
    let device: { bus: number; address: number } | undefined;
    const wanted = args.values.device as string | undefined;
    if (wanted !== undefined) {
      const match = /^(?:usb:)?(\d+)[.,:](\d+)$/.exec(wanted);
      if (!match) throw new UsageError(`--device wants BUS.ADDRESS, e.g. 1.5`, "decode");
      device = { bus: Number(match[1]), address: Number(match[2]) };
    }
    // The capture is read as a stream, twice (the first pass finds the camera), and every
    // line is written as soon as it is made: memory does not grow with the file.
    const path = args.positionals[0];
    const open = async () => (await Deno.open(path)).readable;
    const options = {
      device,
      hexdump: context.options.debug,
      times: Boolean(args.values.time),
    };
    if (context.json) {
      // Commands in a first decode, lines in a second, each written out as it comes.
      const io = context.io;
      const item = (value: unknown, first: boolean) =>
        io.write(`${first ? "" : ","}\n    ${JSON.stringify(value)}`);
      let count = 0;
      // Opened only once the capture has proved readable, so that an error prints no JSON.
      const start = () => count === 0 && io.write(`{\n  "commands": [`);
      const summary = await decodeCanonTraceStream(open, {
        ...options,
        onCommand: (command) => {
          start();
          item(command, count++ === 0);
        },
      });
      start();
      count = 0;
      io.write(`${summary.commands ? "\n  " : ""}],\n  "lines": [`);
      await decodeCanonTraceStream(open, {
        ...options,
        onLine: (line) => item(line, count++ === 0),
      });
      io.write(`${count ? "\n  " : ""}],\n`);
      const rest = JSON.stringify(
        {
          format: summary.format,
          devices: summary.devices,
          device: summary.device,
          warnings: summary.warnings,
        },
        null,
        2,
      );
      io.write(`${rest.slice(2)}\n`);
      return;
    }
    const summary = await decodeCanonTraceStream(open, {
      ...options,
      onLine: (line) => context.print(line),
    });
    const d = summary.device;
    const id = d.vendorId !== undefined
      ? ` (${d.vendorId.toString(16).padStart(4, "0")}:${
        d.productId!.toString(16).padStart(4, "0")
      })`
      : "";
    context.note(
      `decode: ${summary.format} capture, device ${d.bus}.${d.address}${id}, ${summary.commands} commands`,
    );
    for (const warning of summary.warnings) context.note(`decode: warning: ${warning}`);
  },
};

/** `canon udev-rules`. */
export const udevRulesCommand: CommandDef = {
  name: "udev-rules",
  usage: "",
  summary: "print udev rules that let desktop users open the cameras (Linux)",
  details: "Install them with:\n" +
    "  canon udev-rules | sudo tee /etc/udev/rules.d/60-canon-remote.rules\n" +
    "  sudo udevadm control --reload && sudo udevadm trigger\n" +
    "then plug the camera in again.",
  options: {},
  run(context) {
    context.io.write(udevRules());
    return Promise.resolve();
  },
};
