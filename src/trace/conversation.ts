/**
 * One device's conversation in a trace: its usbmon events told as the live
 * wire log tells them (commands by name with codes, serial numbers and
 * decoded arguments, transfers with sizes and times, replies with their
 * status), and the commands handed over as they end.
 *
 * @module
 */

import { readCString, readU32 } from "../protocol/bytes.ts";
import {
  COMMANDS,
  type CommandSpec,
  hex,
  LONG_REPLY,
  NEW_PROTOCOL_COMMANDS,
  NEW_PROTOCOL_ONLY,
  REMOTE,
  STATUS_MESSAGES,
} from "../protocol/commands.ts";
import { hexdump } from "../protocol/log.ts";
import { setupFields, type UsbmonPacket } from "./usbmon.ts";

/** Options of `decodeCanonTrace`: which device, hex dumps, times. */
export interface DecodeOptions {
  /** Decode this device only (default: the first one that looks like a Canon camera). */
  device?: { bus: number; address: number };
  /** Add hex dumps of the data, as `CANON_LOG=debug` does. */
  hexdump?: boolean;
  /** Start each line with the seconds since the device's first packet. */
  times?: boolean;
}

/** One command of the conversation. */
export interface DecodedCommand {
  /** The command's name, as the live log writes it (e.g. "IdentifyCamera", "GetThumbnail"). */
  name: string;
  /** Function code, storage/control code, reply kind. */
  codes: [number, number, number];
  /** The serial number of the command block. */
  serial: number;
  /** The arguments, decoded ("" when none). */
  arguments: string;
  /** The reply's status word (fixed replies), when the reply was complete. */
  status: number | undefined;
  /** Data bytes of a long reply, when it was complete. */
  length: number | undefined;
  /** Seconds since the device's first packet. */
  time: number;
}

/** Options of `decodeCanonTraceStream`: where the lines and commands go. */
export interface StreamDecodeOptions extends DecodeOptions {
  /** Each log line, as soon as it is known. */
  onLine?: (line: string) => void;
  /** Each command, once its reply is over (complete or not). */
  onCommand?: (command: DecodedCommand) => void;
}

export const CANON_VENDOR = 0x04a9;
/** Submissions waiting for their completion that are remembered (a capture may lose completions). */
export const MAX_PENDING_SUBMISSIONS = 4096;
/** Devices told apart; a capture of more is not of one desk's USB. */
export const MAX_DEVICES = 1024;
/** Lines held back for an upload block before they are let go without it. */
export const MAX_HELD_LINES = 1024;

/** Remember `value` under `key`, forgetting the oldest beyond `limit`. */
export function remember<K, V>(map: Map<K, V>, key: K, value: V, limit: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > limit) map.delete(map.keys().next().value as K);
}

const STANDARD_REQUESTS: Readonly<Record<number, string>> = {
  0x00: "GET_STATUS",
  0x01: "CLEAR_FEATURE",
  0x03: "SET_FEATURE",
  0x05: "SET_ADDRESS",
  0x06: "GET_DESCRIPTOR",
  0x08: "GET_CONFIGURATION",
  0x09: "SET_CONFIGURATION",
  0x0a: "GET_INTERFACE",
  0x0b: "SET_INTERFACE",
};

const DESCRIPTOR_TYPES: Readonly<Record<number, string>> = {
  1: "device",
  2: "configuration",
  3: "string",
  6: "device qualifier",
};

const INTERRUPT_CODES: Readonly<Record<number, string>> = {
  0x08: "thumbnail descriptor",
  0x0a: "capture status",
  0x0c: "image descriptor",
  0x0e: "EOS write to card done",
  0x0f: "EOS capture complete",
  0x10: "secondary image descriptor",
  0x20: "initialisation",
};

