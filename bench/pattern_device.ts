/**
 * `PatternFunction`: a plain USB device (not a camera) whose bulk IN endpoint
 * streams a known byte pattern, for measuring and testing the USB layer
 * alone: throughput, ordering, short transfers, cancellation and unplugging.
 * Attach it to a umockdev testbed like the virtual camera's function.
 *
 * The stream is a run of 32-bit little-endian counters: bytes `4k..4k+3` hold
 * `k`, so any lost, repeated or reordered piece of it is visible
 * ({@link patternBytes} and {@link checkPattern}).
 *
 * Endpoints: 0x81 bulk IN (the pattern), 0x02 bulk OUT (swallowed). Control:
 * vendor IN requests answer `wLength` bytes of `bRequest`; vendor OUT requests
 * are accepted. Full speed, 64-byte packets.
 *
 * @module
 */

import type {
  FunctionRead,
  SetupPacket,
  UsbDescriptorSet,
  UsbFunction,
} from "../src/emulator/engine/usb_function.ts";
import type { FullSpeedBus } from "../src/emulator/engine/bus_model.ts";

/** How a {@link PatternFunction} behaves. */
export interface PatternFunctionOptions {
  /** Bytes the stream has in all (default: no end); reads then wait for more. */
  length?: number;
  /**
   * Stream offsets where a transfer ends short: a read that would run past
   * one of them stops there (the device sends a short packet), as a camera
   * that sends a reply in pieces does.
   */
  shortAt?: readonly number[];
  /** Deliver bulk IN data no faster than this full-speed bus model allows. */
  bus?: FullSpeedBus;
}

/**
 * The pattern's bytes from stream offset `offset`.
 *
 * @param offset first byte
 * @param length how many
 * @returns the bytes
 */
export function patternBytes(offset: number, length: number): Uint8Array {
  const first = Math.floor(offset / 4);
  const words = new Uint32Array(Math.ceil((offset + length) / 4) - first + 1);
  for (let i = 0; i < words.length; i++) words[i] = first + i;
  const bytes = new Uint8Array(words.buffer);
  const skip = offset - first * 4;
  return bytes.slice(skip, skip + length);
}

/**
 * Where `bytes` differ from the pattern at `offset`.
 *
 * @param bytes received bytes
 * @param offset the stream offset of their first byte
 * @returns the index of the first wrong byte, or -1 when they are right
 */
export function checkPattern(bytes: Uint8Array, offset: number): number {
  const expected = patternBytes(offset, bytes.length);
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== expected[i]) return i;
  return -1;
}

// deno-fmt-ignore
const DEVICE = Uint8Array.of(
  18, 1, 0x10, 0x01, 0xff, 0xff, 0xff, 64, 0x34, 0x12, 0x78, 0x56, 0x00, 0x01, 1, 2, 0, 1,
);
// deno-fmt-ignore
const CONFIGURATION = Uint8Array.of(
  9, 2, 32, 0, 1, 1, 0, 0xc0, 50,
  9, 4, 0, 0, 2, 0xff, 0xff, 0xff, 0,
  7, 5, 0x81, 0x02, 64, 0, 0,
  7, 5, 0x02, 0x02, 64, 0, 0,
);

/** A USB function streaming a counter pattern on bulk IN 0x81. */
export class PatternFunction implements UsbFunction {
  /** vendor 0x1234, product 0x5678, full speed. */
  readonly descriptors: UsbDescriptorSet = {
    device: DEVICE,
    configuration: CONFIGURATION,
    strings: { 1: "canon-remote", 2: "Pattern source" },
    speedMbps: 12,
  };
  /** The bus model, when pacing. */
  readonly bus: FullSpeedBus | undefined;
  #connected = true;
  #offset = 0;
  #length: number;
  #shortAt: number[];
  #listeners = new Set<() => void>();

  /**
   * A device at the start of its stream.
   *
   * @param options stream length, short-transfer offsets, bus model
   */
  constructor(options: PatternFunctionOptions = {}) {
    this.#length = options.length ?? Infinity;
    this.#shortAt = [...(options.shortAt ?? [])].sort((a, b) => a - b);
    this.bus = options.bus;
  }

  /** False after {@link PatternFunction.unplug}. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Bytes of the stream sent so far. */
  get offset(): number {
    return this.#offset;
  }

  /** Pull the cable: transfers in flight fail with "no device". */
  unplug(): void {
    this.#connected = false;
    this.#notify();
  }

  /**
   * Make the stream longer (reads waiting for data go on).
   *
   * @param bytes how many more bytes
   */
  extend(bytes: number): void {
    this.#length += bytes;
    this.#notify();
  }

  /**
   * Vendor IN requests answer `wLength` bytes of `bRequest`.
   *
   * @param setup the setup packet
   * @returns the answer
   */
  controlIn(setup: SetupPacket): Uint8Array | "stall" {
    if ((setup.bmRequestType & 0x60) !== 0x40) return "stall";
    return new Uint8Array(setup.wLength).fill(setup.bRequest);
  }

  /**
   * Vendor OUT requests are accepted.
   *
   * @param setup the setup packet
   * @returns ok, or a stall for other requests
   */
  controlOut(setup: SetupPacket): "ok" | "stall" {
    return (setup.bmRequestType & 0x60) === 0x40 ? "ok" : "stall";
  }

  /**
   * Bytes 0x81 could send now (up to the next short-transfer offset).
   *
   * @param endpointAddress the endpoint
   * @returns bytes ready
   */
  available(endpointAddress: number): number {
    if (endpointAddress !== 0x81) return 0;
    return this.#allowed(Infinity);
  }

  /**
   * The next bytes of the pattern.
   *
   * @param endpointAddress 0x81
   * @param maxLength the most the host accepts
   * @returns the bytes, or null at the stream's end
   */
  read(endpointAddress: number, maxLength: number): FunctionRead {
    if (!this.#connected) return null;
    if (endpointAddress !== 0x81) return "stall";
    const n = this.#allowed(maxLength);
    if (n === 0 && maxLength > 0) return null;
    const bytes = patternBytes(this.#offset, n);
    this.#offset += n;
    while (this.#shortAt.length && this.#shortAt[0] <= this.#offset) this.#shortAt.shift();
    return bytes;
  }

  /**
   * Bulk OUT data is swallowed.
   *
   * @returns ok
   */
  write(): "ok" {
    return "ok";
  }

  /** Nothing to clear. */
  clearHalt(): void {}

  /** Nothing to reset. */
  reset(): void {}

  /**
   * Be told when reads may proceed (the stream grew, or the device was unplugged).
   *
   * @param listener called without arguments
   * @returns the unsubscribe function
   */
  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #allowed(maxLength: number): number {
    let n = Math.min(maxLength, this.#length - this.#offset);
    const cut = this.#shortAt[0];
    if (cut !== undefined && cut > this.#offset) n = Math.min(n, cut - this.#offset);
    return Math.max(0, n);
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}
