// A replay device: the device contract (src/usb/device.ts) answered from
// bytes real cameras sent, not from our emulator. Each command block the host
// writes is matched on its command codes (cmd1 at 0x44, cmd2 at 0x47, cmd3 at
// 0x04) and, when the fixture says so, on its payload; the recorded reply is
// served on bulk IN as the camera sent it. One change is made to a recorded
// fixed reply: its serial number (word 0x4C) is set to the request's, since a
// camera echoes the serial of the command it answers and the recording's
// serials belong to another session. Requests no fixture answers are kept in
// `unexpected` and stall, so a test sees what the library asked that no real
// camera was recorded answering.
//
// Fixtures: tests/fixtures/real/*.ts, each with its source beside it.
import {
  toBytes,
  type UsbConfigurationInfo,
  type UsbControlSetup,
  type UsbData,
  type UsbDevice,
  type UsbInResult,
  type UsbOutResult,
  type UsbTransferOptions,
} from "../src/usb/device.ts";
import { UsbError } from "../src/usb/errors.ts";

/** One recorded exchange: the request it answers and the camera's reply. */
export interface Exchange {
  /** Byte 0x44 of the command block. */
  readonly cmd1: number;
  /** Byte 0x47 (0x11 storage, 0x12 camera). */
  readonly cmd2: number;
  /** Word 0x04 (0x201 fixed reply, 0x202 long reply). */
  readonly cmd3: number;
  /** When set: the request's payload (from 0x50) must start with these bytes. */
  readonly payloadPrefix?: Uint8Array;
  /** The reply as the camera sent it on bulk IN, header included. */
  readonly reply: Uint8Array;
  /**
   * How the camera ended its bulk transfers for this reply (the byte count
   * of each), when the recording shows it; otherwise the host's sizes.
   */
  readonly transfers?: readonly number[];
  /** Interrupt packets the camera sent after this reply, in order. */
  readonly interrupts?: readonly Uint8Array[];
  /** Where the bytes come from. */
  readonly source: string;
}

/** What the replay device starts with. */
export interface ReplayOptions {
  /** idProduct. */
  productId: number;
  /** The camera-status byte of control read 0x55 ('A' or 'C'). */
  camstat: "A" | "C";
  /** The 0x58-byte init block (control read 0x01), for the 'C' path. */
  initBlock?: Uint8Array;
  /** The 0x50-byte block of the 'A' path (control read 0x04). */
  aBlock?: Uint8Array;
  /** The 0x44 bytes after the init write ('C' path). */
  initReply?: Uint8Array;
  /** Interrupt packets sent after the init write (default: none). */
  initInterrupts?: readonly Uint8Array[];
  /** The recorded exchanges; each may be served more than once (the same question, the same answer). */
  exchanges: readonly Exchange[];
  /** An idle interrupt poll is answered with a zero-length packet after this many ms (default 32: D60, G2). */
  idleZlpMs?: number;
}

function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return prefix.length <= bytes.length && prefix.every((b, i) => bytes[i] === b);
}

function dataView(bytes: Uint8Array): DataView {
  const copy = bytes.slice();
  return new DataView(copy.buffer, 0, copy.length);
}

/** The replay device. */
export class ReplayDevice implements UsbDevice {
  readonly vendorId = 0x04a9;
  readonly productId: number;
  readonly productName = "Canon Digital Camera";
  readonly manufacturerName = "Canon Inc.";
  readonly configuration: UsbConfigurationInfo = {
    configurationValue: 1,
    interfaces: [{
      interfaceNumber: 0,
      alternate: {
        endpoints: [
          { endpointNumber: 1, direction: "in", type: "bulk", packetSize: 64 },
          { endpointNumber: 2, direction: "out", type: "bulk", packetSize: 64 },
          { endpointNumber: 3, direction: "in", type: "interrupt", packetSize: 64 },
        ],
      },
    }],
  };
  /** Requests no fixture answers, as "cmd1/cmd2/cmd3". */
  readonly unexpected: string[] = [];
  /** Every command served, as "cmd1/cmd2/cmd3", in order. */
  readonly served: string[] = [];
  /** Bytes the host wrote on bulk OUT (uploads). */
  readonly bulkOut: Uint8Array[] = [];

  #opened = false;
  readonly #options: ReplayOptions;
  /** Bulk IN: the current reply's transfers, each served as one transfer at most. */
  #bulk: Uint8Array[] = [];
  #interrupts: Uint8Array[] = [];

  constructor(options: ReplayOptions) {
    this.#options = options;
    this.productId = options.productId;
  }

  get opened(): boolean {
    return this.#opened;
  }

  open(): Promise<void> {
    this.#opened = true;
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.#opened = false;
    return Promise.resolve();
  }

  claimInterface(_n: number): Promise<void> {
    return Promise.resolve();
  }

  releaseInterface(_n: number): Promise<void> {
    return Promise.resolve();
  }

  clearHalt(): Promise<void> {
    return Promise.resolve();
  }