const ERRNO_NAMES: Readonly<Record<number, string>> = {
  [-2]: "ENOENT: cancelled",
  [-19]: "ENODEV: device gone",
  [-32]: "EPIPE: stall",
  [-71]: "EPROTO: protocol error",
  [-75]: "EOVERFLOW: babble",
  [-104]: "ECONNRESET: cancelled",
  [-108]: "ESHUTDOWN: device gone",
  [-110]: "ETIMEDOUT",
};

/** The command tables by (cmd1, cmd2, cmd3), per protocol generation. */
function commandTable(newProtocol: boolean): Map<string, CommandSpec> {
  const table = new Map<string, CommandSpec>();
  const add = (spec: CommandSpec) => table.set(`${spec.cmd1}/${spec.cmd2}/${spec.cmd3}`, spec);
  for (const [purpose, spec] of Object.entries(COMMANDS)) {
    if (!newProtocol || !(purpose in NEW_PROTOCOL_COMMANDS)) add(spec);
  }
  if (newProtocol) {
    for (const spec of Object.values(NEW_PROTOCOL_COMMANDS)) if (spec) add(spec);
    add(NEW_PROTOCOL_ONLY.getOwner);
  }
  return table;
}

const OLD_TABLE = commandTable(false);
const NEW_TABLE = commandTable(true);
const REMOTE_BY_CODE = new Map(Object.values(REMOTE).map((sub) => [sub.code, sub]));

function cstring(bytes: Uint8Array, offset: number): string {
  return offset < bytes.length ? readCString(bytes, offset, bytes.length - offset) : "";
}

function quoted(text: string): string {
  return `"${text}"`;
}

function cameraTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(0, 19).replace("T", " ");
}

function u16(bytes: Uint8Array, offset: number): number {
  return offset + 2 <= bytes.length ? bytes[offset] | (bytes[offset + 1] << 8) : 0;
}

function u32(bytes: Uint8Array, offset: number): number {
  return offset + 4 <= bytes.length ? readU32(bytes, offset) : 0;
}

/** The arguments of a command, decoded for the log. */
function describeArguments(spec: CommandSpec, payload: Uint8Array, newProtocol: boolean): string {
  const name = spec.name.replace(/2$/, "");
  switch (name) {
    case "GetFile": {
      const path = newProtocol ? cstring(payload, 4) : cstring(payload, 8);
      return quoted(path);
    }
    case "GetDirectory":
      return `${quoted(cstring(payload, 1))} depth ${payload[0] ?? 0}`;
    case "MakeDirectory":
    case "RemoveDirectory":
    case "DiskInfo":
      return quoted(cstring(payload, 0));
    case "DeleteFile": {
      if (newProtocol) return quoted(cstring(payload, 0));
      const dir = cstring(payload, 0);
      return quoted(`${dir}\\${cstring(payload, dir.length + 1)}`);
    }
    case "SetAttributes": {
      const dir = cstring(payload, 4);
      const file = cstring(payload, 4 + dir.length + 1);
      return `${quoted(`${dir}\\${file}`)} attributes ${hex(u32(payload, 0))}`;
    }
    case "SetFileTime":
      return `${quoted(cstring(payload, 4))} time ${cameraTime(u32(payload, 0))}`;
    case "SetOwner":
      return quoted(cstring(payload, 0));
    case "SetTime":
      return cameraTime(u32(payload, 0));
    case "RemoteControl": {
      const code = u32(payload, 0);
      const sub = REMOTE_BY_CODE.get(code);
      const params: string[] = [];
      for (let offset = 4; offset + 4 <= payload.length && params.length < 4; offset += 4) {
        params.push(hex(u32(payload, offset)));
      }
      return `${sub?.name ?? `sub-command ${hex(code)}`}${
        params.some((p) => p !== "0x0") ? ` (${params.join(", ")})` : ""
      }`;
    }
    default:
      if (payload.length === 0) return "";
      return `payload ${payload.length} b`;
  }
}

function describeStatusWord(status: number): string {
  if (status === 0) return hex(status);
  const known = STATUS_MESSAGES[status >>> 0];
  return known ? `${hex(status)} (${known})` : hex(status);
}

