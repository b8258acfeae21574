// Tier 3: LibusbDevice in a process of its own, the way a user runs it. The
// test process owns the umockdev testbed and the virtual camera; the client
// is a fresh `deno run` that reaches them through the real libusb. There no
// ioctl is answered in the client's own process, so it submits a pipelined
// read's small transfers and cancels on its main thread (the `_here`
// symbols) and the other transfers from a worker thread, a mix the
// in-process tier-3 tests (everything from a worker thread) never see. The
// client ends without Deno.exit(): if anything (the event loop, a callback)
// were left keeping it alive, it would hang.
import assert from "node:assert/strict";
import { VirtualCamera } from "../src/emulator/host/virtual_camera.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import { PatternFunction } from "../bench/pattern_device.ts";
import { runClient, skipWithout, underUmockdev } from "./_support.ts";

const ignore = skipWithout(underUmockdev, "LD_PRELOAD=libumockdev-preload.so.0");
const CAMERA = new URL("../src/camera/camera.ts", import.meta.url).href;
const DISCOVERY = new URL("../src/usb/discovery.ts", import.meta.url).href;
const PATTERN = new URL("../bench/pattern_device.ts", import.meta.url).href;
const PIPELINE = new URL("../src/usb/libusb_pipeline.ts", import.meta.url).href;

// Identify, list, download a file (pipelined reads), read an interrupt-free
// status, a zero-length and a stalled control request, then close and return.
const CLIENT = `
import { Camera } from "${CAMERA}";
const cam = await Camera.open({ timeout: 3000 });
const id = await cam.identify();
const files = [];
for await (const entry of cam.storage.walk("/DCIM")) if (!entry.isDirectory) files.push(entry);
const first = files[0];
const bytes = await cam.storage.read(first.path);
const power = await cam.powerStatus();
const stall = await cam.device.controlTransferIn(
  { requestType: "standard", recipient: "device", request: 0x33, value: 0, index: 0 }, 2);
await cam.close();
console.log(JSON.stringify({ model: id.modelName, path: first.path, listed: first.size, size: bytes.length,
  sum: bytes.reduce((a, b) => (a + b) % 65521, 0), power: power.source, stall: stall.status }));
`;

Deno.test({
  name:
    "a client process, submitting from its main thread and a worker thread, downloads intact and exits by itself",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const vc = new VirtualCamera();
    try {
      using testbed = UmockdevTestbed.open();
      testbed.attach(vc.usbFunction);
      const started = performance.now();
      const out = await runClient(CLIENT, testbed.env());
      const seconds = (performance.now() - started) / 1000;
      assert.equal(out.code, 0, `client failed or was killed after ${seconds} s: ${out.stderr}`);
      const result = JSON.parse(out.stdout);
      assert.equal(result.model, "Canon PowerShot G3");
      assert.ok(result.size > 1000 && result.size === result.listed, JSON.stringify(result));
      const path = result.path.split("/").filter(Boolean);
      const expected = vc.card!.read(path, 0, result.size);
      assert.equal(result.size, expected.length);
      assert.equal(result.sum, expected.reduce((a, b) => (a + b) % 65521, 0));
      assert.equal(result.power, "ac");
      assert.equal(result.stall, "stall");
    } finally {
      await vc[Symbol.asyncDispose]();
    }
  },
});

