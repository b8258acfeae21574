// A hostile camera's directory listings (issue 14, points 1 and 2): a
// recursive listing at the library's own length cap (64 MiB, 5.6 million
// entries) once crashed the process; it is now decoded as it arrives and
// refused once it holds more entries than a card can, with memory that grows
// only with the entries kept. `canon ls -R /` of it stops with a clear error,
// and of a listing just under the cap it prints everything, both under 256 MiB
// RSS with V8's heap at 1 GiB. `walk()` streams, and a `.THM` "thumbnail" the
// size of a movie is refused before any data. Through real libusb + umockdev,
// the hostile camera serving from this process, the CLI in a child.
import assert from "node:assert/strict";
import { Camera, CameraDesyncError, ProtocolError } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import type {
  FunctionRead,
  SetupPacket,
  UsbFunction,
} from "../src/emulator/engine/usb_function.ts";
import type {
  UsbControlSetup,
  UsbData,
  UsbDevice,
  UsbInResult,
  UsbOutResult,
  UsbTransferOptions,
} from "../src/usb/device.ts";
import { ListingDecoder, MAX_TREE_ENTRIES } from "../src/protocol/storage_codec.ts";
import { skipWithout, underUmockdev } from "./_support.ts";

const ignore = skipWithout(underUmockdev, "LD_PRELOAD=libumockdev-preload.so.0");
const CLI = new URL("../src/cli/main.ts", import.meta.url).pathname;
const BULK_IN = 0x81;

/** Bytes made on demand: a fixed head, `count` repeats of `period`, a tail. */
class RepeatedBytes {
  readonly size: number;
  #head: Uint8Array;
  #period: Uint8Array;
  #count: number;
  #tail: Uint8Array;

  constructor(head: Uint8Array, period: Uint8Array, count: number, tail: Uint8Array) {
    this.#head = head;
    this.#period = period;
    this.#count = count;
    this.#tail = tail;
    this.size = head.length + period.length * count + tail.length;
  }

