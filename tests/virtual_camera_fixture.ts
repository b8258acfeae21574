/**
 * Test helpers for the virtual-camera tests: a host that speaks raw bytes
 * (command blocks built here from the protocol reference's examples, never
 * from src/protocol), and a small in-test memory card.
 *
 * @module
 */

import assert from "node:assert/strict";
import { VirtualCamera, type VirtualCameraOptions } from "../src/emulator/host/virtual_camera.ts";
import {
  CARD_STATUS,
  CardError,
  type CardFileSystem,
  type CardNode,
} from "../src/emulator/card/card_model.ts";
import type { UsbControlSetup } from "../src/usb/device.ts";

/** Bytes from "02 00 0A ..." (spaces optional). */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Little-endian word at `offset`. */
export function word(bytes: Uint8Array, offset: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(offset, true);
}

/** 32-bit little-endian bytes. */
export function le32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, true);
  return out;
}

/** Latin-1 text followed by `nuls` NULs. */
export function text(value: string, nuls = 1): Uint8Array {
  const out = new Uint8Array(value.length + nuls);
  for (let i = 0; i < value.length; i++) out[i] = value.charCodeAt(i);
  return out;
}

/** Concatenate byte arrays. */
export function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * A command block as §3.1 lays it out: word 0 = 0x10 + payload length, cmd3
 * at 4, zeros to 0x3F, then 02 00 00 00, cmd1, 0, 0, cmd2, length, serial,
 * payload.
 */
export function commandBlock(
  cmd1: number,
  cmd2: number,
  cmd3: number,
  payload: Uint8Array = new Uint8Array(0),
  serial = 0,
): Uint8Array {
  const block = new Uint8Array(0x50 + payload.length);
  const view = new DataView(block.buffer);
  view.setUint32(0, 0x10 + payload.length, true);
  view.setUint32(4, cmd3, true);
  block[0x40] = 0x02;
  block[0x44] = cmd1;
  block[0x47] = cmd2;
  view.setUint32(0x48, 0x10 + payload.length, true);
  view.setUint32(0x4c, serial, true);
  block.set(payload, 0x50);
  return block;
}

/**
 * A block from an Appendix A row: word 0, cmd3, and the bytes from 0x40 with
 * `<serial>` standing for the four serial bytes.
 */
export function appendixBlock(word0: number, cmd3: number, from40: string, serial = 7): Uint8Array {
  const tail = hex(from40.replace("<serial>", [...le32(serial)].map(hexByte).join(" ")));
  const block = new Uint8Array(0x40 + tail.length);
  block.set(le32(word0), 0);
  block.set(le32(cmd3), 4);
  block.set(tail, 0x40);
  return block;
}

function hexByte(n: number): string {
  return n.toString(16).padStart(2, "0");
}

const vendor = (request: number, value: number): UsbControlSetup => ({
  requestType: "vendor",
  recipient: "device",
  request,
  value,
  index: 0,
});

/** A host driving a VirtualCamera with raw transfers. */
export class Host {
  constructor(readonly camera: VirtualCamera) {}

  /** Open and claim interface 0. */
  async open(): Promise<this> {
    await this.camera.open();
    await this.camera.claimInterface(0);
    return this;
  }

  /** Control IN 0xC0 (request 0x0C for 1 byte, else 0x04). */
  async vendorIn(value: number, length: number): Promise<Uint8Array> {
    const result = await this.camera.controlTransferIn(
      vendor(length > 1 ? 0x04 : 0x0c, value),
      length,
    );
    assert.equal(result.status, "ok");
    return bytesOf(result.data);
  }

  /** Control OUT 0x40 request 0x04 with `data`. */
  async vendorOut(value: number, data: Uint8Array): Promise<string> {
    const result = await this.camera.controlTransferOut(vendor(0x04, value), new Uint8Array(data));
    return result.status;
  }

  /** Send a command block (control OUT wValue 0x10). */
  async send(block: Uint8Array): Promise<void> {
    assert.equal(await this.vendorOut(0x10, block), "ok");
  }

  /** One bulk IN read of at most `length` bytes. */
  async bulk(length: number, timeout = 1000): Promise<Uint8Array> {
    const result = await this.camera.transferIn(1, length, { timeout });
    assert.equal(result.status, "ok");
    return bytesOf(result.data);
  }

  /** One interrupt IN read. */
  async interrupt(length = 0x40, timeout = 1000): Promise<Uint8Array> {
    const result = await this.camera.transferIn(3, length, { timeout });
    assert.equal(result.status, "ok");
    return bytesOf(result.data);
  }

