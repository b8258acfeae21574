// The virtual camera's full-speed bus model: the timeline on its own, then a
// real download in-process (tier 2) and through libusb + umockdev (tier 3).
import assert from "node:assert/strict";
import { Camera } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import {
  FULL_SPEED_BULK_LIMIT,
  FullSpeedBus,
  fullSpeedMinimumMs,
  PACKETS_PER_FRAME,
} from "../src/emulator/engine/bus_model.ts";
import { MemoryCard } from "../src/emulator/card/memory_card.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import { skipWithout, tier3Test, underUmockdev } from "./_support.ts";

const KIB = 1024;
const MIB = 1024 * KIB;
const CHUNK = 0x1400; // 80 packets: four full frames and 4 packets of a fifth

Deno.test("bus model: queued transfers follow each other in the same frame", () => {
  const bus = new FullSpeedBus();
  const a = bus.reserve(CHUNK, 10.3, 10.3);
  assert.equal(a.start, 11); // the next frame after the submission
  assert.equal(a.end, 15 + 4 / PACKETS_PER_FRAME);
  // Submitted while the first is on the bus: starts in the slot after its last packet.
  const b = bus.reserve(CHUNK, 10.4, 10.4);
  assert.equal(b.start, a.end);
  assert.equal(b.end, 19 + 8 / PACKETS_PER_FRAME);
  assert.deepEqual(bus.stats, { transfers: 2, packets: 160, restarts: 1, idleSlots: 0 });
});

Deno.test("bus model: a transfer submitted after the previous completed waits for the next frame", () => {
  const bus = new FullSpeedBus();
  const a = bus.reserve(CHUNK, 0.5, 0.5);
  const b = bus.reserve(CHUNK, a.end + 0.01, a.end + 0.01);
  assert.equal(b.start, 6); // a ended 4/19 into frame 5; the rest of frame 5 is lost
  assert.equal(bus.stats.restarts, 2);
  assert.equal(bus.stats.idleSlots, PACKETS_PER_FRAME - 4);
  // Data that only becomes available after the bus went idle starts fresh too.
  const c = bus.reserve(64, b.end - 1, b.end + 2.5);
  assert.equal(c.start, Math.floor(b.end + 2.5) + 1);
  // A zero-length packet still takes a slot.
  const d = bus.reserve(0, c.end + 5, c.end + 5);
  assert.ok(Math.abs(d.end - d.start - 1 / PACKETS_PER_FRAME) < 1e-9);
});

Deno.test("bus model: 1 MiB in 0x1400 reads takes 862 ms pipelined, 1 s and more one at a time", () => {
  const reads = Math.ceil(MIB / CHUNK);
  const pipelined = new FullSpeedBus();
  let first = Infinity;
  let last = 0;
  for (let i = 0; i < reads; i++) {
    const slot = pipelined.reserve(Math.min(CHUNK, MIB - i * CHUNK), 0, 0);
    first = Math.min(first, slot.start);
    last = slot.end;
  }
  assert.ok(Math.abs(last - first - (MIB / FULL_SPEED_BULK_LIMIT) * 1000) < 0.06);
  const sequential = new FullSpeedBus();
  let now = 0;
  for (let i = 0; i < reads; i++) {
    now = sequential.reserve(Math.min(CHUNK, MIB - i * CHUNK), now, now).end;
  }
  assert.ok(now >= 5 * (reads - 1), `${now} ms for ${reads} reads`);
});

/**
 * Read `path`, timed, and count the fresh bus starts (lost frames) beyond
 * those of reading a 1 KiB file: a pipelined host adds none per data read.
 */
async function pacedRead(
  cam: Camera,
  bus: FullSpeedBus,
  path: string,
): Promise<{ ms: number; bytes: number; reads: number; extraRestarts: number }> {
  await cam.storage.read("/DCIM/100CANON/MVI_0000.AVI"); // the drive name is read once, here
  let before = bus.stats;
  await cam.storage.read("/DCIM/100CANON/MVI_0000.AVI");
  const small = bus.stats.restarts - before.restarts;
  before = bus.stats;
  const start = performance.now();
  const bytes = (await cam.storage.read(path)).length;
  const ms = performance.now() - start;
  const after = bus.stats;
  return {
    ms,
    bytes,
    reads: after.transfers - before.transfers,
    extraRestarts: after.restarts - before.restarts - small,
  };
}

/** A camera whose card holds one file of each size (and a 1 KiB one), with the bus model on. */
function pacedCamera(sizes: number[]): { camera: VirtualCamera; bus: FullSpeedBus } {
  const bus = new FullSpeedBus();
  const card = new MemoryCard({
    content: [1024, ...sizes].map((size, i) => ({ path: `/DCIM/100CANON/MVI_000${i}.AVI`, size })),
    capacity: 0xfff00000,
  });
  return { camera: new VirtualCamera({ card, busModel: bus }), bus };
}

Deno.test("bus model in-process: a pipelined host reads 1 MiB no faster than the bus, losing no frame", async () => {
  const { camera, bus } = pacedCamera([MIB]);
  await using cam = await Camera.connect(camera);
  const { ms, bytes, reads, extraRestarts } = await pacedRead(
    cam,
    bus,
    "/DCIM/100CANON/MVI_0001.AVI",
  );
  assert.equal(bytes, MIB);
  assert.ok(ms >= (MIB / FULL_SPEED_BULK_LIMIT) * 1000, `${ms} ms`);
  assert.ok(reads >= MIB / CHUNK, `${reads} reads`);
  // Every data read after the first followed the one before it on the bus.
  assert.ok(extraRestarts <= 1, `${extraRestarts} more fresh starts than for a 1 KiB file`);
});

Deno.test("bus model in-process: a host reading one transfer at a time loses a frame per read", async () => {
  const { camera, bus } = pacedCamera([256 * KIB]);
  await using cam = await Camera.connect(camera);
  cam.session.pipelineDepth = 1;
  const before = bus.stats;
  const { ms, extraRestarts } = await pacedRead(cam, bus, "/DCIM/100CANON/MVI_0001.AVI");
  const reads = (256 * KIB) / CHUNK;
  assert.ok(extraRestarts >= reads - 1, `${extraRestarts} more fresh starts`);
  const idle = bus.stats.idleSlots - before.idleSlots;
  assert.ok(idle >= (reads - 1) * (PACKETS_PER_FRAME - 4), `${idle} idle slots`);
  // Five frames per 0x1400 read instead of 80/19 = 4.2.
  assert.ok(ms >= reads * 5 - 1, `${ms} ms`);
  assert.ok(ms > fullSpeedMinimumMs(256 * KIB) * 1.15, `${ms} ms`);
});

const ignore = skipWithout(underUmockdev, "LD_PRELOAD=libumockdev-preload.so.0");

tier3Test({
  name: "bus model behind umockdev: libusb's pipelined download keeps to the bus and its pace",
  ignore,
  fn: async () => {
    const { camera, bus } = pacedCamera([512 * KIB]);
    using testbed = UmockdevTestbed.open();
    testbed.attach(camera.usbFunction);
    await using cam = await Camera.open();
    const { ms, bytes, extraRestarts } = await pacedRead(cam, bus, "/DCIM/100CANON/MVI_0001.AVI");
    assert.equal(bytes, 512 * KIB);
    assert.ok(ms >= fullSpeedMinimumMs(512 * KIB), `${ms} ms`);
    assert.ok(extraRestarts <= 1, `${extraRestarts} more fresh starts than for a 1 KiB file`);
  },
});
