// Tier 2: the camera's clock through the public API. The camera keeps
// wall-clock time without a zone (§4.3.3): a user in any zone sets and reads
// the wall-clock time they see, DST included. Each zone runs in its own
// process (TZ is read at start-up).
import assert from "node:assert/strict";
import { Camera } from "../mod.ts";
import { VirtualCamera } from "../src/emulator/mod.ts";

Deno.test("time(), setTime() and syncClock() against the virtual camera's clock", async () => {
  const vc = new VirtualCamera({ clockOffsetSeconds: -3725 });
  await using cam = await Camera.connect(vc);
  const behind = (await cam.time()).getTime() - Date.now();
  assert.ok(Math.abs(behind + 3725_000) < 2000, `camera is ${behind} ms off`);
  const drift = await cam.syncClock();
  assert.ok(Math.abs(drift + 3725) <= 2, `drift ${drift}`);
  assert.ok(Math.abs((await cam.time()).getTime() - Date.now()) < 2000);
  await assert.rejects(() => cam.setTime(new Date("not a date")), RangeError);
  await assert.rejects(() => cam.setTime(new Date(1969, 0, 1)), RangeError);
});

const script = `
  import { Camera } from "${new URL("../mod.ts", import.meta.url)}";
  import { VirtualCamera } from "${new URL("../src/emulator/mod.ts", import.meta.url)}";
  const vc = new VirtualCamera();
  await using cam = await Camera.connect(vc);
  const result = {};
  result.now = Math.abs((await cam.time()).getTime() - Date.now()) < 2000;
  for (const [name, wall] of [["summer", [2024, 6, 1, 14, 30, 0]], ["winter", [2024, 0, 15, 9, 5, 0]]]) {
    await cam.setTime(new Date(...wall));
    // What the camera holds: that wall-clock reading, counted as seconds since 1970.
    const held = vc.cameraTime() - Date.UTC(...wall) / 1000;
    const read = await cam.time();
    result[name] = [held >= 0 && held <= 2, read.getFullYear(), read.getMonth(), read.getDate(),
      read.getHours(), read.getMinutes()];
  }
  console.log(JSON.stringify(result));`;

for (
  const tz of [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
  ]
) {
  Deno.test(`in ${tz}, the camera shows the wall-clock time set, summer and winter`, async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--no-check", script],
      env: { TZ: tz, CANON_LOG: "error" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), {
      now: true,
      summer: [true, 2024, 6, 1, 14, 30],
      winter: [true, 2024, 0, 15, 9, 5],
    });
  });
}