  /**
   * The next interrupt packet with something in it, polling through the
   * zero-length packets a camera answers idle polls with (as gphoto2 does).
   */
  async report(length = 0x40, timeout = 1000): Promise<Uint8Array> {
    const deadline = performance.now() + timeout;
    for (;;) {
      const left = Math.max(1, Math.round(deadline - performance.now()));
      const packet = await this.interrupt(length, left);
      if (packet.length > 0) return packet;
      if (performance.now() >= deadline) throw new Error(`no interrupt report in ${timeout} ms`);
    }
  }

  /** A fixed reply read the way gphoto2 does: table length rounded down to 0x40, then the rest. */
  async fixed(total: number): Promise<Uint8Array> {
    const first = total - (total % 0x40);
    const head = await this.bulk(first);
    assert.equal(head.length, first, "first read of a fixed reply must be exact");
    if (first === total) return head;
    const tail = await this.bulk(total - first);
    assert.equal(tail.length, total - first, "second read of a fixed reply must be exact");
    return cat(head, tail);
  }

  /** Send a command and read its fixed reply of `total` bytes. */
  async dialogue(block: Uint8Array, total: number): Promise<Uint8Array> {
    await this.send(block);
    return await this.fixed(total);
  }

  /**
   * Send a long (0x202) command and read it gphoto2's way: the 0x40 header,
   * then chunks of `xfer` (0x1400), the last rounded down to 0x40, then the rest.
   * Returns the data and the read sizes used.
   */
  async long(block: Uint8Array, xfer = 0x1400): Promise<{ data: Uint8Array; reads: number[] }> {
    await this.send(block);
    const header = await this.bulk(0x40);
    assert.equal(header.length, 0x40);
    const total = new DataView(header.buffer, header.byteOffset).getUint32(6, true);
    const data = new Uint8Array(total);
    const reads: number[] = [];
    let got = 0;
    while (got < total) {
      const left = total - got;
      const ask = left > xfer ? xfer : left > 0x40 ? left - (left % 0x40) : left;
      const chunk = await this.bulk(ask);
      assert.ok(chunk.length <= ask, "never more than asked");
      reads.push(chunk.length);
      data.set(chunk, got);
      got += chunk.length;
    }
    return { data, reads };
  }

  /** The 'C'-path handshake of errata §3.0 steps 1–6; returns the camstat letter. */
  async init(): Promise<string> {
    const camstat = String.fromCharCode((await this.vendorIn(0x55, 1))[0]);
    const block = await this.vendorIn(0x01, 0x58);
    assert.equal(block.length, 0x58);
    if (camstat === "A") {
      await this.vendorIn(0x04, 0x50);
      return camstat;
    }
    const out = new Uint8Array(0x50);
    out[0] = 0x10;
    out.set(block.subarray(0x48, 0x58), 0x40);
    assert.equal(await this.vendorOut(0x11, out), "ok");
    assert.equal((await this.bulk(0x40)).length, 0x40);
    assert.equal((await this.bulk(4)).length, 4);
    // 16 bytes, in one packet or (the 20D) 8 at a time.
    let got = 0;
    while (got < 0x10) got += (await this.report(0x10, 500)).length;
    assert.equal(got, 0x10);
    return camstat;
  }
}

function bytesOf(view: DataView | undefined): Uint8Array {
  if (!view) return new Uint8Array(0);
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
}

/** Open a camera with the fixture card (unless overridden) and return a host for it. */
export async function openCamera(
  options: VirtualCameraOptions = {},
): Promise<{ camera: VirtualCamera; host: Host }> {
  const camera = new VirtualCamera({ card: new TinyCard(), ...options });
  const host = await new Host(camera).open();
  return { camera, host };
}

// ---- a small card ---------------------------------------------------------

interface MutableNode {
  name: string;
  isDirectory: boolean;
  attributes: number;
  mtime: number;
  data?: Uint8Array;
  children?: MutableNode[];
}

/** Deterministic pseudo-random bytes. */
export function fileBytes(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  out[0] = 0xff;
  out[1] = 0xd8;
  return out;
}

/** 2003-02-07, a sample camera time from §6.2. */
export const FIXTURE_TIME = 0x3e43e644;

/**
 * A tiny card: /DCIM/100CANON/IMG_0001.JPG (0x12345 bytes, not downloaded),
 * IMG_0002.JPG (protected), /DCIM/CANONMSC/M0100.CTG, /MISC/ (empty).
 */
export class TinyCard implements CardFileSystem {
  present = true;
  readonly capacity = 32 * 1024 * 1024;
  readonly root: MutableNode;

