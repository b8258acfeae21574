// Tier 1: the camera's clock, camera-local seconds to and from a Date.
import assert from "node:assert/strict";
import { fromCameraTime, toCameraTime } from "../src/protocol/clock.ts";

Deno.test("camera time keeps the wall-clock reading in this zone", () => {
  const date = fromCameraTime(0x3e43e644)!; // 2003-02-07 17:00:52 on the camera's clock
  assert.equal(date.getFullYear(), 2003);
  assert.equal(date.getHours(), 17);
  assert.equal(date.getMinutes(), 0);
  assert.equal(toCameraTime(date), 0x3e43e644);
  assert.equal(fromCameraTime(0), undefined);
});

Deno.test("camera time reads the same wall clock in other zones, DST included", async () => {
  const script = `
    import { fromCameraTime, toCameraTime } from "${new URL(
    "../src/protocol/clock.ts",
    import.meta.url,
  )}";
    const summer = Date.UTC(2024, 6, 1, 14, 30, 0) / 1000; // 14:30 on the camera, July
    const winter = Date.UTC(2024, 0, 15, 9, 5, 0) / 1000;  // 09:05 on the camera, January
    const s = fromCameraTime(summer), w = fromCameraTime(winter);
    console.log(JSON.stringify([s.getHours(), s.getMinutes(), w.getHours(), w.getMinutes(),
      toCameraTime(s) === summer, toCameraTime(w) === winter]));`;
  for (
    const tz of ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
  ) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", script],
      env: { TZ: tz },
      stdout: "piped",
      stderr: "inherit",
    }).output();
    assert.equal(new TextDecoder().decode(out.stdout).trim(), "[14,30,9,5,true,true]", tz);
  }
});
