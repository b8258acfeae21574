/**
 * `canon decode` (read a Wireshark/tshark capture of a camera) and
 * `canon udev-rules` (let a desktop user open the cameras).
 *
 * @module
 */

import { udevRules } from "../camera/udev.ts";
import { decodeCanonCapture } from "../trace/decode.ts";
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
    const trace = decodeCanonCapture(await Deno.readFile(args.positionals[0]), {
      device,
      hexdump: context.options.debug,
      times: Boolean(args.values.time),
    });
    if (context.json) {
      context.printJson({
        format: trace.format,
        devices: trace.devices,
        device: trace.device,
        commands: trace.commands,
        lines: trace.lines,
      });
      return;
    }
    const d = trace.device!;
    const id = d.vendorId !== undefined
      ? ` (${d.vendorId.toString(16).padStart(4, "0")}:${
        d.productId!.toString(16).padStart(4, "0")
      })`
      : "";
    context.note(
      `decode: ${trace.format} capture, device ${d.bus}.${d.address}${id}, ${trace.commands.length} commands`,
    );
    context.printLines(trace.lines);
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
