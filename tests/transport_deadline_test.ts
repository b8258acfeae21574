// Issue 14.5: time is bounded per call, not only per transfer. A camera that
// drips data never let a call time out (4 KB in 29 s); one that sends for
// ever made every later call drain 100 001 reads; an aborted download made
// the next call wait for the whole drain. Every call now has a deadline of
// its own (from the transfer timeout and the announced size, or
// `callTimeout`), a drain that cannot finish in bounded time closes the
// session with CameraDesyncError (and resets the device, so that a reopen
// works), and an abort returns within a second.
import assert from "node:assert/strict";
import {
  Camera,
  CameraClosedError,
  CameraDesyncError,
  CameraTimeoutError,
  CanonError,
} from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";
import { MemoryCard } from "../src/emulator/card/memory_card.ts";
import { UmockdevTestbed } from "../src/emulator/umockdev/testbed.ts";
import { callDeadline } from "../src/protocol/session.ts";
import { skipWithout, underUmockdev } from "./_support.ts";

const ignore3 = skipWithout(underUmockdev, "LD_PRELOAD=libumockdev-preload.so.0");
const GET_FILE = { cmd1: 0x01, cmd2: 0x11 };
const LIST = { cmd1: 0x0b, cmd2: 0x11 };
const ONE = "/DCIM/100CANON/IMG_0001.JPG"; // 29,380 bytes

function cardBytes(vc: VirtualCamera, path: string): Uint8Array {
  const segments = path.split("/").filter(Boolean);
  return vc.card!.read(segments, 0, vc.card!.find(segments)!.size);
}

async function timed<T>(body: () => Promise<T>): Promise<{ ms: number; error?: unknown }> {
  const start = performance.now();
  try {
    await body();
    return { ms: performance.now() - start };
  } catch (error) {
    return { ms: performance.now() - start, error };
  }
}

interface Tier {
  connect(vc: VirtualCamera, options: { timeout: number; callTimeout?: number }): Promise<Camera>;
}

const tier2: Tier = { connect: (vc, options) => Camera.connect(vc, options) };

/** A slow drip fails the call at its deadline; the session then closes or recovers; a reopen works. */
async function drip(tier: Tier, vc: VirtualCamera, timeout: number): Promise<void> {
  let cam = await tier.connect(vc, { timeout });
  try {
    await cam.storage.info();
    // 32 bytes (short packets) every T/4: each transfer is quick, the whole reply would take minutes.
    vc.faults.inject({ kind: "drip", bytes: 32, everyMs: timeout / 4 }, { command: GET_FILE });
    const bound = callDeadline(timeout, 29380);
    const first = await timed(() => cam.storage.read(ONE));
    assert.ok(first.error instanceof CameraTimeoutError, `got ${first.error}`);
    // In process, the call's deadline ends it; through libusb a transfer queued
    // behind the dripping ones may time out first (its timeout runs from submission).
    assert.match(
      (first.error as Error).message,
      /the call did not finish|no answer from the camera/,
    );
    assert.ok(
      first.ms < bound + 1500,
      `failed after ${first.ms.toFixed(0)} ms (deadline ${bound})`,
    );
    // The rest is still dripping: the next call cannot drain it in bounded
    // time, closes the session with a typed error, and does so quickly.
    const second = await timed(() => cam.identify());
    assert.ok(second.error instanceof CameraDesyncError, `got ${second.error}`);
    assert.ok(second.ms < timeout + 2500, `took ${second.ms.toFixed(0)} ms`);
    assert.equal(cam.closed, true);
    await assert.rejects(() => cam.powerStatus(), CameraClosedError);
  } finally {
    await cam.close();
  }
  cam = await tier.connect(vc, { timeout });
  try {
    assert.deepEqual(await cam.storage.read(ONE), cardBytes(vc, ONE), "a reopen works");
  } finally {
    await cam.close();
  }
}

/** A camera that sends for ever: later calls fail fast with typed errors, the session closes, a reopen works. */
async function flood(tier: Tier, vc: VirtualCamera, timeout: number): Promise<void> {
  let cam = await tier.connect(vc, { timeout });
  try {
    await cam.storage.info();
    vc.faults.inject({ kind: "flood" }, { command: LIST });
    const errors: unknown[] = [];
    const start = performance.now();
    // The listing itself may come through whole; what follows is endless zeros.
    await cam.storage.list("/DCIM/100CANON").catch((e) => errors.push(e));
    for (let i = 0; i < 4 && !cam.closed; i++) {
      const call = await timed(() => cam.powerStatus());
      assert.ok(call.error instanceof CanonError, `call ${i}: ${call.error}`);
      assert.ok(call.ms < callDeadline(timeout) + timeout + 2500, `call ${i}: ${call.ms} ms`);
      errors.push(call.error);
    }
    assert.equal(cam.closed, true, `closed after ${errors.map(String).join("; ")}`);
    assert.ok(errors.some((e) => e instanceof CameraDesyncError), String(errors));
    assert.ok(performance.now() - start < 4 * (callDeadline(timeout) + timeout) + 5000);
  } finally {
    await cam.close();
  }
  cam = await tier.connect(vc, { timeout });
  try {
    assert.deepEqual(await cam.storage.read(ONE), cardBytes(vc, ONE), "a reopen works");
  } finally {
    await cam.close();
  }
}