  constructor() {
    const file = (name: string, size: number, attributes: number, seed: number): MutableNode => ({
      name,
      isDirectory: false,
      attributes,
      mtime: FIXTURE_TIME + seed,
      data: fileBytes(size, seed),
    });
    const dir = (name: string, children: MutableNode[]): MutableNode => ({
      name,
      isDirectory: true,
      attributes: 0,
      mtime: FIXTURE_TIME,
      children,
    });
    this.root = dir("", [
      dir("DCIM", [
        dir("100CANON", [
          file("IMG_0001.JPG", 0x12345, 0x20, 1),
          file("IMG_0002.JPG", 0x2000, 0x01, 2),
        ]),
        dir("CANONMSC", [file("M0100.CTG", 0x40, 0x20, 3)]),
      ]),
      dir("MISC", []),
    ]);
    this.root.mtime = 0;
  }

  get free(): number {
    let used = 0;
    const walk = (node: MutableNode) => {
      used += node.data?.length ?? 0;
      node.children?.forEach(walk);
    };
    walk(this.root);
    return this.capacity - used;
  }

  #node(path: readonly string[]): MutableNode | undefined {
    let node: MutableNode | undefined = this.root;
    for (const name of path) node = node?.children?.find((c) => c.name === name);
    return node;
  }

  #check(): void {
    if (!this.present) throw new CardError(CARD_STATUS.NO_CARD, "no card");
  }

  find(path: readonly string[]): CardNode | undefined {
    this.#check();
    const node = this.#node(path);
    if (!node) return undefined;
    const view = (n: MutableNode): CardNode => ({
      name: n.name,
      isDirectory: n.isDirectory,
      attributes: n.attributes,
      mtime: n.mtime,
      size: n.data?.length ?? 0,
      children: n.children?.map(view),
    });
    return view(node);
  }

  read(path: readonly string[], offset: number, length: number): Uint8Array {
    const node = this.#node(path);
    if (!node?.data) throw new CardError(CARD_STATUS.FILE_NOT_FOUND, "no file");
    return node.data.slice(offset, offset + length);
  }

  thumbnailBlob(path: readonly string[]): Uint8Array | undefined {
    const node = this.#node(path);
    return node?.data && node.name.endsWith(".JPG") ? node.data.slice(0, 0x1000) : undefined;
  }

  #parent(path: readonly string[]): MutableNode {
    const parent = this.#node(path.slice(0, -1));
    if (!parent?.isDirectory) throw new CardError(CARD_STATUS.PATH_NOT_FOUND, "no parent");
    return parent;
  }

  mkdir(path: readonly string[]): void {
    this.#check();
    const parent = this.#parent(path);
    if (this.#node(path)) throw new CardError(CARD_STATUS.PATH_NOT_FOUND, "exists");
    parent.children!.push({
      name: path.at(-1)!,
      isDirectory: true,
      attributes: 0,
      mtime: FIXTURE_TIME,
      children: [],
    });
  }

  rmdir(path: readonly string[]): void {
    this.#check();
    const node = this.#node(path);
    if (!node?.isDirectory || node.children!.length > 0) {
      throw new CardError(CARD_STATUS.PATH_NOT_FOUND, "not an empty directory");
    }
    const parent = this.#parent(path);
    parent.children = parent.children!.filter((c) => c !== node);
  }

  delete(path: readonly string[]): void {
    this.#check();
    const node = this.#node(path);
    if (!node || node.isDirectory) throw new CardError(CARD_STATUS.FILE_NOT_FOUND, "no file");
    if (node.attributes & 0x01) throw new CardError(CARD_STATUS.FILE_PROTECTED, "protected");
    const parent = this.#parent(path);
    parent.children = parent.children!.filter((c) => c !== node);
  }

  setAttributes(path: readonly string[], attributes: number): void {
    this.#check();
    const node = this.#node(path);
    if (!node || node.isDirectory) throw new CardError(CARD_STATUS.FILE_NOT_FOUND, "no file");
    node.attributes = attributes;
  }

  write(path: readonly string[], offset: number, data: Uint8Array): void {
    this.#check();
    const parent = this.#parent(path);
    let node = this.#node(path);
    if (offset === 0) {
      if (node) parent.children = parent.children!.filter((c) => c !== node);
      node = {
        name: path.at(-1)!,
        isDirectory: false,
        attributes: 0x20,
        mtime: 0xffffffff,
        data: new Uint8Array(0),
      };
      parent.children!.push(node);
    }
    if (!node?.data) throw new CardError(CARD_STATUS.FILE_NOT_FOUND, "no file");
    if (data.length > this.free) throw new CardError(CARD_STATUS.CARD_FULL, "full");
    const grown = new Uint8Array(Math.max(node.data.length, offset + data.length));
    grown.set(node.data);
    grown.set(data, offset);
    node.data = grown;
  }

  setMtime(path: readonly string[], mtime: number): void {
    this.#check();
    const node = this.#node(path);
    if (!node) throw new CardError(CARD_STATUS.FILE_NOT_FOUND, "no file");
    node.mtime = mtime;
  }
}