  controlTransferIn(setup: UsbControlSetup, length: number): Promise<UsbInResult> {
    const o = this.#options;
    let bytes: Uint8Array | undefined;
    if (setup.requestType === "vendor" && setup.value === 0x55) {
      bytes = Uint8Array.of(o.camstat.charCodeAt(0));
    } else if (setup.requestType === "vendor" && setup.value === 0x01) bytes = o.initBlock;
    else if (setup.requestType === "vendor" && setup.value === 0x04) bytes = o.aBlock;
    if (!bytes) return Promise.resolve({ status: "stall" });
    return Promise.resolve({ status: "ok", data: dataView(bytes.subarray(0, length)) });
  }

  controlTransferOut(setup: UsbControlSetup, payload?: UsbData): Promise<UsbOutResult> {
    const data = toBytes(payload);
    if (setup.requestType !== "vendor") return Promise.resolve({ status: "ok", bytesWritten: 0 });
    if (setup.value === 0x11) {
      const reply = this.#options.initReply;
      if (!reply) return Promise.resolve({ status: "stall", bytesWritten: 0 });
      this.#bulk = [reply];
      this.#interrupts.push(...(this.#options.initInterrupts ?? []));
      return Promise.resolve({ status: "ok", bytesWritten: data.length });
    }
    if (setup.value !== 0x10 || data.length < 0x50) {
      return Promise.resolve({ status: "stall", bytesWritten: 0 });
    }
    const cmd1 = data[0x44];
    const cmd2 = data[0x47];
    const cmd3 = u32(data, 0x04);
    const name = `${cmd1.toString(16)}/${cmd2.toString(16)}/${cmd3.toString(16)}`;
    const payloadBytes = data.subarray(0x50);
    const exchange = this.#options.exchanges.find((e) =>
      e.cmd1 === cmd1 && e.cmd2 === cmd2 && e.cmd3 === cmd3 &&
      (!e.payloadPrefix || startsWith(payloadBytes, e.payloadPrefix))
    );
    if (!exchange) {
      this.unexpected.push(name);
      return Promise.resolve({ status: "stall", bytesWritten: 0 });
    }
    this.served.push(name);
    const reply = exchange.reply.slice();
    // Fixed replies carry the serial at 0x4C; a long reply's 0x40-byte header has none.
    if (cmd3 === 0x201 && reply.length >= 0x50) reply.set(data.subarray(0x4c, 0x50), 0x4c);
    this.#bulk = [];
    if (exchange.transfers) {
      let at = 0;
      for (const n of exchange.transfers) {
        this.#bulk.push(reply.subarray(at, at + n));
        at += n;
      }
      if (at < reply.length) this.#bulk.push(reply.subarray(at));
    } else this.#bulk.push(reply);
    this.#interrupts.push(...(exchange.interrupts ?? []));
    return Promise.resolve({ status: "ok", bytesWritten: data.length });
  }

  async transferIn(
    endpointNumber: number,
    length: number,
    options?: UsbTransferOptions,
  ): Promise<UsbInResult> {
    if (endpointNumber === 1) {
      const head = this.#bulk[0];
      if (!head) {
        throw new UsbError("TIMEOUT", "the recorded camera has nothing more to send");
      }
      const n = Math.min(length, head.length);
      const out = head.subarray(0, n);
      if (n === head.length) this.#bulk.shift();
      else this.#bulk[0] = head.subarray(n);
      return { status: "ok", data: dataView(out) };
    }
    if (endpointNumber === 3) {
      const next = this.#interrupts.shift();
      if (next) return { status: "ok", data: dataView(next.subarray(0, length)) };
      const idle = this.#options.idleZlpMs ?? 32;
      const timeout = options?.timeout ?? 5000;
      await new Promise((resolve) => setTimeout(resolve, Math.min(idle, timeout)));
      if (idle > timeout) throw new UsbError("TIMEOUT", "no interrupt packet");
      return { status: "ok", data: new DataView(new ArrayBuffer(0)) };
    }
    return { status: "stall" };
  }

  transferOut(_endpointNumber: number, payload: UsbData): Promise<UsbOutResult> {
    const data = toBytes(payload).slice();
    this.bulkOut.push(data);
    return Promise.resolve({ status: "ok", bytesWritten: data.length });
  }
}

/**
 * Bytes from a hex dump as Protocol.xml and gphoto2 logs print them: each
 * line an offset, then up to 16 bytes (a `-` between the halves allowed),
 * then the ASCII column, which is ignored.
 *
 * @param dump the lines
 * @returns the bytes in order of the lines
 */
export function fromHexDump(dump: string): Uint8Array {
  const out: number[] = [];
  for (const raw of dump.split("\n")) {
    const line = raw.trim();
    if (!line) continue;
    const m = /^[0-9a-fA-F]{4,8}\s+((?:[0-9a-fA-F]{2}[ -]?){1,16})/.exec(line);
    if (!m) throw new Error(`not a hex dump line: ${line}`);
    for (const byte of m[1].trim().split(/[ -]+/)) if (byte) out.push(Number.parseInt(byte, 16));
  }
  return Uint8Array.from(out);
}