Deno.test("tier 2: a camera that drips data fails the call at its deadline; a reopen works", async () => {
  await drip(tier2, new VirtualCamera(), 400);
});

Deno.test("tier 2: a camera that sends for ever closes the session in bounded time; a reopen works", async () => {
  await flood(tier2, new VirtualCamera(), 400);
});

Deno.test("tier 2: callTimeout bounds a whole call whatever the transfer timeout", async () => {
  const vc = new VirtualCamera();
  await using cam = await Camera.connect(vc, { timeout: 2000, callTimeout: 700 });
  await cam.storage.info();
  vc.faults.inject({ kind: "drip", bytes: 512, everyMs: 100 }, { command: GET_FILE });
  const call = await timed(() => cam.storage.read(ONE));
  assert.ok(call.error instanceof CameraTimeoutError, `got ${call.error}`);
  assert.ok(call.ms >= 650 && call.ms < 1700, `${call.ms} ms`);
});

Deno.test("tier 2: an aborted big download returns within a second; the next calls work", async () => {
  const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 7) & 0xff);
  const card = new MemoryCard({ content: "default" });
  card.addFile("/DCIM/100CANON/MVI_0100.AVI", big, 1_700_000_000);
  const vc = new VirtualCamera({ card, busModel: true }); // USB 1.1 speed: 3 MiB take ~2.6 s
  await using cam = await Camera.connect(vc, { timeout: 5000 });
  await cam.storage.info();
  const abort = new AbortController();
  const chunks: number[] = [];
  const download = cam.storage.download(
    "/DCIM/100CANON/MVI_0100.AVI",
    new WritableStream({
      write: (chunk) => {
        chunks.push(chunk.length);
      },
    }),
    { signal: abort.signal },
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  const start = performance.now();
  abort.abort(new Error("the user pressed Ctrl-C"));
  await assert.rejects(download, /Ctrl-C/);
  const ms = performance.now() - start;
  assert.ok(ms < 1000, `abort took ${ms.toFixed(0)} ms`);
  assert.ok(chunks.length > 0, "the download had started");
  // The next call drains what the camera still sends (bounded), then works.
  assert.equal((await cam.identify()).modelName, "Canon PowerShot G3");
  assert.deepEqual(await cam.storage.read(ONE), cardBytes(vc, ONE));
});

const tier3: Tier = {
  connect: async (_vc, options) => await Camera.open(options),
};

Deno.test({
  name: "tier 3: libusb + umockdev: drip and flood are bounded per call; reopens work",
  ignore: ignore3,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    for (const hostile of [drip, flood]) {
      const vc = new VirtualCamera();
      using testbed = UmockdevTestbed.open();
      testbed.attach(vc.usbFunction);
      await hostile(tier3, vc, 500);
    }
  },
});

Deno.test({
  name:
    "tier 3: libusb + umockdev: an aborted download returns within a second; the next calls work",
  ignore: ignore3,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const big = new Uint8Array(3 * 1024 * 1024).map((_, i) => (i * 13) & 0xff);
    const card = new MemoryCard({ content: "default" });
    card.addFile("/DCIM/100CANON/MVI_0100.AVI", big, 1_700_000_000);
    const vc = new VirtualCamera({ card, busModel: true });
    using testbed = UmockdevTestbed.open();
    testbed.attach(vc.usbFunction);
    const cam = await Camera.open({ timeout: 5000 });
    try {
      await cam.storage.info();
      const abort = new AbortController();
      let got = 0;
      const download = cam.storage.download(
        "/DCIM/100CANON/MVI_0100.AVI",
        new WritableStream({ write: (chunk) => void (got += chunk.length) }),
        { signal: abort.signal },
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      const start = performance.now();
      abort.abort(new Error("the user pressed Ctrl-C"));
      await assert.rejects(download, /Ctrl-C/);
      const ms = performance.now() - start;
      assert.ok(ms < 1000, `abort took ${ms.toFixed(0)} ms`);
      assert.ok(got > 0 && got < big.length, `${got} bytes before the abort`);
      assert.equal((await cam.identify()).modelName, "Canon PowerShot G3");
      assert.deepEqual(await cam.storage.read(ONE), cardBytes(vc, ONE));
    } finally {
      await cam.close();
    }
  },
});