/** What a complete fixed reply says, beyond its status. */
function describeFixedReply(spec: CommandSpec, reply: Uint8Array): string {
  if (u32(reply, 0x50) !== 0) return "";
  switch (spec.name) {
    case "IdentifyCamera": {
      if (reply.length < 0x9c) return "";
      const firmware = `${reply[0x5b]}.${reply[0x5a]}.${reply[0x59]}.${reply[0x58]}`;
      return ` ${quoted(cstring(reply.subarray(0, 0x7c), 0x5c))} owner ${
        quoted(cstring(reply.subarray(0, 0x9c), 0x7c))
      } firmware ${firmware}`;
    }
    case "GetOwner":
      return ` ${quoted(cstring(reply, 0x54))}`;
    case "GetTime":
      return reply.length >= 0x58 ? ` ${cameraTime(u32(reply, 0x54))}` : "";
    case "DiskInfo":
    case "DiskInfo2":
      return reply.length >= 0x5c ? ` capacity ${u32(reply, 0x54)} free ${u32(reply, 0x58)}` : "";
    case "PowerStatus":
    case "PowerStatus2":
      return reply.length >= 0x58
        ? ` ${reply[0x57] & 0x20 ? "battery" : "AC"}, power ${reply[0x54] === 6 ? "OK" : "low"}`
        : "";
    default:
      return "";
  }
}

interface Reply {
  command: DecodedCommand;
  spec: CommandSpec | undefined;
  kind: "fixed" | "long" | "upload-pre" | "upload";
  /** Bytes expected in all (fixed: the whole reply; long: header + data). */
  expected: number;
  received: number;
  /** The start of the reply (fixed replies whole, long replies their header). */
  head: Uint8Array[];
  headLength: number;
  label: string;
}

type Submission = Pick<UsbmonPacket, "timeMicros" | "setup">;

/** Turns one device's usbmon events into log lines, handed over as they are made. */
export class Conversation {
  commands = 0;
  #options: StreamDecodeOptions;
  /** What a completion needs of its submission (not its data). */
  #submissions = new Map<bigint, Submission>();
  #start: bigint | undefined;
  #reply: Reply | undefined;
  /** The last command, handed over when the next one starts (its reply is over by then). */
  #command: DecodedCommand | undefined;
  /** Lines held back until an upload block tells offset and size. */
  #held: { serial: number; lines: string[] } | undefined;

  constructor(options: StreamDecodeOptions) {
    this.#options = options;
  }

