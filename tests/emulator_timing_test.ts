// Tier 2: the virtual camera's per-command processing delay (timing.ts) is
// there when switched on and gone when off, and the client sees it.
import assert from "node:assert/strict";
import { Camera } from "../src/camera/camera.ts";
import { VirtualCamera } from "../src/emulator/host/virtual_camera.ts";
import { G3_DELAYS, G3_TIMING } from "../src/emulator/engine/timing.ts";

async function timed<T>(body: () => Promise<T>): Promise<number> {
  const start = performance.now();
  await body();
  return performance.now() - start;
}

Deno.test("with timing on, identify and a listing take a G3's time; off, they do not", async () => {
  const slow: number[] = [];
  const fast: number[] = [];
  for (const [timing, into] of [[true, slow], [false, fast]] as const) {
    await using vc = new VirtualCamera({ timing });
    await using cam = await Camera.connect(vc);
    into.push(await timed(() => cam.identify()));
    into.push(await timed(() => cam.storage.list("/DCIM/100CANON")));
    into.push(await timed(() => cam.storage.thumbnail("/DCIM/100CANON/IMG_0001.JPG")));
  }
  assert.ok(slow[0] >= G3_DELAYS.identify, `identify took ${slow[0]} ms`);
  assert.ok(slow[1] >= G3_DELAYS.directoryBase + 10, `the listing took ${slow[1]} ms`);
  assert.ok(slow[2] >= G3_DELAYS.getFile, `the thumbnail took ${slow[2]} ms`);
  // Off: the same jobs run well under the delays they would otherwise have.
  assert.ok(fast[1] < slow[1] - G3_DELAYS.directoryBase / 2, `${fast[1]} vs ${slow[1]} ms`);
  assert.ok(fast[2] < slow[2] - G3_DELAYS.getFile / 2, `${fast[2]} vs ${slow[2]} ms`);
});

Deno.test("the G3 model grows a listing's delay with its length and knows remote init", () => {
  const dir = (bytes: number) => G3_TIMING.replyDelayMs({ cmd1: 0x0b, cmd2: 0x11 }, bytes);
  assert.equal(dir(0), G3_DELAYS.directoryBase);
  assert.ok(Math.abs(dir(194) - 53.8) < 0.01); // the log: 58 ms for 194 bytes
  assert.equal(
    G3_TIMING.replyDelayMs({ cmd1: 0x13, cmd2: 0x12, subcommand: 0 }, 0x1c),
    G3_DELAYS.remoteInit,
  );
  assert.equal(G3_TIMING.replyDelayMs({ cmd1: 0x0a, cmd2: 0x12 }, 0x18), G3_DELAYS.control);
});
