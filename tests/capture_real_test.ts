// Remote capture with the behaviours of real cameras on (the virtual camera's
// default): zero-length interrupt packets on every idle poll, unsolicited
// packets after a capture, the 20D's late init packet. Tier 2 (in-process)
// and tier 3 (libusb + umockdev). The facts and their sources:
// docs/real-cameras/capture-and-models.md.
import assert from "node:assert/strict";
import { Camera, CaptureTimeoutError } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import {
  toBytes,
  type UsbControlSetup,
  type UsbData,
  type UsbDevice,
  type UsbInResult,
} from "../src/usb/device.ts";
import type { FunctionRead, UsbFunction } from "../src/emulator/engine/usb_function.ts";
import type { VirtualCameraOptions } from "../src/emulator/host/virtual_camera.ts";
import type { MemoryCard } from "../src/emulator/card/memory_card.ts";
import { interruptPollPeriod } from "../src/emulator/engine/endpoints.ts";
import { emulatedModel } from "../src/emulator/engine/emulated_models.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import { jpegSize } from "./_exif.ts";
import { skipWithout, underUmockdev } from "./_support.ts";

/** What the host saw on the interrupt endpoint. */
interface InterruptTally {
  empty: number;
  packets: { at: number; bytes: Uint8Array }[];
}