// A lone read (submitted from a worker thread) left pending, then at once a
// pipelined read of small transfers (submitted on the main thread) and one of
// 64 KiB transfers (worker thread again), all on one endpoint: the bytes must
// come in the order the reads were asked for. A pipelined submission that
// overtook the lone one would give the lone read the stream's later bytes.
const ORDER_CLIENT = `
import { openUsbDevice } from "${DISCOVERY}";
import { checkPattern } from "${PATTERN}";
const dev = await openUsbDevice({ vendorId: 0x1234, productId: 0x5678 });
await dev.open();
await dev.claimInterface(0);
const wrong = [];
let offset = 0;
const check = (what, bytes) => {
  if (checkPattern(bytes, offset) !== -1) wrong.push(what + " at stream offset " + offset);
  offset += bytes.length;
};
for (const size of [0x1400, 0x10000]) {
  for (let round = 0; round < 20; round++) {
    const lone = dev.transferIn(1, 0x1000);
    const chunks = [];
    for await (const r of dev.readBulkChunks(1, [size, size, size], { inFlight: 3 })) {
      chunks.push(new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength).slice());
    }
    const first = await lone;
    check("lone read before " + size + "-byte transfers", new Uint8Array(first.data.buffer, first.data.byteOffset, first.data.byteLength));
    for (const c of chunks) check(size + "-byte pipelined transfer", c);
  }
}
await dev.close();
console.log(JSON.stringify({ offset, wrong }));
`;

Deno.test({
  name:
    "a client process keeps one endpoint's transfers in order across main-thread and worker-thread submissions",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    using testbed = UmockdevTestbed.open();
    testbed.attach(new PatternFunction());
    const out = await runClient(ORDER_CLIENT, testbed.env());
    assert.equal(out.code, 0, `client failed or was killed: ${out.stderr}`);
    const result = JSON.parse(out.stdout);
    assert.deepEqual(result.wrong, []);
    assert.equal(result.offset, 20 * (0x1000 + 3 * 0x1400) + 20 * (0x1000 + 3 * 0x10000));
  },
});

// A long pipelined read of 64 KiB transfers (submitted from a worker thread)
// from a device that answers at once, the last transfer short. The end of
// each transfer is seen, and its data handed on, as soon as a worker-thread
// submission returns, while libusb's event-handling call is still reaping;
// the transfers that hands on keep that call going. Every byte must still
// come in order with the right lengths (libusb writes a transfer's status,
// then its length: one read between the two would give a wrong length), and
// every transfer must be freed once the read is over.
const ROUNDS_CLIENT = `
import { openUsbDevice } from "${DISCOVERY}";
import { checkPattern } from "${PATTERN}";
import { libusbEventRounds, libusbTransfersInUse } from "${PIPELINE}";
const dev = await openUsbDevice({ vendorId: 0x1234, productId: 0x5678 });
await dev.open();
await dev.claimInterface(0);
const reads = 256;
const before = libusbEventRounds();
let offset = 0;
let short = 0;
const wrong = [];
for await (const r of dev.readBulkChunks(1, Array(reads).fill(0x10000), { inFlight: 8 })) {
  const bytes = new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength);
  if (bytes.length < 0x10000) short++;
  const at = checkPattern(bytes, offset);
  if (at !== -1) wrong.push("stream offset " + (offset + at));
  offset += bytes.length;
}
const after = libusbEventRounds();
const transfers = libusbTransfersInUse();
await dev.close();
console.log(JSON.stringify({ offset, short, wrong, transfers,
  calls: after.calls - before.calls, endedMidCall: after.endedMidCall - before.endedMidCall }));
`;

Deno.test({
  name:
    "a client process hands on a pipelined read's 64 KiB transfers while libusb still handles events, every byte in order",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    using testbed = UmockdevTestbed.open();
    // The last transfer ends short (a short transfer ends a read).
    testbed.attach(new PatternFunction({ shortAt: [255 * 0x10000 + 100] }));
    const out = await runClient(ROUNDS_CLIENT, testbed.env(), { timeoutMs: 60_000 });
    assert.equal(out.code, 0, `client failed or was killed: ${out.stderr}`);
    const result = JSON.parse(out.stdout);
    assert.deepEqual(result.wrong, []);
    assert.equal(result.short, 1);
    assert.equal(result.offset, 255 * 0x10000 + 100);
    assert.equal(result.transfers, 0, "every transfer was freed when the read ended");
    assert.ok(
      result.endedMidCall > 0,
      `no transfer was handed on while an event-handling call ran (${result.calls} calls)`,
    );
  },
});
