// Tier 3: pipelined bulk reads (several libusb transfers in flight) through
// the real libusb and umockdev, in this process: data integrity and order,
// short transfers, cancellation (abort, unplug, close) and resource cleanup.
import assert from "node:assert/strict";
import { Camera, CameraClosedError } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { inResultBytes, type UsbInResult } from "../src/usb/device.ts";
import { openUsbDevice } from "../src/usb/discovery.ts";
import { UsbError } from "../src/usb/errors.ts";
import { libusbContextUsers } from "../src/usb/libusb_context.ts";
import type { LibusbDevice } from "../src/usb/libusb_device.ts";
import { libusbTransfersInUse } from "../src/usb/libusb_pipeline.ts";
import { MemoryCard } from "../src/emulator/card/memory_card.ts";
import { checkPattern, PatternFunction } from "../bench/pattern_device.ts";
import { type EmulatedUsbDevice, UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import type { UsbFunction } from "../src/emulator/engine/usb_function.ts";
import { skipWithout, tier3Test, underUmockdev } from "./_support.ts";

const ignore = skipWithout(underUmockdev, "LD_PRELOAD=libumockdev-preload.so.0");
const test = (name: string, fn: () => Promise<void>) => tier3Test({ name, ignore, fn });

const KIB = 1024;
const MIB = 1024 * KIB;
const CHUNK = 0x1400;
const GET_FILE = { cmd1: 0x01, cmd2: 0x11 };

/** Counts bulk IN URBs submitted and not yet reaped, from the bridge's trace. */
class InFlightMeter {
  #open = new Set<string>();
  max = 0;
  line = (text: string): void => {
    const submit = /SUBMIT #(\d+) BULK IN ep 0x81/.exec(text);
    if (submit) {
      this.#open.add(submit[1]);
      this.max = Math.max(this.max, this.#open.size);
      return;
    }
    const reap = /REAP #(\d+)/.exec(text);
    if (reap) this.#open.delete(reap[1]);
  };
}

/** Plug `fn` in, open it with libusb, claim interface 0. */
async function withDevice(
  fn: UsbFunction,
  body: (dev: LibusbDevice, plug: EmulatedUsbDevice) => Promise<void>,
  log?: (line: string) => void,
): Promise<void> {
  using testbed = UmockdevTestbed.open(log ? { log } : {});
  const plug = testbed.attach(fn);
  const dev = await openUsbDevice({ bus: plug.bus, address: plug.address });
  try {
    await dev.open();
    await dev.claimInterface(0);
    await body(dev, plug);
  } finally {
    await dev.close();
  }
  assert.equal(libusbTransfersInUse(), 0, "every libusb transfer was freed");
}

async function collect(results: AsyncIterable<UsbInResult>): Promise<Uint8Array[]> {
  const chunks: Uint8Array[] = [];
  for await (const result of results) {
    assert.equal(result.status, "ok");
    // A copy: a result's bytes are valid only until the next one is asked for.
    chunks.push(inResultBytes(result).slice());
  }
  return chunks;
}

test("4 MiB through libusb with 8 transfers in flight arrive whole and in order", async () => {
  const meter = new InFlightMeter();
  // The stream starts empty, so the submitted transfers wait where the meter sees them.
  const fn = new PatternFunction({ length: 0 });
  await withDevice(fn, async (dev) => {
    const lengths = Array<number>(Math.ceil((4 * MIB) / CHUNK)).fill(CHUNK);
    const reading = collect(dev.readBulkChunks(1, lengths, { inFlight: 8 }));
    for (let i = 0; i < 200 && meter.max < 8; i++) await new Promise((r) => setTimeout(r, 5));
    fn.extend(lengths.length * CHUNK);
    const chunks = await reading;
    assert.equal(chunks.length, lengths.length);
    let offset = 0;
    for (const chunk of chunks) {
      assert.equal(chunk.length, CHUNK);
      assert.equal(checkPattern(chunk, offset), -1, `wrong bytes at stream offset ${offset}`);
      offset += chunk.length;
    }
  }, meter.line);
  assert.equal(meter.max, 8, "at most, and up to, 8 transfers were in flight");
});

test("pipelined reads recycle their memory: a few buffers serve a 2 MiB read, each result right while it is current", async () => {
  await withDevice(new PatternFunction(), async (dev) => {
    const lengths = Array<number>((2 * MIB) / (64 * KIB)).fill(64 * KIB);
    const buffers = new Set<ArrayBufferLike>();
    let offset = 0;
    for await (const result of dev.readBulkChunks(1, lengths, { inFlight: 4 })) {
      const bytes = inResultBytes(result);
      assert.equal(bytes.length, 64 * KIB);
      // Checked while current: the rule is "valid until the next read".
      assert.equal(checkPattern(bytes, offset), -1, `wrong bytes at stream offset ${offset}`);
      buffers.add(bytes.buffer);
      offset += bytes.length;
    }
    assert.equal(offset, 2 * MIB);
    // 32 results from at most in-flight + 1 buffers: no allocation per transfer.
    assert.ok(buffers.size <= 5, `${buffers.size} buffers for 32 transfers`);
  });
});

test("a short transfer mid-stream: nothing is lost, later bytes follow in order, the rest is cancelled", async () => {
  const cut = 3 * CHUNK + 100;
  await withDevice(new PatternFunction({ shortAt: [cut] }), async (dev) => {
    const chunks = await collect(dev.readBulkChunks(1, Array<number>(20).fill(CHUNK)));
    assert.ok(chunks.length < 20, "no transfer was submitted after the short one was seen");
    assert.deepEqual(chunks.slice(0, 4).map((c) => c.length), [CHUNK, CHUNK, CHUNK, 100]);
    let offset = 0;
    for (const chunk of chunks) {
      assert.equal(checkPattern(chunk, offset), -1, `wrong bytes at stream offset ${offset}`);
      offset += chunk.length;
    }
    // The device goes on exactly where the yielded data ended: no byte was swallowed.
    const next = inResultBytes(await dev.transferIn(1, 64));
    assert.equal(checkPattern(next, offset), -1);
  });
});

test("closing the device during a pipelined read ends it with INTERRUPTED and frees its transfers", async () => {
  await withDevice(new PatternFunction({ length: 2 * CHUNK }), async (dev) => {
    const reads = dev.readBulkChunks(1, Array<number>(6).fill(CHUNK), { inFlight: 4 });
    const iterator = reads[Symbol.asyncIterator]();
    assert.equal((await iterator.next()).done, false);
    assert.equal((await iterator.next()).done, false);
    // The other two transfers wait for data that never comes.
    const closing = dev.close();
    await assert.rejects(() => iterator.next(), (e: Error) => {
      assert.ok(e instanceof UsbError);
      assert.equal(e.code, "INTERRUPTED");
      return true;
    });
    await closing;
    assert.equal(libusbTransfersInUse(), 0);
  });
});

/** A camera with files of the given sizes on its card, opened through libusb. */
async function withCamera(
  sizes: number[],
  body: (cam: Camera, vc: VirtualCamera, card: MemoryCard) => Promise<void>,
  log?: (line: string) => void,
): Promise<void> {
  const card = new MemoryCard({
    content: sizes.map((size, i) => ({ path: `/DCIM/100CANON/MVI_000${i + 1}.AVI`, size })),
    capacity: 0xfff00000,
  });
  const vc = new VirtualCamera({ card });
  using testbed = UmockdevTestbed.open(log ? { log } : {});
  testbed.attach(vc.usbFunction);
  const cam = await Camera.open({ timeout: 2000 });
  try {
    await body(cam, vc, card);
  } finally {
    await cam.close();
  }
  assert.equal(libusbTransfersInUse(), 0, "every libusb transfer was freed");
  assert.equal(libusbContextUsers(), 0, "the libusb context was released");
}

const FILE = "/DCIM/100CANON/MVI_0001.AVI";
const SMALL = "/DCIM/100CANON/MVI_0002.AVI";

function cardBytes(card: MemoryCard, path: string, size: number): Uint8Array {
  return card.read(path.split("/").filter(Boolean), 0, size);
}

test("a 3 MiB file downloads byte-identical with 8 transfers in flight", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await withCamera([3 * MIB + 123], async (cam, _vc, card) => {
      assert.equal(cam.session.pipelineDepth, 8);
      const result = await cam.storage.download(FILE, dir);
      const bytes = await Deno.readFile(result.file!);
      assert.deepEqual(bytes, cardBytes(card, FILE, 3 * MIB + 123));
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

test("a reply sent in two parts (a short read mid-stream) still downloads byte-identical", async () => {
  await withCamera([MIB + 7], async (cam, vc, card) => {
    vc.faults.inject({ kind: "split", at: 0x40 + 5 * CHUNK + 1000 }, { command: GET_FILE });
    assert.deepEqual(await cam.storage.read(FILE), cardBytes(card, FILE, MIB + 7));
  });
});

test("aborting a pipelined download cancels it cleanly; the next commands work", async () => {
  await withCamera([4 * MIB, 20 * KIB], async (cam, _vc, card) => {
    const stop = new AbortController();
    const chunks: number[] = [];
    await assert.rejects(
      () =>
        cam.storage.download(
          FILE,
          new WritableStream({ write: (chunk) => void chunks.push(chunk.length) }),
          {
            signal: stop.signal,
            onProgress: (done) => {
              if (done >= MIB) stop.abort();
            },
          },
        ),
      (e: Error) => e.name === "AbortError",
    );
    const delivered = chunks.reduce((a, b) => a + b, 0);
    assert.ok(delivered >= MIB && delivered < 4 * MIB, `${delivered} bytes delivered`);
    assert.equal(libusbTransfersInUse(), 0);
    // The rest of the abandoned reply is drained; the next replies are the right ones.
    assert.equal((await cam.identify()).modelName, "Canon PowerShot G3");
    assert.deepEqual(await cam.storage.read(SMALL), cardBytes(card, SMALL, 20 * KIB));
  });
});

test("unplugged in the middle of a pipelined read: CameraClosedError, nothing leaks", async () => {
  await withCamera([4 * MIB], async (cam, vc) => {
    vc.faults.inject({ kind: "unplug", afterBytes: MIB }, { command: GET_FILE });
    await assert.rejects(
      () => cam.storage.read(FILE),
      (e: Error) => e instanceof CameraClosedError && /disconnected/.test(e.message),
    );
    assert.equal(cam.closed, true);
    assert.equal(libusbTransfersInUse(), 0);
  });
});