/** The device with every interrupt read the host makes counted. */
function tallied(device: VirtualCamera): { device: UsbDevice; tally: InterruptTally } {
  const tally: InterruptTally = { empty: 0, packets: [] };
  const wrapped = new Proxy(device, {
    get(target, prop) {
      if (prop === "transferIn") {
        return async (endpoint: number, length: number, options?: { timeout?: number }) => {
          const result: UsbInResult = await target.transferIn(endpoint, length, options);
          if (endpoint === 3 && result.status === "ok") {
            const n = result.data?.byteLength ?? 0;
            if (n === 0) tally.empty++;
            else {
              tally.packets.push({
                at: performance.now(),
                bytes: new Uint8Array(result.data!.buffer, result.data!.byteOffset, n).slice(),
              });
            }
          }
          return result;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { device: wrapped, tally };
}

/** The same for the device side under umockdev. */
function talliedFunction(fn: UsbFunction): { fn: UsbFunction; tally: InterruptTally } {
  const tally: InterruptTally = { empty: 0, packets: [] };
  const wrapped = new Proxy(fn, {
    get(target, prop) {
      if (prop === "read") {
        return (endpoint: number, max: number): FunctionRead => {
          const result = target.read(endpoint, max);
          if (endpoint === 0x83 && result instanceof Uint8Array) {
            if (result.length === 0) tally.empty++;
            else tally.packets.push({ at: performance.now(), bytes: result.slice() });
          }
          return result;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { fn: wrapped, tally };
}

const MODELS = VirtualCamera.models.filter((name) =>
  ["PowerShot G1", "PowerShot S200", "PowerShot S45", "PowerShot G3", "EOS 10D", "EOS 300D"]
    .includes(name) || name === "EOS 20D" || name === "EOS 350D"
);

function onCard(card: MemoryCard, path: string): boolean {
  return card.find(path.split("/").filter(Boolean)) !== undefined;
}

/** card, host and both, then card again at once: two shots inside two seconds. */
async function shootEveryWay(cam: Camera, vc: VirtualCamera, model: string): Promise<number[]> {
  await using _remote = await cam.capture.start();
  const card = vc.card as MemoryCard;
  // Milliseconds from the end of each shot to the start of the next.
  const gaps: number[] = [];
  let ended = 0;
  const next = () => {
    if (ended) gaps.push(performance.now() - ended);
  };
  const mark = () => {
    ended = performance.now();
  };
  const expected = card.nextImagePath();
  next();
  const kept = await cam.capture.shoot({ to: "card" });
  mark();
  assert.equal(kept.path, expected, `${model}: card shot`);
  assert.ok(onCard(card, kept.path!), `${model}: the file is on the card`);
  next();
  const sent = await cam.capture.shoot({ to: "host" });
  mark();
  assert.ok(sent.image && sent.image[0] === 0xff && sent.image[1] === 0xd8, `${model}: JPEG`);
  assert.equal(sent.path, undefined, `${model}: a host shot stores nothing`);
  next();
  const both = await cam.capture.shoot({ to: "both" });
  mark();
  assert.ok(both.path && onCard(card, both.path), `${model}: both: stored`);
  assert.ok(both.image && jpegSize(both.image).width > 0, `${model}: both: handed over`);
  next();
  const again = await cam.capture.shoot({ to: "card" });
  mark();
  assert.ok(again.path && again.path !== both.path, `${model}: the next shot is a new file`);
  return gaps;
}

for (const model of MODELS) {
  Deno.test(`${model}: shoot to card, host and both, twice within 2 s, real-camera behaviours on`, async () => {
    const vc = new VirtualCamera({ model, captureLatencyMs: 150 });
    const { device, tally } = tallied(vc);
    await using cam = await Camera.connect(device);
    const gaps = await shootEveryWay(cam, vc, model);
    // Each shot starts as soon as the one before ended: inside a late packet's window.
    assert.ok(
      gaps.every((gap) => gap < 2000),
      `${model}: ${gaps.map(Math.round)} ms between shots`,
    );
    // The camera said "nothing yet" with empty packets while the shots were taken.
    assert.ok(tally.empty >= 4, `${model}: ${tally.empty} empty interrupt packets`);
  });
}

Deno.test("an idle interrupt poll gets a zero-length packet at the endpoint's interval; off, nothing", async () => {
  assert.equal(interruptPollPeriod(emulatedModel("PowerShot G3")), 64);
  assert.equal(interruptPollPeriod(emulatedModel("EOS 20D")), 16);
  {
    await using vc = new VirtualCamera({ model: "PowerShot G3" });
    await vc.open();
    await vc.claimInterface(0);
    const start = performance.now();
    const got: number[] = [];
    for (let i = 0; i < 4; i++) {
      const result = await vc.transferIn(3, 0x40, { timeout: 500 });
      assert.equal(result.status, "ok");
      got.push(result.data!.byteLength);
    }
    const ms = performance.now() - start;
    assert.deepEqual(got, [0, 0, 0, 0]);
    assert.ok(ms >= 3 * 60 && ms < 4 * 64 + 150, `four polls took ${ms.toFixed(0)} ms`);
  }
  {
    await using vc = new VirtualCamera({
      model: "PowerShot G3",
      quirks: { idleZeroLengthPackets: false },
    });
    await vc.open();
    await vc.claimInterface(0);
    await assert.rejects(vc.transferIn(3, 0x40, { timeout: 150 }), /time/i);
  }
});

Deno.test("G3: the late 'written to card' packet 2 s after a shot falls into the next shot, which works", async () => {
  // Latency 2.1 s: the first shot's late packet (2 s after its "finished")
  // arrives while the second shot waits for its own reports.
  const vc = new VirtualCamera({ model: "PowerShot G3", captureLatencyMs: 2100 });
  const { device, tally } = tallied(vc);
  await using cam = await Camera.connect(device);
  await using _remote = await cam.capture.start();
  const first = await cam.capture.shoot({ to: "host" });
  const firstDone = performance.now();
  const second = await cam.capture.shoot({ to: "card" });
  const secondDone = performance.now();
  assert.ok(first.image && second.path);
  const late = tally.packets.filter((p) =>
    p.bytes.length === 16 && p.bytes[4] === 0x0e && p.bytes[0x0c] === 1
  );
  assert.equal(late.length, 1, "the G3's late packet reached the host");
  assert.ok(late[0].at > firstDone && late[0].at < secondDone, "during the second shot");
});

Deno.test("G3: with unsolicited packets switched off, no late packet comes", async () => {
  const vc = new VirtualCamera({
    model: "PowerShot G3",
    captureLatencyMs: 50,
    quirks: { unsolicitedPackets: false },
  });
  const { device, tally } = tallied(vc);
  await using cam = await Camera.connect(device);
  await using _remote = await cam.capture.start();
  await cam.capture.shoot({ to: "host" });
  await new Promise((resolve) => setTimeout(resolve, 2100));
  await cam.capture.shoot({ to: "host" });
  assert.equal(tally.packets.filter((p) => p.bytes[4] === 0x0e).length, 0);
});

Deno.test("S200: the G2-style code 0x01 packet after a shot is skipped by the next shot", async () => {
  const vc = new VirtualCamera({ model: "PowerShot S200", captureLatencyMs: 1100 });
  const { device, tally } = tallied(vc);
  await using cam = await Camera.connect(device);
  await using _remote = await cam.capture.start();
  await cam.capture.shoot({ to: "host" });
  const second = await cam.capture.shoot({ to: "card" });
  assert.ok(second.path);
  assert.equal(tally.packets.filter((p) => p.bytes[4] === 0x01).length, 1);
});

Deno.test("20D: the init packet comes 8 bytes at a time; strict mode: only after power status", async () => {
  const header = [2, 0, 0, 0, 0x20, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0];
  {
    // Default: two halves, read by the init.
    const vc = new VirtualCamera({ model: "EOS 20D", captureLatencyMs: 50 });
    const { device, tally } = tallied(vc);
    await using cam = await Camera.connect(device);
    assert.deepEqual(tally.packets.map((p) => p.bytes.length), [8, 8]);
    assert.deepEqual([...tally.packets[0].bytes, ...tally.packets[1].bytes], header);
    await using _remote = await cam.capture.start();
    assert.ok((await cam.capture.shoot({ to: "both" })).path);
  }
  {
    // As Protocol.xml saw it from Canon's software: nothing until power status; the
    // halves then wait in the pipe and the capture discards them.
    const vc = new VirtualCamera({
      model: "EOS 20D",
      captureLatencyMs: 50,
      quirks: { lateInitPacket: "after-power-status" },
    });
    const { device, tally } = tallied(vc);
    await using cam = await Camera.connect(device);
    assert.equal(tally.packets.length, 0, "nothing arrived during the init");
    await using _remote = await cam.capture.start();
    const shot = await cam.capture.shoot({ to: "both" });
    assert.ok(shot.path && shot.image);
    const halves = tally.packets.filter((p) => p.bytes.length === 8);
    assert.deepEqual([...halves[0].bytes, ...halves[1].bytes], header);
  }
  {
    // Switched off: the packet comes whole at once.
    const vc = new VirtualCamera({ model: "EOS 20D", quirks: { lateInitPacket: false } });
    const { device, tally } = tallied(vc);
    await using cam = await Camera.connect(device);
    assert.deepEqual(tally.packets.map((p) => p.bytes.length), [16]);
    await cam.identify();
  }
});

/** A device that floods the interrupt pipe with packets no capture expects. */
function flooding(vc: VirtualCamera): { device: UsbDevice; sent: () => number } {
  let flood = false;
  let sent = 0;
  const junk = Uint8Array.of(2, 0, 0, 0, 0x77, 0, 0, 0, 0x10, 0, 0, 0, 0x55, 0, 0, 0);
  const device = new Proxy(vc, {
    get(target, prop) {
      if (prop === "transferIn") {
        return async (endpoint: number, length: number, options?: { timeout?: number }) => {
          if (endpoint === 3 && flood) {
            await Promise.resolve();
            sent++;
            return { status: "ok", data: new DataView(junk.slice().buffer) };
          }
          return await target.transferIn(endpoint, length, options);
        };
      }
      if (prop === "controlTransferOut") {
        return async (
          setup: UsbControlSetup,
          payload?: UsbData,
          options?: { timeout?: number },
        ) => {
          const result = await target.controlTransferOut(setup, payload as BufferSource, options);
          const data = toBytes(payload);
          // The release command is on the wire: flood from here on.
          if (data && data.length >= 0x50 && data[0x44] === 0x13 && data[0x50] === 0x04) {
            flood = true;
          }
          return result;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { device, sent: () => sent };
}

Deno.test("hostile device: an interrupt flood during shoot() gives a bounded error, memory kept", async () => {
  const vc = new VirtualCamera({ model: "PowerShot G3", quirks: { idleZeroLengthPackets: false } });
  vc.faults.inject({ kind: "capture-silent" });
  const flood = flooding(vc);
  await using cam = await Camera.connect(flood.device);
  await using _remote = await cam.capture.start();
  const before = Deno.memoryUsage().heapUsed;
  const error = await cam.capture.shoot({ to: "host", timeout: 1500 }).catch((e) => e);
  const grown = Deno.memoryUsage().heapUsed - before;
  assert.ok(error instanceof CaptureTimeoutError, String(error));
  assert.ok(error.message.length < 2000, `message of ${error.message.length} characters`);
  assert.match(error.message, /unexpected packet\(s\) skipped/);
  assert.match(error.message, /and \d+ more/);
  // The message does not grow with the flood; nothing per packet is kept (a coarse heap
  // bound: garbage is not collected on demand here).
  assert.ok(flood.sent() > 1000, `${flood.sent()} packets`);
  assert.ok(grown < 256 * 1024 * 1024, `heap grew ${grown} bytes`);
});

const ignore = skipWithout(underUmockdev, "LD_PRELOAD=libumockdev-preload.so.0");

async function throughLibusb(
  options: VirtualCameraOptions,
  body: (cam: Camera, vc: VirtualCamera, tally: InterruptTally) => Promise<void>,
): Promise<void> {
  const vc = new VirtualCamera(options);
  const { fn, tally } = talliedFunction(vc.usbFunction);
  using testbed = UmockdevTestbed.open();
  testbed.attach(fn);
  await using cam = await Camera.open({ timeout: 2000 });
  await body(cam, vc, tally);
}

for (const model of MODELS) {
  Deno.test({
    name: `through libusb: ${model} shoots to card, host and both, twice within 2 s, behaviours on`,
    ignore,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () =>
      throughLibusb({ model, captureLatencyMs: 150 }, async (cam, vc, tally) => {
        const gaps = await shootEveryWay(cam, vc, model);
        assert.ok(gaps.every((gap) => gap < 2000), `${model}: ${gaps.map(Math.round)} ms`);
        assert.ok(tally.empty >= 4, `${model}: ${tally.empty} empty interrupt packets`);
      }),
  });
}

Deno.test({
  name: "through libusb: the G3's late packet during the next shot is skipped",
  ignore,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    throughLibusb({ model: "PowerShot G3", captureLatencyMs: 2100 }, async (cam, _vc, tally) => {
      await using _remote = await cam.capture.start();
      await cam.capture.shoot({ to: "host" });
      const firstDone = performance.now();
      const second = await cam.capture.shoot({ to: "both" });
      assert.ok(second.path && second.image);
      const late = tally.packets.filter((p) => p.bytes[4] === 0x0e && p.bytes[0x0c] === 1);
      assert.equal(late.length, 1);
      assert.ok(late[0].at > firstDone);
    }),
});