  #line(line: string): void {
    this.#options.onLine?.(line);
  }

  #startCommand(command: DecodedCommand): void {
    this.#endCommand();
    this.#command = command;
    this.commands++;
  }

  #endCommand(): void {
    if (this.#command) this.#options.onCommand?.(this.#command);
    this.#command = undefined;
  }

  #seconds(packet: UsbmonPacket): number {
    this.#start ??= packet.timeMicros;
    return Number(packet.timeMicros - this.#start) / 1e6;
  }

  #emit(packet: UsbmonPacket, text: string): void {
    const line = this.#options.times
      ? `${this.#seconds(packet).toFixed(6).padStart(12)} ${text}`
      : text;
    if (this.#held && this.#held.lines.length >= MAX_HELD_LINES) {
      this.#flushHeld(`--> UploadBlock #${this.#held.serial}`);
    }
    if (this.#held) this.#held.lines.push(line);
    else this.#line(line);
  }

  #dump(packet: UsbmonPacket, data: Uint8Array, limit: number): void {
    if (!this.#options.hexdump || data.length === 0) return;
    for (const line of hexdump(data, limit)) this.#emit(packet, `    ${line}`);
  }

  #flushHeld(first: string | undefined): void {
    const held = this.#held;
    if (!held) return;
    this.#held = undefined;
    if (first !== undefined) this.#line(first);
    for (const line of held.lines) this.#line(line);
  }

  add(packet: UsbmonPacket): void {
    this.#seconds(packet);
    if (packet.event === "S") {
      const { timeMicros, setup } = packet;
      remember(this.#submissions, packet.id, { timeMicros, setup }, MAX_PENDING_SUBMISSIONS);
      this.#onSubmit(packet);
      return;
    }
    const submission = this.#submissions.get(packet.id);
    this.#submissions.delete(packet.id);
    if (packet.event === "E") {
      this.#emit(packet, `submission failed: status ${packet.status}`);
      return;
    }
    this.#onComplete(packet, submission);
  }

  finish(): void {
    this.#closeReply(undefined);
    this.#flushHeld(undefined);
    this.#endCommand();
  }

  #elapsed(packet: UsbmonPacket, submission: Submission | undefined): string {
    if (!submission) return "";
    return ` in ${(Number(packet.timeMicros - submission.timeMicros) / 1e6).toFixed(4)} s`;
  }

  #failure(packet: UsbmonPacket): string {
    return ERRNO_NAMES[packet.status] ?? `status ${packet.status}`;
  }

  #onSubmit(packet: UsbmonPacket): void {
    if (packet.transferType === "control" && packet.setup) {
      const setup = setupFields(packet.setup);
      if (setup.requestType & 0x80) return; // reported at completion
      if ((setup.requestType & 0x60) !== 0x40) {
        this.#emit(packet, `usb ${standardRequest(setup.request, setup.value, setup.index)}`);
        return;
      }
      const data = packet.data;
      const isCommand = data.length >= 0x50 || (data.length >= 0x40 && u16(data, 4) === 0x203);
      if (setup.value === 0x10 && isCommand) this.#onCommandBlock(packet, data);
      this.#emit(
        packet,
        `control_write (${hex(setup.request)}, ${hex(setup.value)}) ${setup.length} (${
          hex(setup.length)
        }) b`,
      );
      this.#dump(packet, data, 0x400);
      return;
    }
    if (packet.transferType === "bulk" && !(packet.endpoint & 0x80)) {
      const data = packet.data;
      if (data.length >= 0x5c && u16(data, 4) === 0x403 && this.#reply?.kind === "upload-pre") {
        this.#onUploadBlock(data);
      }
      this.#emit(packet, `bulk_write ${packet.length} (${hex(packet.length)}) b`);
      this.#dump(packet, data, 0x100);
    }
  }

  #onCommandBlock(packet: UsbmonPacket, block: Uint8Array): void {
    this.#closeReply(packet);
    // The pre-header of an upload block has a length at 6, in the upper half of this word.
    const cmd3 = u16(block, 4) === 0x203 ? 0x203 : u32(block, 4);
    const serial = u32(block, 0x4c);
    const time = this.#seconds(packet);
    if (cmd3 === 0x203) {
      // The pre-header of an upload block (0x40 bytes, no room for a serial):
      // serial, offset and size come with the block itself.
      const command: DecodedCommand = {
        name: "UploadBlock",
        codes: [0x03, 0x11, 0x403],
        serial,
        arguments: "",
        status: undefined,
        length: undefined,
        time,
      };
      this.#startCommand(command);
      this.#flushHeld(undefined);
      this.#held = { serial, lines: [] };
      this.#reply = {
        command,
        spec: undefined,
        kind: "upload-pre",
        expected: 0x40,
        received: 0,
        head: [],
        headLength: 0,
        label: "UploadBlock",
      };
      return;
    }
    const cmd1 = block[0x44];
    const cmd2 = block[0x47];
    const newProtocol = block[0x46] !== 0;
    const spec = (newProtocol ? NEW_TABLE : OLD_TABLE).get(`${cmd1}/${cmd2}/${cmd3}`);
    const payload = block.subarray(0x50);
    let name = spec?.name ?? "Unknown";
    if (spec && spec.name === "GetFile" && u32(payload, 0) === 1) name = "GetThumbnail";
    const args = spec ? describeArguments(spec, payload, newProtocol) : (
      payload.length ? `payload ${payload.length} b` : ""
    );
    const command: DecodedCommand = {
      name,
      codes: [cmd1, cmd2, cmd3],
      serial,
      arguments: args,
      status: undefined,
      length: undefined,
      time,
    };
    this.#startCommand(command);
    this.#emit(
      packet,
      `--> ${name} (${hex(cmd1)}, ${hex(cmd2)}, ${hex(cmd3)}) #${serial}${args ? ` ${args}` : ""}`,
    );
    let expected = cmd3 === LONG_REPLY ? 0x40 : spec?.replyLength ?? 0x54;
    if (spec?.name.startsWith("RemoteControl")) {
      expected = REMOTE_BY_CODE.get(u32(payload, 0))?.replyLength ?? expected;
    }
    this.#reply = {
      command,
      spec,
      kind: cmd3 === LONG_REPLY ? "long" : "fixed",
      expected,
      received: 0,
      head: [],
      headLength: 0,
      label: name,
    };
  }

  #onUploadBlock(block: Uint8Array): void {
    const offset = u32(block, 0x54);
    const size = u32(block, 0x58);
    const path = cstring(block, 0x5c);
    const reply = this.#reply!;
    reply.command.serial = u32(block, 0x4c);
    reply.command.arguments = `${quoted(path)} offset ${offset} ${size} b`;
    reply.kind = "upload";
    reply.expected = 0x5c;
    reply.received = 0;
    reply.head = [];
    reply.headLength = 0;
    this.#flushHeld(
      `--> UploadBlock offset ${offset} ${size} b #${reply.command.serial} ${quoted(path)}`,
    );
  }

  #onComplete(packet: UsbmonPacket, submission: Submission | undefined): void {
    const isIn = (packet.endpoint & 0x80) !== 0;
    const elapsed = this.#elapsed(packet, submission);
    if (packet.transferType === "control") {
      const setup = submission?.setup ? setupFields(submission.setup) : undefined;
      if (!setup) return;
      const vendor = (setup.requestType & 0x60) === 0x40;
      if (!vendor) {
        if (packet.status !== 0) {
          this.#emit(
            packet,
            `usb ${STANDARD_REQUESTS[setup.request] ?? hex(setup.request)} ${
              this.#failure(packet)
            }`,
          );
        } else if (setup.requestType & 0x80) {
          this.#emit(
            packet,
            `usb ${
              standardRequest(setup.request, setup.value, setup.index)
            } got ${packet.length} b`,
          );
        }
        return;
      }
      const call = `(${hex(setup.request)}, ${hex(setup.value)})`;
      if (packet.status !== 0) {
        this.#emit(
          packet,
          `control_${isIn ? "read" : "write"} ${call} failed: ${this.#failure(packet)}`,
        );
        return;
      }
      if (!(setup.requestType & 0x80)) {
        this.#emit(packet, `control_write done${elapsed}`);
        return;
      }
      this.#emit(
        packet,
        `control_read ${call} got ${packet.length} (${hex(packet.length)}) b${elapsed}`,
      );
      this.#dump(packet, packet.data, 0x400);
      if (setup.value === 0x55 && packet.data.length >= 1) {
        const camstat = String.fromCharCode(packet.data[0]);
        this.#emit(
          packet,
          `camera status byte ${camstat}: ${
            camstat === "A" ? "already active" : camstat === "C" ? "woken up" : "unexpected"
          }`,
        );
      }
      return;
    }
    const kind = packet.transferType === "interrupt" ? "interrupt" : "bulk";
    if (!isIn) {
      if (packet.status !== 0) {
        this.#emit(packet, `${kind}_write failed: ${this.#failure(packet)}`);
      } else this.#emit(packet, `${kind}_write done${elapsed}`);
      return;
    }
    if (packet.status !== 0 && packet.length === 0) {
      // A read that timed out and was cancelled is how the host polls: not worth a line.
      if (kind === "interrupt" && (packet.status === -2 || packet.status === -104)) return;
      this.#emit(packet, `${kind}_read failed: ${this.#failure(packet)}`);
      return;
    }
    this.#emit(packet, `${kind}_read got ${packet.length} (${hex(packet.length)}) b${elapsed}`);
    this.#dump(packet, packet.data, kind === "bulk" ? 0x100 : 0x400);
    if (kind === "interrupt") {
      if (packet.data.length >= 5) {
        const code = packet.data[4];
        this.#emit(
          packet,
          `interrupt packet ${hex(code)}${
            INTERRUPT_CODES[code] ? ` (${INTERRUPT_CODES[code]})` : ""
          }`,
        );
      }
      return;
    }
    this.#onReplyBytes(packet, packet.data, packet.length);
  }

  #onReplyBytes(packet: UsbmonPacket, data: Uint8Array, length: number): void {
    const reply = this.#reply;
    if (!reply) return;
    const headWanted = reply.kind === "long" ? 0x40 : reply.expected;
    if (reply.headLength < headWanted) {
      const part = data.subarray(0, headWanted - reply.headLength);
      reply.head.push(part);
      reply.headLength += part.length;
    }
    reply.received += length;
    if (reply.received >= 0x40 && reply.headLength >= 0x40) {
      const head = joined(reply.head);
      if (reply.kind === "long" && reply.expected === 0x40) {
        reply.expected = 0x40 + u32(head, 6);
      } else if (reply.kind === "fixed" && reply.received - length < 0x40) {
        // The header's own length word wins over the table, as in the live session.
        const word0 = u32(head, 0);
        const announced = word0 !== 0
          ? word0 + 0x40
          : head.length >= 0x50
          ? u32(head, 0x48) + 0x40
          : 0;
        if (announced >= 0x54 && announced <= 0x10000 && announced !== 0x40) {
          reply.expected = announced;
        }
      }
    }
    if (reply.received >= reply.expected) this.#closeReply(packet);
  }

  /** Write the reply line of the command in flight (complete or not). */
  #closeReply(packet: UsbmonPacket | undefined): void {
    const reply = this.#reply;
    if (!reply) return;
    if (reply.kind === "upload-pre" && reply.received >= 0x40) return; // the block comes next
    this.#reply = undefined;
    const at = packet ?? ({ timeMicros: this.#start ?? 0n } as UsbmonPacket);
    const { command } = reply;
    if (reply.received < reply.expected) {
      if (reply.kind === "upload-pre") this.#flushHeld(`--> UploadBlock #${command.serial}`);
      this.#emit(
        at,
        `<-- ${reply.label} #${command.serial} incomplete: ${reply.received} of ${reply.expected} b`,
      );
      return;
    }
    const head = joined(reply.head);
    if (reply.kind === "long") {
      const total = reply.expected - 0x40;
      command.length = total;
      this.#emit(at, `<-- ${reply.label} #${command.serial} ${total} (${hex(total)}) b`);
      return;
    }
    const status = u32(head, 0x50);
    command.status = status;
    if (reply.kind === "upload") {
      this.#emit(at, `<-- UploadBlock status: ${describeStatusWord(status)}`);
      return;
    }
    const detail = reply.spec ? describeFixedReply(reply.spec, head) : "";
    this.#emit(
      at,
      `<-- ${reply.label} #${command.serial} status: ${describeStatusWord(status)}${detail}`,
    );
  }
}

function joined(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function standardRequest(request: number, value: number, index: number): string {
  const name = STANDARD_REQUESTS[request] ?? `request ${hex(request)}`;
  if (request === 0x06) {
    const type = DESCRIPTOR_TYPES[value >> 8] ?? hex(value >> 8);
    return `${name} ${type}${value >> 8 === 3 ? ` ${value & 0xff}` : ""}`;
  }
  if (request === 0x09) return `${name} ${value}`;
  if (request === 0x01 && value === 0) return `CLEAR_FEATURE ENDPOINT_HALT ${hex(index)}`;
  return name;
}