  bytes(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(Math.min(length, this.size - offset));
    const bodyEnd = this.#head.length + this.#period.length * this.#count;
    for (let i = 0; i < out.length;) {
      const at = offset + i;
      let source: Uint8Array;
      let from: number;
      if (at < this.#head.length) [source, from] = [this.#head, at];
      else if (at < bodyEnd) {
        [source, from] = [this.#period, (at - this.#head.length) % this.#period.length];
      } else [source, from] = [this.#tail, at - bodyEnd];
      const part = source.subarray(from, from + out.length - i);
      out.set(part, i);
      i += part.length;
    }
    return out;
  }
}

function entry(attributes: number, size: number, name: string): Uint8Array {
  const out = new Uint8Array(10 + name.length + 1);
  out[0] = attributes;
  new DataView(out.buffer).setUint32(2, size, true);
  out.set(new TextEncoder().encode(name), 10);
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Files per directory of the hostile tree (one-letter names: 12 bytes an entry). */
const FILES = 4096;
/** A recursive listing of the root: `directories` directories of {@link FILES} files each. */
function hostileTree(directories: number): RepeatedBytes {
  const files: Uint8Array[] = [];
  for (let i = 0; i < FILES; i++) files.push(entry(0x20, 1000, "A"));
  const period = concat(entry(0x80, 0, ".\\B"), ...files, entry(0x80, 0, ".."));
  return new RepeatedBytes(entry(0x80, 0, "D:"), period, directories, new Uint8Array(11));
}
/** As large as the library's cap on a recursive listing allows (64 MiB): 5.6 million entries. */
const AT_LENGTH_CAP = Math.floor((64 * 1024 * 1024 - 24) / (14 + 12 * FILES + 13));
/** Just under the cap on entries. */
const UNDER_ENTRY_CAP = Math.floor(MAX_TREE_ENTRIES / (FILES + 1));

/**
 * The virtual camera, except that recursive listings (GetDirectory with a
 * depth) answer with `tree`, and GetFile of a `.THM` announces `thmSize`
 * bytes, both made as the host reads them.
 */
class HostileCamera implements UsbFunction {
  #inner: UsbFunction;
  #tree: RepeatedBytes;
  #thmSize: number;
  #reply:
    | { header: Uint8Array; data: { size: number; bytes(o: number, n: number): Uint8Array } }
    | undefined;
  #sent = 0;
  /** Recursive listings served. */
  listings = 0;

  constructor(inner: UsbFunction, tree: RepeatedBytes, thmSize = 0) {
    this.#inner = inner;
    this.#tree = tree;
    this.#thmSize = thmSize;
  }

  get descriptors() {
    return this.#inner.descriptors;
  }
  get connected() {
    return this.#inner.connected;
  }
  controlIn(setup: SetupPacket) {
    return this.#inner.controlIn(setup);
  }
  controlOut(setup: SetupPacket, data: Uint8Array) {
    if (setup.wValue === 0x10 && data.length > 0x50 && data[4] === 0x02 && data[5] === 0x02) {
      const [cmd1, cmd2] = [data[0x44], data[0x47]];
      const path = new TextDecoder().decode(data.subarray(0x50));
      if (cmd1 === 0x0b && cmd2 === 0x11 && data[0x50] !== 0) {
        this.listings++;
        return this.#serve(this.#tree);
      }
      if (cmd1 === 0x01 && cmd2 === 0x11 && this.#thmSize && path.includes(".THM")) {
        const size = this.#thmSize;
        return this.#serve({ size, bytes: (_o, n) => new Uint8Array(n).fill(0xd8) });
      }
    }
    return this.#inner.controlOut(setup, data);
  }
  #serve(data: { size: number; bytes(o: number, n: number): Uint8Array }): "ok" {
    const header = new Uint8Array(0x40);
    header[4] = 0x02;
    header[5] = 0x02;
    new DataView(header.buffer).setUint32(6, data.size, true);
    this.#reply = { header, data };
    this.#sent = 0;
    return "ok";
  }
  read(endpointAddress: number, maxLength: number): FunctionRead {
    const reply = this.#reply;
    if (!reply || endpointAddress !== BULK_IN) return this.#inner.read(endpointAddress, maxLength);
    let out: Uint8Array;
    if (this.#sent < 0x40) out = reply.header.slice(this.#sent, this.#sent + maxLength);
    else out = reply.data.bytes(this.#sent - 0x40, maxLength);
    this.#sent += out.length;
    if (this.#sent >= 0x40 + reply.data.size) this.#reply = undefined;
    return out;
  }
  write(endpointAddress: number, data: Uint8Array) {
    return this.#inner.write(endpointAddress, data);
  }
  clearHalt(endpointAddress: number) {
    this.#inner.clearHalt(endpointAddress);
  }
  reset() {
    this.#reply = undefined;
    this.#inner.reset();
  }
  subscribe(listener: () => void) {
    return this.#inner.subscribe(listener);
  }
  available(endpointAddress: number): number | "stall" {
    const reply = this.#reply;
    if (reply && endpointAddress === BULK_IN) return 0x40 + reply.data.size - this.#sent;
    return this.#inner.available?.(endpointAddress) ?? 0;
  }
}

const test = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, ignore, sanitizeOps: false, sanitizeResources: false, fn });

/** `canon ARGS` in a child with V8's heap at 1 GiB; exit code, stdout lines, stderr, peak RSS (MiB). */
async function canonMeasured(
  testbed: UmockdevTestbed,
  args: string[],
): Promise<{ code: number; lines: number; err: string; mib: number }> {
  const child = new Deno.Command("/usr/bin/time", {
    args: [
      "-f",
      "PEAK %M",
      Deno.execPath(),
      "run",
      "--allow-all",
      "--v8-flags=--max-old-space-size=1024",
      CLI,
      ...args,
    ],
    env: testbed.env(),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // The lines are counted as they come, not kept.
  let lines = 0;
  const counting = child.stdout.pipeTo(
    new WritableStream({
      write(chunk) {
        for (const byte of chunk) if (byte === 0x0a) lines++;
      },
    }),
  );
  const [status, stderr] = await Promise.all([child.status, new Response(child.stderr).text()]);
  await counting;
  const match = /PEAK (\d+)\s*$/.exec(stderr);
  assert.ok(match, stderr);
  return { code: status.code, lines, err: stderr, mib: Number(match[1]) / 1024 };
}

test("canon ls -R / of a 64 MiB, 5.6-million-entry listing stops with a clear error under 256 MiB", async () => {
  const hostile = new HostileCamera(new VirtualCamera().usbFunction, hostileTree(AT_LENGTH_CAP));
  using testbed = UmockdevTestbed.open();
  testbed.attach(hostile);
  const run = await canonMeasured(testbed, ["ls", "-R", "/"]);
  console.log(
    `ls -R of ${hostileTree(AT_LENGTH_CAP).size} bytes: exit ${run.code}, peak ${
      run.mib.toFixed(0)
    } MiB`,
  );
  assert.equal(hostile.listings, 1);
  assert.equal(run.code, 4, run.err);
  assert.match(
    run.err,
    new RegExp(`more than ${MAX_TREE_ENTRIES} entries, more than a camera's card holds`),
  );
  assert.doesNotMatch(run.err, /out of memory/i);
  assert.ok(run.mib < 256, `${run.mib} MiB`);
});

test("canon ls -R / of a listing just under the entry cap prints every entry under 256 MiB", async () => {
  const hostile = new HostileCamera(new VirtualCamera().usbFunction, hostileTree(UNDER_ENTRY_CAP));
  using testbed = UmockdevTestbed.open();
  testbed.attach(hostile);
  const run = await canonMeasured(testbed, ["ls", "-R", "/"]);
  console.log(`ls -R of ${UNDER_ENTRY_CAP * (FILES + 1)} entries: peak ${run.mib.toFixed(0)} MiB`);
  assert.equal(run.code, 0, run.err);
  assert.ok(run.lines >= UNDER_ENTRY_CAP * (FILES + 1), `${run.lines} lines`);
  assert.ok(run.mib < 256, `${run.mib} MiB`);
});

test("list() refuses the hostile listing with a ProtocolError as it arrives, and the camera stays usable", async () => {
  const hostile = new HostileCamera(new VirtualCamera().usbFunction, hostileTree(AT_LENGTH_CAP));
  using testbed = UmockdevTestbed.open();
  testbed.attach(hostile);
  let cam = await Camera.open({ timeout: 5000 });
  try {
    const before = Deno.memoryUsage().rss;
    await assert.rejects(() => cam.storage.list("/", { recursive: true }), (e: Error) => {
      assert.ok(e instanceof ProtocolError, String(e));
      assert.match(e.message, /more than 262144 entries/);
      return true;
    });
    const grown = (Deno.memoryUsage().rss - before) / 2 ** 20;
    assert.ok(grown < 200, `RSS grew ${grown.toFixed(0)} MiB`);
    // The rest of the reply is drained within the call's deadline, or the session
    // closes with CameraDesyncError (the drain cannot end in time) and a reopen works.
    let files: string[];
    try {
      files = (await cam.storage.list("/DCIM/100CANON")).map((e) => e.name);
    } catch (error) {
      assert.ok(error instanceof CameraDesyncError, String(error));
      await cam.close();
      cam = await Camera.open({ timeout: 5000 });
      files = (await cam.storage.list("/DCIM/100CANON")).map((e) => e.name);
    }
    assert.ok(files.includes("IMG_0001.JPG"), files.join(", "));
  } finally {
    await cam.close();
  }
});

test("a .THM 'thumbnail' announcing 1.5 GiB is refused before any data; the next call works", async () => {
  const inner = new VirtualCamera();
  const hostile = new HostileCamera(inner.usbFunction, hostileTree(1), 1536 * 1024 * 1024);
  using testbed = UmockdevTestbed.open();
  testbed.attach(hostile);
  const cam = await Camera.open({ timeout: 5000 });
  try {
    const before = Deno.memoryUsage().rss;
    await assert.rejects(
      () => cam.storage.thumbnail("/DCIM/100CANON/MVI_0001.AVI"),
      (e: Error) => {
        assert.ok(e instanceof ProtocolError, String(e));
        assert.match(
          e.message,
          /announces 1610612736 .* more than the 1048576 this reply can have/,
        );
        return true;
      },
    );
    assert.ok((Deno.memoryUsage().rss - before) / 2 ** 20 < 64);
  } finally {
    await cam.close();
  }
});

Deno.test("walk() streams: directory by directory, the camera free for other calls in between", async () => {
  await using cam = await Camera.connect(new VirtualCamera());
  const listed = (await cam.storage.list("/", { recursive: true })).map((e) => e.path);
  const walked: string[] = [];
  for await (const entry of cam.storage.walk("/")) {
    walked.push(entry.path);
    // A call inside the loop: it would wait forever if walk() held the camera.
    if (!entry.isDirectory && walked.length < 4) {
      await cam.storage.thumbnail(entry.path).catch(() => {});
    }
  }
  assert.deepEqual(walked, listed);
  // Stopping early lists no further directory.
  const first: string[] = [];
  for await (const entry of cam.storage.walk("/DCIM")) {
    first.push(entry.path);
    break;
  }
  assert.deepEqual(first, [listed.find((p) => p.startsWith("/DCIM/"))]);
});

Deno.test("ListingDecoder keeps nothing of a listing but an unfinished entry: memory flat over 16 MiB", () => {
  const tree = hostileTree(Math.floor(AT_LENGTH_CAP / 4));
  const decoder = new ListingDecoder([], Infinity);
  let entries = 0;
  let peak = 0;
  const start = Deno.memoryUsage().heapUsed;
  for (let offset = 0; offset < tree.size; offset += 0x1400) {
    entries += decoder.push(tree.bytes(offset, 0x1400)).length;
    if (offset % (1 << 20) === 0) peak = Math.max(peak, Deno.memoryUsage().heapUsed - start);
  }
  decoder.finish();
  assert.equal(entries, Math.floor(AT_LENGTH_CAP / 4) * (FILES + 1));
  // 1.4 million entries went through; what stays is garbage between collections, not the listing.
  assert.ok(peak < 64 * 2 ** 20, `heap grew ${(peak / 2 ** 20).toFixed(0)} MiB`);
  // With the default cap the same bytes are refused once a card's worth has come.
  const capped = new ListingDecoder([]);
  assert.throws(() => {
    for (let offset = 0; offset < tree.size; offset += 0x1400) {
      capped.push(tree.bytes(offset, 0x1400));
    }
  }, new RegExp(`more than ${MAX_TREE_ENTRIES} entries`));
});

// ---- the same hostile camera in-process (tier 2), without libusb -----------

/** A reply made on demand: the long reply's header, then its data. */
type Served = { size: number; bytes(offset: number, length: number): Uint8Array };

/**
 * The in-process virtual camera with the same two lies as
 * {@link HostileCamera}, told at the device contract the library talks to.
 */
class HostileDevice implements UsbDevice {
  #vc: VirtualCamera;
  #tree: RepeatedBytes;
  #thmSize: number;
  #reply: { header: Uint8Array; data: Served } | undefined;
  #sent = 0;
  listings = 0;

  constructor(vc: VirtualCamera, tree: RepeatedBytes, thmSize = 0) {
    this.#vc = vc;
    this.#tree = tree;
    this.#thmSize = thmSize;
  }
  get vendorId() {
    return this.#vc.vendorId;
  }
  get productId() {
    return this.#vc.productId;
  }
  get configuration() {
    return this.#vc.configuration;
  }
  get opened() {
    return this.#vc.opened;
  }
  open() {
    return this.#vc.open();
  }
  close() {
    return this.#vc.close();
  }
  claimInterface(n: number) {
    return this.#vc.claimInterface(n);
  }
  controlTransferIn(setup: UsbControlSetup, length: number, options?: UsbTransferOptions) {
    return this.#vc.controlTransferIn(setup, length, options);
  }
  controlTransferOut(
    setup: UsbControlSetup,
    data?: UsbData,
    options?: UsbTransferOptions,
  ): Promise<UsbOutResult> {
    const bytes = data === undefined
      ? new Uint8Array(0)
      : ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);
    if (setup.value === 0x10 && bytes.length > 0x50 && bytes[4] === 0x02 && bytes[5] === 0x02) {
      const path = new TextDecoder().decode(bytes.subarray(0x50));
      if (bytes[0x44] === 0x0b && bytes[0x47] === 0x11 && bytes[0x50] !== 0) {
        this.listings++;
        return this.#serve(this.#tree, bytes.length);
      }
      if (bytes[0x44] === 0x01 && bytes[0x47] === 0x11 && this.#thmSize && path.includes(".THM")) {
        const size = this.#thmSize;
        return this.#serve({ size, bytes: (_o, n) => new Uint8Array(n).fill(0xd8) }, bytes.length);
      }
    }
    return this.#vc.controlTransferOut(setup, data as BufferSource | undefined, options);
  }
  #serve(data: Served, written: number): Promise<UsbOutResult> {
    const header = new Uint8Array(0x40);
    header[4] = 0x02;
    header[5] = 0x02;
    new DataView(header.buffer).setUint32(6, data.size, true);
    this.#reply = { header, data };
    this.#sent = 0;
    return Promise.resolve({ status: "ok", bytesWritten: written });
  }
  transferIn(endpoint: number, length: number, options?: UsbTransferOptions): Promise<UsbInResult> {
    const reply = this.#reply;
    if (!reply || endpoint !== 1) return this.#vc.transferIn(endpoint, length, options);
    const out = this.#sent < 0x40
      ? reply.header.slice(this.#sent, this.#sent + length)
      : reply.data.bytes(this.#sent - 0x40, length);
    this.#sent += out.length;
    if (this.#sent >= 0x40 + reply.data.size) this.#reply = undefined;
    return Promise.resolve({ status: "ok", data: new DataView(out.buffer) });
  }
  transferOut(endpoint: number, data: UsbData, options?: UsbTransferOptions) {
    return this.#vc.transferOut(endpoint, data as BufferSource, options);
  }
  clearHalt(direction: "in" | "out", endpoint: number) {
    return this.#vc.clearHalt(direction, endpoint);
  }
}

Deno.test("in-process: list() refuses the 64 MiB listing as it arrives; the camera answers the next call", async () => {
  const device = new HostileDevice(new VirtualCamera(), hostileTree(AT_LENGTH_CAP));
  await using cam = await Camera.connect(device);
  const before = Deno.memoryUsage().rss;
  await assert.rejects(() => cam.storage.list("/", { recursive: true }), (e: Error) => {
    assert.ok(e instanceof ProtocolError, String(e));
    assert.match(e.message, new RegExp(`more than ${MAX_TREE_ENTRIES} entries`));
    return true;
  });
  assert.equal(device.listings, 1);
  const grown = (Deno.memoryUsage().rss - before) / 2 ** 20;
  assert.ok(grown < 200, `RSS grew ${grown.toFixed(0)} MiB`);
  const files = (await cam.storage.list("/DCIM/100CANON")).map((e) => e.name);
  assert.ok(files.includes("IMG_0001.JPG"), files.join(", "));
});

Deno.test("in-process: a listing just under the cap is listed whole", async () => {
  const device = new HostileDevice(new VirtualCamera(), hostileTree(UNDER_ENTRY_CAP));
  await using cam = await Camera.connect(device);
  const entries = await cam.storage.list("/", { recursive: true });
  assert.equal(entries.length, UNDER_ENTRY_CAP * (FILES + 1));
  assert.equal(entries[1].path, "/B/A");
  assert.equal(entries[FILES + 1].path, "/B");
});

Deno.test("in-process: a .THM announcing 1.5 GiB is refused before any data is read", async () => {
  const device = new HostileDevice(new VirtualCamera(), hostileTree(1), 1536 * 1024 * 1024);
  await using cam = await Camera.connect(device);
  await assert.rejects(
    () => cam.storage.thumbnail("/DCIM/100CANON/MVI_0001.AVI"),
    /announces 1610612736 .* more than the 1048576 this reply can have/,
  );
});
